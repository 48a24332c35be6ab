/**
 * The plan's rollback validation script (Appendix B, validate-rollback.sh), made safe: the last
 * stable commit is built and tested in a temporary git worktree, so the operator's working tree,
 * HEAD and the running daemon are never touched (both are compared before and after).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {ExitCode, type ExitCodeValue} from '../errors.js'
import * as g from '../apply/git.js'
import type {StateStore} from '../state/store.js'
import type {RollbackRecord} from '../state/types.js'
import type {Target} from '../target/target.js'
import {GIT_OBJECTIVE_MS} from './git.js'

export interface RehearseOptions {
  target: Target
  state: StateStore
  objectiveMs?: number
  log?: (line: string) => void
}

export interface RehearseResult {
  kind: 'git-rehearsal'
  outcome: 'success' | 'failed'
  exitCode: ExitCodeValue
  message: string
  target: {name: string; home: string; repo: string}
  marker: string
  stableCommit: {sha: string; subject: string} | null
  head: string
  objectiveMs: number
  totalMs: number
  withinObjective: boolean
  stages: {stage: string; ms: number}[]
  build: {ok: boolean; durationMs: number; exitCode: number | null; outputTail: string} | null
  test: {ok: boolean; durationMs: number; exitCode: number | null; outputTail: string} | null
  /** git status --porcelain and HEAD were the same before and after. */
  workingTreeUntouched: boolean
  /** The daemon's pid (if one ran) was the same before and after. */
  daemonUntouched: boolean
  rollback: RollbackRecord
  error?: string
}

function daemonPid(target: Target): number | null {
  try {
    return target.readPidFile().pid
  } catch {
    return null
  }
}

export async function rehearseGitRollback(opts: RehearseOptions): Promise<RehearseResult> {
  const t0 = performance.now()
  const log = opts.log ?? (() => undefined)
  const {target, state} = opts
  const objectiveMs = opts.objectiveMs ?? GIT_OBJECTIVE_MS
  const marker = target.spec.stableCommitMarker
  const repo = await g.openRepo(target.spec.repo ?? '')
  const statusBefore = await g.porcelainStatus(repo)
  const headBefore = await g.head(repo)
  const pidBefore = daemonPid(target)
  const stages: {stage: string; ms: number}[] = []
  let mark = t0
  const stage = (name: string) => {
    const now = performance.now()
    stages.push({stage: name, ms: Math.round(now - mark)})
    mark = now
  }
  let stable: {sha: string; subject: string} | null = null
  let build: RehearseResult['build'] = null
  let test: RehearseResult['test'] = null
  let error: string | undefined
  const worktree = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-rehearsal-'))
  let added = false
  try {
    stable = await g.findStableCommit(repo, marker)
    stage('find_stable_commit')
    if (!stable) throw new Error(`no commit reachable from HEAD has a message containing "${marker}" (the last stable commit marker)`)
    log(`last stable commit: ${stable.sha.slice(0, 12)} ${stable.subject}`)
    await repo.git.raw(['worktree', 'add', '--detach', '--force', worktree, stable.sha])
    added = true
    // Dependencies are not in git: link the checkout's installed ones into the worktree.
    const rel = path.relative(repo.top, repo.dir)
    const cwd = path.join(worktree, rel)
    for (const [from, to] of [[path.join(repo.dir, 'node_modules'), path.join(cwd, 'node_modules')], [path.join(repo.top, 'node_modules'), path.join(worktree, 'node_modules')]] as const) {
      if (fs.existsSync(from) && !fs.existsSync(to)) fs.symlinkSync(fs.realpathSync(from), to, 'dir')
    }
    stage('worktree')
    log(`worktree: ${cwd}`)
    const tail = (r: {stdout: string; stderr: string}) => [r.stdout, r.stderr].filter(Boolean).join('\n').split('\n').slice(-40).join('\n')
    const b = await target.repoCommand('build', cwd)
    build = {ok: b.ok, durationMs: b.durationMs, exitCode: b.exitCode, outputTail: tail(b)}
    stage('build')
    log(`${b.ok ? '✔' : '✖'} build (${b.durationMs} ms)`)
    if (!b.ok) throw new Error(`the build of ${stable.sha.slice(0, 12)} failed (exit code ${b.exitCode}): ${build.outputTail}`)
    const t = await target.repoCommand('test', cwd)
    test = {ok: t.ok, durationMs: t.durationMs, exitCode: t.exitCode, outputTail: tail(t)}
    stage('test')
    log(`${t.ok ? '✔' : '✖'} tests (${t.durationMs} ms)`)
    if (!t.ok) throw new Error(`the tests of ${stable.sha.slice(0, 12)} failed (exit code ${t.exitCode}): ${test.outputTail}`)
  } catch (e) {
    error = (e as Error).message
  } finally {
    if (added) await repo.git.raw(['worktree', 'remove', '--force', worktree]).catch(() => undefined)
    fs.rmSync(worktree, {recursive: true, force: true})
    await repo.git.raw(['worktree', 'prune']).catch(() => undefined)
    stage('cleanup')
  }
  const workingTreeUntouched = (await g.porcelainStatus(repo)) === statusBefore && (await g.head(repo)) === headBefore
  const daemonUntouched = daemonPid(target) === pidBefore
  if (!error && !workingTreeUntouched) error = 'the working tree or HEAD changed during the rehearsal'
  if (!error && !daemonUntouched) error = 'the daemon changed during the rehearsal'
  const totalMs = Math.round(performance.now() - t0)
  const rollback = state.recordRollback({
    kind: 'git-rehearsal',
    outcome: error ? 'failed' : 'success',
    timings: Object.fromEntries(stages.map((s) => [s.stage, s.ms])),
    objectiveMs,
    totalMs,
    detail: {stable_commit: stable?.sha ?? null, head: headBefore, working_tree_untouched: workingTreeUntouched, daemon_untouched: daemonUntouched, ...(error ? {error} : {})},
  })
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  return {
    kind: 'git-rehearsal',
    outcome: error ? 'failed' : 'success',
    exitCode: error || !rollback.withinObjective ? ExitCode.Fail : ExitCode.Ok,
    message: error ? `rollback rehearsal FAILED: ${error.split('\n')[0]}` : `rollback rehearsal passed: ${stable!.sha.slice(0, 12)} builds and passes its tests in ${seconds(totalMs)} (objective ${seconds(objectiveMs)}: ${rollback.withinObjective ? 'met' : 'MISSED'}); working tree and daemon untouched`,
    target: {name: target.name, home: target.home, repo: repo.dir},
    marker,
    stableCommit: stable,
    head: headBefore,
    objectiveMs,
    totalMs,
    withinObjective: rollback.withinObjective,
    stages,
    build,
    test,
    workingTreeUntouched,
    daemonUntouched,
    rollback,
    ...(error ? {error} : {}),
  }
}
