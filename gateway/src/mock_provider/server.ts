/** The mock provider's HTTP server: routing, fault injection, request recording and the /_mock control surface. */
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {applyClientLimits} from '../daemon/http_limits.js'
import {anthropicError, anthropicFaultError, handleCountTokens, handleGetModel, handleListModels, handleMessages} from './anthropic.js'
import {InvalidFaultsError, parseFaults} from './faults.js'
import {makeRng, type Rng} from './generate.js'
import {handleChatCompletions, handleResponses, openAiError, openAiFaultError} from './openai.js'
import {type GenContext, type Reply, headerValue, jsonReply} from './reply.js'
import type {MockFaults, MockProviderOptions, RecordedRequest, RunningMockProvider} from './types.js'

/** Anthropic's documented request size limit for Messages; larger bodies get 413 like the real API. */
const MAX_BODY_BYTES = 32 * 1024 * 1024
/** Recorded bodies are kept in memory; past this many bytes the oldest records are dropped (benchmarks send a lot). */
const MAX_RECORDED_BYTES = 64 * 1024 * 1024

interface Record_ {
  method: string
  path: string
  headers: http.IncomingHttpHeaders
  chunks: Buffer[]
  bytes: number
  receivedAt: number
  aborted: boolean
}

/** Bounded in-order log with O(1) amortised eviction of the oldest entries. */
class RequestLog {
  private items: Record_[] = []
  private head = 0
  private bytes = 0
  constructor(private readonly maxCount: number) {}

  add(record: Record_): void {
    this.items.push(record)
  }

  /** Called when a body is complete, so byte accounting includes it. */
  account(record: Record_): void {
    this.bytes += record.bytes
    while (this.items.length - this.head > this.maxCount || (this.bytes > MAX_RECORDED_BYTES && this.items.length - this.head > 1)) {
      const dropped = this.items[this.head++] as Record_
      this.bytes -= dropped.bytes
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }

  snapshot(): RecordedRequest[] {
    return this.items.slice(this.head).map((r) => {
      const body = Buffer.concat(r.chunks)
      return {method: r.method, path: r.path, headers: {...r.headers}, body: body.toString('utf8'), bodyBase64: body.toString('base64'), receivedAt: r.receivedAt, aborted: r.aborted}
    })
  }

  clear(): number {
    const count = this.items.length - this.head
    this.items = []
    this.head = 0
    this.bytes = 0
    return count
  }
}

type Surface = 'anthropic' | 'openai'
type Route = {surface: Surface; handle: (body: string) => Reply; needsBody: boolean; auth: 'anthropic' | 'openai' | 'azure' | 'none'}

export async function startMockProvider(opts: MockProviderOptions = {}): Promise<RunningMockProvider> {
  const host = opts.host ?? '127.0.0.1'
  const seed = (opts.seed ?? 1) >>> 0
  let serial = 0
  const ctx: GenContext = {
    seed,
    outputTokens: positiveInteger(opts.outputTokens, 20, 'outputTokens'),
    streamEvents: positiveInteger(opts.streamEvents, 5, 'streamEvents'),
    nextSerial: () => ++serial,
  }
  const log = new RequestLog(positiveInteger(opts.maxRecordedRequests, 10000, 'maxRecordedRequests'))

  let faults: MockFaults = {}
  let apiRequestCount = 0
  let errorRng: Rng = makeRng(seed)
  const setFaults = (next: MockFaults) => {
    faults = parseFaults(next)
    apiRequestCount = 0
    errorRng = makeRng(seed ^ 0x9e3779b9)
  }
  setFaults(opts.faults ?? {})

  const timers = new Set<NodeJS.Timeout>()
  let closing = false
  const sleep = (ms: number | undefined): Promise<void> => {
    if (!ms || ms <= 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timers.add(timer)
    })
  }

  /** Decides whether this API request is one of the failing ones (failFirstN / errorRate, else every request when a failure mode is set). */
  const selectFailure = (): boolean => {
    const n = apiRequestCount++
    const failFirstN = faults.failFirstN ?? 0
    const errorRate = faults.errorRate ?? 0
    if (failFirstN > 0 || errorRate > 0) {
      const draw = errorRate > 0 ? errorRng() : 1
      return n < failFirstN || draw < errorRate
    }
    return faults.resetBeforeHeaders === true || faults.neverRespond === true || faults.errorStatus !== undefined
  }

