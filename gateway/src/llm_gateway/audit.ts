/**
 * Durable SQLite audit log: one row per RequestRecord, written in batches off the request path.
 *
 * - WAL + synchronous=NORMAL: a committed batch survives `kill -9` of the process.
 * - The sink only enqueues; a timer flushes at least every `flushIntervalMs` (default 50 ms) and
 *   close() flushes everything, so `kill -9` loses at most the last interval.
 * - Secrets are redacted before anything is stored.
 * - Aggregate tables (`agg`, `lat`) are maintained in the same transaction as the rows, so the
 *   metrics queries never scan the log and always agree with it (see metrics.ts).
 * - A write failure never throws to the caller: it is counted, logged once per incident and
 *   surfaced through `health()`; rows stay queued (bounded) and are retried.
 */
import Database from 'better-sqlite3'
import {createHash} from 'node:crypto'
import {chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync} from 'node:fs'
import {dirname} from 'node:path'
import type {CostResult} from './cost.js'
import {scanTopLevel} from './json_scan.js'
import type {RequestRecord} from './record.js'

/** meta key: epoch ms when this audit log started collecting (see AuditStore's constructor). */
export const COLLECTION_STARTED_META_KEY = 'collection_started_at'

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

/*
 * Speed (the audit writer redacts every stored body): JSON_SECRET and TEXT_SECRET, run as global
 * regexes, try their `(?:[A-Za-z0-9]*[-_])*` prefix at every word boundary of the text, which
 * backtracks over every word (about 150 µs for a 22 KB body). Every secret name contains one of
 * the TRIGGER words, and a match's prefix and name are one unbroken run of [A-Za-z0-9_-], so a
 * match can only start in the run around a trigger occurrence: the fast path finds triggers and
 * tries the same regex, sticky, only at those start positions. Same matches, same replacements,
 * same left-to-right order as String.replace with the global regex (a test checks the two
 * agree on random and adversarial text).
 */
const TRIGGER = /key|token|secret|passw|authorization/gi
/** Every pattern needs one of these: TRIGGER's words (JSON/TEXT), Bearer/Basic, sk- (keys). */
const MAY_HOLD_SECRET = /key|token|secret|passw|authorization|bearer|basic|sk-/i
const JSON_SECRET_AT = new RegExp(JSON_SECRET.source, 'iy')
const TEXT_SECRET_AT = new RegExp(TEXT_SECRET.source, 'iy')

function isRunChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d
}

/** Start of every TRIGGER occurrence, overlapping ones included, ascending. */
function triggerPositions(text: string): number[] {
  const out: number[] = []
  TRIGGER.lastIndex = 0
  for (let t = TRIGGER.exec(text); t; t = TRIGGER.exec(text)) {
    out.push(t.index)
    TRIGGER.lastIndex = t.index + 1
  }
  return out
}

/**
 * String.replace(global regex, replacement) where `sticky` is that regex made sticky, trying it
 * only at the start positions around each trigger occurrence (`triggers` = triggerPositions(text)).
 */
function replaceNearTriggers(
  text: string,
  triggers: number[],
  sticky: RegExp,
  replacement: (m: RegExpExecArray) => string,
  firstCandidate: (runStart: number, pos: number) => number,
  lastCandidate: (trigger: number, runStart: number) => number,
): string {
  let out = ''
  let copied = 0
  let pos = 0
  for (let k = 0; k < triggers.length; k++) {
    const trigger = triggers[k]!
    if (trigger < pos) continue
    let runStart = trigger
    while (runStart > pos && isRunChar(text.charCodeAt(runStart - 1))) runStart--
    let next = trigger + 1
    for (let p = firstCandidate(runStart, pos), last = lastCandidate(trigger, runStart); p <= last; p++) {
      sticky.lastIndex = p
      const m = sticky.exec(text)
      if (m) {
        out += text.slice(copied, p) + replacement(m)
        copied = p + m[0].length
        next = copied
        break
      }
    }
    pos = next
  }
  return copied === 0 ? text : out + text.slice(copied)
}

