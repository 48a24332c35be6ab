/**
 * Upstream HTTP: pooled keep-alive connections (undici Agent per provider), separate
 * connect / first-byte / idle-between-chunks / total timeouts, abort propagation and the
 * retry policy (which failures retry, backoff with jitter honouring retry-after).
 *
 * The first-byte timer runs from sending until the first body byte (or the end of an empty
 * body); after that the idle timer is re-armed on every chunk, so a long, steady stream is
 * never cut, while a stalled one is. The total timer is only used for non-streamed calls.
 */
import {EventEmitter} from 'node:events'
import http from 'node:http'
import https from 'node:https'
import type {Readable} from 'node:stream'
import {Agent, request as undiciRequest} from 'undici'

export interface UpstreamRequest {
  url: string
  method: string
  headers: Record<string, string>
  body?: Buffer | string
}

export interface UpstreamResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Readable
}

export interface Timeouts {
  connectMs: number
  firstByteMs: number
  idleMs: number
  /** 0 = off (always off for streams). */
  totalMs: number
}

/** What the request path needs of an abort signal (a real AbortSignal is one). */
export interface AbortSignalLike {
  readonly aborted: boolean
  addEventListener(type: 'abort', listener: () => void, options?: {once?: boolean}): void
  removeEventListener(type: 'abort', listener: () => void): void
}

/**
 * A light abort signal for the per-request paths: AbortController/AbortSignal are EventTargets,
 * whose creation and listener bookkeeping showed up at several percent of the gateway's CPU. This
 * is an EventEmitter (which undici accepts as `signal`) with the AbortSignal methods we use.
 */
export class Abort extends EventEmitter implements AbortSignalLike {
  aborted = false

  abort(): void {
    if (this.aborted) return
    this.aborted = true
    this.emit('abort')
  }

  addEventListener(_type: 'abort', listener: () => void, options?: {once?: boolean}): void {
    if (options?.once) this.once('abort', listener)
    else this.on('abort', listener)
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.off('abort', listener)
  }
}

/** Sends one HTTP request; resolves when the response head arrived. */
export interface Transport {
  send(req: UpstreamRequest, signal: Abort, pool: string, connectTimeoutMs: number): Promise<UpstreamResponse>
  close(): Promise<void>
}

/** Production transport: undici with one keep-alive Agent per provider. */
export class UndiciTransport implements Transport {
  private readonly agents = new Map<string, Agent>()

  private agentFor(pool: string, connectTimeoutMs: number): Agent {
    const key = `${pool}\u0000${connectTimeoutMs}`
    let agent = this.agents.get(key)
    if (!agent) {
      agent = new Agent({
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        connect: {timeout: connectTimeoutMs},
        // Our own timers govern first byte and idle; undici's would cut long streams at 300 s.
        headersTimeout: 0,
        bodyTimeout: 0,
      })
      this.agents.set(key, agent)
    }
    return agent
  }

  async send(req: UpstreamRequest, signal: Abort, pool: string, connectTimeoutMs: number): Promise<UpstreamResponse> {
    const res = await undiciRequest(req.url, {
      method: req.method as 'POST',
      headers: req.headers,
      body: req.body,
      signal,
      dispatcher: this.agentFor(pool, connectTimeoutMs),
    })
    return {status: res.statusCode, headers: res.headers, body: res.body}
  }

  async close(): Promise<void> {
    const agents = [...this.agents.values()]
    this.agents.clear()
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)))
  }
}

/**
 * node:http(s) transport with keep-alive agents. Used where interception of node:http is
 * wanted (nock-based adapter tests against remote hosts); same contract as UndiciTransport.
 */
export class NodeHttpTransport implements Transport {
  private readonly httpAgent = new http.Agent({keepAlive: true})
  private readonly httpsAgent = new https.Agent({keepAlive: true})

