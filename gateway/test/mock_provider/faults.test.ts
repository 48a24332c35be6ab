import http from 'node:http'
import Anthropic from '@anthropic-ai/sdk'
import {expect} from 'chai'
import {parseFaults, startMockProvider, type RunningMockProvider} from '../../src/mock_provider/index.js'
import {anthropicHeaders, parseSse, rawRequest, waitFor} from './helpers.js'

const streamBody = JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 100, stream: true, messages: [{role: 'user', content: 'hi'}]})
const jsonBody = JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{role: 'user', content: 'hi'}]})
/** The plain-text stream has this many SSE events: message_start, block start, ping, 5 deltas, block stop, message_delta, message_stop. */
const STREAM_EVENTS = 11

describe('mock provider: fault knobs', () => {
  let mock: RunningMockProvider
  let client: Anthropic
  const messages = (body = jsonBody) => rawRequest(`${mock.url}/v1/messages`, {headers: anthropicHeaders, body})

  before(async () => {
    mock = await startMockProvider({seed: 3})
    client = new Anthropic({baseURL: mock.url, apiKey: 'test', maxRetries: 0, logLevel: 'off'})
  })
  after(async () => mock.close())
  beforeEach(() => {
    mock.setFaults({})
    mock.clearRequests()
  })

  it('has the stream length the other tests assume', async () => {
    expect(parseSse((await messages(streamBody)).body)).to.have.length(STREAM_EVENTS)
  })

  it('errorStatus 429 answers rate_limit_error with retry-after', async () => {
    mock.setFaults({errorStatus: 429, retryAfterSecs: 7})
    const response = await messages()
    expect(response.status).to.equal(429)
    expect(response.headers['retry-after']).to.equal('7')
    expect(JSON.parse(response.body)).to.deep.include({type: 'error'})
    expect(JSON.parse(response.body).error.type).to.equal('rate_limit_error')
    const openai = await rawRequest(`${mock.url}/v1/chat/completions`, {headers: {authorization: 'Bearer k'}, body: '{}'})
    expect(openai.status).to.equal(429)
    expect(JSON.parse(openai.body).error.code).to.equal('rate_limit_exceeded')
  })

  it('errorStatus 529 answers overloaded_error and 500 api_error, which the SDK maps to its error classes', async () => {
    mock.setFaults({errorStatus: 529})
    const overloaded = await messages()
    expect(overloaded.status).to.equal(529)
    expect(JSON.parse(overloaded.body).error.type).to.equal('overloaded_error')
    mock.setFaults({errorRate: 1})
    const error = await client.messages.create({model: 'm', max_tokens: 1, messages: []}).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(Anthropic.InternalServerError)
    expect((error as InstanceType<typeof Anthropic.InternalServerError>).status).to.equal(500)
  })

  it('failFirstN fails the first N requests, then succeeds (the SDK retries through it)', async () => {
    mock.setFaults({failFirstN: 2, errorStatus: 429, retryAfterSecs: 0})
    const retrying = new Anthropic({baseURL: mock.url, apiKey: 'test', maxRetries: 2})
    const message = await retrying.messages.create({model: 'm', max_tokens: 10, messages: [{role: 'user', content: 'hi'}]})
    expect(message.type).to.equal('message')
    expect(mock.requests()).to.have.length(3)
    expect((await messages()).status).to.equal(200)
    mock.setFaults({failFirstN: 1})
    expect((await messages()).status).to.equal(500)
    expect((await messages()).status).to.equal(200)
  })

  it('errorRate selects failures deterministically for the seed, restarting when faults are set', async () => {
    const run = async () => {
      mock.setFaults({errorRate: 0.5, errorStatus: 503})
      const statuses: number[] = []
      for (let i = 0; i < 20; i++) statuses.push((await messages()).status)
      return statuses
    }
    const first = await run()
    expect(await run()).to.deep.equal(first)
    expect(first).to.include(200)
    expect(first).to.include(503)
  })

  it('resetBeforeHeaders resets the connection: the client sees ECONNRESET', async () => {
    mock.setFaults({resetBeforeHeaders: true})
    const error = await messages().then(() => undefined, (e: NodeJS.ErrnoException) => e)
    expect(error?.code).to.equal('ECONNRESET')
    const sdkError = await client.messages.create({model: 'm', max_tokens: 1, messages: []}).catch((e: unknown) => e)
    expect(sdkError).to.be.instanceOf(Anthropic.APIConnectionError)
    expect(mock.requests().map((r) => r.aborted)).to.deep.equal([false, false])
  })

  it('cutStreamAfterEvents destroys the connection after N events, without message_stop', async () => {
    mock.setFaults({cutStreamAfterEvents: 4})
    const response = await messages(streamBody)
    expect(response.complete).to.equal(false)
    expect(parseSse(response.body).map((e) => e.event)).to.deep.equal(['message_start', 'content_block_start', 'ping', 'content_block_delta'])
    expect(mock.requests()[0]?.aborted).to.equal(false)
    const sdkError = await client.messages.stream({model: 'm', max_tokens: 10, messages: [{role: 'user', content: 'hi'}]}).finalMessage().catch((e: unknown) => e)
    expect(sdkError).to.be.instanceOf(Error)
    mock.setFaults({cutStreamAfterEvents: 1000})
    const capped = await messages(streamBody)
    expect(parseSse(capped.body)).to.have.length(STREAM_EVENTS - 1)
    expect(capped.body).to.not.include('message_stop')
  })

  it('endStreamAfterEvents ends the response cleanly after N events, without message_stop', async () => {
    mock.setFaults({endStreamAfterEvents: 6})
    const response = await messages(streamBody)
    expect(response.complete).to.equal(true)
    expect(parseSse(response.body)).to.have.length(6)
    expect(response.body).to.not.include('message_stop')
  })

  it('malformedSse inserts one broken event mid-stream; the SDK fails to parse it', async () => {
    mock.setFaults({malformedSse: true})
    const response = await messages(streamBody)
    const events = parseSse(response.body)
    expect(events).to.have.length(STREAM_EVENTS + 1)
    const broken = events.filter((e) => {
      try {
        JSON.parse(e.data)
        return false
      } catch {
        return true
      }
    })
    expect(broken).to.have.length(1)
    expect(events.indexOf(broken[0] as (typeof events)[number])).to.be.within(2, STREAM_EVENTS - 2)
    const sdkError = await client.messages.stream({model: 'm', max_tokens: 10, messages: [{role: 'user', content: 'hi'}]}).finalMessage().catch((e: unknown) => e)
    expect(sdkError).to.be.instanceOf(Error)
    const chat = await rawRequest(`${mock.url}/v1/chat/completions`, {headers: {authorization: 'Bearer k'}, body: JSON.stringify({model: 'g', stream: true, messages: [{role: 'user', content: 'x'}]})})
    expect(parseSse(chat.body).filter((e) => e.data !== '[DONE]' && !e.data.endsWith('}'))).to.have.length(1)
  })

  it('latencyMs delays the response head and ttfbMs the first body byte', async () => {
    mock.setFaults({latencyMs: 150})
    const delayed = await messages()
    expect(delayed.timing.head - delayed.timing.start).to.be.at.least(148)
    mock.setFaults({ttfbMs: 200})
    const slowBody = await messages()
    expect(slowBody.status).to.equal(200)
    expect((slowBody.timing.firstByte ?? 0) - slowBody.timing.start).to.be.at.least(198)
    const slowStream = await messages(streamBody)
    expect((slowStream.timing.firstByte ?? 0) - slowStream.timing.start).to.be.at.least(198)
    expect(parseSse(slowStream.body)).to.have.length(STREAM_EVENTS)
  })

  it('eventDelayMs spaces SSE events', async () => {
    mock.setFaults({eventDelayMs: 30})
    const response = await messages(streamBody)
    expect(parseSse(response.body)).to.have.length(STREAM_EVENTS)
    expect(response.timing.end - (response.timing.firstByte ?? response.timing.end)).to.be.at.least(30 * (STREAM_EVENTS - 1) - 2)
  })

  it('stallAfterEvents stops sending but keeps the connection open; the client disconnect is recorded as aborted', async () => {
    mock.setFaults({stallAfterEvents: 2})
    let stalledBody = ''
    const pending = rawRequest(`${mock.url}/v1/messages`, {
      headers: anthropicHeaders, body: streamBody,
      onData: (text, req) => {
        stalledBody = text
        // Two events arrived; give the mock a chance to (wrongly) send more before hanging up.
        if (parseSse(text).length >= 2) setTimeout(() => req.destroy(), 300)
      },
    })
    const response = await pending.catch(() => undefined)
    expect(response?.complete ?? false).to.equal(false)
    expect(parseSse(stalledBody)).to.have.length(2)
    await waitFor(() => (mock.requests()[0]?.aborted ? true : undefined), 'the stalled request to be marked aborted')
  })

  it('neverRespond accepts the request and never answers', async () => {
    mock.setFaults({neverRespond: true})
    const outcome = await new Promise<string>((resolve) => {
      const req = http.request(`${mock.url}/v1/messages`, {method: 'POST', headers: anthropicHeaders, agent: false}, () => resolve('answered'))
      req.on('error', () => resolve('gave up'))
      req.setTimeout(400, () => req.destroy())
      req.end(jsonBody)
    })
    expect(outcome).to.equal('gave up')
    await waitFor(() => (mock.requests()[0]?.aborted ? true : undefined), 'the unanswered request to be marked aborted')
  })

  it('errorRate with resetBeforeHeaders resets only the selected requests', async () => {
    mock.setFaults({failFirstN: 1, resetBeforeHeaders: true})
    const error = await messages().then(() => undefined, (e: NodeJS.ErrnoException) => e)
    expect(error?.code).to.equal('ECONNRESET')
    expect((await messages()).status).to.equal(200)
  })

  it('changes faults at runtime through POST /_mock/faults and reports them with GET', async () => {
    const post = await rawRequest(`${mock.url}/_mock/faults`, {body: JSON.stringify({errorStatus: 503})})
    expect(post.status).to.equal(200)
    expect((await messages()).status).to.equal(503)
    const current = await rawRequest(`${mock.url}/_mock/faults`, {method: 'GET'})
    expect(JSON.parse(current.body)).to.deep.equal({faults: {errorStatus: 503}})
    await rawRequest(`${mock.url}/_mock/faults`, {body: '{}'})
    expect((await messages()).status).to.equal(200)
    const bad = await rawRequest(`${mock.url}/_mock/faults`, {body: JSON.stringify({latencyMs: -5})})
    expect(bad.status).to.equal(400)
    expect(JSON.parse(bad.body).error).to.match(/faults\.latencyMs/)
    const unknown = await rawRequest(`${mock.url}/_mock/faults`, {body: JSON.stringify({latency: 5})})
    expect(JSON.parse(unknown.body).error).to.match(/faults\.latency: unknown fault/)
    const notJson = await rawRequest(`${mock.url}/_mock/faults`, {body: '{'})
    expect(notJson.status).to.equal(400)
  })

  it('does not apply faults to the /_mock control surface and does not record it', async () => {
    mock.setFaults({errorStatus: 500, neverRespond: true})
    const list = await rawRequest(`${mock.url}/_mock/requests`, {method: 'GET'})
    expect(list.status).to.equal(200)
    expect(JSON.parse(list.body)).to.deep.equal({requests: []})
  })

  it('records requests byte-exactly, in order, with headers and query, over the API and over HTTP', async () => {
    const bytes = Buffer.concat([Buffer.from('{"model":"m","messages":[],"note":"héllo 👋 \\u0000",  "x": 1}\n'), Buffer.from([0xff, 0xfe])])
    await rawRequest(`${mock.url}/v1/messages?beta=true`, {headers: {...anthropicHeaders, 'x-claude-code-session-id': 's-1'}, body: bytes})
    await rawRequest(`${mock.url}/v1/chat/completions`, {headers: {authorization: 'Bearer k'}, body: 'second'})
    const recorded = mock.requests()
    expect(recorded.map((r) => r.path)).to.deep.equal(['/v1/messages?beta=true', '/v1/chat/completions'])
    expect(Buffer.from(recorded[0]?.bodyBase64 ?? '', 'base64').equals(bytes)).to.equal(true)
    expect(recorded[0]?.body).to.equal(bytes.toString('utf8'))
    expect(recorded[0]?.headers['x-claude-code-session-id']).to.equal('s-1')
    expect(recorded[0]?.method).to.equal('POST')
    expect(recorded[0]?.aborted).to.equal(false)
    expect(recorded[0]?.receivedAt).to.be.closeTo(Date.now(), 60_000)
    const overHttp = JSON.parse((await rawRequest(`${mock.url}/_mock/requests`, {method: 'GET'})).body)
    expect(overHttp.requests).to.deep.equal(recorded)
    const cleared = await rawRequest(`${mock.url}/_mock/requests`, {method: 'DELETE'})
    expect(JSON.parse(cleared.body)).to.deep.equal({cleared: 2})
    expect(mock.requests()).to.deep.equal([])
  })

  it('marks a request aborted when the client disconnects mid-stream', async () => {
    mock.setFaults({eventDelayMs: 50})
    await rawRequest(`${mock.url}/v1/messages`, {headers: anthropicHeaders, body: streamBody, onData: (_text, req) => req.destroy()}).catch(() => undefined)
    await waitFor(() => (mock.requests()[0]?.aborted ? true : undefined), 'the request to be marked aborted')
  })

  it('validates fault settings with messages that name the knob', () => {
    expect(() => parseFaults({errorRate: 2})).to.throw(/faults\.errorRate: expected a number from 0 to 1/)
    expect(() => parseFaults({errorStatus: 418})).to.throw(/faults\.errorStatus: expected one of/)
    expect(() => parseFaults({failFirstN: 1.5})).to.throw(/faults\.failFirstN: expected an integer/)
    expect(() => parseFaults({malformedSse: 'yes'})).to.throw(/faults\.malformedSse: expected true or false/)
    expect(() => parseFaults([])).to.throw(/faults must be a JSON object/)
    expect(() => mock.setFaults({errorRate: -1})).to.throw(/errorRate/)
  })
})