// JSON_SECRET starts at the quote just before the run (one candidate, if that quote is at or after pos).
const jsonFirst = (runStart: number, pos: number): number => (runStart > pos ? runStart - 1 : Number.POSITIVE_INFINITY)
const jsonLast = (_trigger: number, runStart: number): number => runStart - 1
const jsonReplacement = (m: RegExpExecArray): string => `${m[1]}${REDACTED}${m[3]}`
// TEXT_SECRET starts anywhere in the run up to the trigger itself.
const textFirst = (runStart: number): number => runStart
const textLast = (trigger: number): number => trigger
const textReplacement = (m: RegExpExecArray): string => `${m[1]}${m[2]}${m[3]}${m[4] ?? ''}${REDACTED}`

/**
 * Masks API keys, bearer tokens and secret-named fields in free text or JSON text. Works on the
 * text itself (no re-serialisation) so the stored body keeps the client's bytes everywhere else
 * and stays valid JSON.
 */
export function redactSecrets(text: string): string {
  // Short fields (ids, model names, routing reasons) rarely hold any pattern's anchor: one test instead of five passes.
  if (text.length < 512 && !MAY_HOLD_SECRET.test(text)) return text
  const triggers = triggerPositions(text)
  let out = triggers.length === 0 ? text : replaceNearTriggers(text, triggers, JSON_SECRET_AT, jsonReplacement, jsonFirst, jsonLast)
  // The JSON pass rarely changes anything; then its trigger positions hold for the text pass too.
  const textTriggers = out === text ? triggers : triggerPositions(out)
  if (textTriggers.length > 0) out = replaceNearTriggers(out, textTriggers, TEXT_SECRET_AT, textReplacement, textFirst, textLast)
  return out.replace(BEARER, `$1$2${REDACTED}`).replace(ANTHROPIC_KEY, `sk-ant-${REDACTED}`).replace(GENERIC_SK_KEY, `sk-${REDACTED}`)
}

/** The plain global-regex form of redactSecrets (the specification the fast path is tested against). */
export function redactSecretsReference(text: string): string {
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
  /** JSON [[offset, body_parts.id], ...] when large values of request_body are stored once in body_parts (see storedRequestBody). */
  request_body_parts: string | null
  response_body: string | null
  /** Parts to resolve to body_parts ids in the write transaction (not a column). */
  parts?: PartRef[]
}

