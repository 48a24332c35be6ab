/**
 * Measure one criterion with the right source:
 *   gateway     /gateway/metrics?window= (falls back to /gateway/audit for windows the gateway
 *               does not serve); `uptime` from the monitor's health samples in the state store
 *   prometheus  PromQL over --prometheus-url (fleet criteria list hosts)
 *   records     the state store (incidents, feedback, approvals, rollbacks, validation runs)
 * A source that cannot answer gives a Measurement with `error`, never an exception.
 */
import {formatDuration, parseDuration} from '../util/duration.js'
import {maxTrustedIntervalMs} from '../evaluate/evidence.js'
import type {ExcludedSpan, HealthSample} from '../evaluate/stats.js'
import type {Measurement, MeasureSpec} from '../evaluate/types.js'
import {GatewaySource, uptimeMeasurement} from '../sources/gateway.js'
import {redactUrl} from '../sources/http.js'
import {PrometheusSource} from '../sources/prometheus.js'
import type {RecordsInput} from '../sources/records.js'
import {errorMeasurement, windowOf} from '../sources/types.js'
import type {StateStore} from '../state/store.js'
import type {MaintenanceWindow} from '../state/types.js'
import type {Target} from '../target/target.js'
import {measureGatewayFromAudit} from './audit-window.js'
import {measureRecords} from './records.js'

/** Monitor sample sources in the state store. */
export const HEALTH_SOURCE = 'health'
export const METRICS_SOURCE = 'metrics'
export const PROBE_SOURCE = 'probe'

export interface MeasureContext {
  state: StateStore
  target: Target
  records: RecordsInput
  prometheusUrl?: string
  /** Extra headers for Prometheus (e.g. authorization); never shown. */
  prometheusHeaders?: Record<string, string>
}

export interface MeasureExtras {
  params?: Record<string, unknown>
  hostLabel?: string
  /** The criterion's min_samples: sets the longest sampling interval its uptime evidence may declare. */
  minSamples?: number
}

/**
 * Planned maintenance overlapping [from, to] (cutover's own journaled restarts and drills), as
 * spans for computeUptime, and the windows themselves for the measurement's detail.
 */
export function plannedMaintenance(state: StateStore, from: number, to: number): {spans: ExcludedSpan[]; windows: MaintenanceWindow[]} {
  const windows = state.listMaintenance(from, to, {plannedOnly: true})
  return {spans: windows.map((w) => ({from: Date.parse(w.startedAt), to: Date.parse(w.effectiveEnd)})), windows}
}

/** Health samples of the monitor within [from, to], and the sampling interval they were taken at. */
export function monitorHealth(state: StateStore, from: number, to: number): {samples: HealthSample[]; intervalMs: number | undefined} {
  const rows = state.listSamples<{status?: unknown; interval_ms?: unknown}>({source: HEALTH_SOURCE, from, to})
  const samples = rows.map((r) => ({ts: r.ts, status: typeof r.metrics.status === 'string' ? r.metrics.status : 'unknown'}))
  // Monitors restarted with another interval: the longest one, so a slower cadence is not taken for gaps.
  const intervals = rows.map((r) => Number(r.metrics.interval_ms)).filter((n) => Number.isFinite(n) && n > 0)
  return {samples, intervalMs: intervals.length > 0 ? Math.max(...intervals) : undefined}
}

/**
 * The `uptime` criterion from the state store: the monitor's health samples over spec's window ending
 * at now, with planned maintenance left out, and the evidence rule on the declared interval
 * (extras.minSamples). Synchronous: no HTTP call. The gate and the report's availability KPI both use it.
 */
