import Anthropic from '@anthropic-ai/sdk'
import {expect} from 'chai'
import http from 'node:http'
import {request} from 'undici'
import {startMockProvider, type RunningMockProvider} from '../../src/mock_provider/index.js'
import type {GatewaySettings, ProviderSettings} from '../../src/llm_gateway/settings.js'
import type {AddressInfo} from 'node:net'
import {type TestGateway, parseSseText, provider, startGateway, waitFor} from './helpers.js'

/** A minimal real upstream on loopback that answers every request with the given SSE text (status 200). */
async function sseUpstream(frames: string): Promise<{url: string; hits: () => number; close: () => Promise<void>}> {
  let hits = 0
  const server = http.createServer((req, res) => {
    hits++
    req.resume()
    req.on('end', () => {
      res.writeHead(200, {'content-type': 'text/event-stream'})
      res.end(frames)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

const overloadedFrame = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'

const headers = {'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-client-key'}

function body(stream: boolean, over: Record<string, unknown> = {}): string {
  return JSON.stringify({model: 'claude-sonnet-4-5', max_tokens: 256, stream, messages: [{role: 'user', content: 'Hello'}], ...over})
}

function single(url: string, over: Partial<ProviderSettings> = {}, extra: Partial<GatewaySettings> = {}): GatewaySettings {
  return {providers: {primary: provider({providerType: 'anthropic', baseUrl: url, ...over})}, routing: {defaultProvider: 'primary'}, ...extra}
}

async function post(url: string, payload: string, h: Record<string, string> = headers) {
  const res = await request(`${url}/v1/messages`, {method: 'POST', headers: h, body: payload})
  return {status: res.statusCode, headers: res.headers, text: await res.body.text()}
}

/** Reads an SSE response until `until` returns true, then destroys the connection. Returns what was read. */
function readThenAbort(url: string, payload: string, until: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/messages`, {method: 'POST', headers}, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => {
        text += c.toString()
        if (until(text)) {
          req.destroy()
          resolve(text)
        }
      })
      res.on('error', () => undefined)
    })
    req.on('error', (e) => {
      if (!req.destroyed) reject(e)
    })
    req.end(payload)
  })
}

describe('request path: faults, retries, fallback and timeouts (mock provider knobs)', function () {
  this.timeout(30_000)
  let mock: RunningMockProvider
  let gw: TestGateway | undefined

  before(async () => {
    mock = await startMockProvider({seed: 3})
  })
  after(async () => mock.close())
  beforeEach(() => {
    mock.setFaults({})
    mock.clearRequests()
  })
  afterEach(async () => {
    await gw?.close()
    gw = undefined
  })

  it('retries a 5xx, then succeeds: x-gateway-attempts 3, one record with attempts 3', async () => {
    gw = await startGateway(single(mock.url))
    mock.setFaults({failFirstN: 2, errorStatus: 500})
    const r = await post(gw.url, body(false))
    expect(r.status).to.equal(200)
    expect(r.headers['x-gateway-attempts']).to.equal('3')
    expect(mock.requests()).to.have.length(3)
    const recs = await gw.waitForRecords(1)
    expect(recs).to.have.length(1)
    expect(recs[0]).to.deep.include({success: true, attempts: 3, status: 200, fallback_used: false})
    expect(gw.health.map((h) => h.ok)).to.deep.equal([false, false, true])
  })

  it('retries a connection reset before headers on a stream, then succeeds', async () => {
    gw = await startGateway(single(mock.url))
    mock.setFaults({failFirstN: 1, resetBeforeHeaders: true})
    const r = await post(gw.url, body(true))
    expect(r.status).to.equal(200)
    expect(parseSseText(r.text).at(-1)!.event).to.equal('message_stop')
    expect(r.headers['x-gateway-attempts']).to.equal('2')
  })

  it('honours retry-after between retries; exhausted retries give the upstream status in the envelope with retry-after', async () => {
    gw = await startGateway(single(mock.url))
    mock.setFaults({errorStatus: 429, retryAfterSecs: 1})
    const started = Date.now()
    const r = await post(gw.url, body(false))
    expect(Date.now() - started).to.be.at.least(1900) // two waits of retry-after: 1
    expect(r.status).to.equal(429)
    expect(r.headers['retry-after']).to.equal('1')
    const e = JSON.parse(r.text) as {type: string; error: {type: string}}
    expect(e.type).to.equal('error')
    expect(e.error.type).to.equal('rate_limit_error')
    expect(mock.requests()).to.have.length(3)
    const [rec] = await gw.waitForRecords(1)
    expect(rec).to.deep.include({status: 429, success: false, error_type: 'rate_limit_error', attempts: 3})
  })

  it('does not retry a non-retryable 4xx', async () => {
    gw = await startGateway(single(mock.url))
    mock.setFaults({errorStatus: 403})
    const r = await post(gw.url, body(true))
    expect(r.status).to.equal(403)
    expect((JSON.parse(r.text) as {error: {type: string}}).error.type).to.equal('permission_error')
    expect(mock.requests()).to.have.length(1)
  })

  it('falls back to the next provider when the first is unreachable or keeps failing', async () => {
    const failing = await startMockProvider({seed: 4, faults: {errorStatus: 503}})
    try {
      gw = await startGateway({
        providers: {
          dead: provider({providerType: 'anthropic', baseUrl: 'http://127.0.0.1:1', maxRetries: 1, connectTimeoutMs: 2000}),
          flaky: provider({providerType: 'anthropic', baseUrl: failing.url, maxRetries: 1}),
          good: provider({providerType: 'anthropic', baseUrl: mock.url}),
        },
        routing: {defaultProvider: 'dead', fallbackChain: ['flaky', 'good']},
      })
      const r = await post(gw.url, body(true))
      expect(r.status).to.equal(200)
      expect(r.headers['x-gateway-provider']).to.equal('good')
      expect(r.headers['x-gateway-fallback']).to.equal('true')
      expect(r.headers['x-gateway-attempts']).to.equal('5')
      expect(failing.requests()).to.have.length(2)
      const [rec] = await gw.waitForRecords(1)
      expect(rec).to.deep.include({provider: 'good', fallback_used: true, attempts: 5, success: true, routing_reason: 'default'})
      expect(gw.logs.filter((l) => l.msg.startsWith('Forwarding to provider:')).map((l) => l.msg)).to.deep.equal([
        'Forwarding to provider: dead', 'Forwarding to provider: flaky', 'Forwarding to provider: good',
      ])
      expect(gw.health.filter((h) => !h.ok).map((h) => h.provider)).to.deep.equal(['dead', 'dead', 'flaky', 'flaky'])
    } finally {
      await failing.close()
    }
  })

  it('a connection failure on every provider gives 502 api_error in the envelope', async () => {
    gw = await startGateway(single('http://127.0.0.1:1', {maxRetries: 1}))
    const r = await post(gw.url, body(false))
    expect(r.status).to.equal(502)
    const e = JSON.parse(r.text) as {error: {type: string; message: string}}
    expect(e.error.type).to.equal('api_error')
    expect(e.error.message).to.match(/ECONNREFUSED/)
  })

  it('a stream cut after bytes were sent ends with event: error (not a fake message_stop); record stream_cut', async () => {
    gw = await startGateway(single(mock.url))
    mock.setFaults({cutStreamAfterEvents: 3})
    const r = await post(gw.url, body(true))
    expect(r.status).to.equal(200)
    const frames = parseSseText(r.text)
    expect(frames[0]!.event).to.equal('message_start')
    expect(frames.at(-1)!.event).to.equal('error')
    expect((frames.at(-1)!.data as {error: {type: string}}).error.type).to.equal('api_error')
    expect(frames.some((f) => f.event === 'message_stop')).to.equal(false)
    expect(mock.requests()).to.have.length(1)
    const [rec] = await gw.waitForRecords(1)
    expect(rec).to.deep.include({success: false, error_type: 'stream_cut', status: 200, stream: true})
    expect(rec!.first_byte_at).to.be.a('number')
  })

  it('a clean EOF without message_stop also ends with event: error; the SDK raises it', async () => {
    gw = await startGateway(single(mock.url))
    mock.setFaults({endStreamAfterEvents: 4})
    const client = new Anthropic({baseURL: gw.url, apiKey: 'k', maxRetries: 0})
    const err = await client.messages.stream({model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{role: 'user', content: 'x'}]}).finalMessage().catch((e: unknown) => e)
    expect(err).to.be.instanceOf(Anthropic.APIError)
    expect(String((err as Error).message)).to.include('message_stop')
  })

  it('a malformed SSE event is never forwarded: mid-stream it ends the stream with an error event (usage so far kept); before any byte it is an HTTP error', async () => {
    const g = await startGateway(single(mock.url))
    gw = g
    // Events 5 ms apart: the malformed one arrives after the stream was committed to the client.
    mock.setFaults({malformedSse: true, eventDelayMs: 5})
    const r = await post(g.url, body(true))
    expect(r.status).to.equal(200)
    expect(r.text).to.not.include('unterminat')
    const events = parseSseText(r.text)
    expect(events.at(-1)!.event).to.equal('error')
    expect(events.map((e) => e.event)).to.not.include('message_stop')
    const [rec] = await g.waitForRecords(1)
    expect([rec!.success, rec!.error_type]).to.deep.equal([false, 'stream_cut'])
    expect(rec!.usage).to.not.equal(null)
    // All of it in one chunk: nothing was sent yet, so the client gets a real HTTP error in Anthropic's envelope.
    mock.setFaults({malformedSse: true})
    const early = await post(g.url, body(true))
    expect(early.status).to.equal(502)
    expect(JSON.parse(early.text)).to.deep.include({type: 'error'})
  })

  it('an error event before anything was sent is retried and then answered as a real HTTP status (529)', async () => {
    const up = await sseUpstream(overloadedFrame)
    try {
      gw = await startGateway(single(up.url, {maxRetries: 1}))
      const r = await post(gw.url, body(true))
      expect(r.status).to.equal(529)
      expect(JSON.parse(r.text)).to.deep.include({type: 'error', error: {type: 'overloaded_error', message: 'Overloaded'}})
      expect(up.hits()).to.equal(2)
    } finally {
      await up.close()
    }
  })

  it('an upstream event: error after message_start is forwarded as is and recorded with its type (Fixture C)', async () => {
    const startFrame = 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":1}}}\n\n'
    const up = await sseUpstream(startFrame + overloadedFrame)
    try {
      gw = await startGateway(single(up.url))
      const r = await post(gw.url, body(true))
      expect(r.status).to.equal(200)
      expect(r.text).to.equal(startFrame + overloadedFrame)
      expect(up.hits()).to.equal(1)
      const [rec] = await gw.waitForRecords(1)
      expect(rec).to.deep.include({success: false, error_type: 'overloaded_error', error_message: 'Overloaded'})
      expect(rec!.usage).to.deep.include({input_tokens: 10, output_tokens: 1})
    } finally {
      await up.close()
    }
  })

  it('a client abort aborts the upstream request at once; record client_aborted', async () => {
    gw = await startGateway(single(mock.url))
    mock.setFaults({stallAfterEvents: 2})
    const text = await readThenAbort(gw.url, body(true), (t) => t.includes('content_block_start'))
    expect(text).to.include('message_start')
    const seen = await waitFor(() => (mock.requests()[0]?.aborted ? mock.requests()[0] : undefined), 'the mock to see the disconnect')
    expect(seen.aborted).to.equal(true)
    const [rec] = await gw.waitForRecords(1)
    expect(rec).to.deep.include({success: false, error_type: 'client_aborted', stream: true, status: 200})
    // What the upstream reported before the abort (message_start usage) is still recorded, but it is
    // partial (no final message_delta usage): usage_missing, so the evidence layer estimates the cost.
    expect(rec!.usage?.input_tokens).to.be.greaterThan(0)
    expect(rec!.usage_missing).to.equal(true)
  })

  it('a client abort while the gateway waits for the first byte aborts the upstream too', async () => {
    gw = await startGateway(single(mock.url))
    mock.setFaults({latencyMs: 20_000})
    const req = http.request(`${gw.url}/v1/messages`, {method: 'POST', headers})
    req.on('error', () => undefined)
    req.end(body(true))
    await waitFor(() => mock.requests()[0], 'the request to reach the mock')
    req.destroy()
    await waitFor(() => (mock.requests()[0]?.aborted ? true : undefined), 'the mock to see the disconnect')
    const [rec] = await gw.waitForRecords(1)
    expect(rec).to.deep.include({error_type: 'client_aborted', first_byte_at: null})
  })

  it('a slow first byte hits the first-byte timeout: 504 timeout_error (no same-provider retry)', async () => {
    gw = await startGateway(single(mock.url, {firstByteTimeoutMs: 300}))
    mock.setFaults({ttfbMs: 3000})
    const r = await post(gw.url, body(true))
    expect(r.status).to.equal(504)
    expect((JSON.parse(r.text) as {error: {type: string; message: string}}).error).to.deep.include({type: 'timeout_error'})
    expect(mock.requests()).to.have.length(1)
    await waitFor(() => (mock.requests()[0]?.aborted ? true : undefined), 'the timed-out upstream request to be aborted')
  })

  it('a long steady stream is not cut by short idle and total timeouts; a stalled one is cut by the idle timeout', async () => {
    const slow = await startMockProvider({seed: 5, streamEvents: 12})
    try {
      gw = await startGateway(single(slow.url, {idleTimeoutMs: 600, totalTimeoutMs: 300, firstByteTimeoutMs: 2000}))
      slow.setFaults({eventDelayMs: 100})
      const started = Date.now()
      const ok = await post(gw.url, body(true))
      expect(Date.now() - started).to.be.greaterThan(1000) // far longer than both the idle and the total timeout
      const frames = parseSseText(ok.text)
      expect(frames.at(-1)!.event).to.equal('message_stop')
      expect(frames.filter((f) => f.event === 'content_block_delta').length).to.be.at.least(12)

      slow.setFaults({stallAfterEvents: 3})
      const stalled = await post(gw.url, body(true))
      const last = parseSseText(stalled.text).at(-1)!
      expect(last.event).to.equal('error')
      expect((last.data as {error: {type: string; message: string}}).error.type).to.equal('timeout_error')
      expect((last.data as {error: {message: string}}).error.message).to.include('idle timeout')
      const recs = await gw.waitForRecords(2)
      expect(recs.map((r) => [r.success, r.error_type])).to.deep.equal([[true, null], [false, 'timeout_error']])
    } finally {
      await slow.close()
    }
  })

  it('a translated stream cut mid-way ends with an error event after a well-formed prefix', async () => {
    gw = await startGateway({
      providers: {az: provider({providerType: 'azure', baseUrl: mock.url, apiKeyRef: 'K', deployment: 'gpt-4-1', apiVersion: '2024-10-21'})},
      routing: {defaultProvider: 'az'},
    }, {env: {K: 'key'}})
    mock.setFaults({cutStreamAfterEvents: 4})
    const r = await post(gw.url, body(true))
    expect(r.status).to.equal(200)
    const frames = parseSseText(r.text)
    expect(frames[0]!.event).to.equal('message_start')
    expect(frames.at(-1)!.event).to.equal('error')
    const [rec] = await gw.waitForRecords(1)
    expect(rec).to.deep.include({success: false, error_type: 'stream_cut', provider_type: 'azure'})
  })

  it('a missing provider key is a provider problem: the fallback serves, else 502 naming the variable (never the value)', async () => {
    gw = await startGateway({
      providers: {
        keyed: provider({providerType: 'anthropic', baseUrl: mock.url, apiKeyRef: 'UNSET_TEST_KEY'}),
        open: provider({providerType: 'anthropic', baseUrl: mock.url}),
      },
      routing: {defaultProvider: 'keyed', fallbackChain: ['open']},
    }, {env: {}})
    const r = await post(gw.url, body(false))
    expect(r.status).to.equal(200)
    expect(r.headers['x-gateway-provider']).to.equal('open')
    await gw.close()
    gw = await startGateway(single(mock.url, {apiKeyRef: 'UNSET_TEST_KEY'}), {env: {}})
    const failed = await post(gw.url, body(false))
    expect(failed.status).to.equal(502)
    expect(failed.text).to.include('UNSET_TEST_KEY')
  })
})