const ROW_COLUMNS: Array<keyof AuditRow> = [
  'request_id', 'received_at', 'first_byte_at', 'done_at', 'method', 'path', 'agent_type', 'provider', 'provider_type',
  'model_requested', 'model_served', 'routing_reason', 'stream', 'status', 'success', 'error_type', 'error_message',
  'stop_reason', 'attempts', 'fallback_used', 'latency_ms', 'ttfb_ms', 'overhead_ms', 'input_tokens', 'output_tokens',
  'cache_write_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'cache_read_tokens', 'usage_missing',
  'usage_estimated', 'cost_micros', 'cost_status', 'pricing', 'price_tier', 'request_body', 'request_body_parts', 'response_body',
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

// ---------------------------------------------------------------------------------------------
// Request bodies: large values stored once

/*
 * Claude Code sends the same `system` prompt and `tools` (tens of KB) with every request of a
 * session. Storing them in every row made the audit log about 100x larger than the rest of the
 * row and cost most of the writer's time (redaction and SQLite pages per request). Values of
 * these top-level keys of at least PART_MIN_BYTES are stored once in `body_parts` (redacted,
 * keyed by the SHA-256 of the client's bytes); the row keeps the rest of the body with the
 * values cut out and `request_body_parts` = [[offset, part id], ...] to splice them back. Reads
 * (`/gateway/audit?include_bodies=true`) return the same text as before: the redacted body.
 *
 * Redacting the pieces apart equals redacting the whole body: no secret pattern can match across
 * a cut, because a cut sits between `"system":` / `"tools":` and a JSON value, or between a
 * value's closing bracket and the `,` / `}` after it, and every pattern needs a secret name
 * followed by a separator there, or a value character where those bytes are (a test checks it).
 */
const PART_KEYS = ['system', 'tools']
const PART_MIN_BYTES = 1024

export interface BodyPart {
  /** SHA-256 (hex) of the client's bytes of the value. */
  readonly hash: string
  /** The value's text, redacted. */
  readonly text: string
}

export interface PartRef {
  /** Where the part's text goes in the row's stored request_body (UTF-16 offset). */
  offset: number
  part: BodyPart
}

/** Recently seen parts by content, so a repeated system prompt is neither hashed nor redacted again. */
export class BodyPartCache {
  private byLength = new Map<number, Array<{bytes: Buffer; part: BodyPart}>>()
  private bytes = 0

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  get(value: Buffer): BodyPart {
    const same = this.byLength.get(value.length)
    if (same) for (const e of same) if (e.bytes.equals(value)) return e.part
    const part: BodyPart = {hash: createHash('sha256').update(value).digest('hex'), text: redactSecrets(value.toString('utf8'))}
    if (this.bytes + value.length > this.maxBytes) this.clear()
    const entry = {bytes: Buffer.from(value), part}
    if (same) same.push(entry)
    else this.byLength.set(value.length, [entry])
    this.bytes += value.length
    return part
  }

  clear(): void {
    this.byLength.clear()
    this.bytes = 0
  }
}

/**
 * A request body taken apart for storage, without holding on to the client's buffer: the text
 * between the large values (not yet redacted) and the cached parts. Built when the record is
 * queued, so the 20-100 KB body can be freed at once instead of living (and being promoted by
 * the GC, its memory held until a full collection) until the writer's next flush; the redaction
 * and the rest of the work stay in the writer.
 */
export type SplitRequestBody = {pieces: string[]; parts: BodyPart[]} | {whole: Buffer}

export function splitRequestBody(
  body: Buffer,
  maxBodyChars: number,
  cache?: BodyPartCache,
  knownFields?: ReadonlyMap<string, readonly [number, number]>,
): SplitRequestBody {
  if (cache && body.length >= PART_MIN_BYTES && body.length <= maxBodyChars) {
    const fields = knownFields ?? scanTopLevel(body)?.fields
    const spans = fields
      ? PART_KEYS.map((k) => fields.get(k))
          .filter((span): span is readonly [number, number] => span !== undefined && span[1] - span[0] >= PART_MIN_BYTES)
          .sort((a, b) => a[0] - b[0])
      : []
    if (spans.length > 0) {
      const pieces: string[] = []
      const parts: BodyPart[] = []
      let at = 0
      for (const [start, end] of spans) {
        pieces.push(body.toString('utf8', at, start))
        parts.push(cache.get(body.subarray(start, end)))
        at = end
      }
      pieces.push(body.toString('utf8', at))
      return {pieces, parts}
    }
  }
  return {whole: body}
}

/** The stored form of a split body: redacted text, with the parts cut out when there are any. */
export function renderRequestBody(split: SplitRequestBody, maxBodyChars: number): {text: string; parts: PartRef[] | null} {
  if ('whole' in split) return {text: clipBody(redactSecrets(split.whole.toString('utf8')), maxBodyChars), parts: null}
  let text = ''
  let partChars = 0
  const parts: PartRef[] = []
  for (let i = 0; i < split.parts.length; i++) {
    text += redactSecrets(split.pieces[i]!)
    const part = split.parts[i]!
    parts.push({offset: text.length, part})
    partChars += part.text.length
  }
  text += redactSecrets(split.pieces[split.parts.length]!)
  if (text.length + partChars <= maxBodyChars) return {text, parts}
  // Over the cap as it reads back: stored whole and cut (the pieces and parts joined are the redacted body).
  return {text: clipBody(restoreRequestBody(text, JSON.stringify(parts.map((p, i) => [p.offset, i])), (i) => split.parts[i]?.text), maxBodyChars), parts: null}
}

/** The stored form of a request body: redacted text, and the large values cut out into parts when a cache is given. */
export function storedRequestBody(
  body: Buffer,
  maxBodyChars: number,
  cache?: BodyPartCache,
  knownFields?: ReadonlyMap<string, readonly [number, number]>,
): {text: string; parts: PartRef[] | null} {
  return renderRequestBody(splitRequestBody(body, maxBodyChars, cache, knownFields), maxBodyChars)
}

/** The body as stored, with its parts spliced back in (`partText` looks a part up by id). */
export function restoreRequestBody(text: string, partsJson: string | null, partText: (id: number) => string | undefined): string {
  if (!partsJson) return text
  const refs = JSON.parse(partsJson) as Array<[number, number]>
  let out = ''
  let at = 0
  for (const [offset, id] of refs) {
    out += text.slice(at, offset) + (partText(id) ?? `[body part ${id} is missing from body_parts]`)
    at = offset
  }
  return out + text.slice(at)
}

/** Builds the stored row: derived timings, the usage the cost is based on, redacted text fields. */
export function toAuditRow(record: RequestRecord, cost: CostResult, policy: BodyPolicy, parts?: BodyPartCache, split?: SplitRequestBody): AuditRow {
  const u = cost.usage
  const request = !policy.logRequestBodies
    ? null
    : split
      ? renderRequestBody(split, policy.maxBodyChars)
      : record.request_body !== undefined
        ? storedRequestBody(record.request_body, policy.maxBodyChars, parts, record.request_body_fields)
        : null
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
    request_body: request?.text ?? null,
    request_body_parts: null,
    response_body: responseBody,
    ...(request?.parts ? {parts: request.parts} : {}),
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

/** 2: request_body_parts + body_parts (large request values stored once). */
const SCHEMA_VERSION = 2

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
  request_body_parts TEXT,
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
CREATE TABLE IF NOT EXISTS body_parts (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  text TEXT NOT NULL,
  last_used_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS body_parts_last_used ON body_parts(last_used_at);
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
  private readonly upsertPart: Database.Statement<unknown[]>
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
        // Checkpoints run inside a commit, on the event loop: 1 MB of WAL each (a few ms) rather than 4 MB (10-15 ms).
        this.db.pragma('wal_autocheckpoint = 256')
      }
      // Short: a locked database must not stall the event loop; the batch is retried next tick.
      this.db.pragma('busy_timeout = 100')
      // Version 1 files lack request_body_parts (CREATE TABLE IF NOT EXISTS keeps their table as it is).
      const hasTable = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").get() !== undefined
      if (hasTable && !(this.db.pragma('table_info(audit_log)') as Array<{name: string}>).some((c) => c.name === 'request_body_parts')) {
        this.db.exec('ALTER TABLE audit_log ADD COLUMN request_body_parts TEXT')
      }
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
      this.upsertPart = this.db.prepare(
          'INSERT INTO body_parts (hash, text, last_used_at) VALUES (?, ?, ?) ON CONFLICT(hash) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at) RETURNING id',
      )
      this.writeBatch = this.db.transaction((rows: AuditRow[]) => {
        const acc: AggAccumulator = {agg: new Map(), lat: new Map()}
        // last_used_at >= the received_at of every row using the part: retention drops a part only after its last row.
        const usedAt = new Map<BodyPart, number>()
        const now = Date.now()
        for (const row of rows) if (row.parts) for (const {part} of row.parts) usedAt.set(part, Math.max(usedAt.get(part) ?? now, row.received_at))
        const partIds = new Map<BodyPart, number>()
        for (const [part, at] of usedAt) partIds.set(part, (this.upsertPart.get(part.hash, part.text, at) as {id: number}).id)
        for (const row of rows) {
          if (row.parts) row.request_body_parts = JSON.stringify(row.parts.map(({offset, part}) => [offset, partIds.get(part)]))
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
    // Every row using a part was received at or before its last_used_at, so these are unreferenced now.
    this.db.prepare('DELETE FROM body_parts WHERE last_used_at < ?').run(cutoffMs)
    return deleted
  }

  /** Drops minute buckets older than `beforeMs` (hour and all-time buckets keep the long view). */
  pruneMinuteBuckets(beforeMs: number): void {
    this.db.prepare('DELETE FROM agg WHERE grain = ? AND t < ?').run(MINUTE, beforeMs)
    this.db.prepare('DELETE FROM lat WHERE grain = ? AND t < ?').run(MINUTE, beforeMs)
  }

  /**
   * Records when this log started collecting, once: an idle stretch after it is real evidence
   * ("no requests"), so a metrics window is covered from here on, not from the first request.
   * Older files get their first row's time (or `nowMs`), which never over-states coverage.
   */
  markCollectionStart(nowMs: number): void {
    this.db
      .prepare(`INSERT OR IGNORE INTO meta (key, value) SELECT '${COLLECTION_STARTED_META_KEY}', CAST(COALESCE(MIN(received_at), ?) AS TEXT) FROM audit_log`)
      .run(nowMs)
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
  /** The request body taken apart at enqueue (the record then carries no body). */
  split?: SplitRequestBody
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

/** Rows per transaction and time per event-loop turn of the timer's flush (see drainInSlices). */
const SLICE_ROWS = 256
const SLICE_MS = 3

export class AuditWriter {
  private draining = false
  private store: AuditStore | null = null
  private readonly parts = new BodyPartCache()
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
    this.flushTimer = setInterval(() => this.drainInSlices(), opts.flushIntervalMs)
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
    // The queue must not keep request bodies alive (a 20-100 KB buffer per queued request): an unlogged
    // one is dropped, a logged one is taken apart now (its large values are cached parts).
    let split: SplitRequestBody | undefined
    if (record.request_body !== undefined && this.opts.logRequestBodies) {
      try {
        split = splitRequestBody(record.request_body, this.opts.maxBodyChars, this.parts, record.request_body_fields)
      } catch {
        // Left to the writer, which counts a record it cannot handle.
      }
    }
    if (record.request_body !== undefined || record.request_body_fields !== undefined || (record.response_body !== undefined && !this.opts.logResponseBodies)) {
      record = {
        ...record,
        request_body: split ? undefined : record.request_body,
        request_body_fields: undefined,
        response_body: this.opts.logResponseBodies ? record.response_body : undefined,
      }
      if (!this.opts.logRequestBodies) record.request_body = undefined
    }
    this.queue.push(split ? {record, cost, split} : {record, cost})
    if (this.queue.length > this.opts.maxPending) {
      const excess = this.queue.length - this.opts.maxPending
      this.queue.splice(0, excess)
      this.dropped += excess
      this.lastError = `audit queue over ${this.opts.maxPending} rows while the database fails; dropped the ${excess} oldest`
      this.lastErrorAt = this.opts.now()
    }
  }

  /**
   * The timer's flush: small transactions, yielding to the event loop (setImmediate) every
   * SLICE_MS, so a burst of queued rows never holds up requests for more than a slice (a
   * 300-row flush in one go took several ms: a latency spike for every request behind it).
   * Rows still reach the disk at once: the slices follow each other as fast as the loop turns.
   */
  private drainInSlices(): void {
    if (this.draining) return
    this.draining = true
    let written = 0
    const slice = (): void => {
      const started = performance.now()
      let ok = true
      while (ok && this.queue.length > 0 && written < this.opts.maxBatch && performance.now() - started < SLICE_MS) {
        const before = this.queue.length
        this.flush(SLICE_ROWS)
        // No progress = the database is failing: the next timer tick retries.
        ok = this.queue.length < before
        written += before - this.queue.length
      }
      if (ok && this.queue.length > 0 && written < this.opts.maxBatch && !this.closed) setImmediate(slice)
      else this.draining = false
    }
    slice()
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
        rows = items.map((item) => (item.row ??= toAuditRow(item.record, item.cost, this.opts, this.parts, item.split)))
      } catch (err) {
        // A record the row builder cannot handle is dropped alone; the rest proceed.
        rows = []
        const keep: PendingItem[] = []
        for (const item of items) {
          try {
            item.row ??= toAuditRow(item.record, item.cost, this.opts, this.parts, item.split)
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
