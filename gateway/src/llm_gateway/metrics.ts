/**
 * `/gateway/metrics` and `/gateway/audit` queries over the audit database.
 *
 * Figures come from the aggregate tables that audit.ts maintains in the same transaction as the
 * rows, so they are all-time (they survive restarts) and cost O(buckets), not O(rows):
 *   all-time            -> the grain-0 bucket per dimension set;
 *   trailing window     -> raw rows for the partial minutes at both ends, minute buckets up to the
 *                          hour boundaries, hour buckets in between.
 * Latency percentiles come from a histogram exact below 100 ms and to two significant digits above
 * (reported at the bucket midpoint, so within 5 %); averages and sums are exact.
 */
import type {AuditRow, BetterDb} from './audit.js'
import {
  AGG_SOURCE_COLUMNS,
  type AggDims,
  type AggSourceRow,
  type AggValues,
  DIM_COLUMNS,
  HOUR,
  MINUTE,
  VALUE_COLUMNS,
  addRow,
  addValues,
  dimsOf,
  emptyValues,
  latencyBucket,
  latencyBucketWidth,
  restoreRequestBody,
} from './audit.js'
import {microsToUsd} from './cost.js'

export const WINDOWS = {'15m': 15 * MINUTE, '1h': HOUR, '24h': 24 * HOUR, '3d': 72 * HOUR} as const
export type WindowName = keyof typeof WINDOWS

const DURATION_UNITS: Record<string, number> = {w: 7 * 24 * HOUR, d: 24 * HOUR, h: HOUR, m: MINUTE, s: 1000}
/** The longest window accepted (ten years): longer ones are almost certainly a typo. */
const MAX_WINDOW_MS = 3650 * 24 * HOUR
const DURATION_FORMAT = 'a duration: whole numbers with units w, d, h, m, s, e.g. 30s, 20m, 1h30m, 2d, 4d (or "all" / omitted for all-time)'

/** `1h30m` -> 5_400_000. Throws QueryError (naming the format) for anything else. */
export function parseWindow(raw: string): number {
  const text = raw.trim().toLowerCase()
  if (!/^(?:\d+[wdhms])+$/.test(text)) throw new QueryError(`window must be ${DURATION_FORMAT}; got "${raw}"`)
  let ms = 0
  for (const [, n, unit] of text.matchAll(/(\d+)([wdhms])/g)) ms += Number(n) * DURATION_UNITS[unit!]!
  if (ms <= 0) throw new QueryError(`window must be longer than zero (${DURATION_FORMAT}); got "${raw}"`)
  if (ms > MAX_WINDOW_MS) throw new QueryError(`window must be at most 3650d; got "${raw}"`)
  return ms
}

/** A bad query parameter; the handler answers 400 with this message. */
export class QueryError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'QueryError'
  }
}

// ---------------------------------------------------------------------------------------------
// Time ranges -> segments

export type Segment = {kind: 'raw'; from: number; to: number} | {kind: 'agg'; grain: number; from: number; to: number}

const ceilTo = (t: number, step: number): number => Math.ceil(t / step) * step
const floorTo = (t: number, step: number): number => Math.floor(t / step) * step

/**
 * Splits [from, to) into raw-row edges, minute buckets and hour buckets. Minute buckets before
 * `minuteFloor` may have been pruned, so that stretch is read from raw rows instead.
 */
export function planSegments(from: number, to: number, minuteFloor: number): Segment[] {
  minuteFloor = ceilTo(minuteFloor, MINUTE)
  const a = ceilTo(from, MINUTE)
  const b = floorTo(to, MINUTE)
  if (a >= b) return [{kind: 'raw', from, to}]
  const out: Segment[] = []
  const push = (s: Segment): void => {
    if (s.to > s.from) out.push(s)
  }
  const minutes = (f: number, t: number): void => {
    if (f < minuteFloor) {
      push({kind: 'raw', from: f, to: Math.min(t, minuteFloor)})
      push({kind: 'agg', grain: MINUTE, from: Math.max(f, minuteFloor), to: t})
    } else push({kind: 'agg', grain: MINUTE, from: f, to: t})
  }
  push({kind: 'raw', from, to: a})
  const ha = ceilTo(a, HOUR)
  const hb = floorTo(b, HOUR)
  if (ha >= hb) minutes(a, b)
  else {
    minutes(a, ha)
    push({kind: 'agg', grain: HOUR, from: ha, to: hb})
    minutes(hb, b)
  }
  push({kind: 'raw', from: b, to})
  return out
}

