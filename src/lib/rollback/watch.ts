/**
 * `watch`: the plan's rollback decision criteria, evaluated continuously. Each tick measures every
 * rollback trigger (the gate's sources), compares banded triggers with the pinned baseline, and
 * decides with the pure evaluator: none / alert (a human decides) / rollback. Alerts go to the
 * terminal and to a webhook; a rollback decision performs the flag rollback with --auto-rollback
 * (measured from the moment of the decision), otherwise it is reported as recommended.
 */
import {getCheck, resolveCheckParams} from '../../checks/index.js'
import {ExitCode} from '../errors.js'
import {evaluateTrigger} from '../evaluate/triggers.js'
import type {Measurement, RollbackTriggerSpec, TriggerBand, TriggerDecision} from '../evaluate/types.js'
import {baselineKey, resolveWindow, UNIT_TEXT} from '../gate/criteria.js'
import {measure} from '../gate/measure.js'
import {recordsInputFromState} from '../gate/records.js'
import type {Playbook, RollbackTrigger} from '../playbook/types.js'
import {gatewayMetricUnit} from '../sources/gateway.js'
import {redactUrl} from '../sources/http.js'
import {errorMeasurement} from '../sources/types.js'
import {executeCheck, Memo} from '../validate/run.js'
import type {StateStore} from '../state/store.js'
import type {Target} from '../target/target.js'
import {flagRollback, type FlagRollbackResult} from './flag.js'

export interface WatchOptions {
  playbook: Playbook
  target: Target
  state: StateStore
  intervalMs: number
  /** Stop after this long (default: until the signal aborts). */
  durationMs?: number
  once?: boolean
  autoRollback?: boolean
  notifyUrl?: string
  prometheusUrl?: string
  /** Directory that a check's relative paths resolve against (the playbook file's directory; default: the working directory). */
  baseDir?: string
  signal?: AbortSignal
  lockWaitMs?: number
  log?: (line: string) => void
  warn?: (line: string) => void
  now?: () => Date
}

export type WatchDecision = TriggerBand

export interface TriggerReport extends TriggerDecision {
  unit: string
  source: string
  metric: string
  window: string
  rollbackKind: string | null
  /** Source `check`: the library check that ran, and its outcome. */
  check?: {id: string; outcome: string; detail: string}
}

/** How a trigger's state is shown: its decision when it was evaluated, else 'inconclusive' or 'error'. */
export function triggerLabel(t: Pick<TriggerReport, 'decision' | 'status'>): string {
  return t.status === 'evaluated' ? t.decision : t.status
}

export interface WatchTick {
  at: string
  decision: TriggerBand
  triggers: TriggerReport[]
}

export interface Notification {
  at: string
  criterion: string
  decision: string
  band: TriggerBand
  delivered: boolean | null
  status?: number
  error?: string
}

export interface WatchResult {
  /** 1 a rollback fired or is recommended; else 4 when a trigger could not be evaluated; else 0. */
  exitCode: 0 | 1 | 4
  message: string
  /** Triggers that could not be evaluated (source error, unknown check, no --prometheus-url), with the reason of their last failure. */
  unevaluated: Array<{id: string; reason: string}>
  target: {name: string; home: string}
  ticks: WatchTick[]
  notifications: Notification[]
  rollbackRecommended: boolean
  rollback: FlagRollbackResult | null
  stoppedBecause: 'once' | 'duration' | 'rollback' | 'signal'
}

/** The evaluator's view of a playbook trigger. Action 'none' only reports. */
function toSpec(t: RollbackTrigger, window: string): RollbackTriggerSpec {
  return {
    id: t.id,
    title: t.title,
    source: t.source === 'check' ? 'records' : t.source,
    metric: t.metric,
    statistic: t.statistic,
    window,
    operator: t.operator,
    threshold: t.threshold,
    ...(UNIT_TEXT[t.unit] ? {unit: UNIT_TEXT[t.unit]} : {}),
    ...(t.bands ? {bands: t.bands} : {}),
    // A banded trigger's threshold is a degradation in percent; its value is in the metric's own unit (ms, req/s).
    ...(t.bands && t.source === 'gateway' && gatewayMetricUnit(t.metric) ? {value_unit: gatewayMetricUnit(t.metric)} : {}),
    ...(t.worse_when ? {worse_when: t.worse_when} : {}),
    min_samples: t.min_samples,
    ...(t.min_hosts === undefined ? {} : {min_hosts: t.min_hosts}),
    action: t.action === 'rollback' ? 'rollback' : 'alert',
  }
}

