/**
 * `phase advance`: gate -> plan -> apply step by step (journaled) -> validate -> done, or roll back.
 * The gate decides (pure evaluation, recorded by gonogo); this module only does, and journals it.
 */
import path from 'node:path'

import {ConfigError, CutoverError, ExitCode, type ExitCodeValue} from '../errors.js'
import {pinBaseline as defaultPinBaseline, runGonogo} from '../gate/index.js'
import type {ApplyStep, Playbook} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import type {PendingOperation, PhaseState} from '../state/types.js'
import type {Target} from '../target/target.js'
import * as g from './git.js'
import {compensate, type CompensationReport, journalNames, type RunContext, runSteps, type StepDetail, type StepReport, stepReports} from './runner.js'
import {checkPlannable, previewStep, stepLabel} from './steps.js'
import {defaultValidator, type PhaseValidator} from './validator.js'

export const ADVANCE_KIND = 'advance'

export interface AdvanceParams {
  from: number
  to: number
  playbook: {name: string; version: string; file: string}
  playbookDir: string
  target: {name: string; home: string; repo: string | null}
  steps: ApplyStep[]
  /** HEAD of the target repo before the phase's git steps (ref `pre_phase`). */
  pre_head: string | null
  gate: GateSummary | null
  forced: {reason: string} | null
}

export interface GateSummary {
  verdict: string
  exitCode: number
  summary: string
  evaluationId: string | null
  blocking: string[]
}

export type GateRunner = (input: {playbook: Playbook; playbookFile: string; state: StateStore; target: Target; from: number; to: number; prometheusUrl?: string}) => Promise<GateSummary>
export type BaselinePinner = (input: {playbook: Playbook; state: StateStore; target: Target; phase: number; prometheusUrl?: string}) => Promise<BaselineSummary>

export interface BaselineSummary {
  id: number | null
  pinned: {key: string; value: number}[]
  skipped: {key: string; reason: string}[]
}

export interface AdvanceOptions {
  playbook: Playbook
  /** The playbook file (shown, and the directory scripts and patches resolve against). */
  playbookFile: string
  target: Target
  state: StateStore
  to?: number
  dryRun?: boolean
  force?: boolean
  reason?: string
  /** Roll back a pending interrupted advance instead of resuming it. */
  abort?: boolean
  prometheusUrl?: string
  lockWaitMs?: number
  log?: (line: string) => void
  validator?: PhaseValidator
  gate?: GateRunner
  pinBaseline?: BaselinePinner
}

export interface PlannedStep {
  index: number
  id: string
  title: string
  kind: string
  summary: string
  diff?: string[]
  warnings?: string[]
}

export type AdvanceAction = 'advanced' | 'rolled_back' | 'rollback_failed' | 'blocked' | 'dry_run' | 'nothing_to_abort'

export interface AdvanceResult {
  action: AdvanceAction
  exitCode: ExitCodeValue
  message: string
  from: number
  to: number
  target: {name: string; home: string}
  playbook: {name: string; file: string}
  /** True when this invocation continued (or aborted) an interrupted advance. */
  resumed: boolean
  gate: GateSummary | null
  forced: {reason: string} | null
  operationId: string | null
  steps: StepReport[]
  plan?: PlannedStep[]
  failure?: {step: string; error: string}
  compensation?: CompensationReport
  baseline?: BaselineSummary | null
  commits?: string[]
  phase: PhaseState | null
}

const defaultGate: GateRunner = async (input) => {
  const result = await runGonogo({...input, ...(input.prometheusUrl ? {prometheusUrl: input.prometheusUrl} : {})})
  return {verdict: result.verdict, exitCode: result.exitCode, summary: result.summary, evaluationId: result.evaluation.id, blocking: result.blocking}
}

const defaultPin: BaselinePinner = async (input) => {
  const result = await defaultPinBaseline(input)
  return {id: result.baseline?.id ?? null, pinned: result.pinned.map((p) => ({key: p.key, value: p.value})), skipped: result.skipped}
}

/** The steps an advance into `phase` runs: the phase's apply steps, plus a validation if it has none. */
export function advanceSteps(playbook: Playbook, phase: number): ApplyStep[] {
  const def = playbook.phases.find((p) => p.number === phase)
  if (!def) throw new ConfigError(`the playbook "${playbook.name}" has no phase ${phase} (its phases: ${playbook.phases.map((p) => p.number).join(', ')})`, [], 'PHASE_UNKNOWN')
  const steps = [...def.apply]
  if (!steps.some((s) => s.type === 'validate')) steps.push({id: 'validate', type: 'validate', title: `Validate phase ${phase}`})
  return steps
}