// ---------------------------------------------------------------------------------------------
// Collection

interface Group {
  dims: AggDims
  v: AggValues
}

interface Collected {
  groups: Map<string, Group>
  latency: Map<number, number>
}

function addGroup(c: Collected, dims: AggDims, v: AggValues): void {
  const key = JSON.stringify(DIM_COLUMNS.map((d) => dims[d]))
  const g = c.groups.get(key)
  if (g) addValues(g.v, v)
  else c.groups.set(key, {dims, v: {...v}})
}

const AGG_SELECT = `SELECT ${DIM_COLUMNS.join(', ')}, ${VALUE_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(', ')} FROM agg WHERE grain = ? AND t >= ? AND t < ? GROUP BY ${DIM_COLUMNS.join(', ')}`
const LAT_SELECT = 'SELECT bucket, SUM(count) AS count FROM lat WHERE grain = ? AND t >= ? AND t < ? GROUP BY bucket'
const RAW_SELECT = `SELECT ${AGG_SOURCE_COLUMNS} FROM audit_log WHERE received_at >= ? AND received_at < ?`

function collect(db: BetterDb, segments: Segment[] | 'all-time'): Collected {
  const c: Collected = {groups: new Map(), latency: new Map()}
  const fromAgg = (grain: number, from: number, to: number): void => {
    for (const row of db.prepare(AGG_SELECT).all(grain, from, to) as Array<AggDims & AggValues>) {
      const dims = {} as AggDims
      for (const d of DIM_COLUMNS) (dims as unknown as Record<string, unknown>)[d] = row[d]
      const v = emptyValues()
      for (const col of VALUE_COLUMNS) v[col] = row[col]
      addGroup(c, dims, v)
    }
    for (const {bucket, count} of db.prepare(LAT_SELECT).all(grain, from, to) as Array<{bucket: number; count: number}>) {
      c.latency.set(bucket, (c.latency.get(bucket) ?? 0) + count)
    }
  }
  if (segments === 'all-time') {
    fromAgg(0, 0, 1)
    return c
  }
  for (const s of segments) {
    if (s.kind === 'agg') {
      fromAgg(s.grain, s.from, s.to)
      continue
    }
    for (const row of db.prepare(RAW_SELECT).all(s.from, s.to) as AggSourceRow[]) {
      const v = emptyValues()
      addRow(v, row, 1)
      addGroup(c, dimsOf(row), v)
      const bucket = latencyBucket(row.latency_ms)
      c.latency.set(bucket, (c.latency.get(bucket) ?? 0) + 1)
    }
  }
  return c
}

/** Nearest-rank percentile over the histogram; the bucket midpoint (exact for buckets of width 1). */
export function percentile(latency: Map<number, number>, p: number): number {
  let total = 0
  for (const n of latency.values()) total += n
  if (total === 0) return 0
  const rank = Math.max(1, Math.ceil(p * total))
  const buckets = [...latency.entries()].filter(([, n]) => n > 0).sort((x, y) => x[0] - y[0])
  let seen = 0
  for (const [lower, n] of buckets) {
    seen += n
    if (seen >= rank) {
      const width = latencyBucketWidth(lower)
      return width === 1 ? lower : lower + width / 2
    }
  }
  return 0
}

// ---------------------------------------------------------------------------------------------
// Shapes

const round = (n: number, places: number): number => {
  const f = 10 ** places
  return Math.round(n * f) / f
}

export interface DimensionStats {
  requests: number
  successful_requests: number
  failed_requests: number
  success_rate: number
  streaming_requests: number
  streaming_failures: number
  avg_latency_ms: number
  avg_ttfb_ms: number
  total_cost_usd: number
  total_cost_micros: number
  input_tokens: number
  output_tokens: number
  cache_write_tokens: number
  cache_read_tokens: number
  unpriced_requests: number
}

class StatsBuilder {
  v = emptyValues()
  successes = 0
  streaming = 0
  streamingFailures = 0

