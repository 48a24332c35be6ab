/**
 * The target gateway as a metric source: GET {baseUrl}/gateway/metrics?window=W (JSON) and,
 * for uptime, the monitor's health samples (passed in; the monitor stores them).
 *
 * Metric names (all ratios are percentages, computed from the counts, not from the
 * gateway's own rate fields, so the figure cannot disagree with the counts it rests on):
 *   total_requests                total_requests in the window
 *   request_rate                  total_requests per second of window (throughput)
 *   error_rate                    failed_requests / total_requests * 100
 *   success_rate                  successful_requests / total_requests * 100
 *   streaming_failure_rate        streaming_failures / streaming_requests * 100
 *   audit_coverage                the lower of audit_records / total_requests * 100 (both from the
 *                                 audit database) and, when the gateway reports its own in-memory
 *                                 counters, (records_received - audit_dropped - audit_pending) /
 *                                 records_received * 100 (a record never written is missing from both
 *                                 database counts alike, not from these)
 *   avg_latency_ms, p50_latency_ms, p95_latency_ms, p99_latency_ms, avg_ttfb_ms,
 *   total_cost_usd, failed_requests, streaming_requests, streaming_failures, audit_records
 *                                 as reported in summary
 *   latency_ms                    picks avg/p50/p95/p99_latency_ms by the spec's statistic
 *   uptime                        from monitor samples (see computeUptime), no HTTP call; samples
 *                                 inside planned maintenance (cutover's own restarts) are left
 *                                 out, reported as planned_downtime_s; unplanned downtime counts
 * samples = total_requests (streaming_requests for streaming_failure_rate); zero requests
 * means no data, so a quiet gateway is inconclusive rather than a pass.
 * windowElapsed is false when the gateway's data starts (`summary.since`) after the window start.
 */
import {formatDuration} from '../util/duration.js'
import {computeUptime, type ExcludedSpan, percentOf, ratePerSecond, toEpochMs, type HealthSample} from '../evaluate/stats.js'
import type {Measurement, MeasureSpec} from '../evaluate/types.js'
import {type FetchImpl, SourceError, getJson, isRecord, parseBaseUrl} from './http.js'
import {type MetricSource, errorMeasurement, windowOf} from './types.js'

export interface GatewaySummary {
  total_requests: number
  successful_requests: number
  failed_requests: number
  success_rate?: number
  error_rate?: number
  streaming_requests: number
  streaming_failures: number
  avg_latency_ms: number | null
  p50_latency_ms: number | null
  p95_latency_ms: number | null
  p99_latency_ms: number | null
  avg_ttfb_ms: number | null
  total_cost_usd: number
  total_input_tokens?: number
  total_output_tokens?: number
  total_cache_write_tokens?: number
  total_cache_read_tokens?: number
  audit_records: number
  since: string | number | null
  /** The gateway process's own counters since it started (not from the database), when exposed. */
  records_received?: number
  audit_dropped?: number
  audit_pending?: number
}

export interface GatewayMetrics {
  summary: GatewaySummary
  by_agent?: unknown
  by_provider?: unknown
  by_model?: unknown
  recent?: unknown
}

export interface GatewaySourceOptions {
  fetchImpl?: FetchImpl
  /** Per request. Default 5000 ms. */
  timeoutMs?: number
  /** Health samples from the monitor, for the `uptime` metric. */
  monitorSamples?: readonly HealthSample[]
  /** The monitor's sampling interval (needed for `uptime`). */
  monitorIntervalMs?: number
  /** Planned maintenance windows (epoch ms), excluded from `uptime`. */
  maintenance?: readonly ExcludedSpan[]
}

type Extracted = {value: number | null; samples: number}
type Extractor = (s: GatewaySummary, windowMs: number, statistic?: string) => Extracted

const LATENCY_FIELDS = {avg: 'avg_latency_ms', p50: 'p50_latency_ms', p95: 'p95_latency_ms', p99: 'p99_latency_ms'} as const

function reported(field: keyof GatewaySummary): Extractor {
  return (s) => {
    const v = s[field]
    // Averages and percentiles of zero requests are meaningless even if the gateway says 0.
    return {value: s.total_requests === 0 || typeof v !== 'number' ? null : v, samples: s.total_requests}
  }
}

function count(field: keyof GatewaySummary): Extractor {
  return (s) => ({value: s[field] as number, samples: s.total_requests})
}