/**
 * Source `check`: run the library check the trigger names through the path `phase validate` uses
 * (executeCheck: params defaulted and validated, timeout, exceptions become `error`). A failing check
 * trips the trigger (value 1, metric check.failed); a check that could not measure is an error of the
 * trigger, never a silent 0; an inconclusive check leaves the trigger inconclusive.
 */
async function measureCheckTrigger(t: RollbackTrigger, opts: WatchOptions, now: Date, shared: Memo): Promise<{measurement: Measurement; check?: TriggerReport['check']}> {
  const id = t.check ?? ''
  const base = {id: t.id, source: 'records' as const, metric: t.metric, window: '1m'}
  if (!id) return {measurement: errorMeasurement(base, now, 'a source "check" trigger names no check; add check: <library check id> (cutover playbook lint lists them)')}
  const check = getCheck(id)
  if (!check) return {measurement: errorMeasurement(base, now, `the checks library has no check "${id}"; fix the trigger's check (cutover playbook lint)`)}
  const params = resolveCheckParams(id, t.params ?? {})
  if (!params.ok) return {measurement: errorMeasurement(base, now, `check "${id}": ${params.issues.map((i) => (i.param ? `${i.param}: ${i.message}` : i.message)).join('; ')}; fix the trigger's params (cutover playbook lint)`)}
  const phase = opts.state.getPhase()?.phase ?? 1
  const result = await executeCheck(
    {name: id, id, title: check.title, required: true, plan_ref: t.plan_ref, params: params.params},
    {target: opts.target, state: opts.state, phase, baseDir: opts.baseDir ?? process.cwd(), shared, now: opts.now ?? (() => new Date()), ...(opts.signal ? {signal: opts.signal} : {})},
  )
  const checkInfo = {id, outcome: result.outcome, detail: result.detail}
  const at = now.toISOString()
  const detail = {check: id, outcome: result.outcome, detail: result.detail, measured: result.measured, remediation: result.remediation ?? null}
  if (result.outcome === 'error') return {measurement: errorMeasurement(base, now, `check ${id} could not measure: ${result.detail}`), check: checkInfo}
  const measurement: Measurement = {criterionId: t.id, value: result.outcome === 'fail' ? 1 : 0, samples: 1, windowStart: at, windowEnd: at, windowElapsed: true, detail}
  if (result.outcome === 'inconclusive') return {measurement: {...measurement, untrusted: `check ${id} is inconclusive: ${result.detail}`}, check: checkInfo}
  return {measurement, check: checkInfo}
}

async function measureTrigger(t: RollbackTrigger, spec: RollbackTriggerSpec, opts: WatchOptions, now: Date, shared: Memo): Promise<{measurement: Measurement; check?: TriggerReport['check']}> {
  if (t.source === 'check') return measureCheckTrigger(t, opts, now, shared)
  // A Prometheus trigger without --prometheus-url is measured too: the source answers with an error
  // that says to pass it (the trigger is then "could not evaluate", exit 4), never a silent skip.
  const measureSpec = {id: t.id, source: t.source, metric: t.metric, statistic: t.statistic, window: spec.window ?? '15m', ...(t.min_hosts === undefined ? {} : {min_hosts: t.min_hosts})}
  const ctx = {state: opts.state, target: opts.target, records: recordsInputFromState(opts.state), ...(opts.prometheusUrl ? {prometheusUrl: opts.prometheusUrl} : {})}
  return {measurement: await measure(ctx, measureSpec, now, {...(t.params ? {params: t.params} : {}), ...(t.host_label ? {hostLabel: t.host_label} : {}), minSamples: t.min_samples})}
}