  add(g: Group): void {
    addValues(this.v, g.v)
    if (g.dims.success) this.successes += g.v.requests
    if (g.dims.stream) {
      this.streaming += g.v.requests
      if (!g.dims.success) this.streamingFailures += g.v.requests
    }
  }

  build(): DimensionStats {
    const v = this.v
    return {
      requests: v.requests,
      successful_requests: this.successes,
      failed_requests: v.requests - this.successes,
      success_rate: v.requests ? round(this.successes / v.requests, 6) : 0,
      streaming_requests: this.streaming,
      streaming_failures: this.streamingFailures,
      avg_latency_ms: v.requests ? round(v.latency_sum / v.requests, 2) : 0,
      avg_ttfb_ms: v.ttfb_count ? round(v.ttfb_sum / v.ttfb_count, 2) : 0,
      total_cost_usd: microsToUsd(v.cost_micros),
      total_cost_micros: v.cost_micros,
      input_tokens: v.input_tokens,
      output_tokens: v.output_tokens,
      cache_write_tokens: v.cache_write_tokens,
      cache_read_tokens: v.cache_read_tokens,
      unpriced_requests: v.unpriced,
    }
  }
}

export interface MetricsQuery {
  /** The window as given (e.g. "1h30m"), or null for all-time. */
  window: string | null
  windowMs: number | null
  recentLimit: number
  includeAgent: boolean
  includeProvider: boolean
  includeModel: boolean
}

function parseBool(name: string, raw: string | null, fallback: boolean): boolean {
  if (raw === null || raw === '') return fallback
  if (/^(true|1|yes)$/i.test(raw)) return true
  if (/^(false|0|no)$/i.test(raw)) return false
  throw new QueryError(`${name} must be true or false, got "${raw}"`)
}

function parseInteger(name: string, raw: string | null, fallback: number, min: number, max: number): number {
  if (raw === null || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new QueryError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  return Number(raw)
}

export function parseMetricsQuery(params: URLSearchParams): MetricsQuery {
  const w = params.get('window')
  const allTime = w === null || w === '' || w === 'all'
  return {
    window: allTime ? null : w,
    windowMs: allTime ? null : parseWindow(w),
    recentLimit: parseInteger('recent_limit', params.get('recent_limit'), 20, 0, 1000),
    includeAgent: parseBool('include_agent', params.get('include_agent'), true),
    includeProvider: parseBool('include_provider', params.get('include_provider'), true),
    includeModel: parseBool('include_model', params.get('include_model'), true),
  }
}

/** Process-side counters shown next to the database figures. */
export interface WriterStatus {
  records_received: number
  audit_pending: number
  audit_write_errors: number
  audit_dropped: number
}

export interface MetricsContext {
  now: number
  minuteFloor: number
  /** Set by POST /gateway/metrics/reset: all-time figures start here. */
  resetAt: number | null
  /** When the audit log started collecting (meta `collection_started_at`), if known. */
  collectionStartedAt?: number | null
  status: WriterStatus
}

const NONE = 'none'
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

/** An audit_log row as read back: the stored columns plus its rowid; bodies only when asked for. */
type RawEntryRow = Omit<AuditRow, 'request_body' | 'request_body_parts' | 'response_body' | 'parts'> & {
  id: number
  request_body?: string | null
  request_body_parts?: string | null
  response_body?: string | null
}

const ENTRY_COLUMNS =
  'id, request_id, received_at, first_byte_at, done_at, method, path, agent_type, provider, provider_type, model_requested, model_served, routing_reason, stream, status, success, error_type, error_message, stop_reason, attempts, fallback_used, latency_ms, ttfb_ms, overhead_ms, input_tokens, output_tokens, cache_write_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, usage_missing, usage_estimated, cost_micros, cost_status, pricing, price_tier'

function recentEntry(r: RawEntryRow): Record<string, unknown> {
  return {
    request_id: r.request_id,
    timestamp: iso(r.received_at),
    provider: r.provider,
    model: r.model_served ?? r.model_requested,
    agent_type: r.agent_type,
    input_tokens: r.input_tokens,
    output_tokens: r.output_tokens,
    cache_write_tokens: r.cache_write_tokens,
    cache_read_tokens: r.cache_read_tokens,
    cost_usd: r.cost_micros === null ? null : microsToUsd(r.cost_micros),
    cost_status: r.cost_status,
    latency_ms: r.latency_ms,
    ttfb_ms: r.ttfb_ms,
    status: r.status,
    success: r.success === 1,
    stream: r.stream === 1,
    error_type: r.error_type,
  }
}

function auditEntry(r: RawEntryRow, includeBodies: boolean): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    id: r.id,
    request_id: r.request_id,
    timestamp: iso(r.received_at),
    received_at: iso(r.received_at),
    first_byte_at: iso(r.first_byte_at),
    done_at: iso(r.done_at),
    method: r.method,
    path: r.path,
    agent_type: r.agent_type,
    provider: r.provider,
    provider_type: r.provider_type,
    model: r.model_served ?? r.model_requested,
    model_requested: r.model_requested,
    model_served: r.model_served,
    routing_reason: r.routing_reason,
    stream: r.stream === 1,
    status: r.status,
    success: r.success === 1,
    error_type: r.error_type,
    error_message: r.error_message,
    stop_reason: r.stop_reason,
    attempts: r.attempts,
    fallback_used: r.fallback_used === 1,
    latency_ms: r.latency_ms,
    ttfb_ms: r.ttfb_ms,
    overhead_ms: r.overhead_ms,
    input_tokens: r.input_tokens,
    output_tokens: r.output_tokens,
    cache_write_tokens: r.cache_write_tokens,
    cache_write_5m_tokens: r.cache_write_5m_tokens,
    cache_write_1h_tokens: r.cache_write_1h_tokens,
    cache_read_tokens: r.cache_read_tokens,
    usage_missing: r.usage_missing === 1,
    usage_estimated: r.usage_estimated === 1,
    cost_usd: r.cost_micros === null ? null : microsToUsd(r.cost_micros),
    cost_micros: r.cost_micros,
    cost_status: r.cost_status,
    pricing: r.pricing,
    price_tier: r.price_tier,
  }
  if (includeBodies) {
    entry.request_body = r.request_body ?? null
    entry.response_body = r.response_body ?? null
  }
  return entry
}

