/**
 * The journaled step runner. Every step is journaled as running (with the state needed to undo it)
 * before its effect starts, and marked done or failed after. A failure (or an `--abort`) undoes the
 * steps that ran, newest first, from what the journal recorded; then rebuilds if the source changed
 * under a build, and restores the daemon. An operation interrupted by a crash or a kill is still
 * "running" in the journal, so the next invocation sees it and resumes or rolls it back.
 */
import type {ApplyStep} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import type {JournalStep, StepState} from '../state/types.js'
import {runEssentialCheck} from './essential-checks.js'
import {MaintenanceTracker} from './maintenance.js'
import {captureBefore, journalName, runStep, type StepBefore, type StepContext, StepFailure, stepLabel, undoStep} from './steps.js'

/** What the journal holds for a step. */
export interface StepDetail {
  title?: string
  before?: StepBefore
  result?: Record<string, unknown>
  error?: string
  duration_ms?: number
  undo?: unknown
}

export interface StepReport {
  index: number
  id: string
  title: string
  kind: string
  state: StepState
  durationMs: number | null
  result?: Record<string, unknown>
  error?: string
}

export interface CompensationAction {
  step: string
  action: string
  ok: boolean
  detail?: unknown
  error?: string
}

export interface CompensationReport {
  ok: boolean
  reason: string
  actions: CompensationAction[]
}

export interface RunOutcome {
  operationId: string
  status: 'completed' | 'rolled_back' | 'failed'
  steps: StepReport[]
  failure?: {index: number; id: string; error: string}
  compensation?: CompensationReport
}

export type RunContext = Omit<StepContext, 'retry'>

export interface RunOptions {
  /** Undo the applied steps when one fails (advance: yes; a rollback: no, it reports). */
  compensateOnFailure: boolean
}

export function journalNames(steps: readonly ApplyStep[]): string[] {
  return steps.map((s) => journalName(s))
}

export function stepReports(state: StateStore, operationId: string, steps: readonly ApplyStep[]): StepReport[] {
  const journal = state.operationSteps(operationId)
  return steps.map((step, index) => {
    const j = journal.find((x) => x.index === index)
    const d = (j?.detail ?? {}) as StepDetail
    return {
      index,
      id: step.id,
      title: step.title,
      kind: stepLabel(step),
      state: j?.state ?? 'planned',
      durationMs: typeof d.duration_ms === 'number' ? d.duration_ms : null,
      ...(d.result ? {result: d.result} : {}),
      ...(d.error ? {error: d.error} : {}),
    }
  })
}

/**
 * Run the operation's steps that are not done yet, in order. Daemon steps run inside a maintenance
 * window (ctx.maintenance): a stop opens it and the next start/restart closes it once the daemon
 * answers (so a build between them is inside); a failure, or the end of the steps, closes it at once.
 */
export async function runSteps(state: StateStore, operationId: string, steps: readonly ApplyStep[], ctx: RunContext, opts: RunOptions): Promise<RunOutcome> {
  const maintenance = new MaintenanceTracker(state, ctx.target, ctx.maintenance ? {...ctx.maintenance, operationId} : null)
  try {
    return await runJournaledSteps(state, operationId, steps, ctx, opts, maintenance)
  } finally {
    maintenance.end('operation ended')
  }
}

async function runJournaledSteps(state: StateStore, operationId: string, steps: readonly ApplyStep[], ctx: RunContext, opts: RunOptions, maintenance: MaintenanceTracker): Promise<RunOutcome> {
  const journal = state.operationSteps(operationId)
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index]!
    const existing = journal.find((j) => j.index === index)
    if (existing?.state === 'done') continue
    const retry = existing?.state === 'running' || existing?.state === 'failed'
    const recorded = (existing?.detail ?? null) as StepDetail | null
    const stepCtx: StepContext = {...ctx, retry}
    const before = recorded?.before ?? (await captureBefore(step, stepCtx))
    // Written before the effect starts: a kill from here on leaves the step "running" with its undo state.
    state.beginStep(operationId, index, undefined, recorded?.before ? undefined : {title: step.title, before})
    ctx.log(`→ ${step.id}: ${step.title}${retry ? ' (again: it was interrupted)' : ''}`)
    const started = performance.now()
    if (step.type === 'daemon') maintenance.begin({step: step.id, action: step.action})
    try {
      const result = await runStep(step, stepCtx)
      if (step.type === 'daemon' && step.action !== 'stop') await maintenance.endVerified()
      const duration = Math.round(performance.now() - started)
      state.markStep(operationId, index, 'done', {title: step.title, before, result, duration_ms: duration} satisfies StepDetail)
      ctx.log(`  ✔ ${step.id} (${duration} ms)`)
    } catch (error) {
      const duration = Math.round(performance.now() - started)
      const message = error instanceof Error ? error.message : String(error)
      const result = error instanceof StepFailure ? error.result : {}
      maintenance.end('failed')
      state.markStep(operationId, index, 'failed', {title: step.title, before, result, error: message, duration_ms: duration} satisfies StepDetail)
      ctx.log(`  ✖ ${step.id}: ${message}`)
      const failure = {index, id: step.id, error: message}
      if (!opts.compensateOnFailure) {
        state.finishOperation(operationId, 'failed', {failed_step: step.id, error: message})
        return {operationId, status: 'failed', steps: stepReports(state, operationId, steps), failure}
      }
      const compensation = await compensate(state, operationId, steps, ctx, `step "${step.id}" failed: ${message}`)
      return {operationId, status: compensation.ok ? 'rolled_back' : 'failed', steps: stepReports(state, operationId, steps), failure, compensation}
    }
  }
  return {operationId, status: 'completed', steps: stepReports(state, operationId, steps)}
}

