/**
 * The evidence layer in one object: cost, audit log, JSON metrics and Prometheus metrics.
 *
 *   const evidence = createEvidence({home, audit, costTracking, providers, log})
 *   requestPath.onRecord = evidence.sink                    // one RequestRecord per request
 *   routes: GET /gateway/metrics -> handleMetrics, GET /gateway/audit -> handleAudit,
 *           GET /metrics -> handlePrometheus, POST /gateway/metrics/reset -> handleMetricsReset
 *   non-streamed responses: res.setHeader('x-gateway-cost-usd', evidence.costHeaderFor(partialRecord) ?? ...)
 *   /gateway/health: evidence.healthStatus()   shutdown: await evidence.close()
 */
import {readFileSync} from 'node:fs'
import {logValue} from '../daemon/log.js'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {join} from 'node:path'
import {AuditWriter, type AuditLogger, COLLECTION_STARTED_META_KEY, errorMessage} from './audit.js'
import {type CostInput, type CostResult, computeCost as computeCostWith, formatMicros} from './cost.js'
import {buildMetrics, parseAuditQuery, parseMetricsQuery, QueryError, queryAudit} from './metrics.js'
import {PricingTable} from './pricing.js'
import {GatewayPrometheus} from './prometheus.js'
import {DEFAULT_MAX_PENDING_RECORDS} from '../daemon/config.js'
import type {RecordSink, RequestRecord} from './record.js'

/** `llmGateway.audit` (same field names as the daemon config). */
export interface AuditOptions {
  enabled?: boolean
  logRequestBodies?: boolean
  logResponseBodies?: boolean
  /** Days to keep rows (default 30); 0 keeps everything. */
  retentionDays?: number
  /** Default `$CCO_HOME/gateway/audit.db`. */
  dbPath?: string
  /** Records held in memory while the database cannot be written (default DEFAULT_MAX_PENDING_RECORDS); beyond it the oldest are dropped, counted as audit_dropped. */
  maxPendingRecords?: number
}

/** `llmGateway.costTracking`. */
export interface CostTrackingOptions {
  enabled?: boolean
  /** model name (prefix) -> rates in USD per million tokens; see PriceOverride in pricing.ts. */
  pricingOverrides?: Record<string, unknown>
}

/** The parts of `llmGateway.providers.<name>` the evidence layer reads. */
export interface ProviderEvidenceOptions {
  enabled?: boolean
  providerType?: string
  /** Azure deployments: {inputPerMillion, outputPerMillion, cacheReadPerMillion?}. */
  pricing?: unknown
}

export interface EvidenceOptions {
  /** CCO_HOME. */
  home: string
  audit?: AuditOptions
  costTracking?: CostTrackingOptions
  providers?: Record<string, ProviderEvidenceOptions>
  log: AuditLogger
  /** Clock (epoch ms); tests inject one. */
  now?: () => number
  /** Reported as gateway_build_info{version}; default: gateway/package.json. */
  version?: string
  /** Flush period of the audit writer (default 50 ms: small, short transactions; must be <= 1000 to keep the kill -9 promise). */
  flushIntervalMs?: number
  /** Body cut-off in characters (default 4 Mi). */
  maxBodyChars?: number
  /** Include prom-client's process metrics (default true). */
  processMetrics?: boolean
  /** Derive gateway_provider_up from each record (default true); false when the caller feeds setProviderUp. */
  providerUpFromRecords?: boolean
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

export interface HealthStatus {
  degraded: boolean
  reason?: string
}

export interface Evidence {
  /** Never throws; cheap: computes the cost, updates Prometheus and queues the audit row. */
  sink: RecordSink
  handleMetrics: Handler
  handleAudit: Handler
  handlePrometheus: Handler
  handleMetricsReset: Handler
  /** Cost of a (possibly partial) record, synchronously. */
  computeCost(input: CostInput): CostResult
  /** Value for `x-gateway-cost-usd` ("0.011991"), or undefined when the cost is unknown (unpriced / disabled). */
  costHeaderFor(input: CostInput): string | undefined
  /** Feed provider probe results into gateway_provider_up. */
  setProviderUp(provider: string, up: boolean): void
  healthStatus(): HealthStatus
  /** Writes every queued row now. */
  flush(): Promise<void>
  /** Flushes and closes the database; the sink drops (and counts) records after this. */
  close(): Promise<void>
  /** Where the audit database lives (':memory:' when audit is disabled). */
  readonly dbPath: string
}

export const DEFAULT_RETENTION_DAYS = 30
const DEFAULT_MAX_BODY_CHARS = 4 * 1024 * 1024
const MEMORY_RETENTION_DAYS = 1
const RESET_META_KEY = 'metrics_reset_at'

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version?: unknown}
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}