/**
 * Rows of the audit log itself in [from, to], counted independently of the aggregates (a cross-check:
 * it equals total_requests when everything is consistent). Counting a long index range is the slow
 * part, so the cheaper side is counted: the range itself, or everything minus what lies outside it.
 */
function countRowsBetween(db: BetterDb, from: number, to: number, expected: number, countAll: () => number): number {
  const expectedAll = (db.prepare('SELECT COALESCE(SUM(requests), 0) AS n FROM agg WHERE grain = 0').get() as {n: number}).n
  if (expected * 2 <= expectedAll) return (db.prepare('SELECT COUNT(*) AS n FROM audit_log WHERE received_at >= ? AND received_at <= ?').get(from, to) as {n: number}).n
  const outside = (db.prepare('SELECT (SELECT COUNT(*) FROM audit_log WHERE received_at < ?) + (SELECT COUNT(*) FROM audit_log WHERE received_at > ?) AS n').get(from, to) as {n: number}).n
  return countAll() - outside
}

/** The `/gateway/metrics` document. */
export function buildMetrics(db: BetterDb, q: MetricsQuery, ctx: MetricsContext): Record<string, unknown> {
  const windowStart = q.windowMs !== null ? Math.max(ctx.now - q.windowMs, ctx.resetAt ?? 0) : ctx.resetAt
  const collected = windowStart === null ? collect(db, 'all-time') : collect(db, planSegments(windowStart, ctx.now + 1, ctx.minuteFloor))

  const total = new StatsBuilder()
  const byAgent = new Map<string, StatsBuilder>()
  const byProvider = new Map<string, StatsBuilder>()
  const byModel = new Map<string, StatsBuilder>()
  const statusCounts: Record<string, number> = {}
  const errorTypes: Record<string, number> = {}
  const into = (m: Map<string, StatsBuilder>, key: string, g: Group): void => {
    let s = m.get(key)
    if (!s) m.set(key, (s = new StatsBuilder()))
    s.add(g)
  }
  for (const g of collected.groups.values()) {
    if (g.v.requests === 0) continue
    total.add(g)
    into(byAgent, g.dims.agent_type || NONE, g)
    into(byProvider, g.dims.provider || NONE, g)
    into(byModel, g.dims.model || NONE, g)
    statusCounts[String(g.dims.status)] = (statusCounts[String(g.dims.status)] ?? 0) + g.v.requests
    if (g.dims.error_type) errorTypes[g.dims.error_type] = (errorTypes[g.dims.error_type] ?? 0) + g.v.requests
  }
  const t = total.build()
  const v = total.v

  const countAll = (): number => (db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as {n: number}).n
  const auditRecords = windowStart === null ? countAll() : countRowsBetween(db, windowStart, ctx.now, t.requests, countAll)
  // The real start of the data: when the audit log started collecting (or its first record, if
  // older), the last reset, or the window start, whichever is latest. A gateway whose log is
  // 10 minutes old reports 10 minutes of data for ?window=1h, not a full hour; an idle stretch
  // inside the collection period is covered (it is evidence of no requests, not missing data).
  const firstRecord = (db.prepare('SELECT MIN(received_at) AS m FROM audit_log').get() as {m: number | null}).m
  const collectedFrom = ctx.collectionStartedAt ?? null
  const first = collectedFrom === null ? firstRecord : firstRecord === null ? collectedFrom : Math.min(collectedFrom, firstRecord)
  const since = first === null ? null : Math.max(first, ctx.resetAt ?? first, windowStart ?? first)

  const summary = {
    total_requests: t.requests,
    successful_requests: t.successful_requests,
    failed_requests: t.failed_requests,
    success_rate: t.success_rate,
    error_rate: t.requests ? round(t.failed_requests / t.requests, 6) : 0,
    streaming_requests: t.streaming_requests,
    streaming_failures: t.streaming_failures,
    avg_latency_ms: t.avg_latency_ms,
    p50_latency_ms: percentile(collected.latency, 0.5),
    p95_latency_ms: percentile(collected.latency, 0.95),
    p99_latency_ms: percentile(collected.latency, 0.99),
    avg_ttfb_ms: t.avg_ttfb_ms,
    avg_overhead_ms: v.requests ? round(v.overhead_sum / v.requests, 2) : 0,
    total_cost_usd: t.total_cost_usd,
    total_cost_micros: t.total_cost_micros,
    total_input_tokens: v.input_tokens,
    total_output_tokens: v.output_tokens,
    total_cache_write_tokens: v.cache_write_tokens,
    total_cache_read_tokens: v.cache_read_tokens,
    unpriced_requests: v.unpriced,
    // Requests with cost_status "unpriced" (no price for the model: cost unknown, not 0), per model; only models that had any.
    unpriced_by_model: Object.fromEntries(
      [...byModel].filter(([, s]) => s.v.unpriced > 0).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, s]) => [k, s.v.unpriced]),
    ),
    usage_missing_requests: v.usage_missing,
    fallback_requests: v.fallback,
    status_counts: statusCounts,
    error_types: errorTypes,
    audit_records: auditRecords,
    since: iso(since),
    window: q.window ?? 'all',
    window_end: iso(ctx.now),
    ...ctx.status,
  }

  const costMap = (m: Map<string, StatsBuilder>): Record<string, number> => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, s]) => [k, microsToUsd(s.v.cost_micros)]))
  const statsMap = (m: Map<string, StatsBuilder>): Record<string, DimensionStats> => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, s]) => [k, s.build()]))

  const doc: Record<string, unknown> = {summary}
  const breakdown: Record<string, unknown> = {}
  if (q.includeAgent) {
    doc.by_agent = costMap(byAgent)
    breakdown.agent = statsMap(byAgent)
  }
  if (q.includeProvider) {
    doc.by_provider = costMap(byProvider)
    breakdown.provider = statsMap(byProvider)
  }
  if (q.includeModel) {
    doc.by_model = costMap(byModel)
    breakdown.model = statsMap(byModel)
  }
  doc.breakdown = breakdown

  const recentRows =
    q.recentLimit === 0
      ? []
      : windowStart === null
        ? (db.prepare(`SELECT ${ENTRY_COLUMNS} FROM audit_log ORDER BY received_at DESC, id DESC LIMIT ?`).all(q.recentLimit) as RawEntryRow[])
        : (db.prepare(`SELECT ${ENTRY_COLUMNS} FROM audit_log WHERE received_at >= ? ORDER BY received_at DESC, id DESC LIMIT ?`).all(windowStart, q.recentLimit) as RawEntryRow[])
  doc.recent = recentRows.map(recentEntry)
  return doc
}