export async function advancePhase(opts: AdvanceOptions): Promise<AdvanceResult> {
  const log = opts.log ?? (() => undefined)
  const {state, target, playbook} = opts
  const validator = opts.validator ?? (await defaultValidator())
  const playbookDir = path.dirname(path.resolve(opts.playbookFile))
  const lock = opts.dryRun ? null : await state.acquireOperationLock('phase advance', {waitMs: opts.lockWaitMs ?? 0})
  try {
    const pending = state.pendingOperation<AdvanceParams>()
    if (pending && pending.operation.kind !== ADVANCE_KIND) {
      throw new CutoverError(`an interrupted "${pending.operation.kind}" operation (${pending.operation.id}, started ${pending.operation.startedAt}) is still pending`, {
        code: 'OPERATION_PENDING',
        exit: ExitCode.Usage,
        suggestions: ['Finish it first: run the rollback command again (it resumes), then advance.'],
      })
    }
    if (pending) return await continuePending(opts, pending, validator, log)
    if (opts.abort) {
      return {...base(opts, state.getPhase()?.phase ?? 1, (state.getPhase()?.phase ?? 1) + 1), action: 'nothing_to_abort', exitCode: ExitCode.Ok, message: 'no interrupted advance to abort'}
    }

    const from = state.getPhase()?.phase ?? 1
    const to = opts.to ?? from + 1
    if (to <= from) {
      throw new ConfigError(`cannot advance from phase ${from} to phase ${to}: advancing only moves forward`, ['To go back, roll back: cutover rollback --flag (Phase 2) or cutover rollback --git (Phase 3).'], 'ADVANCE_BACKWARDS')
    }
    if (to !== from + 1) throw new ConfigError(`cannot advance from phase ${from} to phase ${to}: phases are entered one at a time (next: ${from + 1})`, [`Run: cutover phase advance --to ${from + 1}`], 'ADVANCE_SKIPS')
    const steps = advanceSteps(playbook, to)
    checkPlannable(steps, target)
    const hasGit = steps.some((s) => s.type === 'git')
    const repo = hasGit ? await g.openTargetRepo(target) : null

    if (opts.dryRun) {
      const ctx = runContext(opts, validator, playbookDir, to, repo ? await g.head(repo) : null, [], log)
      const plan: PlannedStep[] = []
      for (const [index, step] of steps.entries()) plan.push({index, id: step.id, title: step.title, kind: stepLabel(step), ...(await previewStep(step, ctx))})
      const dirty = repo ? await g.trackedChanges(repo) : []
      if (dirty.length > 0) plan[0]?.warnings?.push(`the repository has uncommitted changes; the advance would refuse to start`)
      return {...base(opts, from, to), action: 'dry_run', exitCode: ExitCode.Ok, message: `dry run: ${steps.length} step(s) would move the target from phase ${from} to phase ${to}; nothing was changed`, plan}
    }

    if (opts.force && !opts.reason?.trim()) throw new ConfigError('--force needs --reason TEXT: the reason is recorded in the audit trail', ['Example: cutover phase advance --force --reason "approved in the change meeting, ticket OPS-42"'], 'FORCE_NEEDS_REASON')
    let gate: GateSummary | null = null
    try {
      gate = await (opts.gate ?? defaultGate)({playbook, playbookFile: opts.playbookFile, state, target, from, to, ...(opts.prometheusUrl ? {prometheusUrl: opts.prometheusUrl} : {})})
    } catch (error) {
      if (!opts.force) throw error
      gate = {verdict: 'ERROR', exitCode: ExitCode.CouldNotEvaluate, summary: `the gate could not be evaluated: ${(error as Error).message}`, evaluationId: null, blocking: []}
    }
    log(`gate ${from} -> ${to}: ${gate.verdict}${gate.summary ? ` (${gate.summary})` : ''}`)
    const forced = opts.force ? {reason: opts.reason!.trim()} : null
    if (gate.verdict !== 'GO') {
      if (!forced) {
        const exitCode = (gate.exitCode === 0 ? ExitCode.Fail : gate.exitCode) as ExitCodeValue
        return {...base(opts, from, to), action: 'blocked', exitCode, gate, message: `not advancing: the gate ${from} -> ${to} says ${gate.verdict}${gate.blocking.length ? ` (blocking: ${gate.blocking.join(', ')})` : ''}`}
      }
      state.appendTrail({kind: 'advance.force', payload: {from, to, reason: forced.reason, verdict: gate.verdict, evaluation_id: gate.evaluationId, blocking: gate.blocking}})
      log(`forcing the advance despite ${gate.verdict}: ${forced.reason}`)
    }

    if (repo) await g.requireClean(repo, `the phase ${to} git steps`)
    const preHead = repo ? await g.head(repo) : null
    const params: AdvanceParams = {
      from,
      to,
      playbook: {name: playbook.name, version: playbook.version, file: opts.playbookFile},
      playbookDir,
      target: {name: target.name, home: target.home, repo: target.spec.repo},
      steps,
      pre_head: preHead,
      gate,
      forced,
    }
    const op = state.beginOperation({kind: ADVANCE_KIND, params, steps: journalNames(steps)})
    log(`advancing from phase ${from} to phase ${to} (operation ${op.operation.id}, ${steps.length} steps)`)
    return await execute(opts, op.operation.id, params, validator, log, false)
  } finally {
    lock?.release()
  }
}

