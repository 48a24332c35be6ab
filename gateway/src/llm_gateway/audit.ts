/**
 * Durable SQLite audit log: one row per RequestRecord, written in batches off the request path.
 *
 * - WAL + synchronous=NORMAL: a committed batch survives `kill -9` of the process.
 * - The sink only enqueues; a timer flushes at least every `flushIntervalMs` (default 200 ms) and
 *   close() flushes everything, so `kill -9` loses at most the last interval.
 * - Secrets are redacted before anything is stored.
 * - Aggregate tables (`agg`, `lat`) are maintained in the same transaction as the rows, so the
 *   metrics queries never scan the log and always agree with it (see metrics.ts).
 * - A write failure never throws to the caller: it is counted, logged once per incident and
 *   surfaced through `health()`; rows stay queued (bounded) and are retried.
 */
import Database from 'better-sqlite3'
import {chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync} from 'node:fs'
import {dirname} from 'node:path'
import type {CostResult} from './cost.js'
import type {RequestRecord} from './record.js'

export type BetterDb = Database.Database

// ---------------------------------------------------------------------------------------------
// Redaction

const SECRET_NAME =
  '(?:x-api-key|api[-_]?key|apikey|api[-_]?secret|authorization|access[-_]?token|refresh[-_]?token|auth[-_]?token|id[-_]?token|session[-_]?token|token|client[-_]?secret|secret[-_]?key|secret|password|passwd|private[-_]?key)'
/** `"anthropic_api_key": "value"` (any prefix ending in a separator): the JSON string value. */
const JSON_SECRET = new RegExp(`("(?:[A-Za-z0-9]*[-_])*${SECRET_NAME}"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)(")`, 'gi')
/** `x-api-key: value`, `OPENAI_API_KEY=value`, also inside JSON-escaped text (`api_key=\"value\"`). */
const TEXT_SECRET = new RegExp(
  `\\b((?:[A-Za-z0-9]*[-_])*${SECRET_NAME})(\\s*[:=]\\s*)(\\\\?["']|)((?:Bearer|Basic)\\s+)?(?!\\[REDACTED\\])([^\\s"'\\\\,;}&<>]+)`,
  'gi',
)
const BEARER = /\b(Bearer|Basic)(\s+)(?!\[REDACTED\])[A-Za-z0-9._~+/=-]{6,}/gi
const ANTHROPIC_KEY = /\bsk-ant-[A-Za-z0-9_-]{6,}/g
const GENERIC_SK_KEY = /\bsk-(?!ant-\[)[A-Za-z0-9_-]{16,}/g

export const REDACTED = '[REDACTED]'

/**
 * Masks API keys, bearer tokens and secret-named fields in free text or JSON text. Works on the
 * text itself (no re-serialisation) so the stored body keeps the client's bytes everywhere else
 * and stays valid JSON.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(JSON_SECRET, `$1${REDACTED}$3`)
    .replace(TEXT_SECRET, `$1$2$3$4${REDACTED}`)
    .replace(BEARER, `$1$2${REDACTED}`)
    .replace(ANTHROPIC_KEY, `sk-ant-${REDACTED}`)
    .replace(GENERIC_SK_KEY, `sk-${REDACTED}`)
}

function redactNullable(text: string | null): string | null {
  return text === null ? null : redactSecrets(text)
}

// ---------------------------------------------------------------------------------------------
// Rows

export interface AuditRow {
  request_id: string
  received_at: number
  first_byte_at: number | null
  done_at: number
  method: string
  path: string
  agent_type: string
  provider: string | null
  provider_type: string | null
  model_requested: string | null
  model_served: string | null
  routing_reason: string | null
  stream: number
  status: number
  success: number
  error_type: string | null
  error_message: string | null
  stop_reason: string | null
  attempts: number
  fallback_used: number
  latency_ms: number
  ttfb_ms: number | null
  overhead_ms: number
  input_tokens: number
  output_tokens: number
  cache_write_tokens: number
  cache_write_5m_tokens: number | null
  cache_write_1h_tokens: number | null
  cache_read_tokens: number
  usage_missing: number
  usage_estimated: number
  cost_micros: number | null
  cost_status: string
  pricing: string | null
  price_tier: string | null
  request_body: string | null
  response_body: string | null
}

const ROW_COLUMNS: Array<keyof AuditRow> = [
  'request_id', 'received_at', 'first_byte_at', 'done_at', 'method', 'path', 'agent_type', 'provider', 'provider_type',
  'model_requested', 'model_served', 'routing_reason', 'stream', 'status', 'success', 'error_type', 'error_message',
  'stop_reason', 'attempts', 'fallback_used', 'latency_ms', 'ttfb_ms', 'overhead_ms', 'input_tokens', 'output_tokens',
  'cache_write_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'cache_read_tokens', 'usage_missing',
  'usage_estimated', 'cost_micros', 'cost_status', 'pricing', 'price_tier', 'request_body', 'response_body',
]

export interface BodyPolicy {
  logRequestBodies: boolean
  logResponseBodies: boolean
  /** Bodies longer than this many characters are cut (after redaction) and marked. */
  maxBodyChars: number
}

