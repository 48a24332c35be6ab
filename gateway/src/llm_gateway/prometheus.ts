/**
 * Prometheus metrics for one gateway instance (a fresh prom-client Registry, never the global
 * default, so two gateways in one process or in tests never share counters).
 */
import {Counter, Gauge, Registry, collectDefaultMetrics} from 'prom-client'
import type {CostResult} from './cost.js'
import type {RequestRecord} from './record.js'

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600]
const TTFB_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60]
const OVERHEAD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

/** Model names come from clients; past this many distinct values new ones are labelled "other" to bound memory. */
const MAX_MODEL_LABELS = 200
const NONE = 'none'

/** Error types that mean the upstream itself failed (as opposed to the client or a bad request). */
const PROVIDER_FAILURE_TYPES = new Set(['api_error', 'overloaded_error', 'timeout_error', 'stream_cut', 'connection_error', 'upstream_error'])

type Labels = Record<string, string>

/** What prom-client's Registry reads from a metric (its public Metric shape). */
interface MetricSnapshot {
  name: string
  help: string
  type: 'counter' | 'histogram'
  aggregator: 'sum'
  values: Array<{value: number; labels: Record<string, string | number>; metricName?: string}>
}

/**
 * Per-request series without prom-client's per-call label hashing and validation (several µs per
 * request for the nine updates a record makes): a series is looked up once per label set and then
 * updated directly; prom-client still renders the exposition (these are registered as custom
 * metrics, the public Metric interface: name, help, type, get()).
 */
class FastCounter {
  readonly type = 'counter' as const
  readonly aggregator = 'sum' as const
  private readonly series = new Map<string, {labels: Labels; value: number}>()

  constructor(readonly name: string, readonly help: string, registry: Registry) {
    registry.registerMetric(this as never)
  }

  /** The series for a label set (`key` must identify it; created at 0). */
  at(key: string, labels: Labels): {value: number} {
    let s = this.series.get(key)
    if (!s) this.series.set(key, (s = {labels, value: 0}))
    return s
  }

  async get(): Promise<MetricSnapshot> {
    return {name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.series.values()].map((s) => ({value: s.value, labels: s.labels}))}
  }

  reset(): void {
    this.series.clear()
  }
}

interface HistogramSeries {
  labels: Labels
  /** Per bucket (non-cumulative); the last slot is +Inf. */
  counts: number[]
  sum: number
  count: number
}

class FastHistogram {
  readonly type = 'histogram' as const
  readonly aggregator = 'sum' as const
  private readonly series = new Map<string, HistogramSeries>()

  constructor(readonly name: string, readonly help: string, private readonly buckets: number[], registry: Registry) {
    registry.registerMetric(this as never)
  }

  at(key: string, labels: Labels): HistogramSeries {
    let s = this.series.get(key)
    if (!s) this.series.set(key, (s = {labels, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0}))
    return s
  }

  observe(s: HistogramSeries, value: number): void {
    const b = this.buckets
    let i = 0
    while (i < b.length && value > b[i]!) i++
    s.counts[i]!++
    s.sum += value
    s.count++
  }

  async get(): Promise<MetricSnapshot> {
    const values: MetricSnapshot['values'] = []
    for (const s of this.series.values()) {
      let acc = 0
      for (let i = 0; i < this.buckets.length; i++) {
        acc += s.counts[i]!
        values.push({metricName: `${this.name}_bucket`, labels: {...s.labels, le: this.buckets[i]!}, value: acc})
      }
      values.push({metricName: `${this.name}_bucket`, labels: {...s.labels, le: '+Inf'}, value: s.count})
      values.push({metricName: `${this.name}_sum`, labels: s.labels, value: s.sum})
      values.push({metricName: `${this.name}_count`, labels: s.labels, value: s.count})
    }
    return {name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values}
  }

  reset(): void {
    this.series.clear()
  }
}

/** Everything a record with one (provider, model, stream, status class) updates, looked up once. */
interface SeriesBundle {
  requests: {value: number}
  duration: HistogramSeries
  ttfb: HistogramSeries
  overhead: HistogramSeries
  tokens: Record<'input' | 'output' | 'cache_write' | 'cache_read', {value: number} | undefined>
  cost: {value: number} | undefined
  unpriced: {value: number} | undefined
  streamFailures: {value: number}
  provider: string
  model: string
}