  const route = (method: string, pathname: string, query: URLSearchParams): Route | Reply => {
    const anthropic = (handle: (body: string) => Reply, needsBody = true, auth: Route['auth'] = 'anthropic'): Route => ({surface: 'anthropic', handle, needsBody, auth})
    const openai = (handle: (body: string) => Reply, auth: Route['auth']): Route => ({surface: 'openai', handle, needsBody: true, auth})
    const expect = (allowed: string, r: Route): Route | Reply => {
      if (method === allowed) return r
      const message = `${method} is not allowed on ${pathname}; use ${allowed}`
      return r.surface === 'anthropic' ? anthropicError(ctx, 405, message, {allow: allowed}) : openAiError(ctx, 405, message, {headers: {allow: allowed}})
    }

    switch (pathname) {
      case '/v1/messages': return expect('POST', anthropic((b) => handleMessages(ctx, b)))
      case '/v1/messages/count_tokens': return expect('POST', anthropic((b) => handleCountTokens(ctx, b)))
      case '/v1/models': return expect('GET', anthropic(() => handleListModels(ctx, query), false))
      case '/v1/chat/completions':
      case '/chat/completions':
      case '/openai/v1/chat/completions':
        return expect('POST', openai((b) => handleChatCompletions(ctx, b, {}), pathname.startsWith('/openai/') ? 'azure' : 'openai'))
      case '/v1/responses':
      case '/openai/v1/responses':
        return expect('POST', openai((b) => handleResponses(ctx, b), pathname.startsWith('/openai/') ? 'azure' : 'openai'))
      case '/openai/responses':
        if (!query.get('api-version')) return missingApiVersion()
        return expect('POST', openai((b) => handleResponses(ctx, b), 'azure'))
    }
    if (pathname.startsWith('/v1/models/')) {
      const id = safeDecode(pathname.slice('/v1/models/'.length))
      if (id === null) return anthropicError(ctx, 400, 'the model id in /v1/models/{model_id} is not valid percent-encoded UTF-8')
      return expect('GET', anthropic(() => handleGetModel(ctx, id), false))
    }
    const deployment = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(pathname)
    if (deployment) {
      if (!query.get('api-version')) return missingApiVersion()
      const name = safeDecode(deployment[1] as string)
      if (name === null) return jsonReply(400, {error: {code: 'InvalidDeployment', message: 'the deployment name is not valid percent-encoded UTF-8'}})
      return expect('POST', openai((b) => handleChatCompletions(ctx, b, {deployment: name}), 'azure'))
    }
    if (pathname.startsWith('/openai/')) return jsonReply(404, {error: {code: '404', message: `Resource not found: ${pathname}`}})
    return anthropicError(ctx, 404, `Not found: ${method} ${pathname}. The mock serves /v1/messages, /v1/messages/count_tokens, /v1/models, /v1/chat/completions, /openai/deployments/{deployment}/chat/completions and /openai/v1/responses`)
  }

  const missingApiVersion = (): Reply =>
    jsonReply(400, {error: {code: 'MissingApiVersionParameter', message: 'The api-version query parameter (?api-version=) is required for all requests.'}})

