/**
 * One executor per step kind: what it changes (run), what it would change (preview), and how
 * the change is undone from what was recorded before it ran (undo). Every effect is described by
 * a JSON-able record, which the runner writes to the journal.
 */
import fs from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'

import {ConfigError} from '../errors.js'
import type {ApplyStep, GitStep, Playbook} from '../playbook/types.js'
import {durationMs as playbookDuration} from '../util/duration.js'
import {writeFileAtomic} from '../util/atomic-write.js'
import type {StateStore} from '../state/store.js'
import type {DaemonFlags} from '../target/files.js'
import type {CommandResult, Target} from '../target/target.js'
import * as g from './git.js'
import type {MaintenancePlan} from './maintenance.js'
import {describeValidation, type PhaseValidation, type PhaseValidator} from './validator.js'

export interface StepContext {
  target: Target
  playbook: Playbook
  /** Directory script and patch paths resolve against (the playbook file's). */
  playbookDir: string
  state: StateStore
  /** The phase the steps move the target into (a validate step's default phase). */
  phase: number
  validator: PhaseValidator
  /** HEAD of the target repo when the operation began (git ref `pre_phase`). */
  preHead: string | null
  /** Commits the phase being undone made (git ref `phase_commits`). */
  phaseCommits: string[]
  /** True when the step is run again after an interruption: effects may already be in place. */
  retry: boolean
  /** Record daemon steps as this maintenance window (null/absent: record nothing). */
  maintenance?: MaintenancePlan | null
  log(line: string): void
}

/** State captured before a step runs, enough to undo it. */
export interface StepBefore {
  flags?: DaemonFlags
  flagsExisted?: boolean
  daemonRunning?: boolean
  daemonPid?: number | null
  head?: string
  branch?: string | null
}

/** A step whose effect failed; `result` is what it did get to record (command output, check results). */
export class StepFailure extends Error {
  readonly result: Record<string, unknown>
  constructor(message: string, result: Record<string, unknown> = {}) {
    super(message)
    this.name = 'StepFailure'
    this.result = result
  }
}

export function stepLabel(step: ApplyStep): string {
  if (step.type === 'git') return `git ${step.action}`
  if (step.type === 'daemon') return `daemon ${step.action}`
  if (step.type === 'run') return `run ${step.command}`
  return step.type
}

export function journalName(step: ApplyStep): string {
  return `${step.id} (${stepLabel(step)})`
}

const tail = (text: string, lines = 15): string => text.split('\n').slice(-lines).join('\n')

function commandFailure(what: string, result: CommandResult): StepFailure {
  const why = result.timedOut ? 'timed out' : `exit code ${result.exitCode}`
  const output = tail([result.stdout, result.stderr].filter(Boolean).join('\n'))
  return new StepFailure(`${what} failed (${why}): ${result.command.join(' ')}${output ? `\n${output}` : ''}`, {command: result.command, exit_code: result.exitCode, timed_out: result.timedOut, duration_ms: result.durationMs, output_tail: output})
}

function daemonRunning(target: Target): {running: boolean; pid: number | null} {
  try {
    return {running: true, pid: target.readPidFile().pid}
  } catch {
    return {running: false, pid: null}
  }
}

/** What to record before the step runs. */
export async function captureBefore(step: ApplyStep, ctx: StepContext): Promise<StepBefore> {
  switch (step.type) {
    case 'set_flags': {
      const reading = ctx.target.readFlagsDetailed()
      return {flags: reading.flags, flagsExisted: reading.exists}
    }
    case 'daemon': {
      const d = daemonRunning(ctx.target)
      return {daemonRunning: d.running, daemonPid: d.pid}
    }
    case 'git': {
      const repo = await g.openTargetRepo(ctx.target)
      return {head: await g.head(repo), branch: await g.currentBranch(repo)}
    }
    default:
      return {}
  }
}

function newFlags(step: Extract<ApplyStep, {type: 'set_flags'}>, current: DaemonFlags): DaemonFlags {
  const next = {...current} as DaemonFlags & Record<string, boolean>
  for (const [key, value] of Object.entries(step.flags)) next[key] = value
  return next
}