const TOUCHED: readonly StepState[] = ['running', 'done', 'failed', 'rolled_back']

/**
 * Undo what the operation's steps did, newest first, then finish the operation as rolled_back
 * (or failed when an undo failed). Safe to run again after an interruption: every undo restores
 * recorded state rather than reversing a delta.
 */
export async function compensate(state: StateStore, operationId: string, steps: readonly ApplyStep[], ctx: RunContext, reason: string): Promise<CompensationReport> {
  const journal: JournalStep[] = state.operationSteps(operationId).filter((j) => TOUCHED.includes(j.state)).sort((a, b) => b.index - a.index)
  const actions: CompensationAction[] = []
  const stepCtx: StepContext = {...ctx, retry: true}
  let sourceChanged = false
  let built = false
  let firstDaemon: StepBefore | null = null
  ctx.log(`↺ rolling back: ${reason}`)
  for (const j of journal) {
    const step = steps[j.index]
    if (!step) continue
    const detail = (j.detail ?? {}) as StepDetail
    const before = detail.before ?? {}
    if (step.type === 'git' && before.head) sourceChanged = true
    if (step.type === 'run' && step.command === 'build') built = true
    if (step.type === 'daemon') firstDaemon = before
    try {
      const undo = await undoStep(step, before, detail.result, stepCtx)
      if (undo) {
        actions.push({step: step.id, action: `undo ${stepLabel(step)}`, ok: true, detail: undo})
        ctx.log(`  ↺ ${step.id}: undone`)
      }
      if (j.state !== 'rolled_back') state.markStep(operationId, j.index, 'rolled_back', {...detail, undo: undo ?? 'no reversible effect of its own'} satisfies StepDetail)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      actions.push({step: step.id, action: `undo ${stepLabel(step)}`, ok: false, error: message})
      ctx.log(`  ✖ undo ${step.id}: ${message}`)
    }
  }
  // The build output still reflects the changed source: rebuild from the restored source.
  if (sourceChanged && built) {
    const result = await ctx.target.repoCommand('build').catch((error: Error) => ({ok: false, stderr: error.message, durationMs: 0, exitCode: null}))
    actions.push({step: 'build', action: 'rebuild the restored source', ok: result.ok, detail: {duration_ms: result.durationMs, exit_code: result.exitCode}, ...(result.ok ? {} : {error: result.stderr.split('\n').slice(-5).join('\n')})})
    ctx.log(`  ${result.ok ? '↺' : '✖'} rebuilt the restored source`)
  }
  // Bring the daemon back to how it was before the first daemon step, with the restored flags and build.
  if (firstDaemon) {
    const action = firstDaemon.daemonRunning === false ? 'stop' : 'restart'
    const maintenance = new MaintenanceTracker(state, ctx.target, ctx.maintenance ? {...ctx.maintenance, reason: `${ctx.maintenance.reason}: undo (${reason})`, operationId} : null)
    maintenance.begin({action: `compensation daemon ${action}`})
    const result = await ctx.target.daemon(action).catch((error: Error) => ({ok: false, stderr: error.message, durationMs: 0, exitCode: null}))
    const entry: CompensationAction = {step: 'daemon', action: `daemon ${action}`, ok: result.ok, detail: {duration_ms: result.durationMs, exit_code: result.exitCode}}
    if (!result.ok) entry.error = result.stderr.split('\n').slice(-5).join('\n') || `exit code ${result.exitCode}`
    else if (action === 'restart') {
      const check = await runEssentialCheck('daemon.running', ctx.target)
      if (check.outcome !== 'pass') Object.assign(entry, {ok: false, error: check.detail})
      else {
        const pid = ctx.target.readPidFile()
        entry.detail = {...(entry.detail as object), pid: pid.pid, gateway_port: pid.gateway_port, proxy_port: pid.proxy_port ?? null}
      }
    }
    if (entry.ok && action === 'restart') await maintenance.endVerified()
    else maintenance.end(entry.ok ? 'stopped' : 'failed')
    actions.push(entry)
    ctx.log(`  ${entry.ok ? '↺' : '✖'} daemon ${action}${entry.error ? `: ${entry.error}` : ''}`)
  }
  const ok = actions.every((a) => a.ok)
  state.finishOperation(operationId, ok ? 'rolled_back' : 'failed', {reason, compensation: actions})
  return {ok, reason, actions}
}