/** Evaluate every trigger once. */
export async function evaluateTriggersOnce(opts: WatchOptions): Promise<WatchTick> {
  const now = (opts.now ?? (() => new Date()))()
  const phase = opts.state.getPhase()
  const baseline = opts.state.latestBaseline()
  const triggers: TriggerReport[] = []
  const shared = new Memo()
  for (const t of opts.playbook.rollback_triggers) {
    const window = resolveWindow(t.window, {from: phase?.phase ?? 1}, phase, now)
    const spec = toSpec(t, window.duration)
    const {measurement, check} = await measureTrigger(t, spec, opts, now, shared)
    const common = {unit: t.unit, source: t.source, metric: t.metric, window: window.asWritten, rollbackKind: t.rollback_kind ?? null, ...(check ? {check} : {})}
    const base = t.bands ? baseline?.metrics[baselineKey(t)] : undefined
    const decision = evaluateTrigger(spec, measurement, base ?? null)
    // A trigger may not do more than its action allows (throughput degradation only alerts).
    let final: TriggerBand = decision.decision
    let reason = decision.reason
    if (t.action !== 'rollback' && final === 'rollback') {
      final = t.action === 'alert' ? 'alert' : 'none'
      reason += ` (capped: this trigger's action is ${t.action})`
    }
    triggers.push({...decision, decision: final, reason, ...common})
  }
  const decision: TriggerBand = triggers.some((t) => t.decision === 'rollback') ? 'rollback' : triggers.some((t) => t.decision === 'alert') ? 'alert' : 'none'
  return {at: now.toISOString(), decision, triggers}
}

async function notify(url: string, payload: Record<string, unknown>): Promise<{delivered: boolean; status?: number; error?: string}> {
  try {
    const res = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(payload), redirect: 'error', signal: AbortSignal.timeout(5000)})
    await res.arrayBuffer().catch(() => undefined)
    return res.ok ? {delivered: true, status: res.status} : {delivered: false, status: res.status, error: `HTTP ${res.status}`}
  } catch (error) {
    const err = error as Error & {cause?: {code?: string}}
    return {delivered: false, error: err.cause?.code ?? err.message}
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}

