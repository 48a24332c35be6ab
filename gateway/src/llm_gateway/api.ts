/**
 * The gateway's Anthropic-compatible API (issue 3): POST /v1/messages (JSON and SSE),
 * POST /v1/messages/count_tokens, GET /v1/models[/{id}], HEAD / and HEAD /api/hello,
 * POST /api/event_logging/batch (dropped). Anything else under /v1/ gets a 404 in
 * Anthropic's envelope; paths outside return false so the server can route them.
 *
 * Hot path rules: the client's body bytes are forwarded unchanged to Anthropic-format
 * providers (a parsed copy is used for routing only); stream events are written the moment
 * they are complete, usage is parsed on the side after the write; exactly one RequestRecord
 * is emitted per /v1/ request once the response is over.
 */
import {randomUUID} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {CostInput} from './cost.js'
import {estimateInputTokens} from './count_tokens.js'
import {errorEnvelope, errorEvent, mapUpstreamError, sendErrorBody} from './errors.js'
import {type TopLevelScan, decodeSpan, jsonNestingExceeds, scanTopLevel} from './json_scan.js'
import {modelIdOf, pathProblem} from './paths.js'
import {RESPONSE_DROP} from './providers/headers.js'
import {type Inbound, type ProviderAdapter, createAdapters} from './providers/index.js'
import type {RecordSink, RequestRecord, Usage} from './record.js'
import {route} from './router.js'
import {DEFAULT_MAX_BODY_BYTES, type GatewaySettings} from './settings.js'
import {readBodyUpTo} from '../daemon/http_limits.js'
import {logValue} from '../daemon/log.js'
import {SseParser} from './sse.js'
import {MessageAccumulator, toRecordUsage} from './translate/accumulator.js'
import {type Json, wireToRecordUsage} from './translate/common.js'
import {chatResponseToAnthropic, responsesResponseToAnthropic} from './translate/response.js'
import {ChatStreamTranslator, ResponsesStreamTranslator, type StreamTranslator, framesOf} from './translate/stream.js'
import {
  Abort,
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  type Transport,
  UndiciTransport,
  UpstreamCall,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
  backoffDelay,
  isRetryableStatus,
  sleep,
} from './upstream.js'

export interface GatewayLogger {
  info(msg: string): void
  warn(msg: string): void
  error(msg: string): void
}

export interface HealthSink {
  recordOutcome(provider: string, ok: boolean, latencyMs: number, error?: string): void
}

export interface ApiDeps {
  config: GatewaySettings
  log: GatewayLogger
  onRecord: RecordSink
  health?: HealthSink
  /** Epoch-ms clock for records (tests). */
  now?: () => number
  /** Upstream HTTP transport (default: undici keep-alive pools). */
  transport?: Transport
  /** Retry backoff (tests shorten it). */
  backoff?: Partial<BackoffPolicy>
  env?: NodeJS.ProcessEnv
  /**
   * Value of `x-gateway-cost-usd` for a non-streamed response, computed from the record as it
   * stands just before the head is written (usage already parsed); undefined = no header (cost unknown).
   */
  costHeader?: (input: CostInput) => string | undefined
}

export type ApiHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) & {
  /** Closes pooled upstream connections. */
  close(): Promise<void>
}

type Headers = Record<string, string | string[] | undefined>

/**
 * `req_gw_` + 32 hex digits: 12 of milliseconds since the epoch, then 20 random (from a UUID v4,
 * without its version digit). Time-ordered ids keep the audit log's request_id index append-only: a
 * random id lands on a random index page, so every row dirtied another page (write-ahead log
 * volume, checkpoint work and cache misses grew with the table).
 */
function requestId(): string {
  const random = randomUUID()
  return `req_gw_${Date.now().toString(16).padStart(12, '0')}${random.slice(0, 1)}${random.slice(15, 18)}${random.slice(19, 23)}${random.slice(24)}`
}

/** Per-request state; becomes the RequestRecord. */
class Exchange {
  readonly id = requestId()
  readonly receivedAt: number
  /** perf clock when the request body was in (start of gateway work). */
  t0 = performance.now()
  firstByteAt: number | null = null
  agentType = 'main'
  provider: string | null = null
  providerType: string | null = null
  modelRequested: string | null = null
  modelServed: string | null = null
  reason: string | null = null
  stream = false
  status = 0
  success = false
  errorType: string | null = null
  errorMessage: string | null = null
  attempts = 0
  fallbackUsed = false
  usage: Usage | null = null
  /** False when a stream ended before its final usage (message_delta): the usage is partial and the cost is estimated. */
  usageFinal = true
  stopReason: string | null = null
  /** Time spent waiting on upstreams and backoff (excluded from overhead). */
  waitMs = 0
  overheadMs = 0
  requestBody?: Buffer
  requestBodyFields?: ReadonlyMap<string, readonly [number, number]>
  responseBody?: string
  readonly clientAbort = new Abort()
  emitted = false

  constructor(readonly path: string, readonly method: string, now: number) {
    this.receivedAt = now
  }

  fail(type: string, message: string): void {
    this.success = false
    this.errorType = type
    this.errorMessage = message
  }

  toRecord(doneAt: number): RequestRecord {
    const r: RequestRecord = {
      request_id: this.id,
      received_at: this.receivedAt,
      first_byte_at: this.firstByteAt,
      done_at: doneAt,
      path: this.path,
      method: this.method,
      agent_type: this.agentType,
      provider: this.provider,
      model_requested: this.modelRequested,
      model_served: this.modelServed,
      routing_reason: this.reason,
      stream: this.stream,
      status: this.status,
      success: this.success,
      error_type: this.success ? null : this.errorType,
      error_message: this.success ? null : this.errorMessage,
      attempts: this.attempts,
      fallback_used: this.fallbackUsed,
      provider_type: this.providerType,
      usage: this.usage,
      usage_missing: this.usage === null || !this.usageFinal,
      stop_reason: this.stopReason,
      overhead_ms: Math.round(this.overheadMs * 1000) / 1000,
    }
    if (this.requestBody) r.request_body = this.requestBody
    if (this.requestBodyFields) r.request_body_fields = this.requestBodyFields
    if (this.responseBody !== undefined) r.response_body = this.responseBody
    return r
  }
}