/** audit_coverage (see the header): the one definition, used by gates, triggers and the report. */
export function auditCoverage(s: {total_requests: number; audit_records?: unknown; records_received?: unknown; audit_dropped?: unknown; audit_pending?: unknown}): number | null {
  if (typeof s.audit_records !== 'number') return null
  const inDatabase = percentOf(s.audit_records, s.total_requests)
  const {records_received: received, audit_dropped: dropped, audit_pending: pending} = s
  if (inDatabase === null || typeof received !== 'number' || typeof dropped !== 'number' || typeof pending !== 'number' || received === 0) return inDatabase
  return Math.min(inDatabase, percentOf(Math.max(0, received - dropped - pending), received) as number)
}

const METRICS: Record<string, Extractor> = {
  total_requests: (s) => ({value: s.total_requests, samples: s.total_requests}),
  request_rate: (s, windowMs) => ({value: ratePerSecond(s.total_requests, windowMs), samples: s.total_requests}),
  error_rate: (s) => ({value: percentOf(s.failed_requests, s.total_requests), samples: s.total_requests}),
  success_rate: (s) => ({value: percentOf(s.successful_requests, s.total_requests), samples: s.total_requests}),
  streaming_failure_rate: (s) => ({value: percentOf(s.streaming_failures, s.streaming_requests), samples: s.streaming_requests}),
  audit_coverage: (s) => ({value: auditCoverage(s), samples: s.total_requests}),
  avg_latency_ms: reported('avg_latency_ms'),
  p50_latency_ms: reported('p50_latency_ms'),
  p95_latency_ms: reported('p95_latency_ms'),
  p99_latency_ms: reported('p99_latency_ms'),
  avg_ttfb_ms: reported('avg_ttfb_ms'),
  total_cost_usd: count('total_cost_usd'),
  failed_requests: count('failed_requests'),
  streaming_requests: count('streaming_requests'),
  streaming_failures: count('streaming_failures'),
  audit_records: count('audit_records'),
  latency_ms: (s, windowMs, statistic) => {
    const field = LATENCY_FIELDS[(statistic ?? 'avg') as keyof typeof LATENCY_FIELDS]
    if (!field) throw new SourceError('config', `latency_ms supports statistic avg, p50, p95 or p99, not '${statistic}'`)
    return reported(field)(s, windowMs)
  },
}

export const GATEWAY_METRICS: readonly string[] = [...Object.keys(METRICS), 'uptime'].sort()

/** The unit a gateway metric's value is measured in ('ms', 'req/s', '%', 'USD'), for showing measured values; undefined for counts. */
export function gatewayMetricUnit(metric: string): string | undefined {
  if (metric.endsWith('_ms')) return 'ms'
  if (metric === 'request_rate') return 'req/s'
  if (metric.endsWith('_rate') || metric === 'audit_coverage' || metric === 'uptime') return '%'
  if (metric.endsWith('_usd')) return 'USD'
  return undefined
}

const REQUIRED_NUMBERS: Array<keyof GatewaySummary> = [
  'total_requests',
  'successful_requests',
  'failed_requests',
  'streaming_requests',
  'streaming_failures',
  'audit_records',
  'total_cost_usd',
]

function parseSummary(body: unknown): GatewaySummary {
  if (!isRecord(body) || !isRecord(body.summary)) {
    throw new SourceError('bad_response', 'the gateway metrics answer has no "summary" object; is this the cco gateway?')
  }
  const s = body.summary
  for (const field of REQUIRED_NUMBERS) {
    if (typeof s[field] !== 'number' || !Number.isFinite(s[field])) {
      throw new SourceError('bad_response', `the gateway metrics summary lacks a numeric "${field}" (got ${JSON.stringify(s[field])})`)
    }
  }
  return s as unknown as GatewaySummary
}

export class GatewaySource implements MetricSource {
  private readonly base: URL
  private readonly fetchImpl: FetchImpl
  private readonly timeoutMs: number
  private readonly monitorSamples?: readonly HealthSample[]
  private readonly monitorIntervalMs?: number
  private readonly maintenance: readonly ExcludedSpan[]

  constructor(baseUrl: string, opts: GatewaySourceOptions = {}) {
    this.base = parseBaseUrl(baseUrl, 'gateway')
    this.fetchImpl = opts.fetchImpl ?? fetch
    this.timeoutMs = opts.timeoutMs ?? 5000
    if (opts.monitorSamples) this.monitorSamples = opts.monitorSamples
    if (opts.monitorIntervalMs !== undefined) this.monitorIntervalMs = opts.monitorIntervalMs
    this.maintenance = opts.maintenance ?? []
  }