export async function watchTriggers(opts: WatchOptions): Promise<WatchResult> {
  const log = opts.log ?? (() => undefined)
  const warn = opts.warn ?? log
  const started = performance.now()
  const ticks: WatchTick[] = []
  const notifications: Notification[] = []
  const lastBand = new Map<string, string>()
  const unevaluated = new Map<string, string>()
  let rollbackRecommended = false
  let rollback: FlagRollbackResult | null = null
  let stoppedBecause: WatchResult['stoppedBecause'] = 'once'
  const target = {name: opts.target.name, home: opts.target.home}
  const shownUrl = opts.notifyUrl ? redactUrl(opts.notifyUrl) : null
  log(`watching ${opts.playbook.rollback_triggers.length} rollback trigger(s) of "${opts.playbook.name}" on ${opts.target.name} every ${opts.intervalMs} ms${opts.autoRollback ? ' (auto-rollback on)' : ''}${shownUrl ? `, notifying ${shownUrl}` : ''}`)

  for (;;) {
    const tick = await evaluateTriggersOnce(opts)
    const decidedAt = performance.now()
    ticks.push(tick)
    for (const t of tick.triggers) {
      if (t.status === 'error') unevaluated.set(t.id, t.reason)
      const label = triggerLabel(t)
      const previous = lastBand.get(t.id)
      lastBand.set(t.id, label)
      if (t.decision === 'none' || previous === label) continue
      // Only changes are announced: a trigger that stays in its band is not repeated every tick.
      const action = t.status === 'error' ? 'could_not_evaluate' : t.decision === 'rollback' ? (opts.autoRollback && (t.rollbackKind ?? 'flag') !== 'git' ? 'rollback' : 'rollback_recommended') : 'alert'
      const head = t.status === 'error' ? '✖ CANNOT EVALUATE' : t.decision === 'rollback' ? '✖ ROLLBACK' : '! ALERT'
      // Every reason starts with the trigger's id.
      const line = `${head} ${t.reason}${action === 'rollback_recommended' ? ` -> rollback recommended: run cutover rollback --${t.rollbackKind === 'git' ? 'git' : 'flag'}` : ''}`
      if (t.decision === 'rollback' || t.status === 'error') warn(line)
      else log(line)
      opts.state.appendTrail({kind: 'trigger', payload: {criterion: t.id, value: t.value, threshold: t.threshold, band: t.band, decision: action, status: t.status, baseline: t.baseline ?? null, degradation_pct: t.degradationPct ?? null, samples: t.samples, reason: t.reason}})
      if (t.decision === 'rollback' && action === 'rollback_recommended') rollbackRecommended = true
      if (opts.notifyUrl) {
        const payload = {criterion: t.id, title: t.title, value: t.value, threshold: t.threshold, unit: t.unit, decision: action, band: t.band, status: t.status, baseline: t.baseline ?? null, degradation_pct: t.degradationPct ?? null, samples: t.samples, reason: t.reason, target, at: tick.at}
        const sent = await notify(opts.notifyUrl, payload)
        notifications.push({at: tick.at, criterion: t.id, decision: action, band: t.band, delivered: sent.delivered, ...(sent.status ? {status: sent.status} : {}), ...(sent.error ? {error: sent.error} : {})})
        if (!sent.delivered) warn(`could not notify ${shownUrl}: ${sent.error}`)
      } else notifications.push({at: tick.at, criterion: t.id, decision: action, band: t.band, delivered: null})
    }
    const firing = tick.triggers.filter((t) => t.decision === 'rollback' && (t.rollbackKind ?? 'flag') !== 'git')
    if (firing.length > 0 && opts.autoRollback) {
      const lock = await opts.state.acquireOperationLock('watch --auto-rollback', {waitMs: opts.lockWaitMs ?? 30_000})
      try {
        rollback = await flagRollback({target: opts.target, state: opts.state, decidedAt, reason: `watch --auto-rollback: ${firing.map((t) => t.id).join(', ')}`, trigger: {criteria: firing.map((t) => ({id: t.id, value: t.value, threshold: t.threshold, reason: t.reason}))}, log})
      } finally {
        lock.release()
      }
      log(rollback.message)
      if (opts.notifyUrl) {
        const payload = {criterion: firing.map((t) => t.id).join(','), value: firing[0]!.value, threshold: firing[0]!.threshold, decision: rollback.outcome === 'success' ? 'rollback_performed' : rollback.outcome === 'already_rolled_back' ? 'already_rolled_back' : 'rollback_failed', band: 'rollback', recovery_ms: rollback.totalMs, objective_ms: rollback.objectiveMs, target, at: new Date().toISOString()}
        const sent = await notify(opts.notifyUrl, payload)
        notifications.push({at: payload.at, criterion: payload.criterion, decision: payload.decision, band: 'rollback', delivered: sent.delivered, ...(sent.error ? {error: sent.error} : {})})
      }
      stoppedBecause = 'rollback'
      break
    }
    if (firing.length > 0 || tick.triggers.some((t) => t.decision === 'rollback')) rollbackRecommended = true
    if (opts.once) {
      stoppedBecause = 'once'
      break
    }
    if (opts.signal?.aborted) {
      stoppedBecause = 'signal'
      break
    }
    const elapsed = performance.now() - started
    if (opts.durationMs !== undefined && elapsed + opts.intervalMs > opts.durationMs) {
      stoppedBecause = 'duration'
      break
    }
    await sleep(opts.intervalMs, opts.signal)
    if (opts.signal?.aborted) {
      stoppedBecause = 'signal'
      break
    }
  }
  const fired = rollback !== null
  const notEvaluated = [...unevaluated].map(([id, reason]) => ({id, reason}))
  // A tripped trigger is conclusive whatever else could not be measured: 1 wins over 4.
  const exitCode = fired || rollbackRecommended ? ExitCode.Fail : notEvaluated.length > 0 ? ExitCode.CouldNotEvaluate : ExitCode.Ok
  const alerts = notifications.filter((n) => n.band === 'alert').length
  const cannot = notEvaluated.length > 0 ? `; ${notEvaluated.length} trigger(s) could not be evaluated: ${notEvaluated.map((u) => u.id).join(', ')}` : ''
  const message = fired
    ? `a rollback trigger fired: ${rollback!.message}${cannot}`
    : rollbackRecommended
      ? `a rollback trigger fired: rollback recommended (run cutover rollback --flag, or watch with --auto-rollback)${cannot}`
      : notEvaluated.length > 0
        ? `could not evaluate ${notEvaluated.length} of ${opts.playbook.rollback_triggers.length} trigger(s) (${notEvaluated.map((u) => u.id).join(', ')}), so nothing is known about them (this is not an all-clear): fix what each reason names (start the daemon: cutover daemon start; pass --prometheus-url for fleet triggers), then watch again`
        : `${ticks.length} evaluation(s): ${alerts > 0 ? `${alerts} alert(s), ` : ''}no rollback needed`
  return {exitCode, message, unevaluated: notEvaluated, target, ticks, notifications, rollbackRecommended: rollbackRecommended && !fired, rollback, stoppedBecause}
}
