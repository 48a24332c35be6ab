/**
 * Gateway request metrics over an exact window, from the audit log (GET /gateway/audit with
 * start_time/end_time; `total` counts every matching row).
 *
 * Why: a gate window is whatever the playbook says (3s in a test, 2d or 4d in the seed plan),
 * while /gateway/metrics?window= may only know a few named windows (15m, 1h, 24h, 3d). When the
 * gateway refuses a window (HTTP 400), the gate measures the same metric here instead, on the
 * same rows the metrics summary is computed from.
 *
 * Counts cost one small request each (limit=1, read `total`); latency statistics read the rows'
 * latency_ms (pages of 1000, at most MAX_ROWS rows, beyond which the criterion is an error that
 * says to use a shorter or named window). windowElapsed: the gateway has been up for the whole
 * window, or the audit log holds requests from before the window started.
 */
import {formatDuration} from '../util/duration.js'
import {percentOf, ratePerSecond, summarize} from '../evaluate/stats.js'
import type {Measurement, MeasureSpec, Statistic} from '../evaluate/types.js'
import {errorMeasurement, windowOf} from '../sources/types.js'
import type {AuditQuery} from '../target/gateway-client.js'
import type {Target} from '../target/target.js'

const PAGE = 1000
export const MAX_ROWS = 20_000

type Counts = {total: number; failed: number; streaming: number; streamingFailures: number}
type Compute = (ctx: {counts: Counts; windowMs: number; rows: () => Promise<Record<string, unknown>[]>; statistic?: Statistic}) => Promise<{value: number | null; samples: number}>

const LATENCY_STATISTICS = new Set(['avg', 'p50', 'p95', 'p99', 'max', 'min'])

function fieldStat(field: string, forced?: Statistic): Compute {
  return async ({counts, rows, statistic}) => {
    if (counts.total === 0) return {value: null, samples: 0}
    const stat = forced ?? statistic ?? 'avg'
    if (!LATENCY_STATISTICS.has(stat)) throw new Error(`${field} supports statistic avg, p50, p95, p99, max or min, not '${stat}'`)
    const values = (await rows()).map((r) => r[field]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
    return {value: summarize(values, stat), samples: values.length}
  }
}

const METRICS: Record<string, Compute> = {
  total_requests: async ({counts}) => ({value: counts.total, samples: counts.total}),
  audit_records: async ({counts}) => ({value: counts.total, samples: counts.total}),
  request_rate: async ({counts, windowMs}) => ({value: ratePerSecond(counts.total, windowMs), samples: counts.total}),
  error_rate: async ({counts}) => ({value: percentOf(counts.failed, counts.total), samples: counts.total}),
  success_rate: async ({counts}) => ({value: percentOf(counts.total - counts.failed, counts.total), samples: counts.total}),
  failed_requests: async ({counts}) => ({value: counts.failed, samples: counts.total}),
  streaming_requests: async ({counts}) => ({value: counts.streaming, samples: counts.total}),
  streaming_failures: async ({counts}) => ({value: counts.streamingFailures, samples: counts.streaming}),
  streaming_failure_rate: async ({counts}) => ({value: percentOf(counts.streamingFailures, counts.streaming), samples: counts.streaming}),
  latency_ms: fieldStat('latency_ms'),
  avg_latency_ms: fieldStat('latency_ms', 'avg'),
  p50_latency_ms: fieldStat('latency_ms', 'p50'),
  p95_latency_ms: fieldStat('latency_ms', 'p95'),
  p99_latency_ms: fieldStat('latency_ms', 'p99'),
  avg_ttfb_ms: fieldStat('ttfb_ms', 'avg'),
  total_cost_usd: async ({counts, rows}) => {
    if (counts.total === 0) return {value: 0, samples: 0}
    const micros = (await rows()).reduce((sum, r) => sum + (typeof r.cost_micros === 'number' ? r.cost_micros : 0), 0)
    return {value: micros / 1_000_000, samples: counts.total}
  },
}

export const AUDIT_WINDOW_METRICS: readonly string[] = Object.keys(METRICS).sort()

/** Measure a gateway metric over the spec's exact window from /gateway/audit. Never throws. */
export async function measureGatewayFromAudit(target: Target, spec: MeasureSpec, now: Date): Promise<Measurement> {
  const compute = METRICS[spec.metric]
  if (!compute) {
    return errorMeasurement(spec, now, `gateway metric '${spec.metric}' needs /gateway/metrics for a ${spec.window} window, and the gateway does not serve that window; use one of its named windows (15m, 1h, 24h, 3d) or one of: ${AUDIT_WINDOW_METRICS.join(', ')}`)
  }
  try {
    const window = windowOf(spec, now)
    const range = {start_time: window.start.getTime(), end_time: window.end.getTime()}
    const count = async (q: AuditQuery): Promise<number> => (await target.gateway.audit({...range, ...q, limit: 1})).body.total
    const [total, failed, streaming, streamingFailures] = await Promise.all([count({}), count({success: false}), count({stream: true}), count({stream: true, success: false})])
    const counts: Counts = {total, failed, streaming, streamingFailures}
    const rows = async (): Promise<Record<string, unknown>[]> => {
      if (total > MAX_ROWS) {
        throw new Error(`${total} requests in the ${spec.window} window are too many to read from the audit log (limit ${MAX_ROWS}); use a shorter window or one the gateway's /gateway/metrics serves (15m, 1h, 24h, 3d)`)
      }
      const out: Record<string, unknown>[] = []
      for (let offset = 0; offset < total; offset += PAGE) {
        const page = await target.gateway.audit({...range, limit: PAGE, offset})
        out.push(...page.body.entries)
        if (page.body.entries.length < PAGE) break
      }
      return out
    }
    const {value, samples} = await compute({counts, windowMs: window.ms, rows, ...(spec.statistic ? {statistic: spec.statistic} : {})})
    const elapsed = await windowCovered(target, window.start.getTime(), window.ms)
    return {
      criterionId: spec.id,
      value,
      samples,
      windowStart: window.start.toISOString(),
      windowEnd: window.end.toISOString(),
      windowElapsed: elapsed.covered,
      detail: {via: '/gateway/audit', window: formatDuration(window.ms), total_requests: total, failed_requests: failed, streaming_requests: streaming, streaming_failures: streamingFailures, ...elapsed.detail},
    }
  } catch (error) {
    return errorMeasurement(spec, now, (error as Error).message, {via: '/gateway/audit'})
  }
}

async function windowCovered(target: Target, windowStartMs: number, windowMs: number): Promise<{covered: boolean; detail: Record<string, unknown>}> {
  const health = await target.gateway.health()
  const uptimeSeconds = health.body.uptime_seconds
  if (typeof uptimeSeconds === 'number' && uptimeSeconds * 1000 >= windowMs) return {covered: true, detail: {gateway_uptime_s: uptimeSeconds}}
  const before = (await target.gateway.audit({end_time: windowStartMs - 1, limit: 1})).body.total
  return {covered: before > 0, detail: {gateway_uptime_s: uptimeSeconds ?? null, requests_before_window: before}}
}
