/**
 * Prometheus as a metric source, over the HTTP API (/api/v1/query, /api/v1/query_range).
 *
 * How a criterion is measured (its `metric` is a PromQL expression; `$window` is replaced by
 * the window as a PromQL duration, so write `rate(x[$window])`):
 * - Fleet criteria (min_hosts set): one instant query at `now`; the result must be a vector
 *   with one sample per host (label `instance` unless hostLabel says otherwise). A host is ok
 *   when its value is > 0, so write the per-host condition into the query, e.g.
 *   `min_over_time(up{job="cco"}[$window])` or `rate(errors[$window]) < bool 0.01`.
 * - statistic avg | p50 | p95 | p99 | max | min: a range query over [now - window, now]; the
 *   statistic is applied to the points of the single returned series, samples = points.
 *   The window counts as elapsed when the series has a point within two steps of its start
 *   (a series that only began recently has not been observed for the whole window).
 * - statistic last | rate | ratio | count: one instant query; the expression computes the
 *   figure itself (e.g. `sum(increase(errors[$window])) / sum(increase(requests[$window])) * 100`);
 *   samples = 1. Prometheus cannot tell here how much history stood behind the answer, so
 *   windowElapsed is true; use a range statistic when coverage matters.
 * NaN (e.g. 0/0 with no traffic) is "no data" (value null), not an error.
 */
import {formatDuration} from '../util/duration.js'
import type {HostSample, Measurement, MeasureSpec, Statistic} from '../evaluate/types.js'
import {summarize} from '../evaluate/stats.js'
import {type FetchImpl, SourceError, getJson, isRecord, parseBaseUrl} from './http.js'
import {type MetricSource, errorMeasurement, windowOf} from './types.js'

export interface PrometheusOptions {
  fetchImpl?: FetchImpl
  /** Per request. Default 10 000 ms. */
  timeoutMs?: number
  /** Extra request headers, e.g. {authorization: 'Bearer ...'}; never logged. */
  headers?: Record<string, string>
  /** Label that names a host in fleet results. Default 'instance'. */
  hostLabel?: string
  /** Upper bound on points per range query (sets the step). Default 500. */
  maxPoints?: number
  /** Smallest range-query step in seconds. Default 15 (a typical scrape interval). */
  minStepSeconds?: number
}

export type PromLabels = Record<string, string>
export interface PromSample {
  metric: PromLabels
  /** [unix seconds, value] */
  value: [number, number]
}
export interface PromSeries {
  metric: PromLabels
  values: Array<[number, number]>
}
export type PromResult =
  | {resultType: 'vector'; result: PromSample[]; warnings?: string[]}
  | {resultType: 'matrix'; result: PromSeries[]; warnings?: string[]}
  | {resultType: 'scalar'; result: [number, number]; warnings?: string[]}
  | {resultType: 'string'; result: [number, string]; warnings?: string[]}

const RANGE_STATISTICS: ReadonlySet<Statistic> = new Set(['avg', 'p50', 'p95', 'p99', 'max', 'min'])

/** Prometheus encodes sample values as strings, with 'NaN', '+Inf' and '-Inf'. */
export function parsePromValue(raw: unknown): number {
  if (typeof raw === 'number') return raw
  if (raw === '+Inf' || raw === 'Inf') return Number.POSITIVE_INFINITY
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY
  if (typeof raw === 'string') {
    const n = Number(raw)
    if (raw === 'NaN' || !Number.isNaN(n)) return n
  }
  throw new SourceError('bad_response', `Prometheus returned a sample value that is not a number: ${JSON.stringify(raw)}`)
}

function parsePair(raw: unknown): [number, number] {
  if (!Array.isArray(raw) || raw.length !== 2) throw new SourceError('bad_response', `Prometheus returned a malformed sample: ${JSON.stringify(raw)}`)
  return [Number(raw[0]), parsePromValue(raw[1])]
}

function parseLabels(raw: unknown): PromLabels {
  const out: PromLabels = {}
  if (isRecord(raw)) for (const [k, v] of Object.entries(raw)) out[k] = String(v)
  return out
}