/** Run the step. Throws StepFailure when the step ran and did not succeed. */
export async function runStep(step: ApplyStep, ctx: StepContext): Promise<Record<string, unknown>> {
  switch (step.type) {
    case 'set_flags': {
      const before = ctx.target.readFlags()
      const written = ctx.target.writeFlags(newFlags(step, before)).flags
      return {file: ctx.target.paths.flags, previous: before, written}
    }
    case 'daemon': {
      const result = await ctx.target.daemon(step.action)
      if (!result.ok) {
        const failure = commandFailure(`daemon ${step.action}`, result)
        const log = ctx.target.tailLog(10)
        throw new StepFailure(`${failure.message}${log.length ? `\nlast lines of ${ctx.target.paths.log}:\n${log.join('\n')}` : ''}`, {...failure.result, log_tail: log})
      }
      const d = daemonRunning(ctx.target)
      if (step.action !== 'stop' && !d.running) throw new StepFailure(`daemon ${step.action} reported success but no live daemon is in ${ctx.target.paths.pidFile}`, {log_tail: ctx.target.tailLog(10)})
      const pid = d.running ? ctx.target.readPidFile() : null
      return {duration_ms: result.durationMs, pid: pid?.pid ?? null, gateway_port: pid?.gateway_port ?? null, proxy_port: pid?.proxy_port ?? null}
    }
    case 'git':
      return runGitStep(step, ctx)
    case 'run': {
      const result = await ctx.target.repoCommand(step.command)
      if (!result.ok) throw commandFailure(step.command, result)
      return {command: result.command, duration_ms: result.durationMs, output_tail: tail([result.stdout, result.stderr].filter(Boolean).join('\n'), 5)}
    }
    case 'script':
      return runScript(step, ctx)
    case 'validate': {
      const validation = await ctx.validator({target: ctx.target, playbook: ctx.playbook, state: ctx.state, phase: step.phase ?? ctx.phase, baseDir: ctx.playbookDir, ...(step.checks ? {checks: step.checks} : {})})
      const result = validationRecord(validation)
      if (validation.outcome !== 'pass') {
        const failed = validation.results.filter((r) => r.required && r.outcome !== 'pass')
        throw new StepFailure(`validation of phase ${validation.phase} did not pass (${validation.outcome}): ${failed.map((r) => `${r.name}: ${r.detail}`).join('; ')}`, result)
      }
      return result
    }
    case 'manual':
      throw new StepFailure(`manual step "${step.id}" cannot be run by cutover: ${step.instructions}`)
  }
}

export function validationRecord(v: PhaseValidation): Record<string, unknown> {
  return {phase: v.phase, outcome: v.outcome, validator: v.validator, duration_ms: v.durationMs, checks: v.results.map((r) => ({name: r.name, outcome: r.outcome, detail: r.detail, required: r.required}))}
}

async function runScript(step: Extract<ApplyStep, {type: 'script'}>, ctx: StepContext): Promise<Record<string, unknown>> {
  const {execa} = await import('execa')
  const script = path.resolve(ctx.playbookDir, step.path)
  const zx = path.join(path.dirname(createRequire(import.meta.url).resolve('zx/package.json')), 'build', 'cli.js')
  const timeout = step.timeout ? playbookDuration(step.timeout) : 600_000
  const started = performance.now()
  const result = await execa(process.execPath, [zx, script, ...(step.args ?? [])], {
    cwd: ctx.playbookDir,
    env: {...ctx.target.commandEnv(), ...(step.env ?? {})},
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout,
    forceKillAfterDelay: 2000,
  })
  const output = ctx.target.redact(tail([String(result.stdout ?? ''), String(result.stderr ?? '')].filter(Boolean).join('\n')))
  const record = {script: step.path, args: step.args ?? [], exit_code: result.exitCode ?? null, duration_ms: Math.round(performance.now() - started), output_tail: output}
  if (result.exitCode !== 0) throw new StepFailure(`script ${step.path} failed (${result.timedOut ? 'timed out' : `exit code ${result.exitCode ?? result.signal}`})${output ? `\n${output}` : ''}`, record)
  return record
}

/** Resolve a playbook git ref: pre_phase, last_stable, or a literal ref. */
async function resolveRef(repo: g.Repo, ref: string, ctx: Pick<StepContext, 'preHead' | 'target'>): Promise<string> {
  if (ref === 'pre_phase') {
    if (!ctx.preHead) throw new StepFailure('git ref "pre_phase" is unknown: no commit was recorded before this phase')
    return ctx.preHead
  }
  if (ref === 'last_stable') {
    const stable = await g.findStableCommit(repo, ctx.target.spec.stableCommitMarker)
    if (!stable) throw new StepFailure(`no commit message contains "${ctx.target.spec.stableCommitMarker}" (the last stable commit marker)`)
    return stable.sha
  }
  return g.resolveCommit(repo, ref)
}

