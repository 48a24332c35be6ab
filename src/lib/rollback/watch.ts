/**
 * `watch`: the plan's rollback decision criteria, evaluated continuously. Each tick measures every
 * rollback trigger (the gate's sources), compares banded triggers with the pinned baseline, and
 * decides with the pure evaluator: none / alert (a human decides) / rollback. Alerts go to the
 * terminal and to a webhook; a rollback decision performs the flag rollback with --auto-rollback
 * (measured from the moment of the decision), otherwise it is reported as recommended.
 */
import {runEssentialCheck} from '../apply/essential-checks.js'
import {evaluateTrigger} from '../evaluate/triggers.js'
import type {Measurement, RollbackTriggerSpec, TriggerBand, TriggerDecision} from '../evaluate/types.js'
import {baselineKey, resolveWindow} from '../gate/criteria.js'
import {measure} from '../gate/measure.js'
import {recordsInputFromState} from '../gate/records.js'
import type {Playbook, RollbackTrigger} from '../playbook/types.js'
import {redactUrl} from '../sources/http.js'
import {errorMeasurement} from '../sources/types.js'
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
  signal?: AbortSignal
  lockWaitMs?: number
  log?: (line: string) => void
  warn?: (line: string) => void
  now?: () => Date
}

export type WatchDecision = TriggerBand | 'skipped'

export interface TriggerReport extends Omit<TriggerDecision, 'decision'> {
  decision: WatchDecision
  unit: string
  source: string
  metric: string
  window: string
  rollbackKind: string | null
  /** Why a trigger was not measured (e.g. a Prometheus trigger without --prometheus-url). */
  skipped?: string
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
  exitCode: 0 | 1
  message: string
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
    unit: t.unit === 'percent' ? '%' : t.unit,
    ...(t.bands ? {bands: t.bands} : {}),
    ...(t.worse_when ? {worse_when: t.worse_when} : {}),
    min_samples: t.min_samples,
    action: t.action === 'rollback' ? 'rollback' : 'alert',
  }
}

async function measureTrigger(t: RollbackTrigger, spec: RollbackTriggerSpec, opts: WatchOptions, now: Date): Promise<{measurement?: Measurement; skipped?: string}> {
  if (t.source === 'prometheus' && !opts.prometheusUrl) return {skipped: 'a fleet trigger: needs --prometheus-url'}
  if (t.source === 'check') {
    const check = t.check ?? t.metric
    const result = await runEssentialCheck(check, opts.target)
    if (result.outcome === 'error' && /not built into/.test(result.detail)) return {skipped: `check "${check}" is run by \`cutover phase validate\`, not by watch`}
    const base = {criterionId: t.id, windowStart: now.toISOString(), windowEnd: now.toISOString(), windowElapsed: true}
    if (result.outcome === 'error') return {measurement: errorMeasurement({id: t.id, source: 'records', metric: t.metric, window: spec.window ?? '1m'}, now, result.detail)}
    return {measurement: {...base, value: result.outcome === 'fail' ? 1 : 0, samples: 1, detail: {check, outcome: result.outcome, detail: result.detail}}}
  }
  const measureSpec = {id: t.id, source: t.source as 'gateway' | 'prometheus' | 'records', metric: t.metric, statistic: t.statistic, window: spec.window ?? '15m', ...(t.min_hosts === undefined ? {} : {min_hosts: t.min_hosts})}
  const ctx = {state: opts.state, target: opts.target, records: recordsInputFromState(opts.state), ...(opts.prometheusUrl ? {prometheusUrl: opts.prometheusUrl} : {})}
  return {measurement: await measure(ctx, measureSpec, now, {...(t.params ? {params: t.params} : {}), ...(t.host_label ? {hostLabel: t.host_label} : {})})}
}

/** Evaluate every trigger once. */
export async function evaluateTriggersOnce(opts: WatchOptions): Promise<WatchTick> {
  const now = (opts.now ?? (() => new Date()))()
  const phase = opts.state.getPhase()
  const baseline = opts.state.latestBaseline()
  const triggers: TriggerReport[] = []
  for (const t of opts.playbook.rollback_triggers) {
    const window = resolveWindow(t.window, {from: phase?.phase ?? 1}, phase, now)
    const spec = toSpec(t, window.duration)
    const common = {unit: t.unit, source: t.source, metric: t.metric, window: window.asWritten, rollbackKind: t.rollback_kind ?? null}
    const {measurement, skipped} = await measureTrigger(t, spec, opts, now)
    if (skipped) {
      triggers.push({id: t.id, title: t.title, value: null, threshold: t.threshold, operator: t.operator, band: 'none', decision: 'skipped', status: 'inconclusive', reason: `${t.id}: skipped (${skipped})`, samples: 0, skipped, ...common})
      continue
    }
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
  const lastBand = new Map<string, WatchDecision>()
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
      const previous = lastBand.get(t.id)
      lastBand.set(t.id, t.decision)
      if (t.decision === 'none' || t.decision === 'skipped' || previous === t.decision) continue
      // Only changes are announced: a trigger that stays in its band is not repeated every tick.
      const action = t.decision === 'rollback' ? (opts.autoRollback && (t.rollbackKind ?? 'flag') !== 'git' ? 'rollback' : 'rollback_recommended') : 'alert'
      const line = `${t.decision === 'rollback' ? '✖ ROLLBACK' : '! ALERT'} ${t.id}: ${t.reason}${action === 'rollback_recommended' ? ` -> rollback recommended: run cutover rollback --${t.rollbackKind === 'git' ? 'git' : 'flag'}` : ''}`
      if (t.decision === 'rollback') warn(line)
      else log(line)
      opts.state.appendTrail({kind: 'trigger', payload: {criterion: t.id, value: t.value, threshold: t.threshold, band: t.band, decision: action, baseline: t.baseline ?? null, degradation_pct: t.degradationPct ?? null, samples: t.samples, reason: t.reason}})
      if (t.decision === 'rollback' && action === 'rollback_recommended') rollbackRecommended = true
      if (opts.notifyUrl) {
        const payload = {criterion: t.id, title: t.title, value: t.value, threshold: t.threshold, unit: t.unit, decision: action, band: t.band, baseline: t.baseline ?? null, degradation_pct: t.degradationPct ?? null, samples: t.samples, reason: t.reason, target, at: tick.at}
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
        const payload = {criterion: firing.map((t) => t.id).join(','), value: firing[0]!.value, threshold: firing[0]!.threshold, decision: rollback.outcome === 'success' ? 'rollback_performed' : 'rollback_failed', band: 'rollback', recovery_ms: rollback.totalMs, objective_ms: rollback.objectiveMs, target, at: new Date().toISOString()}
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
  const exitCode: 0 | 1 = fired || rollbackRecommended ? 1 : 0
  const alerts = notifications.filter((n) => n.band === 'alert').length
  const message = fired
    ? `a rollback trigger fired: ${rollback!.message}`
    : rollbackRecommended
      ? 'a rollback trigger fired: rollback recommended (run cutover rollback --flag, or watch with --auto-rollback)'
      : `${ticks.length} evaluation(s): ${alerts > 0 ? `${alerts} alert(s), ` : ''}no rollback needed`
  return {exitCode, message, target, ticks, notifications, rollbackRecommended: rollbackRecommended && !fired, rollback, stoppedBecause}
}