function base(opts: AdvanceOptions, from: number, to: number): Omit<AdvanceResult, 'action' | 'exitCode' | 'message'> {
  return {
    from,
    to,
    target: {name: opts.target.name, home: opts.target.home},
    playbook: {name: opts.playbook.name, file: opts.playbookFile},
    resumed: false,
    gate: null,
    forced: null,
    operationId: null,
    steps: [],
    phase: opts.state.getPhase(),
  }
}

function runContext(opts: AdvanceOptions, validator: PhaseValidator, playbookDir: string, phase: number, preHead: string | null, phaseCommits: string[], log: (l: string) => void): RunContext {
  // The advance's daemon restarts are planned, journaled maintenance: excluded from availability.
  const maintenance = {kind: 'advance-step' as const, reason: `phase advance to phase ${phase}`}
  return {target: opts.target, playbook: opts.playbook, playbookDir, state: opts.state, phase, validator, preHead, phaseCommits, log, maintenance}
}

async function continuePending(opts: AdvanceOptions, pending: PendingOperation<AdvanceParams>, validator: PhaseValidator, log: (l: string) => void): Promise<AdvanceResult> {
  const params = pending.operation.params
  const where = pending.interruptedStep ? `interrupted in step "${pending.interruptedStep.name}"` : pending.nextStep ? `stopped before step "${pending.nextStep.name}"` : 'stopped after its last step'
  const rollingBack = pending.steps.some((s) => s.state === 'failed' || s.state === 'rolled_back')
  log(`found the advance ${params.from} -> ${params.to} (operation ${pending.operation.id}, started ${pending.operation.startedAt}), ${where}`)
  if (opts.dryRun) {
    return {
      ...base(opts, params.from, params.to),
      action: 'dry_run',
      exitCode: ExitCode.Ok,
      resumed: true,
      operationId: pending.operation.id,
      steps: stepReports(opts.state, pending.operation.id, params.steps),
      message: `dry run: the interrupted advance ${params.from} -> ${params.to} (${where}) would be ${opts.abort || rollingBack ? 'rolled back' : 'resumed'}; nothing was changed`,
    }
  }
  if (opts.abort || rollingBack) {
    const reason = opts.abort ? `--abort of the interrupted advance (${where})` : `finishing the rollback of the advance (${where})`
    opts.state.appendTrail({kind: 'advance.abort', payload: {operation_id: pending.operation.id, from: params.from, to: params.to, reason}})
    const ctx = runContext({...opts, playbook: opts.playbook}, validator, params.playbookDir, params.to, params.pre_head, [], log)
    const compensation = await compensate(opts.state, pending.operation.id, params.steps, ctx, reason)
    return {
      ...base(opts, params.from, params.to),
      action: compensation.ok ? 'rolled_back' : 'rollback_failed',
      exitCode: ExitCode.Fail,
      resumed: true,
      gate: params.gate,
      forced: params.forced,
      operationId: pending.operation.id,
      steps: stepReports(opts.state, pending.operation.id, params.steps),
      compensation,
      message: compensation.ok ? `rolled back the interrupted advance ${params.from} -> ${params.to}; the target is back in phase ${params.from}` : `the rollback of the interrupted advance did not complete: ${compensation.actions.filter((a) => !a.ok).map((a) => `${a.action}: ${a.error}`).join('; ')}`,
    }
  }
  opts.state.appendTrail({kind: 'advance.resume', payload: {operation_id: pending.operation.id, from: params.from, to: params.to, at: where}})
  return execute(opts, pending.operation.id, params, validator, log, true)
}