export class GatewayPrometheus {
  readonly registry = new Registry()
  private readonly models = new Set<string>()
  private readonly bundles = new Map<string, SeriesBundle>()
  private readonly requests: FastCounter
  private readonly duration: FastHistogram
  private readonly ttfb: FastHistogram
  private readonly overhead: FastHistogram
  private readonly tokens: FastCounter
  private readonly cost: FastCounter
  private readonly unpriced: FastCounter
  private readonly streamFailures: FastCounter
  private readonly auditRecords: Counter
  private readonly auditWriteErrors: Counter
  private readonly providerUp: Gauge<'provider'>
  /** Read at scrape time: the evidence layer's own counters (independent of the audit database). */
  private auditStatus: () => {records_received: number; audit_dropped: number; audit_pending: number} = () => ({records_received: 0, audit_dropped: 0, audit_pending: 0})

  private readonly providerUpFromRecords: boolean

  /** providerUpFromRecords (default true): set gateway_provider_up from each record; false when the owner feeds it (setProviderUp). */
  constructor(opts: {version: string; providers: string[]; processMetrics?: boolean; providerUpFromRecords?: boolean}) {
    this.providerUpFromRecords = opts.providerUpFromRecords !== false
    const registers = [this.registry]
    const registry = this.registry
    this.requests = new FastCounter('gateway_requests_total', 'Requests that reached the gateway API, by outcome.', registry)
    this.duration = new FastHistogram('gateway_request_duration_seconds', 'Time from request received to response finished.', DURATION_BUCKETS, registry)
    this.ttfb = new FastHistogram('gateway_ttfb_seconds', 'Time from request received to the first byte sent to the client.', TTFB_BUCKETS, registry)
    this.overhead = new FastHistogram('gateway_overhead_seconds', 'Time spent inside the gateway (not waiting on the upstream).', OVERHEAD_BUCKETS, registry)
    this.tokens = new FastCounter('gateway_tokens_total', 'Tokens by type (input = uncached input, cache_write, cache_read, output).', registry)
    this.cost = new FastCounter('gateway_cost_usd_total', 'Cost in USD of priced requests (unpriced requests add nothing).', registry)
    this.unpriced = new FastCounter('gateway_unpriced_requests_total', 'Requests with no price for their model (cost unknown, not counted in gateway_cost_usd_total), by model.', registry)
    this.streamFailures = new FastCounter('gateway_stream_failures_total', 'Streamed requests that did not complete successfully.', registry)
    this.auditRecords = new Counter({name: 'gateway_audit_records_total', help: 'Rows committed to the audit log by this process.', registers})
    this.auditWriteErrors = new Counter({name: 'gateway_audit_write_errors_total', help: 'Failed audit log write attempts.', registers})
    const status = () => this.auditStatus()
    // Counted in memory as requests finish, before any database write: a record the database never got
    // shows up here and not in the audit log, so the two can be compared.
    new Counter({name: 'gateway_audit_records_received_total', help: 'Request records handed to the audit log by this process (counted before any write).', registers, collect() {
      this.reset()
      this.inc(status().records_received)
    }})
    new Counter({name: 'gateway_audit_records_dropped_total', help: 'Request records this process could not write to the audit log and gave up on (queue full while the database failed, or a record it could not handle).', registers, collect() {
      this.reset()
      this.inc(status().audit_dropped)
    }})
    new Gauge({name: 'gateway_audit_pending_records', help: 'Request records queued for the audit log, not written yet.', registers, collect() {
      this.set(status().audit_pending)
    }})
    this.providerUp = new Gauge({name: 'gateway_provider_up', help: '1 if the provider is up (the daemon feeds /gateway/health\'s provider state; standalone: its last request succeeded), else 0.', labelNames: ['provider'], registers})
    const buildInfo = new Gauge({name: 'gateway_build_info', help: 'Gateway build information.', labelNames: ['version'], registers})
    buildInfo.set({version: opts.version}, 1)
    for (const provider of opts.providers) this.streamFailures.at(provider, {provider})
    if (opts.processMetrics !== false) collectDefaultMetrics({register: this.registry})
  }