async function runGitStep(step: GitStep, ctx: StepContext): Promise<Record<string, unknown>> {
  const repo = await g.openTargetRepo(ctx.target)
  switch (step.action) {
    case 'branch': {
      const from = step.from ? await resolveRef(repo, step.from, ctx) : await g.head(repo)
      if (ctx.retry && (await g.currentBranch(repo)) === step.name) return {branch: step.name, head: await g.head(repo), already: true}
      await repo.git.raw(['checkout', '-q', '-B', step.name, from])
      return {branch: step.name, from, head: await g.head(repo)}
    }
    case 'remove_paths': {
      const tracked = await g.listFiles(repo)
      const removed: string[] = []
      for (const rel of step.paths) {
        const norm = rel.replace(/\/+$/, '')
        const files = tracked.filter((f) => f === norm || f.startsWith(norm + '/'))
        if (files.length > 0) {
          await repo.git.raw(['rm', '-r', '-q', '--', ':/' + g.topRelative(repo, rel)])
          removed.push(...files)
        }
        fs.rmSync(path.join(repo.dir, rel), {recursive: true, force: true})
      }
      if (removed.length === 0 && !ctx.retry) throw new StepFailure(`none of ${step.paths.join(', ')} exists in ${repo.dir}: nothing to remove`)
      return {removed}
    }
    case 'delete_lines': {
      const matches = await g.matchingLines(repo, step.files, step.pattern)
      if (matches.length === 0 && ctx.retry && ctx.preHead) {
        const before = await g.matchingLines(repo, step.files, step.pattern, ctx.preHead)
        if (before.length > 0) return {deleted: before, already: true}
      }
      checkExpect(step, matches.length)
      const byFile = new Map<string, Set<number>>()
      for (const m of matches) byFile.set(m.file, (byFile.get(m.file) ?? new Set()).add(m.line))
      for (const [file, lines] of byFile) {
        const full = path.join(repo.dir, file)
        const kept = fs.readFileSync(full, 'utf8').split('\n').filter((_line, i) => !lines.has(i + 1))
        // Atomic and with the file's own mode: a crash mid-step leaves the old file, never half of it.
        writeFileAtomic(full, kept.join('\n'), {mode: fs.statSync(full).mode & 0o777})
      }
      if (byFile.size > 0) await repo.git.raw(['add', '--', ...[...byFile.keys()].map((f) => ':/' + g.topRelative(repo, f))])
      return {deleted: matches}
    }
    case 'apply_patch': {
      const patch = path.resolve(ctx.playbookDir, step.patch)
      if (ctx.retry) {
        const applied = await repo.git.raw(['apply', '--check', '--reverse', patch]).then(() => true, () => false)
        if (applied) return {patch: step.patch, already: true}
      }
      try {
        await repo.git.raw(['apply', '--index', patch])
      } catch (error) {
        throw new StepFailure(`git apply ${step.patch} failed: ${(error as Error).message.trim()}`)
      }
      const files = (await repo.git.raw(['apply', '--numstat', patch])).split('\n').filter(Boolean).map((l) => l.split('\t')[2] ?? '')
      return {patch: step.patch, files}
    }
    case 'commit': {
      const staged = (await repo.git.raw(['diff', '--cached', '--name-only'])).split('\n').filter(Boolean)
      if (staged.length === 0) {
        const sha = await g.head(repo)
        if (ctx.retry && sha !== ctx.preHead && (await g.commitSubject(repo, sha)) === step.message) return {commit: sha, already: true}
        throw new StepFailure(`nothing to commit for "${step.message}": the earlier steps changed no file`)
      }
      const sha = await g.commit(repo, step.message)
      return {commit: sha, files: staged}
    }
    case 'revert': {
      const shas = step.ref === 'phase_commits' ? [...ctx.phaseCommits].reverse() : [await resolveRef(repo, step.ref, ctx)]
      if (shas.length === 0) throw new StepFailure('no commits to revert: the phase made no commit')
      const reverts: {reverted: string; commit: string}[] = []
      for (const sha of shas) {
        if (await g.isReverted(repo, sha)) continue
        try {
          reverts.push({reverted: sha, commit: await g.revert(repo, sha)})
        } catch (error) {
          await repo.git.raw(['revert', '--abort']).catch(() => undefined)
          throw new StepFailure(`git revert ${sha} failed: ${(error as Error).message.trim()}`, {reverts})
        }
      }
      return {reverts}
    }
    case 'checkout': {
      const sha = await resolveRef(repo, step.ref, ctx)
      await repo.git.raw(['checkout', '-q', '--detach', sha])
      return {head: sha}
    }
  }
}