export function measureMonitorUptime(state: StateStore, spec: MeasureSpec, now: Date, extras: Pick<MeasureExtras, 'minSamples'> = {}): Measurement {
  const window = windowOf(spec, now)
  const {samples, intervalMs} = monitorHealth(state, window.start.getTime(), window.end.getTime())
  const maintenance = plannedMaintenance(state, window.start.getTime(), window.end.getTime())
  // With no samples (or no declared interval) it says to run the monitor.
  const m = samples.length > 0 && intervalMs !== undefined ? uptimeMeasurement(spec, now, samples, intervalMs, maintenance.spans) : errorMeasurement(spec, now, 'uptime needs the monitor health samples and the sampling interval; run `cutover monitor` first')
  const windows = maintenance.windows.map((w) => ({id: w.id, kind: w.kind, reason: w.reason, started_at: w.startedAt, ended_at: w.effectiveEnd, ...(w.unterminated ? {unterminated: true} : {}), ...(w.open ? {open: true} : {})}))
  const trusted = extras.minSamples === undefined ? null : maxTrustedIntervalMs(window.ms, extras.minSamples)
  const untrusted =
    trusted !== null && intervalMs !== undefined && intervalMs > trusted
      ? `the monitor declares a sampling interval of ${formatDuration(intervalMs)}, longer than the ${formatDuration(Math.max(1000, Math.floor(trusted / 1000) * 1000))} the evidence rule allows (window ${formatDuration(window.ms)} / min_samples ${extras.minSamples}): gaps shorter than two intervals would go unseen; sample at least that often (cutover monitor --interval)`
      : undefined
  return {...m, ...(untrusted ? {untrusted} : {}), detail: {...m.detail, source: 'cutover monitor health samples', declared_interval_ms: intervalMs ?? null, max_trusted_interval_ms: trusted, ...(windows.length > 0 ? {maintenance_windows: windows} : {})}}
}

function gatewayBase(target: Target): {url?: string; problem?: string} {
  try {
    return {url: target.gatewayUrl()}
  } catch (error) {
    return {problem: (error as Error).message}
  }
}

export async function measure(ctx: MeasureContext, spec: MeasureSpec, now: Date, extras: MeasureExtras = {}): Promise<Measurement> {
  try {
    parseDuration(spec.window)
  } catch (error) {
    return errorMeasurement(spec, now, (error as Error).message)
  }
  switch (spec.source) {
    case 'records':
      return measureRecords(ctx.state, ctx.records, spec, now, extras.params ? {params: extras.params} : {})
    case 'gateway':
      return measureGateway(ctx, spec, now, extras)
    case 'prometheus':
      return measurePrometheus(ctx, spec, now, extras)
    default:
      return errorMeasurement(spec, now, `source '${String(spec.source)}' cannot be measured by a gate; use gateway, prometheus or records`)
  }
}

async function measureGateway(ctx: MeasureContext, spec: MeasureSpec, now: Date, extras: MeasureExtras): Promise<Measurement> {
  if (spec.metric === 'uptime') return measureMonitorUptime(ctx.state, spec, now, extras)
  const base = gatewayBase(ctx.target)
  if (!base.url) return errorMeasurement(spec, now, base.problem ?? 'the gateway URL is unknown', {kind: 'unreachable'})
  const first = await new GatewaySource(base.url, {timeoutMs: ctx.target.spec.timeouts.http}).measure(spec, now)
  const refusedWindow = first.error !== undefined && first.detail?.kind === 'http' && first.detail?.status === 400
  if (!refusedWindow) return first
  const viaAudit = await measureGatewayFromAudit(ctx.target, spec, now)
  return viaAudit.error === undefined ? viaAudit : {...viaAudit, error: `${viaAudit.error} (and /gateway/metrics refused the window: ${first.error})`}
}

async function measurePrometheus(ctx: MeasureContext, spec: MeasureSpec, now: Date, extras: MeasureExtras): Promise<Measurement> {
  if (!ctx.prometheusUrl) {
    return errorMeasurement(spec, now, 'this criterion is measured with Prometheus, but no Prometheus URL was given; pass --prometheus-url URL (or set CUTOVER_PROMETHEUS_URL)', {kind: 'config'})
  }
  let windowSeconds = 60
  try {
    windowSeconds = parseDuration(spec.window) / 1000
  } catch {
    // measure() reports it
  }
  try {
    const source = new PrometheusSource(ctx.prometheusUrl, {
      ...(ctx.prometheusHeaders ? {headers: ctx.prometheusHeaders} : {}),
      ...(extras.hostLabel ? {hostLabel: extras.hostLabel} : {}),
      // Short windows (tests, rehearsals) need a finer step than a typical 15 s scrape.
      minStepSeconds: Math.max(1, Math.min(15, Math.floor(windowSeconds / 30))),
    })
    const m = await source.measure(spec, now)
    return {...m, detail: {...m.detail, prometheus: redactUrl(ctx.prometheusUrl)}}
  } catch (error) {
    return errorMeasurement(spec, now, (error as Error).message, {kind: 'config'})
  }
}
