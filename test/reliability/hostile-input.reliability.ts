import {expect} from 'chai'
import fc from 'fast-check'
import http from 'node:http'
import net from 'node:net'

import {isAnthropicEnvelope, isErrorJson, isProxyText} from './lib/envelopes.js'
import {allStatuses, rawRequest} from './lib/raw.js'
import {type FuzzFigure, FUZZ_RUNS, results} from './lib/results.js'
import {anthropicProvider, audit, E2eWorld, type GatewayDaemon, type MockProcess, plainHttp, readLog, readPid, samePidAlive, waitFor} from './lib/world.js'

/*
 * Hostile and malformed input to every listener (gateway, daemon control port, legacy proxy,
 * mock provider): generated bodies, paths, queries and headers (fast-check), then hand-written
 * framing attacks over raw sockets (header injection, smuggling, oversize, slow clients).
 * A client mistake must get a well-formed 4xx in that listener's envelope: never a 5xx, a
 * hang, a crash or a restart (the daemon's PID is checked after each batch).
 */

/** Short limits so oversize and slow-client cases finish quickly (the defaults are larger). */
const MAX_BODY_BYTES = 256 * 1024
const HEADERS_TIMEOUT_MS = 2000
const REQUEST_TIMEOUT_MS = 4000

interface Reply {
  status: number
  text: string
  error?: string
}

function hit(port: number, opts: {method: string; path: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number}): Promise<Reply> {
  return new Promise((resolve) => {
    const req = http.request({host: '127.0.0.1', port, method: opts.method, path: opts.path, headers: opts.headers, agent: false, timeout: opts.timeoutMs ?? 15_000}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8')}))
      res.on('error', (e) => resolve({status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), error: e.message}))
    })
    req.on('timeout', () => req.destroy(new Error('no answer (hang)')))
    req.on('error', (e) => resolve({status: 0, text: '', error: e.message}))
    req.end(opts.body)
  })
}

class Tally {
  readonly figure: FuzzFigure
  constructor(target: string) {
    this.figure = {target, inputs: 0, statuses: {}, serverErrors: 0, crashes: 0}
    results.fuzz.push(this.figure)
  }
  count(status: number): void {
    this.figure.inputs++
    const key = status === 0 ? 'no answer' : String(status)
    this.figure.statuses[key] = (this.figure.statuses[key] ?? 0) + 1
    if (status >= 500 || status === 0) this.figure.serverErrors++
  }
}

const JSON_HEADERS = {'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-fuzz-key-0000'}