  send(req: UpstreamRequest, abort: Abort, _pool: string, connectTimeoutMs: number): Promise<UpstreamResponse> {
    // node:http wants a real AbortSignal.
    const controller = new AbortController()
    if (abort.aborted) controller.abort()
    else abort.addEventListener('abort', () => controller.abort(), {once: true})
    const signal = controller.signal
    return new Promise((resolve, reject) => {
      const url = new URL(req.url)
      const isHttps = url.protocol === 'https:'
      const body = req.body === undefined ? undefined : typeof req.body === 'string' ? Buffer.from(req.body) : req.body
      const headers: Record<string, string | number> = {...req.headers}
      if (body) headers['content-length'] = body.length
      const r = (isHttps ? https : http).request(
        url,
        {method: req.method, headers, agent: isHttps ? this.httpsAgent : this.httpAgent, signal},
        (res) => resolve({status: res.statusCode ?? 502, headers: res.headers, body: res}),
      )
      const connectTimer = setTimeout(() => r.destroy(Object.assign(new Error('connect timeout'), {code: 'UND_ERR_CONNECT_TIMEOUT'})), connectTimeoutMs)
      r.once('socket', (s) => {
        if (!s.connecting) clearTimeout(connectTimer)
        else s.once('connect', () => clearTimeout(connectTimer))
      })
      r.once('response', () => clearTimeout(connectTimer))
      r.once('error', (e) => {
        clearTimeout(connectTimer)
        reject(e)
      })
      r.end(body)
    })
  }

  async close(): Promise<void> {
    this.httpAgent.destroy()
    this.httpsAgent.destroy()
  }
}

export type FailureKind = 'connection' | 'first_byte_timeout' | 'idle_timeout' | 'total_timeout' | 'client_aborted'

export class UpstreamError extends Error {
  constructor(readonly kind: FailureKind, message: string, readonly code?: string) {
    super(message)
  }
}

/** One request to one provider, with its timers. */
export class UpstreamCall {
  private readonly ac = new Abort()
  private timer: NodeJS.Timeout | null = null
  private totalTimer: NodeJS.Timeout | null = null
  private timeoutKind: FailureKind | null = null
  private gotFirstByte = false
  private response: UpstreamResponse | null = null
  private paused = false
  private readonly onClientAbort = (): void => this.abort('client_aborted')
  /** ms spent waiting for the head (for overhead accounting). */
  headMs = 0

  constructor(
    private readonly transport: Transport,
    private readonly req: UpstreamRequest,
    private readonly timeouts: Timeouts,
    private readonly pool: string,
    private readonly clientSignal: AbortSignalLike,
    private readonly streaming: boolean,
  ) {}

  /** Sends the request; resolves with the response head. Rejects with UpstreamError. */
  async start(): Promise<UpstreamResponse> {
    if (this.clientSignal.aborted) throw new UpstreamError('client_aborted', 'client closed the connection')
    this.clientSignal.addEventListener('abort', this.onClientAbort, {once: true})
    this.arm(this.timeouts.firstByteMs, 'first_byte_timeout')
    if (!this.streaming && this.timeouts.totalMs > 0) {
      this.totalTimer = setTimeout(() => this.abort('total_timeout'), this.timeouts.totalMs)
    }
    const t0 = performance.now()
    try {
      this.response = await this.transport.send(this.req, this.ac, this.pool, this.timeouts.connectMs)
      this.headMs = performance.now() - t0
      return this.response
    } catch (error) {
      this.headMs = performance.now() - t0
      this.cleanup()
      throw this.classify(error)
    }
  }

  /**
   * Delivers body chunks to onChunk (return false to apply backpressure, then call resume()).
   * Resolves at the end of the body; rejects with UpstreamError on reset / timeout / abort.
   */
  consume(onChunk: (chunk: Buffer) => boolean | void): Promise<void> {
    const res = this.response
    if (!res) return Promise.reject(new UpstreamError('connection', 'no response'))
    return new Promise((resolve, reject) => {
      let settled = false
      const body = res.body
      body.on('data', (chunk: Buffer) => {
        if (!this.gotFirstByte) {
          this.gotFirstByte = true
          this.arm(this.timeouts.idleMs, 'idle_timeout')
        } else if (this.timer) {
          this.timer.refresh()
        }
        if (onChunk(chunk) === false) this.pause()
      })
      body.once('end', () => {
        if (settled) return
        settled = true
        this.cleanup()
        resolve()
      })
      const fail = (error: unknown): void => {
        if (settled) return
        settled = true
        this.cleanup()
        reject(this.classify(error))
      }
      body.once('error', fail)
      body.once('close', () => {
        if (!settled && !body.readableEnded) fail(new Error('upstream connection closed before the body ended'))
      })
    })
  }