async function execute(opts: AdvanceOptions, operationId: string, params: AdvanceParams, validator: PhaseValidator, log: (l: string) => void, resumed: boolean): Promise<AdvanceResult> {
  const ctx = runContext(opts, validator, params.playbookDir, params.to, params.pre_head, [], log)
  const outcome = await runSteps(opts.state, operationId, params.steps, ctx, {compensateOnFailure: true})
  const common = {...base(opts, params.from, params.to), resumed, gate: params.gate, forced: params.forced, operationId, steps: outcome.steps}
  if (outcome.status !== 'completed') {
    const failure = outcome.failure ? {step: outcome.failure.id, error: outcome.failure.error} : undefined
    const undone = outcome.compensation?.ok !== false
    return {
      ...common,
      action: undone ? 'rolled_back' : 'rollback_failed',
      exitCode: ExitCode.Fail,
      ...(failure ? {failure} : {}),
      ...(outcome.compensation ? {compensation: outcome.compensation} : {}),
      phase: opts.state.getPhase(),
      message: undone
        ? `advance ${params.from} -> ${params.to} failed in step "${failure?.step}" and was rolled back automatically: ${failure?.error.split('\n')[0]}`
        : `advance ${params.from} -> ${params.to} failed in step "${failure?.step}" and the automatic rollback did not complete: ${outcome.compensation?.actions.filter((a) => !a.ok).map((a) => `${a.action}: ${a.error}`).join('; ')}`,
    }
  }
  // Every step (the validation included) passed: pin the completed phase's baseline, then move on.
  let baseline: BaselineSummary | null = null
  try {
    baseline = await (opts.pinBaseline ?? defaultPin)({playbook: opts.playbook, state: opts.state, target: opts.target, phase: params.from, ...(opts.prometheusUrl ? {prometheusUrl: opts.prometheusUrl} : {})})
  } catch (error) {
    baseline = {id: null, pinned: [], skipped: [{key: '*', reason: (error as Error).message}]}
  }
  const commits = outcome.steps.flatMap((s) => (typeof s.result?.commit === 'string' ? [s.result.commit] : []))
  const phase = opts.state.setPhase(params.to, {reason: `advance from phase ${params.from}${params.forced ? ` (forced: ${params.forced.reason})` : ''} (operation ${operationId})`})
  opts.state.finishOperation(operationId, 'done', {from: params.from, to: params.to, commits, pre_head: params.pre_head, baseline_id: baseline?.id ?? null})
  log(`phase ${params.to} entered`)
  return {...common, action: 'advanced', exitCode: ExitCode.Ok, baseline, commits, phase, message: `advanced from phase ${params.from} to phase ${params.to}${resumed ? ' (resumed after an interruption)' : ''}`}
}

/** The commits of the latest completed advance that are still in HEAD's history and not reverted. */
export async function lastAdvanceCommits(state: StateStore, repo: g.Repo): Promise<{operationId: string; from: number; to: number; commits: string[]; preHead: string | null} | null> {
  for (const op of state.listOperations({kind: ADVANCE_KIND, limit: 200})) {
    if (op.state !== 'done') continue
    const detail = (op.detail ?? {}) as {commits?: unknown; pre_head?: unknown; from?: unknown; to?: unknown}
    const commits = Array.isArray(detail.commits) ? detail.commits.filter((c): c is string => typeof c === 'string') : []
    if (commits.length === 0) continue
    const live: string[] = []
    for (const sha of commits) if ((await g.isAncestor(repo, sha)) && !(await g.isReverted(repo, sha))) live.push(sha)
    if (live.length === 0) continue
    return {operationId: op.id, from: Number(detail.from), to: Number(detail.to), commits: live, preHead: typeof detail.pre_head === 'string' ? detail.pre_head : null}
  }
  return null
}

export type {StepDetail}