function checkExpect(step: Extract<GitStep, {action: 'delete_lines'}>, count: number): void {
  const ok = step.expect === 'any' || (step.expect === 'one' ? count === 1 : count >= 1)
  if (!ok) {
    throw new StepFailure(`delete_lines expected ${step.expect === 'one' ? 'exactly one line' : 'at least one line'} matching /${step.pattern}/ in ${step.files.join(', ')}, found ${count}`)
  }
}

/** Undo a step from what was recorded. Returns what was done, or null when the step has no reversible effect. */
export async function undoStep(step: ApplyStep, before: StepBefore, result: Record<string, unknown> | undefined, ctx: StepContext): Promise<Record<string, unknown> | null> {
  if (step.type === 'set_flags') {
    if (!before.flags) return null
    ctx.target.writeFlags(before.flags)
    return {restored_flags: before.flags}
  }
  if (step.type !== 'git' || !before.head) return null
  const repo = await g.openTargetRepo(ctx.target)
  switch (step.action) {
    case 'branch': {
      if (before.branch) await repo.git.raw(['checkout', '-q', '-f', before.branch])
      else await repo.git.raw(['checkout', '-q', '-f', '--detach', before.head])
      if (before.branch !== step.name) await repo.git.raw(['branch', '-D', step.name]).catch(() => undefined)
      return {checked_out: before.branch ?? before.head, deleted_branch: before.branch === step.name ? null : step.name}
    }
    case 'remove_paths':
      await g.restorePaths(repo, before.head, step.paths)
      return {restored: step.paths}
    case 'delete_lines': {
      const files = Array.isArray(result?.deleted) ? [...new Set((result.deleted as g.LineMatch[]).map((m) => m.file))] : g.matchGlobs(await g.listFiles(repo, before.head), step.files)
      await g.restorePaths(repo, before.head, files)
      return {restored: files}
    }
    case 'apply_patch': {
      const patch = path.resolve(ctx.playbookDir, step.patch)
      const files = (await repo.git.raw(['apply', '--numstat', patch])).split('\n').filter(Boolean).map((l) => l.split('\t')[2] ?? '')
      await g.restorePaths(repo, before.head, files)
      return {restored: files}
    }
    case 'commit':
    case 'revert':
    case 'checkout': {
      if ((await g.head(repo)) !== before.head) await repo.git.raw(['reset', '-q', '--hard', before.head])
      if (step.action === 'checkout' && before.branch) await repo.git.raw(['checkout', '-q', before.branch])
      return {reset_to: before.head}
    }
  }
}

/** What a step would do, for --dry-run (reads only). */
export async function previewStep(step: ApplyStep, ctx: Omit<StepContext, 'retry'>): Promise<{summary: string; diff?: string[]; warnings?: string[]}> {
  switch (step.type) {
    case 'set_flags': {
      const current = ctx.target.readFlagsDetailed()
      const next = newFlags(step, current.flags)
      const changes = (Object.keys(next) as (keyof DaemonFlags)[]).filter((k) => next[k] !== current.flags[k])
      const diff = changes.map((k) => `${k}: ${current.flags[k]} -> ${next[k]}`)
      return {summary: `write ${ctx.target.paths.flags}: ${JSON.stringify(next)}${changes.length === 0 ? ' (no change)' : ''}`, diff}
    }
    case 'daemon':
      return {summary: `${ctx.target.spec.daemon[step.action].join(' ')} (CCO_HOME=${ctx.target.home})`}
    case 'run': {
      const argv = ctx.target.spec[step.command]
      return argv ? {summary: `${argv.join(' ')} in ${ctx.target.spec.repo}`} : {summary: `the target has no ${step.command} command`, warnings: [`target "${ctx.target.name}" has no ${step.command} command: add it to the target file`]}
    }
    case 'script':
      return {summary: `zx ${step.path}${step.args?.length ? ` ${step.args.join(' ')}` : ''}`}
    case 'validate': {
      const phase = step.phase ?? ctx.phase
      return {summary: `validate phase ${phase}: ${(step.checks ?? ctx.playbook.phases.find((p) => p.number === phase)?.checks.map((c) => c.name ?? c.id) ?? []).join(', ')}`}
    }
    case 'manual':
      return {summary: `manual: ${step.instructions}`, warnings: ['cutover cannot run a manual step']}
    case 'git':
      return previewGit(step, ctx)
  }
}