  private modelLabel(model: string | null): string {
    if (!model) return NONE
    if (this.models.has(model)) return model
    if (this.models.size >= MAX_MODEL_LABELS) return 'other'
    this.models.add(model)
    return model
  }

  private bundle(provider: string, model: string, stream: string, statusClass: string): SeriesBundle {
    const key = `${provider}\u0000${model}\u0000${stream}\u0000${statusClass}`
    let b = this.bundles.get(key)
    if (!b) {
      const pms = `${provider}\u0000${model}\u0000${stream}`
      b = {
        requests: this.requests.at(key, {provider, model, status_class: statusClass, stream}),
        duration: this.duration.at(pms, {provider, model, stream}),
        ttfb: this.ttfb.at(pms, {provider, model, stream}),
        overhead: this.overhead.at(provider, {provider}),
        // Token and cost series appear on their first non-zero increment (as with prom-client's inc).
        tokens: {input: undefined, output: undefined, cache_write: undefined, cache_read: undefined},
        cost: undefined,
        unpriced: undefined,
        streamFailures: this.streamFailures.at(provider, {provider}),
        provider,
        model,
      }
      this.bundles.set(key, b)
    }
    return b
  }

  observe(record: RequestRecord, cost: CostResult): void {
    const provider = record.provider ?? NONE
    const model = this.modelLabel(record.model_served ?? record.model_requested)
    const stream = record.stream ? 'true' : 'false'
    const statusClass = record.status >= 100 && record.status < 600 ? `${Math.floor(record.status / 100)}xx` : 'other'
    const b = this.bundle(provider, model, stream, statusClass)
    b.requests.value++
    this.duration.observe(b.duration, Math.max(0, record.done_at - record.received_at) / 1000)
    if (record.first_byte_at !== null) this.ttfb.observe(b.ttfb, Math.max(0, record.first_byte_at - record.received_at) / 1000)
    this.overhead.observe(b.overhead, Math.max(0, record.overhead_ms) / 1000)
    const u = cost.usage
    this.addTokens(b, 'input', u.input_tokens)
    this.addTokens(b, 'output', u.output_tokens)
    this.addTokens(b, 'cache_write', u.cache_creation_input_tokens)
    this.addTokens(b, 'cache_read', u.cache_read_input_tokens)
    if (cost.micros !== null && cost.micros > 0) (b.cost ??= this.cost.at(`${provider}\u0000${model}`, {provider, model})).value += cost.micros / 1_000_000
    // Same model label (and cap) as every other series: past MAX_MODEL_LABELS new models count under "other".
    if (cost.status === 'unpriced') (b.unpriced ??= this.unpriced.at(model, {model})).value++
    if (record.stream && !record.success) b.streamFailures.value++
    if (record.provider !== null && this.providerUpFromRecords) {
      if (record.success) this.providerUp.set({provider}, 1)
      else if (record.status >= 500 || (record.error_type !== null && PROVIDER_FAILURE_TYPES.has(record.error_type))) this.providerUp.set({provider}, 0)
    }
  }

  private addTokens(b: SeriesBundle, type: keyof SeriesBundle['tokens'], n: number): void {
    if (!(n > 0)) return
    ;(b.tokens[type] ??= this.tokens.at(`${b.provider}\u0000${b.model}\u0000${type}`, {provider: b.provider, model: b.model, type})).value += n
  }

  /** For health probes or the request path's provider tracker. */
  setProviderUp(provider: string, up: boolean): void {
    this.providerUp.set({provider}, up ? 1 : 0)
  }

  auditWritten(count: number): void {
    this.auditRecords.inc(count)
  }

  auditWriteError(): void {
    this.auditWriteErrors.inc()
  }

  /** Where the received / dropped / pending figures come from (the evidence layer's writer status). */
  readAuditStatusFrom(status: () => {records_received: number; audit_dropped: number; audit_pending: number}): void {
    this.auditStatus = status
  }

  get contentType(): string {
    return this.registry.contentType
  }

  metrics(): Promise<string> {
    return this.registry.metrics()
  }
}