function int(n: number): number {
  return Number.isFinite(n) ? Math.round(n) : 0
}

function clipBody(text: string, max: number): string {
  if (text.length <= max) return text
  return `${text.slice(0, max)}…[truncated ${text.length - max} characters]`
}

/** Builds the stored row: derived timings, the usage the cost is based on, redacted text fields. */
export function toAuditRow(record: RequestRecord, cost: CostResult, policy: BodyPolicy): AuditRow {
  const u = cost.usage
  const requestBody = policy.logRequestBodies && record.request_body !== undefined ? clipBody(redactSecrets(record.request_body.toString('utf8')), policy.maxBodyChars) : null
  const responseBody = policy.logResponseBodies && record.response_body !== undefined ? clipBody(redactSecrets(record.response_body), policy.maxBodyChars) : null
  return {
    request_id: redactSecrets(String(record.request_id)),
    received_at: int(record.received_at),
    first_byte_at: record.first_byte_at === null ? null : int(record.first_byte_at),
    done_at: int(record.done_at),
    method: String(record.method),
    path: redactSecrets(String(record.path)),
    agent_type: redactSecrets(String(record.agent_type ?? 'unknown')),
    provider: record.provider,
    provider_type: record.provider_type,
    model_requested: redactNullable(record.model_requested),
    model_served: redactNullable(record.model_served),
    routing_reason: redactNullable(record.routing_reason),
    stream: record.stream ? 1 : 0,
    status: int(record.status),
    success: record.success ? 1 : 0,
    error_type: record.error_type,
    error_message: redactNullable(record.error_message),
    stop_reason: record.stop_reason,
    attempts: int(record.attempts),
    fallback_used: record.fallback_used ? 1 : 0,
    latency_ms: Math.max(0, int(record.done_at - record.received_at)),
    ttfb_ms: record.first_byte_at === null ? null : Math.max(0, int(record.first_byte_at - record.received_at)),
    overhead_ms: Math.max(0, int(record.overhead_ms)),
    input_tokens: int(u.input_tokens),
    output_tokens: int(u.output_tokens),
    cache_write_tokens: int(u.cache_creation_input_tokens),
    cache_write_5m_tokens: u.cache_creation_5m_input_tokens === undefined ? null : int(u.cache_creation_5m_input_tokens),
    cache_write_1h_tokens: u.cache_creation_1h_input_tokens === undefined ? null : int(u.cache_creation_1h_input_tokens),
    cache_read_tokens: int(u.cache_read_input_tokens),
    usage_missing: record.usage_missing ? 1 : 0,
    usage_estimated: cost.usageEstimated ? 1 : 0,
    cost_micros: cost.micros,
    cost_status: cost.status,
    pricing: cost.pricing,
    price_tier: cost.tier,
    request_body: requestBody,
    response_body: responseBody,
  }
}

// ---------------------------------------------------------------------------------------------
// Aggregates: per (grain, bucket start, dimensions) sums, maintained on insert and on retention delete.

export const MINUTE = 60_000
export const HOUR = 3_600_000
/** grain 0 = all-time (t = 0). */
export const GRAINS = [0, MINUTE, HOUR] as const
/** Minute buckets are kept this long: the longest window (3d) plus slack for the hourly prune. */
export const MINUTE_BUCKET_RETENTION_MS = 3 * 24 * HOUR + 2 * HOUR

export interface AggDims {
  agent_type: string
  provider: string
  model: string
  stream: number
  status: number
  success: number
  error_type: string
}