export class EvidenceConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EvidenceConfigError'
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store'})
  res.end(text)
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, {type: 'error', error: {type, message}})
}

function allowOnly(req: IncomingMessage, res: ServerResponse, method: 'GET' | 'POST'): boolean {
  const m = req.method ?? 'GET'
  if (m === method || (method === 'GET' && m === 'HEAD')) return true
  res.setHeader('allow', method === 'GET' ? 'GET, HEAD' : 'POST')
  sendError(res, 405, 'invalid_request_error', `${req.url ?? ''} only accepts ${method}`)
  return false
}

function queryParams(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://gateway.invalid').searchParams
}

/** Validates options; throws EvidenceConfigError / PricingConfigError with a message naming the bad field. */
export function createEvidence(opts: EvidenceOptions): Evidence {
  const now = opts.now ?? Date.now
  const audit = opts.audit ?? {}
  const auditEnabled = audit.enabled !== false
  const retention = audit.retentionDays ?? DEFAULT_RETENTION_DAYS
  if (typeof retention !== 'number' || !Number.isFinite(retention) || retention < 0) {
    throw new EvidenceConfigError(`audit.retentionDays must be a number of days >= 0 (0 keeps rows forever), got ${JSON.stringify(retention)}`)
  }
  const flushIntervalMs = opts.flushIntervalMs ?? 50
  if (!(flushIntervalMs > 0 && flushIntervalMs <= 1000)) throw new EvidenceConfigError(`flushIntervalMs must be in (0, 1000], got ${flushIntervalMs}`)

  const costEnabled = opts.costTracking?.enabled !== false
  const providerPricing: Record<string, unknown> = {}
  for (const [name, p] of Object.entries(opts.providers ?? {})) if (p.pricing !== undefined) providerPricing[name] = p.pricing
  const pricing = new PricingTable({overrides: opts.costTracking?.pricingOverrides, providerPricing})
  const computeCost = (input: CostInput): CostResult => computeCostWith(input, pricing, {enabled: costEnabled})

  const prom = new GatewayPrometheus({version: opts.version ?? packageVersion(), providers: Object.keys(opts.providers ?? {}), processMetrics: opts.processMetrics, providerUpFromRecords: opts.providerUpFromRecords})
  const dbPath = auditEnabled ? (audit.dbPath ?? join(opts.home, 'gateway', 'audit.db')) : ':memory:'
  const writer = new AuditWriter({
    path: dbPath,
    // With audit off the rows live in memory only to serve metrics: no bodies, a short horizon.
    logRequestBodies: auditEnabled && audit.logRequestBodies === true,
    logResponseBodies: auditEnabled && audit.logResponseBodies === true,
    maxBodyChars: opts.maxBodyChars ?? DEFAULT_MAX_BODY_CHARS,
    retentionDays: auditEnabled ? retention : MEMORY_RETENTION_DAYS,
    log: opts.log,
    now,
    flushIntervalMs,
    maxPending: audit.maxPendingRecords ?? DEFAULT_MAX_PENDING_RECORDS,
    maxBatch: 5_000,
    onWritten: (n) => prom.auditWritten(n),
    onWriteError: () => prom.auditWriteError(),
  })
  try {
    writer.db?.markCollectionStart(now())
  } catch (err) {
    opts.log.warn(`evidence: could not record when the audit log started collecting: ${errorMessage(err)}`)
  }
  let recordsReceived = 0
  let sinkErrors = 0
  let lastSinkErrorAt = 0
  let closed = false

  // The cost computed for a response's x-gateway-cost-usd is the record's cost too when its inputs did not
  // change in between (the usual case): keyed by the usage object, checked field by field.
  type CostKey = Pick<CostInput, 'usage_missing' | 'received_at' | 'model_served' | 'model_requested' | 'provider' | 'provider_type' | 'path' | 'status'>
  const headerCosts = new WeakMap<object, {input: CostKey; cost: CostResult}>()
  const costKey = (i: CostInput): CostKey => ({
    usage_missing: i.usage_missing, received_at: i.received_at, model_served: i.model_served, model_requested: i.model_requested,
    provider: i.provider, provider_type: i.provider_type, path: i.path, status: i.status,
  })
  const sameCostInputs = (a: CostKey, b: CostInput): boolean =>
    a.usage_missing === b.usage_missing && a.received_at === b.received_at && a.model_served === b.model_served && a.model_requested === b.model_requested &&
    a.provider === b.provider && a.provider_type === b.provider_type && a.path === b.path && a.status === b.status
  const costOf = (input: CostInput, remember: boolean): CostResult => {
    const usage = input.usage
    if (usage && !input.usage_missing) {
      const hit = headerCosts.get(usage)
      if (hit && sameCostInputs(hit.input, input)) return hit.cost
      const cost = computeCost(input)
      if (remember) headerCosts.set(usage, {input: costKey(input), cost})
      return cost
    }
    return computeCost(input)
  }

  const sink: RecordSink = (record: RequestRecord) => {
    try {
      recordsReceived++
      const cost = costOf(record, false)
      prom.observe(record, cost)
      writer.enqueue(record, cost)
    } catch (err) {
      // A malformed record must not break the request path; it is counted and logged.
      sinkErrors++
      lastSinkErrorAt = now()
      try {
        opts.log.error(`evidence: could not record request ${logValue((record as {request_id?: unknown})?.request_id)}: ${logValue(errorMessage(err))}`)
      } catch {
        // Logging failed too; the counter still shows it.
      }
    }
  }

  const collectionStartedAt = (): number | null => {
    const v = writer.db?.getMeta(COLLECTION_STARTED_META_KEY)
    return v === undefined ? null : Number(v)
  }

  const resetAt = (): number | null => {
    const v = writer.db?.getMeta(RESET_META_KEY)
    return v === undefined ? null : Number(v)
  }

  const withDb = (res: ServerResponse, fn: (w: NonNullable<AuditWriter['db']>) => void): void => {
    writer.flush()
    const store = writer.db
    if (!store) {
      sendError(res, 503, 'api_error', `audit database is unavailable: ${writer.health().reason ?? 'not open'}`)
      return
    }
    try {
      fn(store)
    } catch (err) {
      if (err instanceof QueryError) sendError(res, 400, 'invalid_request_error', err.message)
      else sendError(res, 500, 'api_error', `metrics query failed: ${errorMessage(err)}`)
    }
  }

  const writerStatus = () => {
    const s = writer.stats()
    return {records_received: recordsReceived, audit_pending: s.pending, audit_write_errors: s.writeErrors, audit_dropped: s.dropped + sinkErrors}
  }
  prom.readAuditStatusFrom(writerStatus)

  const handleMetrics: Handler = (req, res) => {
    if (!allowOnly(req, res, 'GET')) return
    withDb(res, (store) => {
      const q = parseMetricsQuery(queryParams(req))
      sendJson(res, 200, buildMetrics(store.db, q, {now: now(), minuteFloor: writer.minuteFloor, resetAt: resetAt(), collectionStartedAt: collectionStartedAt(), status: writerStatus()}))
    })
  }

  const handleAudit: Handler = (req, res) => {
    if (!allowOnly(req, res, 'GET')) return
    if (!auditEnabled) {
      sendError(res, 404, 'not_found_error', 'the audit log is disabled (llmGateway.audit.enabled is false)')
      return
    }
    withDb(res, (store) => sendJson(res, 200, queryAudit(store.db, parseAuditQuery(queryParams(req)))))
  }

  const handleMetricsReset: Handler = (req, res) => {
    if (!allowOnly(req, res, 'POST')) return
    withDb(res, (store) => {
      store.setMeta(RESET_META_KEY, String(now()))
      sendJson(res, 200, {status: 'ok', message: 'Metrics reset successfully (audit rows are kept; /gateway/metrics now counts from this moment)'})
    })
  }

  const handlePrometheus: Handler = (req, res) => {
    if (!allowOnly(req, res, 'GET')) return
    writer.flush()
    prom.metrics().then(
      (text) => {
        res.writeHead(200, {'content-type': prom.contentType, 'cache-control': 'no-store'})
        res.end(text)
      },
      (err: unknown) => sendError(res, 500, 'api_error', `metrics exposition failed: ${errorMessage(err)}`),
    )
  }

  return {
    sink,
    handleMetrics,
    handleAudit,
    handlePrometheus,
    handleMetricsReset,
    computeCost,
    costHeaderFor(input) {
      const c = costOf(input, true)
      return c.micros === null ? undefined : formatMicros(c.micros)
    },
    setProviderUp: (provider, up) => prom.setProviderUp(provider, up),
    healthStatus() {
      const h = writer.health()
      if (h.degraded) return h
      if (lastSinkErrorAt > 0 && now() - lastSinkErrorAt < 60_000) return {degraded: true, reason: `request records could not be processed (${sinkErrors} so far)`}
      return {degraded: false}
    },
    async flush() {
      writer.flush()
    },
    async close() {
      if (closed) return
      closed = true
      writer.close()
    },
    dbPath,
  }
}