async function previewGit(step: GitStep, ctx: Omit<StepContext, 'retry'>): Promise<{summary: string; diff?: string[]; warnings?: string[]}> {
  let repo: g.Repo
  try {
    repo = await g.openTargetRepo(ctx.target)
  } catch (error) {
    return {summary: `git ${step.action}`, warnings: [(error as Error).message]}
  }
  switch (step.action) {
    case 'branch':
      return {summary: `git checkout -B ${step.name} ${step.from ?? 'HEAD'} (HEAD is ${(await g.head(repo)).slice(0, 12)} on ${(await g.currentBranch(repo)) ?? 'a detached HEAD'})`}
    case 'remove_paths': {
      const tracked = await g.listFiles(repo)
      const files = tracked.filter((f) => step.paths.some((p) => f === p.replace(/\/$/, '') || f.startsWith(p.replace(/\/$/, '') + '/')))
      const diff: string[] = []
      for (const file of files) {
        const lines = fs.existsSync(path.join(repo.dir, file)) ? fs.readFileSync(path.join(repo.dir, file), 'utf8').split('\n').length : 0
        diff.push(`deleted file: ${file} (-${lines} lines)`)
      }
      return {summary: `git rm -r ${step.paths.join(' ')} (${files.length} tracked file(s))`, diff, ...(files.length === 0 ? {warnings: ['nothing to remove']} : {})}
    }
    case 'delete_lines': {
      const matches = await g.matchingLines(repo, step.files, step.pattern)
      const diff = matches.flatMap((m) => [`--- a/${m.file}`, `+++ b/${m.file}`, `@@ -${m.line} +${m.line - 1},0 @@`, `-${m.text}`])
      const ok = step.expect === 'any' || (step.expect === 'one' ? matches.length === 1 : matches.length >= 1)
      return {summary: `delete ${matches.length} line(s) matching /${step.pattern}/ in ${step.files.join(', ')} (expect ${step.expect})`, diff, ...(ok ? {} : {warnings: [`expected ${step.expect}, found ${matches.length}: the step would fail`]})}
    }
    case 'apply_patch': {
      const patch = path.resolve(ctx.playbookDir, step.patch)
      const check = await repo.git.raw(['apply', '--check', patch]).then(() => null, (e: Error) => e.message.trim())
      return {summary: `git apply --index ${step.patch}`, diff: fs.readFileSync(patch, 'utf8').split('\n'), ...(check ? {warnings: [`git apply --check: ${check}`]} : {})}
    }
    case 'commit':
      return {summary: `git commit -m "${step.message}" (the changes of the steps above)`}
    case 'revert':
      return {summary: `git revert ${step.ref === 'phase_commits' ? ctx.phaseCommits.join(' ') || '(the phase\'s commits)' : step.ref}`}
    case 'checkout':
      return {summary: `git checkout --detach ${step.ref}`}
  }
}

/** Refuse plans cutover cannot carry out, before anything runs. */
export function checkPlannable(steps: readonly ApplyStep[], target: Target): void {
  const manual = steps.find((s) => s.type === 'manual')
  if (manual) throw new ConfigError(`step "${manual.id}" is a manual step, which cutover cannot run`, ['Do it by hand, then remove it from the phase\'s apply steps (or use --force to move on).'], 'STEP_MANUAL')
  for (const s of steps) {
    if (s.type === 'run' && !target.spec[s.command]) throw new ConfigError(`step "${s.id}" runs the target's ${s.command} command, but target "${target.name}" has none`, [`Add "${s.command}" and "repo" to the target file (${target.spec.source}).`], 'TARGET_NO_REPO')
  }
}

export function describeValidationLines(v: PhaseValidation): string[] {
  return describeValidation(v)
}