  /** GET /gateway/metrics?window=W. Throws SourceError. */
  async fetchMetrics(window: string): Promise<GatewayMetrics> {
    const url = new URL('gateway/metrics', this.base.href.endsWith('/') ? this.base.href : `${this.base.href}/`)
    url.searchParams.set('window', window)
    const {status, body} = await getJson(url, {fetchImpl: this.fetchImpl, timeoutMs: this.timeoutMs, what: 'the gateway'})
    if (status < 200 || status >= 300) {
      const message = isRecord(body) && isRecord(body.error) && typeof body.error.message === 'string' ? body.error.message : typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body)?.slice(0, 200)
      throw new SourceError('http', `the gateway answered HTTP ${status} for /gateway/metrics?window=${window}${message ? `: ${message}` : ''}`, {status})
    }
    const summary = parseSummary(body)
    return {...(body as Record<string, unknown>), summary}
  }

  /** Never throws: failures come back as a Measurement with `error`. */
  async measure(spec: MeasureSpec, now: Date): Promise<Measurement> {
    try {
      if (spec.metric === 'uptime') return this.measureUptime(spec, now)
      const extractor = METRICS[spec.metric]
      if (!extractor) {
        return errorMeasurement(spec, now, `unknown gateway metric '${spec.metric}'; known: ${GATEWAY_METRICS.join(', ')}`)
      }
      const window = windowOf(spec, now)
      const windowText = formatDuration(window.ms)
      const metrics = await this.fetchMetrics(windowText)
      const s = metrics.summary
      const {value, samples} = extractor(s, window.ms, spec.statistic)
      let windowElapsed = true
      let since: string | undefined
      if (s.since !== null && s.since !== undefined) {
        const sinceMs = toEpochMs(s.since)
        since = new Date(sinceMs).toISOString()
        // The gateway computes its own window start a few ms after ours (request latency, clock
        // reads): allow that much slack (1% of the window, at least 250 ms, at most 2 s).
        const slackMs = Math.min(2000, Math.max(250, (window.end.getTime() - window.start.getTime()) * 0.01))
        windowElapsed = sinceMs <= window.start.getTime() + slackMs
      }
      return {
        criterionId: spec.id,
        value,
        samples,
        windowStart: window.start.toISOString(),
        windowEnd: window.end.toISOString(),
        windowElapsed,
        detail: {
          window: windowText,
          total_requests: s.total_requests,
          failed_requests: s.failed_requests,
          streaming_requests: s.streaming_requests,
          streaming_failures: s.streaming_failures,
          audit_records: s.audit_records,
          ...(since ? {since} : {}),
        },
      }
    } catch (error) {
      const detail = error instanceof SourceError ? {kind: error.kind, ...(error.status === undefined ? {} : {status: error.status})} : undefined
      return errorMeasurement(spec, now, (error as Error).message, detail)
    }
  }

  private measureUptime(spec: MeasureSpec, now: Date): Measurement {
    if (this.monitorIntervalMs === undefined || !this.monitorSamples) {
      return errorMeasurement(spec, now, 'uptime needs the monitor health samples and the sampling interval; run `cutover monitor` first')
    }
    return uptimeMeasurement(spec, now, this.monitorSamples, this.monitorIntervalMs, this.maintenance)
  }
}

/**
 * The `uptime` measurement over spec's window ending at now: computeUptime over the monitor's health
 * samples (gaps count as down, planned maintenance is left out). The one computation behind the
 * gate's uptime criteria and the report's availability KPI.
 */
export function uptimeMeasurement(spec: MeasureSpec, now: Date, samples: readonly HealthSample[], intervalMs: number, maintenance: readonly ExcludedSpan[]): Measurement {
  const window = windowOf(spec, now)
  const result = computeUptime(samples, {intervalMs, windowStart: window.start.getTime(), windowEnd: window.end.getTime(), exclude: maintenance})
  return {
    criterionId: spec.id,
    value: result.uptimePct,
    samples: result.samples,
    windowStart: window.start.toISOString(),
    windowEnd: window.end.toISOString(),
    windowElapsed: result.coversWindowStart,
    detail: {
      up: result.up,
      down: result.down,
      missed: result.missed,
      unplanned_down_samples: result.unplannedDownSamples,
      excluded_samples: result.excluded,
      planned_downtime_s: Math.round(result.plannedDowntimeMs) / 1000,
      gaps: result.gaps.map((g) => ({from: new Date(g.from).toISOString(), to: new Date(g.to).toISOString(), missed: g.missed})),
      intervalMs,
    },
  }
}