/** A failed attempt that may be retried / passed to the next provider. */
interface Failure {
  kind: 'status' | 'connection' | 'timeout' | 'config' | 'model'
  message: string
  status?: number
  headers?: Headers
  bodyText?: string
  /** Worth another attempt on the same provider. */
  retrySame: boolean
}

type Outcome = {kind: 'sent'} | {kind: 'aborted'} | {kind: 'failed'; failure: Failure}

const SENT: Outcome = {kind: 'sent'}
const ABORTED: Outcome = {kind: 'aborted'}

function failed(failure: Failure): Outcome {
  return {kind: 'failed', failure}
}

/** Status for an error event seen before anything was sent (answered as a real HTTP error instead). */
function statusForErrorType(type: string): number {
  switch (type) {
    case 'rate_limit_error': return 429
    case 'overloaded_error': return 529
    case 'invalid_request_error': return 400
    case 'authentication_error': return 401
    case 'permission_error': return 403
    case 'not_found_error': return 404
    case 'request_too_large': return 413
    case 'timeout_error': return 504
    default: return 500
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A request body as the API uses it: raw bytes, the top-level fields routing needs, the rest on demand. */
interface JsonBody {
  body: Buffer
  model: unknown
  stream: unknown
  maxTokens: unknown
  messagesIsArray: boolean
  /** `model` occurs more than once at the top level, or that is not known (the body was parsed, not scanned). */
  modelDuplicated: boolean
  /** The `system` value (decoded on demand: only routing markers need it). */
  system(): unknown
  /** The whole body parsed (on demand: translation and estimates). Throws SyntaxError when it does not parse. */
  parsed(): Json
}

const OPEN_OBJECT = 0x7b
const OPEN_ARRAY = 0x5b
/** Deepest array/object nesting a body sent through translation or estimates may have (the walk is recursive). */
export const MAX_JSON_NESTING = 256
/** Response bodies above this size are scanned for usage instead of parsed whole. */
const SCAN_RESPONSES_OVER = 16 * 1024

function bodyFromParsed(body: Buffer, parsed: Json): JsonBody {
  return {
    body,
    model: parsed.model,
    stream: parsed.stream,
    maxTokens: parsed.max_tokens,
    messagesIsArray: Array.isArray(parsed.messages),
    modelDuplicated: true,
    system: () => parsed.system,
    parsed: () => parsed,
  }
}

/** Decodes the small top-level fields; throws SyntaxError when one of them does not decode. */
function bodyFromScan(body: Buffer, scan: TopLevelScan): JsonBody {
  const f = scan.fields
  // Only scalars are decoded; a container is represented by an empty one of its kind (type checks only).
  const scalar = (key: string): unknown => {
    const span = f.get(key)
    if (!span) return undefined
    const first = body[span[0]]
    return first === OPEN_OBJECT ? {} : first === OPEN_ARRAY ? [] : decodeSpan(body, span)
  }
  const messages = f.get('messages')
  let parsed: Json | undefined
  return {
    body,
    model: scalar('model'),
    stream: scalar('stream'),
    maxTokens: scalar('max_tokens'),
    messagesIsArray: messages !== undefined && body[messages[0]] === OPEN_ARRAY,
    modelDuplicated: scan.duplicates.has('model'),
    system: () => decodeSpan(body, f.get('system')),
    parsed: () => (parsed ??= JSON.parse(body.toString('utf8')) as Json),
  }
}

export function createApiHandler(deps: ApiDeps): ApiHandler {
  const settings = deps.config
  const log = deps.log
  const now = deps.now ?? Date.now
  const adapters = createAdapters(settings, deps.env)
  const transport = deps.transport ?? new UndiciTransport()
  const backoff: BackoffPolicy = {...DEFAULT_BACKOFF, ...deps.backoff}
  const maxBodyBytes = settings.server?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  // Routing reads the system prompt only to look for configured markers.
  const needsSystemPrompt = Object.keys(settings.routing.systemPromptMarkers ?? {}).length > 0

  function emit(ex: Exchange): void {
    if (ex.emitted) return
    ex.emitted = true
    try {
      deps.onRecord(ex.toRecord(now()))
    } catch (error) {
      log.error(`request record sink failed for ${ex.id}: ${logValue((error as Error).message)}`)
    }
  }

  function reportHealth(provider: string, ok: boolean, latencyMs: number, error?: string): void {
    try {
      deps.health?.recordOutcome(provider, ok, latencyMs, error)
    } catch {
      // health bookkeeping never affects a request
    }
  }

  function gatewayHeaders(ex: Exchange): Record<string, string> {
    return {
      'x-gateway-request-id': ex.id,
      'x-gateway-provider': ex.provider ?? 'none',
      'x-gateway-attempts': String(ex.attempts),
      'x-gateway-fallback': ex.fallbackUsed ? 'true' : 'false',
      'x-gateway-overhead-ms': ex.overheadMs.toFixed(3),
    }
  }

  /** Adds x-gateway-cost-usd to a non-streamed response head; never fails the response. */
  function addCostHeader(headers: Record<string, string | string[]>, ex: Exchange): void {
    if (!deps.costHeader) return
    try {
      const value = deps.costHeader(ex.toRecord(now()))
      if (value !== undefined) headers['x-gateway-cost-usd'] = value
    } catch (error) {
      log.warn(`cost header for ${ex.id} could not be computed: ${logValue((error as Error).message)}`)
    }
  }

  function markCommitted(ex: Exchange, status: number, attemptStart: number, upstreamDoneAt: number): void {
    const t = performance.now()
    ex.overheadMs = Math.max(0, t - ex.t0 - ex.waitMs - (upstreamDoneAt - attemptStart))
    ex.firstByteAt = now()
    ex.status = status
  }

  /** Error response in Anthropic's envelope; `body` given = an upstream Anthropic body forwarded unchanged. */
  function sendError(res: ServerResponse, ex: Exchange, status: number, type: string, message: string, extra?: {body?: string; headers?: Headers; unreadRequest?: IncomingMessage}): void {
    ex.overheadMs = Math.max(0, performance.now() - ex.t0 - ex.waitMs)
    ex.status = status
    ex.fail(type, message)
    if (res.headersSent || res.destroyed) {
      if (!res.writableEnded) res.end()
      return
    }
    ex.firstByteAt = now()
    const headers: Record<string, string | string[]> = gatewayHeaders(ex)
    for (const name of ['retry-after', 'retry-after-ms', 'x-should-retry']) {
      const v = extra?.headers?.[name]
      if (v !== undefined) headers[name] = v
    }
    const upstreamRequestId = extra?.headers?.['request-id']
    if (typeof upstreamRequestId === 'string') headers['request-id'] = upstreamRequestId
    const body = extra?.body ?? errorEnvelope(type, message, ex.id)
    ex.responseBody = body
    addCostHeader(headers, ex)
    sendErrorBody(res, status, body, {requestId: ex.id, headers, unreadRequest: extra?.unreadRequest})
  }

  function sendJson(res: ServerResponse, ex: Exchange, status: number, body: string, extra?: Record<string, string>): void {
    ex.overheadMs = Math.max(0, performance.now() - ex.t0 - ex.waitMs)
    ex.status = status
    ex.firstByteAt = now()
    ex.responseBody = body
    const headers: Record<string, string | string[]> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'request-id': ex.id,
      ...gatewayHeaders(ex),
      ...extra,
    }
    addCostHeader(headers, ex)
    res.writeHead(status, headers)
    res.end(body)
  }

  /** Response head for a served request: passthrough copies upstream headers (request-id, rate limits, ...). */
  function responseHeaders(ex: Exchange, upstream: Headers | null, streaming: boolean): Record<string, string | string[]> {
    const h: Record<string, string | string[]> = {}
    if (upstream) {
      for (const k of Object.keys(upstream)) {
        const v = upstream[k]
        if (v !== undefined && !RESPONSE_DROP.has(k)) h[k] = v
      }
    }
    if (!h['request-id']) h['request-id'] = ex.id
    Object.assign(h, gatewayHeaders(ex))
    if (streaming) {
      h['content-type'] = 'text/event-stream; charset=utf-8'
      h['cache-control'] = 'no-cache'
      h['x-accel-buffering'] = 'no'
      delete h['content-encoding']
    } else if (!h['content-type']) {
      h['content-type'] = 'application/json'
    }
    return h
  }

  /** Turns an attempt's non-2xx response into a Failure (retryable) or a sent error (final). */
  async function upstreamStatusFailure(call: UpstreamCall, resp: UpstreamResponse, adapter: ProviderAdapter): Promise<Failure> {
    let text = ''
    try {
      text = (await call.readAll(1024 * 1024)).toString('utf8')
    } catch {
      // the status alone is enough
    }
    return {
      kind: 'status',
      status: resp.status,
      headers: resp.headers,
      bodyText: text,
      message: `${adapter.name}: upstream returned HTTP ${resp.status}`,
      retrySame: isRetryableStatus(resp.status),
    }
  }

  function sendFailure(res: ServerResponse, ex: Exchange, f: Failure, adapter: ProviderAdapter | undefined): void {
    if (f.kind === 'status' && f.status !== undefined) {
      const mapped = mapUpstreamError(f.status, f.bodyText ?? '', adapter?.name ?? 'upstream', ex.id)
      // Anthropic-format providers' bodies are forwarded unchanged; others are mapped to the envelope.
      sendError(res, ex, f.status, mapped.type, mapped.message, {body: mapped.body, headers: f.headers})
    } else if (f.kind === 'timeout') {
      sendError(res, ex, 504, 'timeout_error', f.message)
    } else if (f.kind === 'model') {
      sendError(res, ex, 404, 'not_found_error', f.message)
    } else {
      sendError(res, ex, 502, 'api_error', f.message)
    }
  }

  function failureFromError(e: UpstreamError, adapter: ProviderAdapter): Failure {
    if (e.kind === 'first_byte_timeout' || e.kind === 'idle_timeout' || e.kind === 'total_timeout') {
      // A timeout is not retried on the same provider (it would multiply the wait), but the fallback chain is tried.
      return {kind: 'timeout', message: `${adapter.name}: ${e.message}`, retrySame: false}
    }
    return {kind: 'connection', message: `${adapter.name}: could not reach upstream: ${e.message}`, retrySame: true}
  }

  // ---------------------------------------------------------------- attempts

  interface AttemptContext {
    res: ServerResponse
    ex: Exchange
    adapter: ProviderAdapter
    inbound: Inbound
    model: string
  }

  /** Non-streamed passthrough (messages, count_tokens, models): buffer the upstream body, forward bytes unchanged. */
  async function attemptBuffered(
    c: AttemptContext,
    request: UpstreamRequest,
    onBody?: (body: Buffer) => void,
  ): Promise<Outcome> {
    const {res, ex, adapter} = c
    const started = performance.now()
    const call = new UpstreamCall(transport, request, adapter.timeouts, adapter.name, ex.clientAbort, false)
    let resp: UpstreamResponse
    let body: Buffer
    try {
      resp = await call.start()
      if (resp.status < 200 || resp.status >= 300) {
        const f = await upstreamStatusFailure(call, resp, adapter)
        ex.waitMs += performance.now() - started
        reportHealth(adapter.name, !f.retrySame, performance.now() - started, f.retrySame ? `HTTP ${resp.status}` : undefined)
        return failed(f)
      }
      body = await call.readAll()
    } catch (error) {
      ex.waitMs += performance.now() - started
      const e = error instanceof UpstreamError ? error : new UpstreamError('connection', String(error))
      if (e.kind === 'client_aborted') return ABORTED
      reportHealth(adapter.name, false, performance.now() - started, e.message)
      return failed(failureFromError(e, adapter))
    }
    const doneAt = performance.now()
    reportHealth(adapter.name, true, doneAt - started)
    markCommitted(ex, resp.status, started, doneAt)
    // Usage is parsed before the head goes out so x-gateway-cost-usd can be computed from it.
    onBody?.(body)
    const headers = responseHeaders(ex, resp.headers, false)
    headers['content-length'] = String(body.length)
    addCostHeader(headers, ex)
    res.writeHead(resp.status, headers)
    res.end(body)
    ex.success = true
    return SENT
  }

  /** Passthrough stream: forward each complete upstream event as it arrives; parse a copy on the side. */
  async function attemptPassthroughStream(c: AttemptContext, request: UpstreamRequest): Promise<Outcome> {
    const {res, ex, adapter} = c
    const started = performance.now()
    const call = new UpstreamCall(transport, request, adapter.timeouts, adapter.name, ex.clientAbort, true)
    let resp: UpstreamResponse
    try {
      resp = await call.start()
    } catch (error) {
      ex.waitMs += performance.now() - started
      const e = error as UpstreamError
      if (e.kind === 'client_aborted') return ABORTED
      reportHealth(adapter.name, false, performance.now() - started, e.message)
      return failed(failureFromError(e, adapter))
    }
    if (resp.status < 200 || resp.status >= 300) {
      const f = await upstreamStatusFailure(call, resp, adapter)
      ex.waitMs += performance.now() - started
      reportHealth(adapter.name, !f.retrySame, performance.now() - started, f.retrySame ? `HTTP ${resp.status}` : undefined)
      return failed(f)
    }
    const ct = String(resp.headers['content-type'] ?? '')
    if (!ct.includes('text/event-stream')) {
      // The upstream answered a stream request with a plain body: forward it as such.
      call.discard()
      ex.waitMs += performance.now() - started
      return attemptBuffered(c, request, (b) => recordBufferedMessage(ex, b))
    }

    const acc = new MessageAccumulator()
    const pending: string[] = []
    const parser = new SseParser((ev) => pending.push(ev.data))
    let committed = false
    let earlyError: Failure | undefined

    let malformed = false
    const onChunk = (chunk: Buffer): boolean => {
      const out = parser.push(chunk)
      if (out === null) return true
      // Event data that is not JSON is never forwarded: the stream fails like a cut one (retryable before the commit).
      for (let i = 0; i < pending.length; i++) {
        if (!acc.applyData(pending[i]!)) {
          malformed = true
          call.abort('connection')
          return false
        }
      }
      if (!committed) {
        // An error event before anything was sent is answered as a real HTTP error (retryable, fallback-able).
        const first = pending[0]
        if (first !== undefined && first.includes('"error"')) {
          const probe = new MessageAccumulator()
          probe.applyData(first)
          if (probe.error) {
            const status = statusForErrorType(probe.error.type)
            earlyError = {kind: 'status', status, bodyText: errorEnvelope(probe.error.type, probe.error.message), headers: resp.headers, message: `${adapter.name}: ${probe.error.type}: ${probe.error.message}`, retrySame: isRetryableStatus(status)}
            call.abort('connection')
            return false
          }
        }
        committed = true
        markCommitted(ex, 200, started, performance.now())
        res.writeHead(200, responseHeaders(ex, resp.headers, true))
      }
      const writable = res.write(out)
      pending.length = 0
      if (!writable) {
        res.once('drain', () => call.resume())
        return false
      }
      return true
    }

    let streamFailure: UpstreamError | undefined
    try {
      await call.consume(onChunk)
    } catch (error) {
      streamFailure = error as UpstreamError
    }
    if (malformed) streamFailure = new UpstreamError('connection', 'upstream sent a malformed SSE event (data is not JSON)')
    if (earlyError) {
      ex.waitMs += performance.now() - started
      reportHealth(adapter.name, false, performance.now() - started, earlyError.message)
      return failed(earlyError)
    }
    if (streamFailure?.kind === 'client_aborted' || ex.clientAbort.aborted) {
      finishStreamRecord(ex, acc)
      return ABORTED
    }
    if (!committed) {
      ex.waitMs += performance.now() - started
      const e = streamFailure ?? new UpstreamError('connection', 'upstream stream ended before any event')
      reportHealth(adapter.name, false, performance.now() - started, e.message)
      return failed(failureFromError(e, adapter))
    }
    // Bytes were committed: any failure now ends the stream with an Anthropic error event.
    if (streamFailure || (!acc.sawStop && !acc.error)) {
      const idle = streamFailure?.kind === 'idle_timeout'
      const type = idle ? 'timeout_error' : 'api_error'
      const message = streamFailure ? `${adapter.name}: ${streamFailure.message}` : `${adapter.name}: upstream stream ended before message_stop`
      if (!res.destroyed) res.write(errorEvent(type, message))
      ex.fail(idle ? 'timeout_error' : 'stream_cut', message)
      reportHealth(adapter.name, false, performance.now() - started, message)
    } else {
      reportHealth(adapter.name, true, performance.now() - started)
    }
    res.end()
    finishStreamRecord(ex, acc)
    return SENT
  }

  function finishStreamRecord(ex: Exchange, acc: MessageAccumulator): void {
    ex.usage = acc.recordUsage()
    ex.usageFinal = acc.sawFinalUsage
    ex.stopReason = acc.stopReason
    const body = acc.finalMessageJson()
    if (body !== null) ex.responseBody = body
    if (acc.error) ex.fail(acc.error.type, acc.error.message)
    else if (acc.sawStop && ex.errorType === null) ex.success = true
  }

  /**
   * Keeps the body for the record and reads `usage` / `stop_reason` from it: JSON.parse for the usual
   * small message (faster than a scan there), a scan decoding only those two values for a large one.
   */
  function recordBufferedMessage(ex: Exchange, body: Buffer): void {
    ex.responseBody = body.toString('utf8')
    try {
      const scan = body.length > SCAN_RESPONSES_OVER ? scanTopLevel(body) : undefined
      if (scan) {
        const usage = decodeSpan(body, scan.fields.get('usage'))
        ex.usage = toRecordUsage(isObject(usage) ? usage : null)
        const stop = decodeSpan(body, scan.fields.get('stop_reason'))
        if (typeof stop === 'string') ex.stopReason = stop
        return
      }
      const parsed: unknown = JSON.parse(ex.responseBody)
      if (isObject(parsed)) {
        ex.usage = toRecordUsage(isObject(parsed.usage) ? parsed.usage : null)
        if (typeof parsed.stop_reason === 'string') ex.stopReason = parsed.stop_reason
      }
    } catch {
      // not JSON: recorded as is
    }
  }

  /** Translated provider (OpenAI chat / Responses), streamed: state machine to Anthropic SSE. */
  async function attemptTranslatedStream(c: AttemptContext, request: UpstreamRequest, translator: StreamTranslator): Promise<Outcome> {
    const {res, ex, adapter} = c
    const started = performance.now()
    const call = new UpstreamCall(transport, request, adapter.timeouts, adapter.name, ex.clientAbort, true)
    let resp: UpstreamResponse
    try {
      resp = await call.start()
    } catch (error) {
      ex.waitMs += performance.now() - started
      const e = error as UpstreamError
      if (e.kind === 'client_aborted') return ABORTED
      reportHealth(adapter.name, false, performance.now() - started, e.message)
      return failed(failureFromError(e, adapter))
    }
    if (resp.status < 200 || resp.status >= 300) {
      const f = await upstreamStatusFailure(call, resp, adapter)
      ex.waitMs += performance.now() - started
      reportHealth(adapter.name, !f.retrySame, performance.now() - started, f.retrySame ? `HTTP ${resp.status}` : undefined)
      return failed(f)
    }
    const acc = new MessageAccumulator()
    const events: Json[] = []
    const parser = new SseParser((ev) => {
      const out = translator.push(ev.data, ev.event)
      for (let i = 0; i < out.length; i++) events.push(out[i]!)
    })
    let committed = false
    let earlyError: Failure | undefined

    const flush = (): boolean => {
      if (events.length === 0) return true
      if (!committed) {
        if (translator.error && events.every((e) => e.type === 'message_start' || e.type === 'error')) {
          const status = statusForErrorType(translator.error.type)
          earlyError = {kind: 'status', status, bodyText: errorEnvelope(translator.error.type, translator.error.message), message: `${adapter.name}: ${translator.error.message}`, retrySame: isRetryableStatus(status)}
          events.length = 0
          return false
        }
        committed = true
        markCommitted(ex, 200, started, performance.now())
        res.writeHead(200, responseHeaders(ex, null, true))
      }
      const writable = res.write(framesOf(events))
      for (let i = 0; i < events.length; i++) acc.apply(events[i]!)
      events.length = 0
      return writable
    }

    let streamFailure: UpstreamError | undefined
    try {
      await call.consume((chunk) => {
        parser.push(chunk)
        if (flush()) return true
        if (earlyError) {
          call.abort('connection')
          return false
        }
        res.once('drain', () => call.resume())
        return false
      })
    } catch (error) {
      streamFailure = error as UpstreamError
    }
    if (!earlyError && !streamFailure) {
      for (const e of translator.end()) events.push(e)
      flush()
    }
    if (earlyError) {
      ex.waitMs += performance.now() - started
      reportHealth(adapter.name, !earlyError.retrySame, performance.now() - started, earlyError.message)
      return failed(earlyError)
    }
    const finishRecord = (): void => {
      ex.usage = translator.usage ? wireToRecordUsage(translator.usage) : null
      ex.stopReason = translator.stopReason
      const body = acc.finalMessageJson()
      if (body !== null) ex.responseBody = body
      if (translator.error) ex.fail(ex.errorType ?? translator.error.type, translator.error.message)
      else if (translator.finished && ex.errorType === null) ex.success = true
    }
    if (streamFailure?.kind === 'client_aborted' || ex.clientAbort.aborted) {
      finishRecord()
      return ABORTED
    }
    if (!committed) {
      ex.waitMs += performance.now() - started
      const e = streamFailure ?? new UpstreamError('connection', 'upstream stream ended before any event')
      reportHealth(adapter.name, false, performance.now() - started, e.message)
      return failed(failureFromError(e, adapter))
    }
    if (streamFailure) {
      const idle = streamFailure.kind === 'idle_timeout'
      const message = `${adapter.name}: ${streamFailure.message}`
      for (const e of translator.fail(idle ? 'timeout_error' : 'api_error', message)) events.push(e)
      flush()
      ex.fail(idle ? 'timeout_error' : 'stream_cut', message)
      reportHealth(adapter.name, false, performance.now() - started, message)
    } else {
      reportHealth(adapter.name, !translator.error, performance.now() - started, translator.error?.message)
    }
    res.end()
    finishRecord()
    return SENT
  }

  /** Translated provider, non-streamed. */
  async function attemptTranslatedJson(c: AttemptContext, request: UpstreamRequest, toolNames: NonNullable<ReturnType<ProviderAdapter['messagesRequest']>['toolNames']>): Promise<Outcome> {
    const {res, ex, adapter} = c
    const started = performance.now()
    const call = new UpstreamCall(transport, request, adapter.timeouts, adapter.name, ex.clientAbort, false)
    let body: Buffer
    try {
      const resp = await call.start()
      if (resp.status < 200 || resp.status >= 300) {
        const f = await upstreamStatusFailure(call, resp, adapter)
        ex.waitMs += performance.now() - started
        reportHealth(adapter.name, !f.retrySame, performance.now() - started, f.retrySame ? `HTTP ${resp.status}` : undefined)
        return failed(f)
      }
      body = await call.readAll()
    } catch (error) {
      ex.waitMs += performance.now() - started
      const e = error as UpstreamError
      if (e.kind === 'client_aborted') return ABORTED
      reportHealth(adapter.name, false, performance.now() - started, e.message)
      return failed(failureFromError(e, adapter))
    }
    const doneAt = performance.now()
    let parsed: unknown
    try {
      parsed = JSON.parse(body.toString('utf8'))
    } catch {
      parsed = undefined
    }
    if (!isObject(parsed)) {
      reportHealth(adapter.name, false, doneAt - started, 'invalid JSON body')
      ex.waitMs += doneAt - started
      return failed({kind: 'connection', message: `${adapter.name}: upstream returned a body that is not a JSON object`, retrySame: false})
    }
    reportHealth(adapter.name, true, doneAt - started)
    const ctx = {model: ex.modelRequested ?? c.model, toolNames}
    const t = adapter.wire === 'responses' ? responsesResponseToAnthropic(parsed, ctx) : chatResponseToAnthropic(parsed, ctx)
    const out = JSON.stringify(t.message)
    markCommitted(ex, 200, started, doneAt)
    ex.usage = t.usage ? wireToRecordUsage(t.usage) : null
    ex.stopReason = t.stopReason
    ex.responseBody = out
    const headers = responseHeaders(ex, null, false)
    headers['content-length'] = String(Buffer.byteLength(out))
    addCostHeader(headers, ex)
    res.writeHead(200, headers)
    res.end(out)
    ex.success = true
    return SENT
  }

  // ---------------------------------------------------------------- retry + fallback driver

  type Attempt = (c: AttemptContext) => Promise<Outcome>

  /**
   * Tries the route's providers in order, each up to 1 + maxRetries times, retrying only
   * failures that happened before any byte reached the client.
   */
  async function runChain(res: ServerResponse, ex: Exchange, inbound: Inbound, chain: string[], attempt: Attempt): Promise<void> {
    let last: Failure | undefined
    let lastAdapter: ProviderAdapter | undefined
    for (let p = 0; p < chain.length; p++) {
      const name = chain[p]!
      const adapter = adapters.get(name)
      if (!adapter) continue
      lastAdapter = adapter
      ex.provider = name
      ex.providerType = adapter.type
      ex.fallbackUsed = p > 0
      const problem = adapter.configProblem()
      if (problem) {
        last = {kind: 'config', message: problem, retrySame: false}
        log.warn(`${problem}; trying the next provider`)
        reportHealth(name, false, 0, problem)
        continue
      }
      const model = ex.modelRequested === null ? '' : adapter.resolveModel(ex.modelRequested)
      let served = ''
      if (model !== '') {
        if (!model.ok) {
          last = {kind: 'model', message: model.message, retrySame: false}
          continue
        }
        served = model.model
      }
      ex.modelServed = served || null
      log.info(`Forwarding to provider: ${name}`)
      for (let n = 0; n <= adapter.maxRetries; n++) {
        ex.attempts++
        const outcome = await attempt({res, ex, adapter, inbound, model: served})
        if (outcome.kind === 'sent') return
        if (outcome.kind === 'aborted') {
          ex.fail('client_aborted', 'client closed the connection before the response finished')
          return
        }
        last = outcome.failure
        // A client mistake (400, 401, 403, 404, 413, ...) is the answer: no retry and no fallback.
        if (last.kind === 'status' && last.status !== undefined && !isRetryableStatus(last.status)) {
          sendFailure(res, ex, last, adapter)
          return
        }
        if (!last.retrySame || n === adapter.maxRetries) break
        const delay = backoffDelay(n, last.headers, backoff)
        if (delay === undefined) {
          log.warn(`${logValue(last.message)}; retry-after exceeds ${backoff.maxRetryAfterMs} ms, not waiting`)
          break
        }
        log.warn(`${logValue(last.message)}; retry ${n + 1}/${adapter.maxRetries} in ${delay} ms`)
        const t = performance.now()
        const waited = await sleep(delay, ex.clientAbort)
        ex.waitMs += performance.now() - t
        if (!waited) {
          ex.fail('client_aborted', 'client closed the connection during retry backoff')
          return
        }
      }
      if (p < chain.length - 1 && last) log.warn(`${logValue(last.message)}; falling back to the next provider`)
    }
    if (!last) {
      sendError(res, ex, 503, 'api_error', 'no enabled provider can serve this request; check llmGateway.routing.defaultProvider and fallbackChain')
      return
    }
    sendFailure(res, ex, last, lastAdapter)
  }

  // ---------------------------------------------------------------- endpoints

  /** Reads a JSON request body, answering 400/413 itself; the body is scanned, not parsed (see json_scan.ts). */
  async function readJson(req: IncomingMessage, res: ServerResponse, ex: Exchange): Promise<JsonBody | undefined> {
    const r = await readBodyUpTo(req, maxBodyBytes)
    ex.t0 = performance.now()
    if (r.kind === 'aborted') {
      ex.fail('client_aborted', 'client closed the connection while sending the request')
      return undefined
    }
    if (r.kind === 'too_large') {
      sendError(res, ex, 413, 'request_too_large', `request body exceeds the gateway limit of ${maxBodyBytes} bytes (llmGateway.server.maxBodyBytes)`, {unreadRequest: req})
      return undefined
    }
    ex.requestBody = r.body
    if (r.body.length === 0) {
      sendError(res, ex, 400, 'invalid_request_error', 'request body is empty; send a JSON object')
      return undefined
    }
    const scan = scanTopLevel(r.body)
    if (scan) {
      ex.requestBodyFields = scan.fields
      try {
        return bodyFromScan(r.body, scan)
      } catch {
        // A top-level value the scan accepted does not decode: JSON.parse below gives the exact error.
      }
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(r.body.toString('utf8'))
    } catch (error) {
      sendError(res, ex, 400, 'invalid_request_error', `request body is not valid JSON: ${(error as Error).message}`)
      return undefined
    }
    if (!isObject(parsed)) {
      sendError(res, ex, 400, 'invalid_request_error', 'request body must be a JSON object')
      return undefined
    }
    return bodyFromParsed(r.body, parsed)
  }

  function validateMessagesBody(json: JsonBody, requireMaxTokens: boolean): string | undefined {
    if (typeof json.model !== 'string' || json.model === '') return 'model: field required (a model name string such as "claude-sonnet-4-5")'
    if (!json.messagesIsArray) return 'messages: field required (an array of {role, content})'
    if (requireMaxTokens && (typeof json.maxTokens !== 'number' || !Number.isInteger(json.maxTokens) || json.maxTokens < 0)) {
      return 'max_tokens: field required (a non-negative integer)'
    }
    return undefined
  }

  /**
   * The parsed body, for the paths that need it (translation, estimates). The scan does not check
   * string contents, so this is where such a defect surfaces: answered 400 like any malformed body
   * (with the record reset to what a malformed body records). Returns undefined after answering.
   */
  function parsedOrAnswer(res: ServerResponse, ex: Exchange, json: JsonBody): Json | undefined {
    const refuse = (message: string): undefined => {
      ex.provider = null
      ex.providerType = null
      ex.reason = null
      ex.modelRequested = null
      ex.stream = false
      sendError(res, ex, 400, 'invalid_request_error', message)
      return undefined
    }
    // Translation and estimates walk the parsed body recursively: refuse what would overflow the stack.
    if (jsonNestingExceeds(json.body, MAX_JSON_NESTING)) {
      return refuse(`request body nests arrays/objects deeper than ${MAX_JSON_NESTING} levels; send a flatter body (real requests nest a few levels)`)
    }
    try {
      return json.parsed()
    } catch (error) {
      return refuse(`request body is not valid JSON: ${(error as Error).message}`)
    }
  }

  /** Routing decision (logged), or undefined when the body turned out malformed (answered 400). */
  function routeRequest(req: IncomingMessage, res: ServerResponse, ex: Exchange, json: JsonBody): string[] | undefined {
    let system: unknown
    if (needsSystemPrompt) {
      try {
        system = json.system()
      } catch (error) {
        ex.modelRequested = null
        ex.stream = false
        sendError(res, ex, 400, 'invalid_request_error', `request body is not valid JSON: ${(error as Error).message}`)
        return undefined
      }
    }
    const decision = route(settings, req.headers, ex.modelRequested ?? undefined, system)
    // Translated providers need the parsed body: check it parses before anything is logged or sent.
    if (decision.chain.some((name) => adapters.get(name)?.passthrough === false) && !parsedOrAnswer(res, ex, json)) return undefined
    ex.agentType = decision.agentType
    ex.reason = decision.reason
    ex.provider = decision.provider
    ex.providerType = decision.provider ? (settings.providers[decision.provider]?.providerType ?? null) : null
    log.info(`Routing request: agent_type=${logValue(decision.agentType)}, provider=${decision.provider ?? 'none'}, reason=${logValue(decision.reason)}`)
    return decision.chain
  }

  function inboundOf(req: IncomingMessage, json: JsonBody): Inbound {
    return {
      rawHeaders: req.rawHeaders,
      headers: req.headers,
      body: json.body,
      model: json.model,
      modelDuplicated: json.modelDuplicated,
      get parsed() {
        return json.parsed()
      },
    }
  }

  async function handleMessages(req: IncomingMessage, res: ServerResponse, ex: Exchange): Promise<void> {
    const json = await readJson(req, res, ex)
    if (!json) return
    const invalid = validateMessagesBody(json, true)
    if (invalid) {
      sendError(res, ex, 400, 'invalid_request_error', invalid)
      return
    }
    ex.modelRequested = json.model as string
    ex.stream = json.stream === true
    const chain = routeRequest(req, res, ex, json)
    if (!chain) return
    const inbound = inboundOf(req, json)
    let estimate: number | undefined
    await runChain(res, ex, inbound, chain, (c) => {
      const built = c.adapter.messagesRequest(c.inbound, c.model, ex.stream)
      if (c.adapter.passthrough) {
        return ex.stream ? attemptPassthroughStream(c, built.request) : attemptBuffered(c, built.request, (b) => recordBufferedMessage(ex, b))
      }
      const toolNames = built.toolNames!
      if (!ex.stream) return attemptTranslatedJson(c, built.request, toolNames)
      estimate ??= estimateInputTokens(json.parsed())
      const ctx = {model: ex.modelRequested!, toolNames, inputTokensEstimate: estimate}
      const translator = c.adapter.wire === 'responses' ? new ResponsesStreamTranslator(ctx) : new ChatStreamTranslator(ctx)
      return attemptTranslatedStream(c, built.request, translator)
    })
  }

  async function handleCountTokens(req: IncomingMessage, res: ServerResponse, ex: Exchange): Promise<void> {
    const json = await readJson(req, res, ex)
    if (!json) return
    const invalid = validateMessagesBody(json, false)
    if (invalid) {
      sendError(res, ex, 400, 'invalid_request_error', invalid)
      return
    }
    ex.modelRequested = json.model as string
    const chain = routeRequest(req, res, ex, json)
    if (!chain) return
    const answerEstimate = (): void => {
      const parsed = parsedOrAnswer(res, ex, json)
      if (!parsed) return
      const n = estimateInputTokens(parsed)
      if (n <= 0) {
        // 200 with 0 would silently disable Claude Code's auto-compaction.
        sendError(res, ex, 400, 'invalid_request_error', 'count_tokens: the request has no content to count (messages, system and tools are empty)')
        return
      }
      ex.success = true
      sendJson(res, ex, 200, JSON.stringify({input_tokens: n}), {'x-gateway-token-count': 'estimate'})
    }
    const primary = chain[0] ? adapters.get(chain[0]) : undefined
    if (!primary || !primary.forwardsCountTokens) {
      if (primary) {
        ex.provider = primary.name
        ex.providerType = primary.type
        const m = primary.resolveModel(ex.modelRequested)
        ex.modelServed = m.ok ? m.model : null
      }
      answerEstimate()
      return
    }
    // Forwarded to Anthropic-format providers; one that lacks the endpoint (404/405) is estimated instead.
    const fwdChain = chain.filter((n) => adapters.get(n)?.forwardsCountTokens)
    let unsupported = false
    await runChain(res, ex, inboundOf(req, json), fwdChain, async (c) => {
      const outcome = await attemptBuffered(c, c.adapter.countTokensRequest(c.inbound, c.model), (b) => {
        ex.responseBody = b.toString('utf8')
      })
      if (outcome.kind === 'failed' && c.adapter.type !== 'anthropic' && (outcome.failure.status === 404 || outcome.failure.status === 405)) {
        unsupported = true
        return SENT
      }
      return outcome
    })
    if (unsupported) answerEstimate()
  }

  /** Models from configuration (for routes whose default provider is not Anthropic). */
  function configuredModels(): Json[] {
    const ids = new Set<string>()
    for (const p of Object.values(settings.providers)) {
      if (!p.enabled) continue
      for (const m of p.models ?? []) ids.add(m)
      for (const k of Object.keys(p.modelMap ?? {})) if (!k.endsWith('*')) ids.add(k)
    }
    return [...ids].map((id) => ({type: 'model', id, display_name: id, created_at: '1970-01-01T00:00:00Z'}))
  }

  async function handleModels(req: IncomingMessage, res: ServerResponse, ex: Exchange, rawSubPath: string, query: string): Promise<void> {
    ex.t0 = performance.now()
    // Drain any (unexpected) GET body.
    req.resume()
    // /models/{model_id}: one segment, decoded and checked, forwarded re-encoded (never a path of the client's choosing).
    let id: string | null = null
    if (rawSubPath !== '/models') {
      const checked = modelIdOf(rawSubPath.slice('/models/'.length))
      if (!checked.ok) {
        sendError(res, ex, 400, 'invalid_request_error', checked.message)
        return
      }
      id = checked.id
    }
    const subPath = id === null ? '/models' : `/models/${encodeURIComponent(id)}`
    const chain = route(settings, req.headers, undefined, undefined).chain
    const adapter = chain.map((n) => adapters.get(n)).find((a) => a?.type === 'anthropic' && !a.configProblem())
    const answerConfigured = (): void => {
      const list = configuredModels()
      if (id === null) {
        ex.success = true
        sendJson(res, ex, 200, JSON.stringify({data: list, has_more: false, first_id: list[0]?.id ?? null, last_id: list.at(-1)?.id ?? null}))
        return
      }
      const found = list.find((m) => m.id === id)
      if (found) {
        ex.success = true
        sendJson(res, ex, 200, JSON.stringify(found))
      } else sendError(res, ex, 404, 'not_found_error', `model "${id}" is not configured on this gateway`)
    }
    if (!adapter) {
      answerConfigured()
      return
    }
    ex.provider = adapter.name
    ex.providerType = adapter.type
    ex.attempts = 1
    const c: AttemptContext = {res, ex, adapter, inbound: {rawHeaders: req.rawHeaders, headers: req.headers, body: Buffer.alloc(0), parsed: {}, model: undefined}, model: ''}
    const outcome = await attemptBuffered(c, adapter.modelsRequest(c.inbound, subPath, query), (b) => {
      ex.responseBody = b.toString('utf8')
    })
    if (outcome.kind === 'aborted') ex.fail('client_aborted', 'client closed the connection')
    else if (outcome.kind === 'failed') {
      if (outcome.failure.kind === 'status' && outcome.failure.status !== undefined && outcome.failure.status < 500 && outcome.failure.status !== 429) {
        sendFailure(res, ex, outcome.failure, adapter)
      } else {
        log.warn(`${logValue(outcome.failure.message)}; answering ${logValue(`/v1${subPath}`)} from configuration`)
        answerConfigured()
      }
    }
  }

  async function handleV1(req: IncomingMessage, res: ServerResponse, path: string, query: string, problem: string | null): Promise<void> {
    const method = req.method ?? 'GET'
    const ex = new Exchange(path, method, now())
    // The record is emitted once both the response is closed and this handler has finished its
    // bookkeeping (so an aborted stream still records the usage it saw).
    let handlerDone = false
    let closed = false
    res.once('close', () => {
      closed = true
      if (!res.writableFinished) {
        // The client went away before the response finished: stop the upstream work at once.
        ex.clientAbort.abort()
        if (ex.errorType === null || ex.success) ex.fail('client_aborted', 'client closed the connection before the response finished')
        ex.success = false
      }
      if (handlerDone) emit(ex)
    })
    try {
      if (problem) {
        req.resume()
        ex.t0 = performance.now()
        sendError(res, ex, 400, 'invalid_request_error', problem)
      } else await routeV1(req, res, ex, path, query, method)
    } finally {
      handlerDone = true
      if (closed) emit(ex)
    }
  }

  async function routeV1(req: IncomingMessage, res: ServerResponse, ex: Exchange, path: string, query: string, method: string): Promise<void> {
    const allow = (methods: string): boolean => {
      if (methods.split(',').includes(method)) return true
      req.resume()
      ex.t0 = performance.now()
      sendError(res, ex, 405, 'invalid_request_error', `method ${method} is not allowed on ${path}; use ${methods}`, {headers: {allow: methods}})
      return false
    }
    if (path === '/v1/messages') {
      if (allow('POST')) await handleMessages(req, res, ex)
    } else if (path === '/v1/messages/count_tokens') {
      if (allow('POST')) await handleCountTokens(req, res, ex)
    } else if (path === '/v1/models' || (path.startsWith('/v1/models/') && path.length > '/v1/models/'.length)) {
      if (allow('GET')) await handleModels(req, res, ex, path.slice(3), query)
    } else {
      req.resume()
      ex.t0 = performance.now()
      sendError(res, ex, 404, 'not_found_error', `${method} ${path} is not an endpoint of this gateway (it serves /v1/messages, /v1/messages/count_tokens and /v1/models)`)
    }
  }

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    let path = q === -1 ? url : url.slice(0, q)
    const problem = pathProblem(path)
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
    const method = req.method ?? 'GET'
    if (path === '/' || path === '/api/hello') {
      if (method !== 'HEAD') return false
      res.writeHead(200, {'content-length': '0'})
      res.end()
      return true
    }
    if (path === '/api/event_logging/batch') {
      if (method !== 'POST') return false
      // Telemetry is accepted and dropped, never forwarded.
      req.resume()
      const reply = (): void => {
        if (!res.headersSent) res.writeHead(204).end()
      }
      if (req.complete) reply()
      else {
        req.once('end', reply)
        req.once('error', () => res.destroy())
      }
      return true
    }
    if (path !== '/v1' && !path.startsWith('/v1/')) return false
    try {
      await handleV1(req, res, path, q === -1 ? '' : url.slice(q), problem)
    } catch (error) {
      // A bug, never a client mistake: answer in the envelope instead of crashing.
      log.error(`gateway error on ${logValue(method)} ${logValue(path)}: ${(error as Error).stack ?? String(error)}`)
      if (!res.headersSent && !res.destroyed) {
        const body = errorEnvelope('api_error', 'internal gateway error')
        res.writeHead(500, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)})
        res.end(body)
      } else if (!res.writableEnded) {
        res.end()
      }
    }
    return true
  }

  return Object.assign(handler, {close: () => transport.close()})
}