  const unauthorized = (r: Route, headers: http.IncomingHttpHeaders): Reply | undefined => {
    switch (r.auth) {
      case 'anthropic':
        return headerValue(headers, 'x-api-key') || headerValue(headers, 'authorization') ? undefined : anthropicError(ctx, 401, 'x-api-key header is required (or Authorization: Bearer)')
      case 'openai':
        return headerValue(headers, 'authorization') || headerValue(headers, 'api-key') ? undefined
          : openAiError(ctx, 401, "You didn't provide an API key. Provide it in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY).", {code: 'missing_api_key'})
      case 'azure':
        return headerValue(headers, 'api-key') || headerValue(headers, 'authorization') ? undefined
          : jsonReply(401, {error: {code: '401', message: 'Access denied due to missing subscription key. Make sure to include the api-key header (or Authorization: Bearer) when making requests.'}})
      case 'none':
        return undefined
    }
  }

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/'
    const queryStart = url.indexOf('?')
    const pathname = queryStart === -1 ? url : url.slice(0, queryStart)
    if (pathname.startsWith('/_mock/') || pathname === '/_mock') {
      collectBody(req, (body) => control(req.method ?? 'GET', pathname, body, res))
      return
    }
    const record: Record_ = {method: req.method ?? 'GET', path: url, headers: req.headers, chunks: [], bytes: 0, receivedAt: Date.now(), aborted: false}
    log.add(record)
    let serverClosedConnection = false
    res.on('close', () => {
      if (!res.writableFinished && !serverClosedConnection && !closing) record.aborted = true
    })
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      record.bytes += chunk.length
      if (record.bytes > MAX_BODY_BYTES) tooLarge = true
      else record.chunks.push(chunk)
    })
    req.on('end', () => {
      log.account(record)
      void answer().catch(() => res.destroy())
    })

    const answer = async (): Promise<void> => {
      const query = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1))
      const method = req.method ?? 'GET'
      if (pathname === '/') {
        // Claude Code probes the base URL with HEAD /.
        return write(res, method === 'HEAD' ? {kind: 'empty', status: 200, headers: {}} : jsonReply(200, {status: 'ok', service: 'cco mock provider'}), false)
      }
      const current = faults
      const fail = selectFailure()
      if (fail && current.neverRespond) return
      await sleep(current.latencyMs)
      if (res.destroyed) return
      const target = route(method, pathname, query)
      const surface = 'kind' in target ? (pathname.startsWith('/openai/') ? 'openai' : 'anthropic') : target.surface
      if (fail && current.resetBeforeHeaders) {
        serverClosedConnection = true
        req.socket.resetAndDestroy()
        return
      }
      if (fail) {
        const status = current.errorStatus ?? 500
        const retryAfter = current.retryAfterSecs ?? 1
        return write(res, surface === 'openai' ? openAiFaultError(ctx, status, retryAfter) : anthropicFaultError(ctx, status, retryAfter), true)
      }
      if ('kind' in target) return write(res, target, true)
      if (tooLarge) return write(res, (target.surface === 'openai' ? openAiError : anthropicError)(ctx, 413, `Request body exceeds ${MAX_BODY_BYTES} bytes`), true)
      const denied = unauthorized(target, req.headers)
      if (denied) return write(res, denied, true)
      const body = target.needsBody ? Buffer.concat(record.chunks).toString('utf8') : ''
      return write(res, target.handle(body), true)
    }

    /** Writes a reply, applying ttfb and the stream faults. */
    const write = async (response: http.ServerResponse, reply: Reply, applyFaults: boolean): Promise<void> => {
      const f = applyFaults ? faults : {}
      if (reply.kind === 'empty') {
        response.writeHead(reply.status, {'content-length': '0', ...reply.headers}).end()
        return
      }
      if (reply.kind === 'json') {
        response.writeHead(reply.status, {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(reply.body)), ...reply.headers})
        if (f.ttfbMs) {
          response.flushHeaders()
          await sleep(f.ttfbMs)
          if (response.destroyed) return
        }
        response.end(reply.body)
        return
      }
      let frames = reply.frames
      if (f.malformedSse) {
        frames = [...frames]
        frames.splice(Math.floor(frames.length / 2), 0, reply.malformedFrame)
      }
      // Truncating faults never let the terminal event through, whatever N is.
      const limitOf = (n: number | undefined) => (n === undefined ? undefined : Math.min(n, frames.length - 1))
      const cutAt = limitOf(f.cutStreamAfterEvents)
      const endAt = limitOf(f.endStreamAfterEvents)
      const stallAt = limitOf(f.stallAfterEvents)
      response.writeHead(200, {'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...reply.headers})
      if (!f.ttfbMs && !f.eventDelayMs && cutAt === undefined && endAt === undefined && stallAt === undefined) {
        response.end(frames.join(''))
        return
      }
      response.flushHeaders()
      await sleep(f.ttfbMs)
      for (let i = 0; i <= frames.length; i++) {
        if (response.destroyed) return
        if (i === stallAt) return
        if (i === endAt) {
          response.end()
          return
        }
        if (i === cutAt) {
          serverClosedConnection = true
          response.socket?.destroy()
          return
        }
        if (i === frames.length) break
        if (i > 0) {
          await sleep(f.eventDelayMs)
          if (response.destroyed) return
        }
        const frame = frames[i] as string
        // Wait until the frame is flushed so a following cut cannot swallow it.
        await new Promise<void>((resolve) => response.write(frame, () => resolve()))
      }
      response.end()
    }
  })

  const control = (method: string, pathname: string, body: string, res: http.ServerResponse) => {
    const send = (status: number, payload: unknown) => {
      const text = JSON.stringify(payload)
      res.writeHead(status, {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text))}).end(text)
    }
    const wrongMethod = (allowed: string) => send(405, {error: `${method} is not allowed on ${pathname}; use ${allowed}`})
    switch (pathname) {
      case '/_mock/faults':
        if (method === 'GET') return send(200, {faults})
        if (method !== 'POST') return wrongMethod('GET or POST')
        try {
          setFaults(parseFaults(body.trim() === '' ? {} : JSON.parse(body)))
          return send(200, {faults})
        } catch (error) {
          const message = error instanceof InvalidFaultsError ? error.message : `request body is not valid JSON (${(error as Error).message}); send a JSON object of faults such as {"latencyMs": 100}`
          return send(400, {error: message})
        }
      case '/_mock/requests':
        if (method === 'GET') return send(200, {requests: log.snapshot()})
        if (method === 'DELETE') return send(200, {cleared: log.clear()})
        return wrongMethod('GET or DELETE')
      case '/_mock/health':
        return send(200, {status: 'ok'})
      default:
        return send(404, {error: `unknown control path ${pathname}; known: /_mock/faults (GET, POST), /_mock/requests (GET, DELETE), /_mock/health (GET)`})
    }
  }

  server.keepAliveTimeout = 65_000
  applyClientLimits(server, {errorBody: (status, message) => ['application/json', JSON.stringify({type: 'error', error: {type: status === 408 ? 'timeout_error' : status === 431 ? 'request_too_large' : 'invalid_request_error', message}})]})
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const urlHost = host.includes(':') ? `[${host}]` : host

  return {
    url: `http://${urlHost}:${port}`,
    port,
    setFaults,
    requests: () => log.snapshot(),
    clearRequests: () => void log.clear(),
    close: async () => {
      closing = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

/** decodeURIComponent, or null for a malformed escape (a client mistake, answered 400). */
function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text)
  } catch {
    return null
  }
}

function collectBody(req: http.IncomingMessage, done: (body: string) => void): void {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')))
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name}: expected a positive integer, got ${String(value)}`)
  return value
}