// ---------------------------------------------------------------------------------------------
// /gateway/audit

export interface AuditQuery {
  start: number | null
  end: number | null
  agentType: string | null
  provider: string | null
  model: string | null
  requestId: string | null
  success: boolean | null
  stream: boolean | null
  status: number | null
  limit: number
  offset: number
  includeBodies: boolean
}

/** RFC 3339 / ISO 8601 timestamp or epoch milliseconds. */
export function parseTime(name: string, raw: string | null): number | null {
  if (raw === null || raw === '') return null
  if (/^\d+$/.test(raw)) return Number(raw)
  const ms = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN
  if (Number.isNaN(ms)) throw new QueryError(`${name} must be an RFC 3339 timestamp (e.g. 2026-11-26T10:00:00Z) or epoch milliseconds, got "${raw}"`)
  return ms
}

function optionalBool(name: string, raw: string | null): boolean | null {
  return raw === null || raw === '' ? null : parseBool(name, raw, false)
}

export function parseAuditQuery(params: URLSearchParams): AuditQuery {
  const str = (name: string): string | null => {
    const v = params.get(name)
    return v === null || v === '' ? null : v
  }
  const start = parseTime('start_time', params.get('start_time'))
  const end = parseTime('end_time', params.get('end_time'))
  if (start !== null && end !== null && end < start) throw new QueryError('end_time is before start_time')
  const status = str('status')
  return {
    start,
    end,
    agentType: str('agent_type'),
    provider: str('provider'),
    model: str('model'),
    requestId: str('request_id'),
    success: optionalBool('success', params.get('success')),
    stream: optionalBool('stream', params.get('stream')),
    status: status === null ? null : parseInteger('status', status, 0, 100, 999),
    limit: parseInteger('limit', params.get('limit'), 100, 1, 1000),
    offset: parseInteger('offset', params.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER),
    includeBodies: parseBool('include_bodies', params.get('include_bodies'), false),
  }
}