function toUnixSeconds(t: Date | number): number {
  return (t instanceof Date ? t.getTime() : t) / 1000
}

export class PrometheusSource implements MetricSource {
  private readonly base: URL
  private readonly fetchImpl: FetchImpl
  private readonly timeoutMs: number
  private readonly headers: Record<string, string>
  private readonly hostLabel: string
  private readonly maxPoints: number
  private readonly minStepSeconds: number

  constructor(url: string, opts: PrometheusOptions = {}) {
    this.base = parseBaseUrl(url, 'Prometheus')
    this.fetchImpl = opts.fetchImpl ?? fetch
    this.timeoutMs = opts.timeoutMs ?? 10_000
    this.headers = opts.headers ?? {}
    this.hostLabel = opts.hostLabel ?? 'instance'
    this.maxPoints = opts.maxPoints ?? 500
    this.minStepSeconds = opts.minStepSeconds ?? 15
  }

  private endpoint(path: string, params: Record<string, string>): URL {
    // Keep a path prefix such as http://host/prometheus/.
    const url = new URL(path.replace(/^\//, ''), this.base.href.endsWith('/') ? this.base.href : `${this.base.href}/`)
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
    return url
  }

  private async call(path: string, params: Record<string, string>): Promise<PromResult> {
    const {status, body} = await getJson(this.endpoint(path, params), {
      fetchImpl: this.fetchImpl,
      timeoutMs: this.timeoutMs,
      headers: this.headers,
      what: 'Prometheus',
    })
    if (isRecord(body) && body.status === 'error') {
      const errorType = typeof body.errorType === 'string' ? body.errorType : 'unknown'
      const message = typeof body.error === 'string' ? body.error : 'no message'
      throw new SourceError('api', `Prometheus rejected the query (HTTP ${status}, ${errorType}): ${message}`, {status, errorType})
    }
    if (status < 200 || status >= 300) {
      const text = typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body)?.slice(0, 200)
      throw new SourceError('http', `Prometheus answered HTTP ${status}${text ? `: ${text}` : ''}`, {status})
    }
    if (!isRecord(body) || body.status !== 'success' || !isRecord(body.data)) {
      throw new SourceError('bad_response', `Prometheus answered without {status: "success", data}; is ${this.base.origin} a Prometheus server?`, {status})
    }
    const warnings = Array.isArray(body.warnings) ? body.warnings.map(String) : undefined
    const data = body.data
    const w = warnings ? {warnings} : {}
    switch (data.resultType) {
      case 'vector':
        if (!Array.isArray(data.result)) break
        return {resultType: 'vector', result: data.result.map((s: unknown) => ({metric: parseLabels(isRecord(s) ? s.metric : undefined), value: parsePair(isRecord(s) ? s.value : undefined)})), ...w}
      case 'matrix':
        if (!Array.isArray(data.result)) break
        return {
          resultType: 'matrix',
          result: data.result.map((s: unknown) => ({
            metric: parseLabels(isRecord(s) ? s.metric : undefined),
            values: (isRecord(s) && Array.isArray(s.values) ? s.values : []).map(parsePair),
          })),
          ...w,
        }
      case 'scalar':
        return {resultType: 'scalar', result: parsePair(data.result), ...w}
      case 'string':
        if (Array.isArray(data.result) && data.result.length === 2) return {resultType: 'string', result: [Number(data.result[0]), String(data.result[1])], ...w}
        break
    }
    throw new SourceError('bad_response', `Prometheus returned an unexpected result (resultType ${JSON.stringify(data.resultType)})`, {status})
  }

  /** Instant query at `time`. Throws SourceError. */
  async query(promql: string, time: Date | number): Promise<PromResult> {
    return this.call('/api/v1/query', {query: promql, time: String(toUnixSeconds(time))})
  }

  /** Range query; step in seconds or as a duration string. Throws SourceError. */
  async queryRange(promql: string, start: Date | number, end: Date | number, step: number | string): Promise<PromResult> {
    return this.call('/api/v1/query_range', {
      query: promql,
      start: String(toUnixSeconds(start)),
      end: String(toUnixSeconds(end)),
      step: String(step),
    })
  }

  /** Never throws: failures come back as a Measurement with `error`. */
  async measure(spec: MeasureSpec, now: Date): Promise<Measurement> {
    try {
      return await this.measureOrThrow(spec, now)
    } catch (error) {
      const detail: Record<string, unknown> = {}
      if (error instanceof SourceError) {
        detail.kind = error.kind
        if (error.errorType) detail.errorType = error.errorType
        if (error.status !== undefined) detail.status = error.status
      }
      return errorMeasurement(spec, now, (error as Error).message, detail)
    }
  }

  private async measureOrThrow(spec: MeasureSpec, now: Date): Promise<Measurement> {
    const window = windowOf(spec, now)
    const expr = spec.metric.split('$window').join(formatDuration(window.ms))
    const statistic = spec.statistic ?? 'last'
    const common = {criterionId: spec.id, windowStart: window.start.toISOString(), windowEnd: window.end.toISOString()}

    if (spec.min_hosts !== undefined) {
      const result = await this.query(expr, now)
      if (result.resultType !== 'vector') {
        throw new SourceError('bad_response', `a fleet criterion needs a vector with one sample per host, but the query returned a ${result.resultType}`)
      }
      const hosts: HostSample[] = result.result.map((s) => {
        const v = s.value[1]
        const value = Number.isNaN(v) ? null : v
        return {name: s.metric[this.hostLabel] ?? JSON.stringify(s.metric), value, ok: value !== null && value > 0}
      })
      const names = hosts.map((h) => h.name)
      const dup = names.find((n, i) => names.indexOf(n) !== i)
      if (dup !== undefined) {
        throw new SourceError('bad_response', `host '${dup}' appears more than once in the fleet result; aggregate by the '${this.hostLabel}' label (e.g. min by (${this.hostLabel}) (...))`)
      }
      const failing = hosts.filter((h) => !h.ok).length
      return {
        ...common,
        value: hosts.length === 0 ? null : (failing * 100) / hosts.length,
        samples: hosts.length,
        windowElapsed: true,
        hosts,
        detail: {query: expr, ...(result.warnings ? {warnings: result.warnings} : {})},
      }
    }

    if (RANGE_STATISTICS.has(statistic)) {
      const windowSeconds = window.ms / 1000
      const step = Math.max(this.minStepSeconds, Math.ceil(windowSeconds / this.maxPoints))
      const result = await this.queryRange(expr, window.start, window.end, step)
      if (result.resultType !== 'matrix') throw new SourceError('bad_response', `a range query returned a ${result.resultType}`)
      if (result.result.length > 1) {
        throw new SourceError('bad_response', `the query returned ${result.result.length} series; a criterion needs one (aggregate with sum/avg/max, or set min_hosts for a per-host fleet criterion)`)
      }
      const points = (result.result[0]?.values ?? []).filter(([, v]) => !Number.isNaN(v))
      const first = points[0]
      const windowElapsed = first !== undefined && first[0] - toUnixSeconds(window.start) <= 2 * step
      return {
        ...common,
        value: summarize(points.map(([, v]) => v), statistic),
        samples: points.length,
        windowElapsed,
        detail: {query: expr, step, ...(first ? {firstPointAt: new Date(first[0] * 1000).toISOString()} : {}), ...(result.warnings ? {warnings: result.warnings} : {})},
      }
    }

    const result = await this.query(expr, now)
    let raw: number | undefined
    if (result.resultType === 'scalar') raw = result.result[1]
    else if (result.resultType === 'vector') {
      if (result.result.length > 1) {
        throw new SourceError('bad_response', `the query returned ${result.result.length} series; a criterion needs one (aggregate with sum/avg/max, or set min_hosts for a per-host fleet criterion)`)
      }
      raw = result.result[0]?.value[1]
    } else throw new SourceError('bad_response', `an instant query returned a ${result.resultType}; expected a vector or scalar`)
    const value = raw === undefined || Number.isNaN(raw) ? null : raw
    return {
      ...common,
      value,
      samples: value === null ? 0 : 1,
      windowElapsed: true,
      detail: {query: expr, ...(result.warnings ? {warnings: result.warnings} : {})},
    }
  }
}