export interface AggValues {
  requests: number
  latency_sum: number
  ttfb_sum: number
  ttfb_count: number
  overhead_sum: number
  cost_micros: number
  input_tokens: number
  output_tokens: number
  cache_write_tokens: number
  cache_read_tokens: number
  unpriced: number
  usage_missing: number
  fallback: number
  attempts: number
}

export const DIM_COLUMNS: Array<keyof AggDims> = ['agent_type', 'provider', 'model', 'stream', 'status', 'success', 'error_type']
export const VALUE_COLUMNS: Array<keyof AggValues> = [
  'requests', 'latency_sum', 'ttfb_sum', 'ttfb_count', 'overhead_sum', 'cost_micros', 'input_tokens', 'output_tokens',
  'cache_write_tokens', 'cache_read_tokens', 'unpriced', 'usage_missing', 'fallback', 'attempts',
]

/** The audit-row columns the aggregates are computed from (also read by metrics.ts for raw edges). */
export const AGG_SOURCE_COLUMNS =
  'received_at, agent_type, provider, model_served, model_requested, stream, status, success, error_type, latency_ms, ttfb_ms, overhead_ms, cost_micros, cost_status, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, usage_missing, fallback_used, attempts'

export interface AggSourceRow {
  received_at: number
  agent_type: string
  provider: string | null
  model_served: string | null
  model_requested: string | null
  stream: number
  status: number
  success: number
  error_type: string | null
  latency_ms: number
  ttfb_ms: number | null
  overhead_ms: number
  cost_micros: number | null
  cost_status: string
  input_tokens: number
  output_tokens: number
  cache_write_tokens: number
  cache_read_tokens: number
  usage_missing: number
  fallback_used: number
  attempts: number
}

export function emptyValues(): AggValues {
  return {
    requests: 0, latency_sum: 0, ttfb_sum: 0, ttfb_count: 0, overhead_sum: 0, cost_micros: 0, input_tokens: 0,
    output_tokens: 0, cache_write_tokens: 0, cache_read_tokens: 0, unpriced: 0, usage_missing: 0, fallback: 0, attempts: 0,
  }
}

export function dimsOf(r: AggSourceRow): AggDims {
  return {
    agent_type: r.agent_type,
    provider: r.provider ?? '',
    model: r.model_served ?? r.model_requested ?? '',
    stream: r.stream,
    status: r.status,
    success: r.success,
    error_type: r.error_type ?? '',
  }
}

export function addRow(v: AggValues, r: AggSourceRow, sign: 1 | -1): void {
  v.requests += sign
  v.latency_sum += sign * r.latency_ms
  if (r.ttfb_ms !== null) {
    v.ttfb_sum += sign * r.ttfb_ms
    v.ttfb_count += sign
  }
  v.overhead_sum += sign * r.overhead_ms
  v.cost_micros += sign * (r.cost_micros ?? 0)
  v.input_tokens += sign * r.input_tokens
  v.output_tokens += sign * r.output_tokens
  v.cache_write_tokens += sign * r.cache_write_tokens
  v.cache_read_tokens += sign * r.cache_read_tokens
  if (r.cost_status === 'unpriced') v.unpriced += sign
  v.usage_missing += sign * r.usage_missing
  v.fallback += sign * r.fallback_used
  v.attempts += sign * r.attempts
}

export function addValues(into: AggValues, from: AggValues): void {
  for (const c of VALUE_COLUMNS) into[c] += from[c]
}

/** Latency histogram bucket (lower bound, ms): exact below 100 ms, two significant digits above. */
export function latencyBucket(ms: number): number {
  const v = Math.max(0, Math.round(ms))
  if (v < 100) return v
  const step = 10 ** (String(v).length - 2)
  return Math.floor(v / step) * step
}

/** Width of the bucket starting at `lower`. */
export function latencyBucketWidth(lower: number): number {
  return lower < 100 ? 1 : 10 ** (String(lower).length - 2)
}

function bucketStart(t: number, grain: number): number {
  return grain === 0 ? 0 : Math.floor(t / grain) * grain
}

interface AggAccumulator {
  agg: Map<string, {grain: number; t: number; dims: AggDims; v: AggValues}>
  lat: Map<string, {grain: number; t: number; bucket: number; count: number}>
}