/** A body that is not a valid Messages request: invalid JSON, wrong types, huge strings, deep nesting, invalid UTF-8. */
const badMessagesBody: fc.Arbitrary<{kind: string; body: Buffer}> = fc.oneof(
  fc.string({maxLength: 200}).filter((s) => {
    try {
      JSON.parse(s)
      return false
    } catch {
      return true
    }
  }).map((s) => ({kind: 'invalid JSON', body: Buffer.from(s)})),
  fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string(), fc.array(fc.jsonValue(), {maxLength: 5})).map((v) => ({kind: 'not an object', body: Buffer.from(JSON.stringify(v) ?? 'null')})),
  fc
    .record({
      model: fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string()), fc.string({maxLength: 3}).map((s) => ({s}))),
      max_tokens: fc.oneof(fc.string(), fc.constant(-1), fc.double({noNaN: true}), fc.constant(null)),
      messages: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.dictionary(fc.string(), fc.string())),
      stream: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
      system: fc.oneof(fc.integer(), fc.dictionary(fc.string(), fc.integer())),
    }, {requiredKeys: []})
    .filter((r) => Object.keys(r).length > 0)
    .map((r) => ({kind: 'wrong types', body: Buffer.from(JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{role: 'user', content: 'x'}], ...r}))})),
  fc.integer({min: 2_000, max: 100_000}).map((depth) => ({kind: 'deep nesting', body: Buffer.from(`{"model":"claude-sonnet-4-6","max_tokens":16,"messages":${'['.repeat(depth)}${']'.repeat(depth)}}`)})),
  fc.integer({min: 1, max: 8}).map((n) => ({kind: 'huge string model', body: Buffer.from(JSON.stringify({model: 'x'.repeat(n * 20_000), max_tokens: 16, messages: [{role: 'user', content: 'x'}]}))})),
  fc.uint8Array({minLength: 1, maxLength: 64}).map((bytes) => ({kind: 'invalid UTF-8', body: Buffer.concat([Buffer.from('{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(bytes), Buffer.from('"}]')])})),
  fc.integer({min: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES * 3}).map((n) => ({kind: 'oversized', body: Buffer.alloc(n, 0x20)})),
)

const methods = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD')
const segment = fc.oneof(fc.constantFrom('v1', 'messages', 'count_tokens', 'models', 'gateway', 'health', 'audit', 'metrics', 'reset', 'daemon', 'status', '_mock', 'faults', 'requests', '..', '%2e%2e', '%00', '%ff', ''), fc.webSegment())
const fuzzPath = fc.tuple(fc.array(segment, {minLength: 1, maxLength: 5}), fc.option(fc.webQueryParameters(), {nil: undefined})).map(([parts, q]) => `/${parts.join('/')}${q === undefined ? '' : `?${q}`}`)
const auditQuery = fc
  .dictionary(fc.constantFrom('start_time', 'end_time', 'agent_type', 'provider', 'model', 'success', 'stream', 'limit', 'offset', 'include_bodies', 'window'), fc.oneof(fc.string({maxLength: 30}), fc.integer().map(String), fc.constantFrom('-1', '1e309', 'NaN', 'true', 'yes', '2026-13-45', '99999999999999999999')))
  .map((q) => new URLSearchParams(q).toString())
/** Header values a client library would send (no CR/LF: those are raw-socket cases below). */
const headerValue = fc.string({maxLength: 300}).map((s) => s.replace(/[^\t\x20-\x7e]/g, 'x'))
const fuzzHeaders = fc.dictionary(fc.constantFrom('x-cco-agent-type', 'x-claude-code-agent-id', 'anthropic-version', 'anthropic-beta', 'x-api-key', 'authorization', 'content-type', 'accept', 'x-forwarded-for', 'x-stainless-retry-count'), headerValue)

/** Sends bytes, waits until the answer so far matches `until` (or the bytes are flushed), then resets the socket (RST). */
function sendThenReset(port: number, chunks: string[], until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let received = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer matching ${String(until)} (got ${JSON.stringify(received.slice(0, 200))})`))
    }, 15_000)
    const reset = () => {
      clearTimeout(timer)
      socket.resetAndDestroy()
      resolve(received)
    }
    let step = 0
    const next = () => {
      const chunk = chunks[step++]
      if (chunk === undefined) return until ? undefined : reset()
      socket.write(chunk, () => (step < chunks.length ? undefined : until ? undefined : reset()))
    }
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') reject(new Error(`cannot connect to ${port}: the listener is gone`))
    })
    socket.on('data', (c: Buffer) => {
      received += c.toString('latin1')
      if (step < chunks.length && /200 Connection Established\r\n\r\n$/.test(received)) next()
      else if (until && until.test(received)) reset()
    })
    socket.once('connect', next)
  })
}

describe('reliability: hostile and malformed input to every listener', function () {
  this.timeout(600_000)
  const world = new E2eWorld()
  let mock: MockProcess
  let daemon: GatewayDaemon
  let controlPort: number
  let proxyPort: number
  let mockPort: number

  before(async () => {
    mock = await world.mock()
    mockPort = Number(new URL(mock.url).port)
    daemon = await world.startDaemon(
      {providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}, server: {maxBodyBytes: MAX_BODY_BYTES, headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS}},
      {flags: {gatewayEnabled: true, proxyEnabled: true}},
    )
    const pid = readPid(daemon.home) as {port: number; proxy_port: number}
    controlPort = pid.port
    proxyPort = pid.proxy_port
  })
  after(() => world.cleanup())

  /** After each batch: same daemon process, every listener still answers. */
  async function stillHealthy(): Promise<void> {
    expect(samePidAlive(daemon.home, daemon.pid), 'the daemon crashed or was replaced').to.equal(true)
    expect((await plainHttp(`${daemon.url}/gateway/health`)).status).to.equal(200)
    expect((await plainHttp(`http://127.0.0.1:${controlPort}/daemon/status`)).status).to.equal(200)
    expect((await plainHttp(`${mock.url}/_mock/health`)).status).to.equal(200)
    expect(readLog(daemon.home)).to.not.match(/uncaught exception|Fatal/i)
  }

  /**
   * Mistakes the listener can see itself (not JSON, not an object, too large) must get a 4xx;
   * the rest (deep nesting, huge or invalid-UTF-8 strings, odd field types) is forwarded to the
   * upstream, which decides, so it may be a 200, but never a 5xx or no answer.
   */
  const DEFINITE_MISTAKES = new Set(['invalid JSON', 'not an object', 'oversized'])
  const assertClientError = (r: Reply, envelope: (t: string) => boolean, what: string, kind: string) => {
    expect(r.error, `${what}: ${r.error}`).to.equal(undefined)
    if (DEFINITE_MISTAKES.has(kind)) expect(r.status, `${what}: ${r.status} ${r.text.slice(0, 300)}`).to.be.within(400, 499)
    else expect(r.status, `${what}: ${r.status} ${r.text.slice(0, 300)}`).to.be.within(200, 499)
    if (r.status >= 400) expect(envelope(r.text), `${what}: not the listener's error envelope: ${r.text.slice(0, 300)}`).to.equal(true)
  }

  it('gateway POST /v1/messages and /v1/messages/count_tokens: generated invalid bodies -> 4xx in Anthropic envelope', async () => {
    const tally = new Tally('gateway /v1/messages, /v1/messages/count_tokens: invalid bodies')
    await fc.assert(
      fc.asyncProperty(badMessagesBody, fc.constantFrom('/v1/messages', '/v1/messages/count_tokens', '/v1/messages?beta=true'), fuzzHeaders, async ({kind, body}, path, headers) => {
        const r = await hit(daemon.gatewayPort, {method: 'POST', path, headers: {...JSON_HEADERS, ...headers, 'content-type': 'application/json'}, body})
        tally.count(r.status)
        assertClientError(r, isAnthropicEnvelope, `${kind} (${body.length} bytes) to ${path}`, kind)
      }),
      {numRuns: FUZZ_RUNS},
    )
    await stillHealthy()
  })

  /*
   * Regression (CI run of 2026-12-07, seed 799021439): a 523,578-byte body got `write EPIPE` instead of
   * the 413. The gateway answered before reading the body and the connection (Connection: close, as
   * with agent: false) was closed with unread bytes, which resets it. Each size, declared and chunked,
   * to the gateway and, refused, to the proxy: the client must read the status every time.
   */
  it('regression (seed 799021439): an oversized body over a Connection: close client always reads its 413, never EPIPE/ECONNRESET', async () => {
    const tally = new Tally('gateway and proxy: oversized bodies, client keeps sending')
    const failures: string[] = []
    const sizes = [523_578, MAX_BODY_BYTES * 3, 4 * 1024 * 1024]
    for (let round = 0; round < 10; round++) {
      for (const size of sizes) {
        for (const chunked of [false, true]) {
          const headers: Record<string, string> = {...JSON_HEADERS, ...(chunked ? {'transfer-encoding': 'chunked'} : {})}
          const gateway = await hit(daemon.gatewayPort, {method: 'POST', path: '/v1/messages', headers, body: Buffer.alloc(size, 0x20)})
          tally.count(gateway.status)
          if (gateway.error !== undefined || gateway.status !== 413 || !isAnthropicEnvelope(gateway.text)) failures.push(`gateway ${size} bytes${chunked ? ' chunked' : ''}: ${gateway.status} ${gateway.error ?? gateway.text.slice(0, 100)}`)
          const proxy = await hit(proxyPort, {method: 'POST', path: 'http://refused.example:80/v1/messages', headers, body: Buffer.alloc(size, 0x20)})
          tally.count(proxy.status)
          if (proxy.error !== undefined || proxy.status !== 403 || !isProxyText(proxy.text)) failures.push(`proxy ${size} bytes${chunked ? ' chunked' : ''}: ${proxy.status} ${proxy.error ?? proxy.text.slice(0, 100)}`)
        }
      }
    }
    expect(failures).to.deep.equal([])
    // The seed that failed in CI, replayed as it was generated.
    await fc.assert(
      fc.asyncProperty(badMessagesBody, fc.constantFrom('/v1/messages', '/v1/messages/count_tokens', '/v1/messages?beta=true'), fuzzHeaders, async ({kind, body}, path, headers) => {
        const r = await hit(daemon.gatewayPort, {method: 'POST', path, headers: {...JSON_HEADERS, ...headers, 'content-type': 'application/json'}, body})
        tally.count(r.status)
        assertClientError(r, isAnthropicEnvelope, `${kind} (${body.length} bytes) to ${path}`, kind)
      }),
      {seed: 799021439, numRuns: 60},
    )
    await stillHealthy()
  })

  it('gateway: any method and path, audit/metrics queries and headers -> never a 5xx; errors in Anthropic envelope', async () => {
    const tally = new Tally('gateway: methods, paths, queries, headers')
    await fc.assert(
      fc.asyncProperty(methods, fc.oneof(fuzzPath, auditQuery.map((q) => `/gateway/audit?${q}`), auditQuery.map((q) => `/gateway/metrics?${q}`)), fuzzHeaders, fc.option(fc.string({maxLength: 200})), async (method, path, headers, body) => {
        const r = await hit(daemon.gatewayPort, {method, path, headers, ...(body !== null && method !== 'GET' && method !== 'HEAD' ? {body} : {})})
        tally.count(r.status)
        expect(r.error, `${method} ${path}: ${r.error}`).to.equal(undefined)
        expect(r.status, `${method} ${path}: ${r.status} ${r.text.slice(0, 200)}`).to.be.within(200, 499)
        if (r.status >= 400 && method !== 'HEAD') expect(isAnthropicEnvelope(r.text), `${method} ${path}: ${r.text.slice(0, 200)}`).to.equal(true)
      }),
      {numRuns: FUZZ_RUNS},
    )
    await stillHealthy()
  })

  it('control port: any method, path and body -> 4xx {"error"} (GET /daemon/status aside), never a 5xx', async () => {
    const tally = new Tally('daemon control port')
    await fc.assert(
      fc.asyncProperty(methods, fuzzPath, fuzzHeaders, fc.option(fc.string({maxLength: 500})), async (method, path, headers, body) => {
        const r = await hit(controlPort, {method, path, headers, ...(body !== null && method !== 'GET' && method !== 'HEAD' ? {body} : {})})
        tally.count(r.status)
        if (method === 'GET' && path.split('?')[0] === '/daemon/status') return void expect(r.status).to.equal(200)
        expect(r.status, `${method} ${path}: ${r.error ?? ''}`).to.be.within(400, 499)
        if (method !== 'HEAD') expect(isErrorJson(r.text), `${method} ${path}: ${r.text.slice(0, 200)}`).to.equal(true)
      }),
      {numRuns: FUZZ_RUNS},
    )
    await stillHealthy()
  })

  it('legacy proxy: generated request targets, hosts and CONNECT authorities -> 400/403 naming the proxy, never forwarded elsewhere', async () => {
    const tally = new Tally('legacy proxy (absolute-form and CONNECT)')
    const allowed = `127.0.0.1:${mockPort}`
    const target = fc.oneof(
      fc.webUrl().filter((u) => !u.includes(allowed)),
      fuzzPath,
      fc.tuple(fc.constantFrom('127.0.0.1', 'localhost', '[::1]', '0.0.0.0', '169.254.169.254', '10.0.0.1', 'api.anthropic.com.evil.test', '127.1', '2130706433'), fc.integer({min: 1, max: 65535}).filter((p) => p !== mockPort)).map(([h, p]) => `http://${h}:${p}/v1/messages`),
      fc.constantFrom('file:///etc/passwd', 'gopher://127.0.0.1:25/', 'ftp://x/', `http://user:pass@127.0.0.2:${mockPort}/`, `http://127.0.0.1:${mockPort}@evil.test/`),
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST'), target, async (method, url) => {
        const r = await rawRequest(proxyPort, [`${method} ${url} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`], {timeoutMs: 10_000})
        tally.count(r.status)
        expect(r.timedOut, `${method} ${url} hung`).to.equal(false)
        expect([400, 403], `${method} ${url}: ${r.data.toString('latin1').slice(0, 200)}`).to.include(r.status)
        expect(isProxyText(r.body) || r.body === '', r.body).to.equal(true)
      }),
      {numRuns: FUZZ_RUNS},
    )
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.domain(), fc.constantFrom('127.0.0.1', 'localhost', '[::1]', '169.254.169.254', 'x:y', '')), fc.oneof(fc.integer({min: 0, max: 70000}).filter((p) => p !== mockPort).map(String), fc.constantFrom('', 'abc', '-1')), async (host, port) => {
        const authority = `${host}:${port}`
        const r = await rawRequest(proxyPort, [`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`], {timeoutMs: 10_000})
        tally.count(r.status)
        expect(r.timedOut, `CONNECT ${authority} hung`).to.equal(false)
        expect([400, 403], `CONNECT ${authority}: ${r.data.toString('latin1').slice(0, 200)}`).to.include(r.status)
      }),
      {numRuns: Math.ceil(FUZZ_RUNS / 2)},
    )
    await stillHealthy()
  })

  it('mock provider: /_mock/faults with generated JSON and /v1/* with invalid bodies -> 4xx in its envelopes, never a 5xx', async () => {
    const tally = new Tally('mock provider (/_mock/*, /v1/*)')
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'), fc.string({maxLength: 100}), fc.dictionary(fc.constantFrom('latencyMs', 'errorRate', 'errorStatus', 'failFirstN', 'malformedSse', 'bogus'), fc.jsonValue()).map((v) => JSON.stringify(v))), async (body) => {
        const r = await hit(mockPort, {method: 'POST', path: '/_mock/faults', headers: {'content-type': 'application/json'}, body})
        tally.count(r.status)
        expect(r.status === 200 || (r.status === 400 && isErrorJson(r.text)), `${body.slice(0, 100)} -> ${r.status} ${r.text.slice(0, 200)}`).to.equal(true)
      }),
      {numRuns: FUZZ_RUNS},
    )
    await mock.setFaults({})
    await fc.assert(
      fc.asyncProperty(badMessagesBody, fc.constantFrom('/v1/messages', '/v1/messages/count_tokens'), async ({kind, body}, path) => {
        const r = await hit(mockPort, {method: 'POST', path, headers: JSON_HEADERS, body})
        tally.count(r.status)
        assertClientError(r, isAnthropicEnvelope, `mock ${kind} to ${path}`, kind)
      }),
      {numRuns: Math.ceil(FUZZ_RUNS / 2)},
    )
    await mock.setFaults({})
    await stillHealthy()
  })

  it('request targets that are not plain paths ("//", "//%00", "*", absolute-form) -> 400 in the envelope, never a crash', async () => {
    const tally = new Tally('request targets that are not paths')
    const targets = ['//', '//%00', '//%ff/health', '//gateway/health', '*', 'http://127.0.0.1/v1/messages', '/%', '/v1/messages/%']
    for (const l of [{port: daemon.gatewayPort, envelope: isAnthropicEnvelope}, {port: controlPort, envelope: isErrorJson}, {port: mockPort, envelope: isAnthropicEnvelope}]) {
      for (const target of targets) {
        for (const method of ['GET', 'POST', 'OPTIONS']) {
          const r = await rawRequest(l.port, [`${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`])
          tally.count(r.status)
          expect(r.status, `${method} ${target} on ${l.port}: ${r.data.toString('latin1').slice(0, 200)}`).to.be.within(400, 499)
          expect(l.envelope(r.body), `${method} ${target}: ${r.body}`).to.equal(true)
        }
      }
      await stillHealthy()
    }
  })

  it('log injection: CR/LF inside JSON fields never forges a daemon.log line', async () => {
    const forged = `FORGED-${Date.now()}`
    for (const field of ['model', 'agent']) {
      const body = JSON.stringify({model: field === 'model' ? `claude-sonnet-4-6\n✅ LLM Gateway started on port 1 ${forged}\r\n${forged}` : 'claude-sonnet-4-6', max_tokens: 16, messages: [{role: 'user', content: 'x'}]})
      await hit(daemon.gatewayPort, {method: 'POST', path: '/v1/messages', headers: JSON_HEADERS, body})
    }
    await waitFor(() => readLog(daemon.home).length > 0, 'the log')
    const forgedLines = readLog(daemon.home).split('\n').filter((l) => l.includes(forged) && !/^\S+ \[/.test(l) && !/^\d{4}-/.test(l))
    expect(forgedLines).to.deep.equal([])
  })

  describe('framing attacks over raw sockets', () => {
    const tally = new Tally('raw sockets: injection, smuggling, oversize, slow clients')
    // `smuggled` is a GET that would answer 200 if the listener ever parsed it as a second request.
    const listeners = () => [
      {name: 'gateway', port: daemon.gatewayPort, envelope: isAnthropicEnvelope, path: '/v1/messages', smuggled: '/gateway/health'},
      {name: 'control port', port: controlPort, envelope: isErrorJson, path: '/daemon/status', smuggled: '/daemon/status'},
      {name: 'mock', port: mockPort, envelope: isAnthropicEnvelope, path: '/v1/messages', smuggled: '/_mock/health'},
    ]
    const body = JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{role: 'user', content: 'x'}]})
    const cases: Array<{name: string; raw: (path: string, smuggled: string) => string}> = [
      {name: 'CR inside a header value', raw: (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nx-cco-agent-type: a\rb\r\nContent-Length: 2\r\n\r\n{}`},
      {name: 'bare LF header injection', raw: (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nx-cco-agent-type: a\nx-injected: 1\r\nContent-Length: 2\r\n\r\n{}`},
      {name: 'NUL in a header value', raw: (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nx-api-key: a\0b\r\nContent-Length: 2\r\n\r\n{}`},
      {name: 'space before the colon', raw: (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length : 2\r\n\r\n{}`},
      {name: 'obs-fold continuation line', raw: (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nx-cco-agent-type: a\r\n  folded\r\nContent-Length: 2\r\n\r\n{}`},
      {name: 'Content-Length + Transfer-Encoding (CL.TE smuggling)', raw: (p, g) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET ${g} HTTP/1.1\r\nHost: x\r\n\r\n`},
      {name: 'two different Content-Lengths', raw: (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}`},
      {name: 'Content-Length list "2, 40"', raw: (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 40\r\n\r\n{}`},
      {name: 'obfuscated Transfer-Encoding (TE.CL)', raw: (p, g) => `POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET ${g} HTTP/1.1\r\nHost: x\r\n\r\n0\r\n\r\n`},
      {name: 'Transfer-Encoding: chunked, identity', raw: (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n2\r\n{}\r\n0\r\n\r\n`},
      {name: 'invalid chunk size', raw: (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`},
      {name: 'negative Content-Length', raw: (p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}`},
      {name: 'header block over 16 KiB', raw: (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`},
      {name: 'garbage request line', raw: () => `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n`},
      {name: 'HTTP/2 preface on an HTTP/1 port', raw: () => `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`},
      {name: 'unknown HTTP version', raw: (p) => `GET ${p} HTTP/9.9\r\nHost: x\r\n\r\n`},
    ]
    for (const c of cases) {
      it(`${c.name}: 400-class answer in the listener's envelope, connection closed, nothing smuggled`, async () => {
        for (const l of listeners()) {
          const r = await rawRequest(l.port, [c.raw(l.path, l.smuggled)], {timeoutMs: 10_000})
          tally.count(r.status)
          const text = r.data.toString('latin1')
          expect(r.timedOut, `${l.name}: hung`).to.equal(false)
          expect(r.closedByServer, `${l.name}: connection left open`).to.equal(true)
          // Every answer is a 4xx (a listener may answer the head, then the framing error): none is the smuggled GET's 200.
          const statuses = allStatuses(r.data)
          expect(statuses.length, `${l.name}: ${text.slice(0, 300)}`).to.be.greaterThan(0)
          expect(statuses.every((s) => s >= 400 && s <= 499), `${l.name}: ${text.slice(0, 500)}`).to.equal(true)
          expect(l.envelope(r.body.split('HTTP/1.1 ')[0]!), `${l.name}: ${text.slice(0, 300)}`).to.equal(true)
        }
        await stillHealthy()
      })
    }

    it('proxy: smuggling and injection cases are refused too (400 naming the proxy)', async () => {
      for (const c of cases) {
        const r = await rawRequest(proxyPort, [c.raw(`http://127.0.0.1:${mockPort}/v1/messages`, `http://127.0.0.1:${mockPort}/_mock/health`)], {timeoutMs: 10_000})
        tally.count(r.status)
        expect(r.status, `${c.name}: ${r.data.toString('latin1').slice(0, 200)}`).to.be.within(400, 499)
        expect(allStatuses(r.data).every((s) => s >= 400 && s <= 499), c.name).to.equal(true)
        expect(isProxyText(r.body), `${c.name}: ${r.body.slice(0, 200)}`).to.equal(true)
      }
      await stillHealthy()
    })

    it('oversized bodies: declared or streamed past the limit -> 413 request_too_large, early, in the envelope', async () => {
      const declared = await rawRequest(daemon.gatewayPort, [`POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n{`], {timeoutMs: 3000, end: false})
      tally.count(declared.status)
      expect(declared.status).to.equal(413)
      expect(isAnthropicEnvelope(declared.body), declared.body).to.equal(true)
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const streamed = await rawRequest(daemon.gatewayPort, [`POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, ...Array.from({length: 16}, () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])), '0\r\n\r\n'], {timeoutMs: 10_000})
      tally.count(streamed.status)
      expect(streamed.status).to.equal(413)
      expect(isAnthropicEnvelope(streamed.body), streamed.body).to.equal(true)
      await stillHealthy()
    })

    it(`slow-loris: headers or a body trickled past the deadlines are cut with 408 in the envelope; others are served meanwhile`, async () => {
      const targets = [
        ...listeners().map((l) => ({...l, slowBody: l.name !== 'control port'})),
        {name: 'proxy', port: proxyPort, envelope: isProxyText, path: `http://127.0.0.1:${mockPort}/v1/messages`, smuggled: '', slowBody: true},
      ]
      // The control port reads no bodies (it answers at once); the mock keeps the default deadlines (10 s / 60 s), so only its headers are trickled.
      const slow = targets.flatMap((l) => {
        const head = `POST ${l.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`
        const out = [{l, what: 'headers', r: rawRequest(l.port, head.split(''), {gapMs: 100, timeoutMs: 30_000, end: false})}]
        if (l.slowBody && l.name !== 'mock') out.push({l, what: 'body', r: rawRequest(l.port, [`${head}Content-Length: ${body.length}\r\n\r\n`, ...body.split('')], {gapMs: 300, timeoutMs: 30_000, end: false})})
        return out
      })
      const normal = await hit(daemon.gatewayPort, {method: 'POST', path: '/v1/messages', headers: JSON_HEADERS, body})
      expect(normal.status).to.equal(200)
      for (const {l, what, r: pending} of slow) {
        const r = await pending
        tally.count(r.status)
        expect(r.timedOut, `${l.name}: slow ${what} never cut`).to.equal(false)
        expect(r.status, `${l.name}: slow ${what}: ${r.data.toString('latin1').slice(0, 200)}`).to.equal(408)
        expect(l.envelope(r.body), `${l.name}: slow ${what}: ${r.body}`).to.equal(true)
      }
      await stillHealthy()
    })
  })

  describe('issue 13 probes: one reset, a path escape, a log line, a malformed id, deep JSON, an escaped key', () => {
    const tally = new Tally('issue 13 probes (socket resets, path escapes, log injection, %ZZ, deep nesting, escaped model key)')
    /** A second daemon: a translated (OpenAI-format) provider for agent "translated" and a modelMap entry. */
    let second: GatewayDaemon
    before(async () => {
      second = await world.startDaemon({
        providers: {anthropic: anthropicProvider(mock.url, {modelMap: {'claude-opus-4-1': 'claude-opus-mapped'}}), oai: {providerType: 'ollama', api: 'openai', baseUrl: mock.url, defaultModel: 'llama3', maxRetries: 0}},
        routing: {defaultProvider: 'anthropic', agentRules: {translated: 'oai'}},
      })
    })

    it('item 1: a refused CONNECT (403/400) followed by a client reset, and resets inside a tunnel, never end the daemon', async () => {
      await mock.setFaults({eventDelayMs: 100})
      const stream = JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 16, stream: true, messages: [{role: 'user', content: 'x'}]})
      for (let i = 0; i < 10; i++) {
        const refused = await sendThenReset(proxyPort, ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: curl/8.5.0\r\n\r\n'], /HTTP\/1\.1 403[\s\S]*\n$/)
        tally.count(Number(/^HTTP\/1\.1 (\d{3})/.exec(refused)?.[1] ?? 0))
        const malformed = await sendThenReset(proxyPort, ['CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n'], /HTTP\/1\.1 400[\s\S]*\n$/)
        tally.count(Number(/^HTTP\/1\.1 (\d{3})/.exec(malformed)?.[1] ?? 0))
        await sendThenReset(proxyPort, [`CONNECT 127.0.0.1:${mockPort} HTTP/1.1\r\nHost: 127.0.0.1:${mockPort}\r\n\r\n`, `POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Api-Key: k\r\nContent-Length: ${stream.length}\r\n\r\n${stream}`], /event: message_start/)
        await sendThenReset(daemon.gatewayPort, [`POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Api-Key: k\r\nContent-Length: ${stream.length}\r\n\r\n${stream}`], /event: message_start/)
        await sendThenReset(controlPort, ['GET /daemon/status HTTP/1.1\r\nHost: x\r\n\r\n'], /\r\n\r\n/)
      }
      await mock.setFaults({})
      await stillHealthy()
    })

    it('item 3: GET /v1/models/../../_mock/requests and its encodings -> 400 in the envelope; the provider receives nothing', async () => {
      await mock.clearRequests()
      const escapes = ['/v1/models/../../_mock/requests', '/v1/models/%2e%2e/%2e%2e/_mock/requests', '/v1/models/..%2f..%2f_mock%2frequests', '/v1/models/..\\..\\_mock', '/v1//models', '/v1/models/./x', '/v1/messages/../models']
      for (const path of escapes) {
        const r = await rawRequest(daemon.gatewayPort, [`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Api-Key: k\r\nContent-Length: 0\r\n\r\n`])
        tally.count(r.status)
        expect(r.status, `${path}: ${r.body}`).to.equal(400)
        expect(isAnthropicEnvelope(r.body), r.body).to.equal(true)
      }
      expect((await mock.requests()).map((r) => r.path)).to.deep.equal([])
    })

    it('item 7: x-cco-agent-type with fake fields or a fake start line is one quoted value in daemon.log', async () => {
      const fake = 'cco daemon 9.9.9 starting (pid 1), provider=evil'
      const r = await hit(daemon.gatewayPort, {method: 'POST', path: '/v1/messages', headers: {...JSON_HEADERS, 'x-cco-agent-type': fake}, body: JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{role: 'user', content: 'x'}]})})
      tally.count(r.status)
      const line = await waitFor(() => readLog(daemon.home).split('\n').find((l) => l.includes('cco daemon 9.9.9')), 'the routing line')
      expect(line).to.match(/Routing request: agent_type="cco daemon 9\.9\.9 starting \(pid 1\), provider=evil", provider=anthropic, reason=default$/)
      expect(readLog(daemon.home).split('\n').filter((l) => /^\S+ INFO {2}🚀 cco daemon \S+ starting/.test(l))).to.have.length(1)
    })

    it('item 9: GET /v1/models/%ZZ and JSON nested 100k deep to a translated provider -> 400, no stack trace in the log', async () => {
      for (const path of ['/v1/models/%ZZ', '/v1/models/%', '/v1/models/%C3%28']) {
        const r = await rawRequest(second.gatewayPort, [`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Api-Key: k\r\nContent-Length: 0\r\n\r\n`])
        tally.count(r.status)
        expect(r.status, `${path}: ${r.body}`).to.equal(400)
        expect(isAnthropicEnvelope(r.body), r.body).to.equal(true)
      }
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`
      for (const body of [
        `{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":{"a":${deep}}}]}]}`,
        `{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"x"}],"metadata":${deep}}`,
      ]) {
        for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
          const r = await hit(second.gatewayPort, {method: 'POST', path, headers: {...JSON_HEADERS, 'x-cco-agent-type': 'translated'}, body})
          tally.count(r.status)
          expect(r.status, `${path}: ${r.text.slice(0, 200)}`).to.equal(400)
          expect(isAnthropicEnvelope(r.text), r.text.slice(0, 200)).to.equal(true)
        }
      }
      expect(readLog(second.home)).to.not.match(/RangeError|Maximum call stack|\n\S+ ERROR\s+at /)
      expect(samePidAlive(second.home, second.pid)).to.equal(true)
    })

    it('item 4: a body with "mod\\u0065l" gets the modelMap: the provider serves the model the audit row records', async () => {
      await mock.clearRequests()
      const r = await hit(second.gatewayPort, {method: 'POST', path: '/v1/messages', headers: JSON_HEADERS, body: '{"mod\\u0065l":"claude-opus-4-1","max_tokens":16,"messages":[{"role":"user","content":"x"}]}'})
      tally.count(r.status)
      expect(r.status, r.text).to.equal(200)
      const [seen] = await mock.requests()
      expect((JSON.parse(seen!.body) as {model: string}).model).to.equal('claude-opus-mapped')
      const row = await waitFor(async () => (await audit(second, 'limit=5')).entries.find((e) => e.model_served !== undefined && e.path === '/v1/messages'), 'the audit row')
      expect(row.model_served).to.equal('claude-opus-mapped')
    })
  })
})