/** `{entries, total}` where total counts every matching row, not just this page. Newest first. */
export function queryAudit(db: BetterDb, q: AuditQuery): {entries: Array<Record<string, unknown>>; total: number} {
  const where: string[] = []
  const args: unknown[] = []
  const add = (clause: string, ...values: unknown[]): void => {
    where.push(clause)
    args.push(...values)
  }
  if (q.start !== null) add('received_at >= ?', q.start)
  if (q.end !== null) add('received_at <= ?', q.end)
  if (q.agentType !== null) add('agent_type = ?', q.agentType)
  if (q.provider !== null) add('provider = ?', q.provider)
  if (q.model !== null) add('(model_served = ? OR (model_served IS NULL AND model_requested = ?))', q.model, q.model)
  if (q.requestId !== null) add('request_id = ?', q.requestId)
  if (q.success !== null) add('success = ?', q.success ? 1 : 0)
  if (q.stream !== null) add('stream = ?', q.stream ? 1 : 0)
  if (q.status !== null) add('status = ?', q.status)
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : ''
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM audit_log ${filter}`).get(...args) as {n: number}).n
  const columns = q.includeBodies ? `${ENTRY_COLUMNS}, request_body, request_body_parts, response_body` : ENTRY_COLUMNS
  const rows = db.prepare(`SELECT ${columns} FROM audit_log ${filter} ORDER BY received_at DESC, id DESC LIMIT ? OFFSET ?`).all(...args, q.limit, q.offset) as RawEntryRow[]
  if (q.includeBodies) {
    // Large request values are stored once (audit.ts storedRequestBody): splice them back.
    const selectPart = db.prepare('SELECT text FROM body_parts WHERE id = ?')
    const texts = new Map<number, string | undefined>()
    const partText = (id: number): string | undefined => {
      if (!texts.has(id)) texts.set(id, (selectPart.get(id) as {text: string} | undefined)?.text)
      return texts.get(id)
    }
    for (const r of rows) if (r.request_body) r.request_body = restoreRequestBody(r.request_body, r.request_body_parts ?? null, partText)
  }
  return {entries: rows.map((r) => auditEntry(r, q.includeBodies)), total}
}