function accumulate(acc: AggAccumulator, r: AggSourceRow, sign: 1 | -1): void {
  const dims = dimsOf(r)
  const dimKey = JSON.stringify(DIM_COLUMNS.map((c) => dims[c]))
  const bucket = latencyBucket(r.latency_ms)
  for (const grain of GRAINS) {
    const t = bucketStart(r.received_at, grain)
    const key = `${grain}|${t}|${dimKey}`
    let entry = acc.agg.get(key)
    if (!entry) {
      entry = {grain, t, dims, v: emptyValues()}
      acc.agg.set(key, entry)
    }
    addRow(entry.v, r, sign)
    const latKey = `${grain}|${t}|${bucket}`
    const lat = acc.lat.get(latKey)
    if (lat) lat.count += sign
    else acc.lat.set(latKey, {grain, t, bucket, count: sign})
  }
}

// ---------------------------------------------------------------------------------------------
// Store

const SCHEMA_VERSION = 1

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  first_byte_at INTEGER,
  done_at INTEGER NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  agent_type TEXT NOT NULL,
  provider TEXT,
  provider_type TEXT,
  model_requested TEXT,
  model_served TEXT,
  routing_reason TEXT,
  stream INTEGER NOT NULL,
  status INTEGER NOT NULL,
  success INTEGER NOT NULL,
  error_type TEXT,
  error_message TEXT,
  stop_reason TEXT,
  attempts INTEGER NOT NULL,
  fallback_used INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL,
  ttfb_ms INTEGER,
  overhead_ms INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  cache_write_5m_tokens INTEGER,
  cache_write_1h_tokens INTEGER,
  cache_read_tokens INTEGER NOT NULL,
  usage_missing INTEGER NOT NULL,
  usage_estimated INTEGER NOT NULL,
  cost_micros INTEGER,
  cost_status TEXT NOT NULL,
  pricing TEXT,
  price_tier TEXT,
  request_body TEXT,
  response_body TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_received_at ON audit_log(received_at);