  /** Reads the whole body (non-streamed responses, error bodies), up to maxBytes. */
  async readAll(maxBytes = 64 * 1024 * 1024): Promise<Buffer> {
    const chunks: Buffer[] = []
    let size = 0
    await this.consume((c) => {
      size += c.length
      if (size <= maxBytes) chunks.push(c)
    })
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
  }

  /** Stops the idle clock while the client is not reading (backpressure is not upstream silence). */
  pause(): void {
    if (this.paused || !this.response) return
    this.paused = true
    this.response.body.pause()
    if (this.timer) clearTimeout(this.timer)
  }

  resume(): void {
    if (!this.paused || !this.response) return
    this.paused = false
    if (this.timer && this.timeoutKind === null) this.timer.refresh()
    this.response.body.resume()
  }

  abort(kind: FailureKind = 'client_aborted'): void {
    if (this.timeoutKind === null) this.timeoutKind = kind
    this.ac.abort()
    if (this.response && !this.response.body.destroyed) this.response.body.destroy()
  }

  /** Discards an unread body so the connection can be reused or closed. */
  discard(): void {
    this.cleanup()
    const body = this.response?.body
    if (body && !body.destroyed) {
      body.on('error', () => undefined)
      body.resume()
    }
  }

  private arm(ms: number, kind: FailureKind): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = ms > 0 ? setTimeout(() => this.abort(kind), ms) : null
  }

  private cleanup(): void {
    if (this.timer) clearTimeout(this.timer)
    if (this.totalTimer) clearTimeout(this.totalTimer)
    this.timer = null
    this.totalTimer = null
    this.clientSignal.removeEventListener('abort', this.onClientAbort)
  }

  private classify(error: unknown): UpstreamError {
    if (error instanceof UpstreamError) return error
    const kind = this.timeoutKind
    if (kind === 'first_byte_timeout') return new UpstreamError(kind, `no response from upstream within ${this.timeouts.firstByteMs} ms (first-byte timeout)`)
    if (kind === 'idle_timeout') return new UpstreamError(kind, `upstream sent nothing for ${this.timeouts.idleMs} ms (idle timeout)`)
    if (kind === 'total_timeout') return new UpstreamError(kind, `upstream did not finish within ${this.timeouts.totalMs} ms (total timeout)`)
    if (kind === 'client_aborted' || this.clientSignal.aborted) return new UpstreamError('client_aborted', 'client closed the connection')
    const e = error as {code?: string; message?: string; cause?: {code?: string; message?: string}}
    const code = e?.code ?? e?.cause?.code
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return new UpstreamError('connection', `could not connect within ${this.timeouts.connectMs} ms (connect timeout)`, code)
    const message = e?.cause?.message ?? e?.message ?? String(error)
    return new UpstreamError('connection', code ? `${code}: ${message}` : message, code)
  }
}

/** Statuses worth retrying on the same provider and then the fallback chain. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

export interface BackoffPolicy {
  baseMs: number
  maxMs: number
  /** A server-requested wait longer than this is not waited for (the next provider is tried, or the client gets the 429). */
  maxRetryAfterMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = {baseMs: 500, maxMs: 8000, maxRetryAfterMs: 30_000}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

/** Server-requested delay from retry-after-ms / retry-after (seconds or HTTP date), in ms. */
export function retryAfterMs(headers: Record<string, string | string[] | undefined> | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined
  const ms = headerString(headers['retry-after-ms'])
  if (ms !== undefined && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms))
  const ra = headerString(headers['retry-after'])
  if (ra === undefined || ra.trim() === '') return undefined
  if (Number.isFinite(Number(ra))) return Math.max(0, Number(ra) * 1000)
  const date = Date.parse(ra)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * Delay before retry number `attempt` (0-based): the server's retry-after when given,
 * else exponential min(base * 2^attempt, max) with up to 25% downward jitter.
 * Returns undefined when the server asks for longer than the policy allows.
 */
export function backoffDelay(
  attempt: number,
  headers: Record<string, string | string[] | undefined> | undefined,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number | undefined {
  const server = retryAfterMs(headers)
  if (server !== undefined) return server > policy.maxRetryAfterMs ? undefined : server
  const exp = Math.min(policy.baseMs * 2 ** attempt, policy.maxMs)
  return Math.round(exp * (1 - random() * 0.25))
}

export function sleep(ms: number, signal: AbortSignalLike): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false)
    const onAbort = (): void => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal.addEventListener('abort', onAbort, {once: true})
  })
}
