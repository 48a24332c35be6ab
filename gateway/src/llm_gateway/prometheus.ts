/**
 * Prometheus metrics for one gateway instance (a fresh prom-client Registry, never the global
 * default, so two gateways in one process or in tests never share counters).
 */
import {Counter, Gauge, Histogram, Registry, collectDefaultMetrics} from 'prom-client'
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

export class GatewayPrometheus {
  readonly registry = new Registry()
  private readonly models = new Set<string>()
  private readonly requests: Counter<'provider' | 'model' | 'status_class' | 'stream'>
  private readonly duration: Histogram<'provider' | 'model' | 'stream'>
  private readonly ttfb: Histogram<'provider' | 'model' | 'stream'>
  private readonly overhead: Histogram<'provider'>
  private readonly tokens: Counter<'provider' | 'model' | 'type'>
  private readonly cost: Counter<'provider' | 'model'>
  private readonly streamFailures: Counter<'provider'>
  private readonly auditRecords: Counter
  private readonly auditWriteErrors: Counter
  private readonly providerUp: Gauge<'provider'>

  private readonly providerUpFromRecords: boolean

  /** providerUpFromRecords (default true): set gateway_provider_up from each record; false when the owner feeds it (setProviderUp). */
  constructor(opts: {version: string; providers: string[]; processMetrics?: boolean; providerUpFromRecords?: boolean}) {
    this.providerUpFromRecords = opts.providerUpFromRecords !== false
    const registers = [this.registry]
    this.requests = new Counter({name: 'gateway_requests_total', help: 'Requests that reached the gateway API, by outcome.', labelNames: ['provider', 'model', 'status_class', 'stream'], registers})
    this.duration = new Histogram({name: 'gateway_request_duration_seconds', help: 'Time from request received to response finished.', labelNames: ['provider', 'model', 'stream'], buckets: DURATION_BUCKETS, registers})
    this.ttfb = new Histogram({name: 'gateway_ttfb_seconds', help: 'Time from request received to the first byte sent to the client.', labelNames: ['provider', 'model', 'stream'], buckets: TTFB_BUCKETS, registers})
    this.overhead = new Histogram({name: 'gateway_overhead_seconds', help: 'Time spent inside the gateway (not waiting on the upstream).', labelNames: ['provider'], buckets: OVERHEAD_BUCKETS, registers})
    this.tokens = new Counter({name: 'gateway_tokens_total', help: 'Tokens by type (input = uncached input, cache_write, cache_read, output).', labelNames: ['provider', 'model', 'type'], registers})
    this.cost = new Counter({name: 'gateway_cost_usd_total', help: 'Cost in USD of priced requests (unpriced requests add nothing).', labelNames: ['provider', 'model'], registers})
    this.streamFailures = new Counter({name: 'gateway_stream_failures_total', help: 'Streamed requests that did not complete successfully.', labelNames: ['provider'], registers})
    this.auditRecords = new Counter({name: 'gateway_audit_records_total', help: 'Rows committed to the audit log by this process.', registers})
    this.auditWriteErrors = new Counter({name: 'gateway_audit_write_errors_total', help: 'Failed audit log write attempts.', registers})
    this.providerUp = new Gauge({name: 'gateway_provider_up', help: '1 if the provider is up (the daemon feeds /gateway/health\'s provider state; standalone: its last request succeeded), else 0.', labelNames: ['provider'], registers})
    const buildInfo = new Gauge({name: 'gateway_build_info', help: 'Gateway build information.', labelNames: ['version'], registers})
    buildInfo.set({version: opts.version}, 1)
    for (const provider of opts.providers) this.streamFailures.inc({provider}, 0)
    if (opts.processMetrics !== false) collectDefaultMetrics({register: this.registry})
  }

  private modelLabel(model: string | null): string {
    if (!model) return NONE
    if (this.models.has(model)) return model
    if (this.models.size >= MAX_MODEL_LABELS) return 'other'
    this.models.add(model)
    return model
  }

  observe(record: RequestRecord, cost: CostResult): void {
    const provider = record.provider ?? NONE
    const model = this.modelLabel(record.model_served ?? record.model_requested)
    const stream = record.stream ? 'true' : 'false'
    const statusClass = record.status >= 100 && record.status < 600 ? `${Math.floor(record.status / 100)}xx` : 'other'
    this.requests.inc({provider, model, status_class: statusClass, stream})
    this.duration.observe({provider, model, stream}, Math.max(0, record.done_at - record.received_at) / 1000)
    if (record.first_byte_at !== null) this.ttfb.observe({provider, model, stream}, Math.max(0, record.first_byte_at - record.received_at) / 1000)
    this.overhead.observe({provider}, Math.max(0, record.overhead_ms) / 1000)
    const u = cost.usage
    const tokens: Array<[string, number]> = [
      ['input', u.input_tokens],
      ['output', u.output_tokens],
      ['cache_write', u.cache_creation_input_tokens],
      ['cache_read', u.cache_read_input_tokens],
    ]
    for (const [type, n] of tokens) if (n > 0) this.tokens.inc({provider, model, type}, n)
    if (cost.micros !== null && cost.micros > 0) this.cost.inc({provider, model}, cost.micros / 1_000_000)
    if (record.stream && !record.success) this.streamFailures.inc({provider})
    if (record.provider !== null && this.providerUpFromRecords) {
      if (record.success) this.providerUp.set({provider}, 1)
      else if (record.status >= 500 || (record.error_type !== null && PROVIDER_FAILURE_TYPES.has(record.error_type))) this.providerUp.set({provider}, 0)
    }
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

  get contentType(): string {
    return this.registry.contentType
  }

  metrics(): Promise<string> {
    return this.registry.metrics()
  }
}