CREATE INDEX IF NOT EXISTS audit_log_request_id ON audit_log(request_id);
CREATE INDEX IF NOT EXISTS audit_log_agent ON audit_log(agent_type, received_at);
CREATE INDEX IF NOT EXISTS audit_log_provider ON audit_log(provider, received_at);
CREATE TABLE IF NOT EXISTS agg (
  grain INTEGER NOT NULL,
  t INTEGER NOT NULL,
  ${DIM_COLUMNS.map((c) => `${c} ${c === 'stream' || c === 'status' || c === 'success' ? 'INTEGER' : 'TEXT'} NOT NULL`).join(',\n  ')},
  ${VALUE_COLUMNS.map((c) => `${c} INTEGER NOT NULL`).join(',\n  ')},
  PRIMARY KEY (grain, t, ${DIM_COLUMNS.join(', ')})
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lat (
  grain INTEGER NOT NULL,
  t INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (grain, t, bucket)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

function isTransientSqliteError(err: unknown): boolean {
  const code = (err as {code?: unknown}).code
  if (typeof code !== 'string') return true
  return /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|NOMEM|PROTOCOL|CORRUPT|NOTADB)/.test(code)
}

export function errorMessage(err: unknown): string {
  const e = err as {code?: unknown; message?: unknown}
  const msg = typeof e.message === 'string' ? e.message : String(err)
  return typeof e.code === 'string' ? `${e.code}: ${msg}` : msg
}

/** Creates the directory (0700) and an empty database file (0600) before SQLite touches them. */
function prepareFile(path: string): void {
  const dir = dirname(path)
  if (!existsSync(dir)) mkdirSync(dir, {recursive: true, mode: 0o700})
  try {
    chmodSync(dir, 0o700)
  } catch {
    // Not our directory (a custom dbPath): the file itself is still 0600.
  }
  closeSync(openSync(path, 'a', 0o600))
  chmodSync(path, 0o600)
}

function secureSidecars(path: string): void {
  for (const suffix of ['-wal', '-shm']) {
    const p = path + suffix
    try {
      if (existsSync(p) && (statSync(p).mode & 0o077) !== 0) chmodSync(p, 0o600)
    } catch {
      // A sidecar that vanished between the check and the chmod is fine.
    }
  }
}

export class AuditStore {
  readonly db: BetterDb
  readonly memory: boolean
  private readonly insertRow: Database.Statement<unknown[]>
  private readonly upsertAgg: Database.Statement<unknown[]>
  private readonly upsertLat: Database.Statement<unknown[]>
  private readonly writeBatch: (rows: AuditRow[]) => void

  constructor(readonly path: string) {
    this.memory = path === ':memory:'
    if (!this.memory) prepareFile(path)
    this.db = new Database(path)
    try {
      const version = this.db.pragma('user_version', {simple: true}) as number
      if (version > SCHEMA_VERSION) {
        throw new Error(`audit database ${path} has schema version ${version}, newer than this gateway's ${SCHEMA_VERSION}: upgrade the gateway or move the file away`)
      }
      if (!this.memory) {
        this.db.pragma('journal_mode = WAL')
        this.db.pragma('synchronous = NORMAL')
      }
      // Short: a locked database must not stall the event loop; the batch is retried next tick.
      this.db.pragma('busy_timeout = 100')
      this.db.exec(SCHEMA)
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`)
      if (!this.memory) secureSidecars(path)
      this.insertRow = this.db.prepare(`INSERT INTO audit_log (${ROW_COLUMNS.join(', ')}) VALUES (${ROW_COLUMNS.map(() => '?').join(', ')})`)
      const aggCols = ['grain', 't', ...DIM_COLUMNS, ...VALUE_COLUMNS]
      this.upsertAgg = this.db.prepare(
        `INSERT INTO agg (${aggCols.join(', ')}) VALUES (${aggCols.map(() => '?').join(', ')})
         ON CONFLICT(grain, t, ${DIM_COLUMNS.join(', ')}) DO UPDATE SET ${VALUE_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`,
      )
      this.upsertLat = this.db.prepare(
        'INSERT INTO lat (grain, t, bucket, count) VALUES (?, ?, ?, ?) ON CONFLICT(grain, t, bucket) DO UPDATE SET count = count + excluded.count',
      )
      this.writeBatch = this.db.transaction((rows: AuditRow[]) => {
        const acc: AggAccumulator = {agg: new Map(), lat: new Map()}
        for (const row of rows) {
          this.insertRow.run(...ROW_COLUMNS.map((c) => row[c]))
          accumulate(acc, row, 1)
        }
        this.applyAccumulator(acc)
      })
    } catch (err) {
      this.db.close()
      throw err
    }
  }

  private applyAccumulator(acc: AggAccumulator): void {
    for (const {grain, t, dims, v} of acc.agg.values()) {
      this.upsertAgg.run(grain, t, ...DIM_COLUMNS.map((c) => dims[c]), ...VALUE_COLUMNS.map((c) => v[c]))
    }
    for (const {grain, t, bucket, count} of acc.lat.values()) this.upsertLat.run(grain, t, bucket, count)
  }

  /** Inserts rows and their aggregate contributions in one transaction. Throws on failure. */
  insert(rows: AuditRow[]): void {
    if (rows.length > 0) this.writeBatch(rows)
  }

  /**
   * Deletes rows received before `cutoffMs`, subtracting them from the aggregates (exact, row by row, in
   * chunks so a large purge does not hold one huge transaction). Returns the number of rows deleted.
   */
  deleteOlderThan(cutoffMs: number, chunk = 5000): number {
    const select = this.db.prepare(`SELECT id, ${AGG_SOURCE_COLUMNS} FROM audit_log WHERE received_at < ? ORDER BY received_at LIMIT ?`)
    const del = this.db.prepare('DELETE FROM audit_log WHERE id = ?')
    const purge = this.db.transaction((rows: Array<AggSourceRow & {id: number}>) => {
      const acc: AggAccumulator = {agg: new Map(), lat: new Map()}
      for (const row of rows) {
        del.run(row.id)
        accumulate(acc, row, -1)
      }
      this.applyAccumulator(acc)
    })
    let deleted = 0
    for (;;) {
      const rows = select.all(cutoffMs, chunk) as Array<AggSourceRow & {id: number}>
      if (rows.length === 0) break
      purge(rows)
      deleted += rows.length
      if (rows.length < chunk) break
    }
    if (deleted > 0) {
      this.db.exec('DELETE FROM agg WHERE requests <= 0; DELETE FROM lat WHERE count <= 0;')
    }
    return deleted
  }

  /** Drops minute buckets older than `beforeMs` (hour and all-time buckets keep the long view). */
  pruneMinuteBuckets(beforeMs: number): void {
    this.db.prepare('DELETE FROM agg WHERE grain = ? AND t < ?').run(MINUTE, beforeMs)
    this.db.prepare('DELETE FROM lat WHERE grain = ? AND t < ?').run(MINUTE, beforeMs)
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as {value: string} | undefined
    return row?.value
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value)
  }

  checkpoint(): void {
    if (!this.memory) this.db.pragma('wal_checkpoint(PASSIVE)')
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}

// ---------------------------------------------------------------------------------------------
// Writer: queue + timer + failure accounting

export interface AuditLogger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export interface AuditWriterOptions extends BodyPolicy {
  /** Database file, or ':memory:' (audit disabled: metrics still work, nothing touches disk). */
  path: string
  /** Rows older than this are deleted at open and hourly; 0 keeps everything. */
  retentionDays: number
  log: AuditLogger
  now: () => number
  flushIntervalMs: number
  /** Upper bound on queued rows while the database is failing; beyond it the oldest are dropped (counted). */
  maxPending: number
  /** Rows per transaction on the timer path (close() writes everything). */
  maxBatch: number
  /** Called after rows were committed. */
  onWritten?: (count: number) => void
  /** Called once per failed write attempt. */
  onWriteError?: () => void
}

interface PendingItem {
  record: RequestRecord
  cost: CostResult
  row?: AuditRow
}

export interface AuditHealth {
  degraded: boolean
  reason?: string
}

export interface AuditStats {
  written: number
  pending: number
  writeErrors: number
  dropped: number
  lastError: string | null
}

const DEGRADED_AFTER_ERROR_MS = 60_000
const MAINTENANCE_INTERVAL_MS = HOUR

export class AuditWriter {
  private store: AuditStore | null = null
  private queue: PendingItem[] = []
  private flushTimer: NodeJS.Timeout | null = null
  private maintenanceTimer: NodeJS.Timeout | null = null
  private written = 0
  private writeErrors = 0
  private dropped = 0
  private lastError: string | null = null
  private lastErrorAt = 0
  private failing = false
  private closed = false
  /** Minute buckets older than this may have been pruned; metrics use raw rows before it. */
  minuteFloor = 0

  constructor(private readonly opts: AuditWriterOptions) {
    this.tryOpen()
    this.flushTimer = setInterval(() => this.flush(opts.maxBatch), opts.flushIntervalMs)
    this.flushTimer.unref()
    this.maintenanceTimer = setInterval(() => this.maintain(), MAINTENANCE_INTERVAL_MS)
    this.maintenanceTimer.unref()
  }

  /** The open store, or null while the database cannot be opened. */
  get db(): AuditStore | null {
    return this.store
  }

  private tryOpen(): boolean {
    if (this.store) return true
    try {
      this.store = new AuditStore(this.opts.path)
      this.maintain()
      if (this.lastErrorAt > 0) this.opts.log.info(`audit log: database ${this.opts.path} is open`)
      return true
    } catch (err) {
      this.noteFailure(`cannot open audit database ${this.opts.path}: ${errorMessage(err)}`)
      return false
    }
  }

  /** Counts a failure, logs it (at most once a minute, so a dead disk does not flood the log) and records it for health(). */
  private noteFailure(message: string): void {
    const now = this.opts.now()
    this.writeErrors++
    this.opts.onWriteError?.()
    if (this.lastErrorAt === 0 || now - this.lastErrorAt >= DEGRADED_AFTER_ERROR_MS) {
      this.opts.log.error(`audit log write failed (requests are still served; rows are kept and retried): ${message}`)
    }
    this.lastError = message
    this.lastErrorAt = now
  }

  /** Never throws: the request path must not fail because of the audit log. */
  enqueue(record: RequestRecord, cost: CostResult): void {
    if (this.closed) {
      this.dropped++
      return
    }
    this.queue.push({record, cost})
    if (this.queue.length > this.opts.maxPending) {
      const excess = this.queue.length - this.opts.maxPending
      this.queue.splice(0, excess)
      this.dropped += excess
      this.lastError = `audit queue over ${this.opts.maxPending} rows while the database fails; dropped the ${excess} oldest`
      this.lastErrorAt = this.opts.now()
    }
  }

  /** Writes up to `limit` queued rows (all by default). Returns true when the queue was written without error. */
  flush(limit = Number.POSITIVE_INFINITY): boolean {
    if (this.queue.length === 0) {
      if (this.store) this.recovered()
      return true
    }
    if (!this.tryOpen() || !this.store) {
      this.failing = true
      return false
    }
    const store = this.store
    while (this.queue.length > 0 && limit > 0) {
      const take = Math.min(this.queue.length, limit, 10_000)
      const items = this.queue.slice(0, take)
      let rows: AuditRow[]
      try {
        rows = items.map((item) => (item.row ??= toAuditRow(item.record, item.cost, this.opts)))
      } catch (err) {
        // A record the row builder cannot handle is dropped alone; the rest proceed.
        rows = []
        const keep: PendingItem[] = []
        for (const item of items) {
          try {
            item.row ??= toAuditRow(item.record, item.cost, this.opts)
            keep.push(item)
            rows.push(item.row)
          } catch {
            this.dropped++
          }
        }
        this.noteFailure(`malformed request record: ${errorMessage(err)}`)
        this.queue.splice(0, take, ...keep)
        continue
      }
      try {
        store.insert(rows)
      } catch (err) {
        this.noteFailure(errorMessage(err))
        this.failing = true
        if (!isTransientSqliteError(err)) this.isolatePoisonRows(store, take)
        return false
      }
      this.queue.splice(0, take)
      this.written += take
      limit -= take
      this.opts.onWritten?.(take)
    }
    if (this.queue.length === 0) this.recovered()
    return this.queue.length === 0
  }

  private recovered(): void {
    if (!this.failing) return
    this.failing = false
    this.opts.log.info(`audit log: writes succeed again (${this.writeErrors} failed attempts, ${this.dropped} rows dropped so far)`)
  }

  /** After a non-transient failure, write the batch row by row and drop only the rows that fail on their own. */
  private isolatePoisonRows(store: AuditStore, take: number): void {
    const items = this.queue.slice(0, take)
    const keep: PendingItem[] = []
    for (const item of items) {
      try {
        store.insert([item.row as AuditRow])
        this.written++
        this.opts.onWritten?.(1)
      } catch (err) {
        if (isTransientSqliteError(err)) keep.push(item)
        else this.dropped++
      }
    }
    this.queue.splice(0, take, ...keep)
  }

  /** Retention delete and minute-bucket prune; run at open and hourly. */
  maintain(): void {
    const store = this.store
    if (!store) return
    try {
      const now = this.opts.now()
      if (this.opts.retentionDays > 0) {
        const deleted = store.deleteOlderThan(now - this.opts.retentionDays * 24 * HOUR)
        if (deleted > 0) this.opts.log.info(`audit log retention: deleted ${deleted} rows older than ${this.opts.retentionDays} days`)
      }
      const floor = Math.floor((now - MINUTE_BUCKET_RETENTION_MS) / MINUTE) * MINUTE
      store.pruneMinuteBuckets(floor)
      this.minuteFloor = floor
      store.checkpoint()
    } catch (err) {
      this.noteFailure(`retention/maintenance failed: ${errorMessage(err)}`)
    }
  }

  health(): AuditHealth {
    if (!this.store) return {degraded: true, reason: this.lastError ?? `audit database ${this.opts.path} is not open`}
    if (this.failing) return {degraded: true, reason: `audit writes failing (${this.queue.length} rows queued): ${this.lastError}`}
    if (this.lastErrorAt > 0 && this.opts.now() - this.lastErrorAt < DEGRADED_AFTER_ERROR_MS) {
      return {degraded: true, reason: `audit write error in the last minute: ${this.lastError}`}
    }
    return {degraded: false}
  }

  stats(): AuditStats {
    return {written: this.written, pending: this.queue.length, writeErrors: this.writeErrors, dropped: this.dropped, lastError: this.lastError}
  }

  /** Flushes everything and closes the database. Rows that still cannot be written are counted as dropped. */
  close(): void {
    if (this.closed) return
    if (this.flushTimer) clearInterval(this.flushTimer)
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer)
    this.flush()
    this.closed = true
    if (this.queue.length > 0) {
      this.dropped += this.queue.length
      this.opts.log.error(`audit log closed with ${this.queue.length} rows that could not be written: ${this.lastError}`)
      this.queue = []
    }
    try {
      this.store?.checkpoint()
    } catch {
      // Checkpointing is an optimisation; the WAL is replayed on next open.
    }
    this.store?.close()
    this.store = null
  }
}
