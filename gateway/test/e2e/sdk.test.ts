import Anthropic from '@anthropic-ai/sdk'
import {expect} from 'chai'
import {networkInterfaces} from 'node:os'
import {http} from '../helpers/cco.js'
import {allAuditEntries, anthropicProvider, E2eWorld, type GatewayDaemon, MockProcess, waitForTotal} from './harness.js'

/*
 * The official @anthropic-ai/sdk through the real daemon (`cco daemon start`) to a real mock
 * provider process; every response's x-gateway-cost-usd is checked against its audit row.
 */

const weatherTool = {
  name: 'get_weather',
  description: 'Get the weather for a city',
  input_schema: {type: 'object' as const, properties: {city: {type: 'string'}, days: {type: 'number'}}, required: ['city', 'days']},
}

describe('e2e: official SDK through the live daemon', function () {
  this.timeout(60_000)
  const world = new E2eWorld()
  let mock: MockProcess
  let daemon: GatewayDaemon
  let client: Anthropic
  /** request id -> x-gateway-cost-usd of every non-streamed response the client got. */
  const costHeaders = new Map<string, string | null>()

  before(async () => {
    mock = await world.mock(['--seed', '11'])
    daemon = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}})
    client = new Anthropic({baseURL: daemon.url, apiKey: 'sk-ant-e2e-sdk-client-key', maxRetries: 0})
  })
  after(() => world.cleanup())
  beforeEach(() => mock.setFaults({}))

  const noteCost = (response: Response) => {
    costHeaders.set(String(response.headers.get('x-gateway-request-id')), response.headers.get('x-gateway-cost-usd'))
  }

  it('messages.create: the message, gateway headers and x-gateway-cost-usd', async () => {
    const {data, response} = await client.messages.create({model: 'claude-sonnet-4-6', max_tokens: 256, messages: [{role: 'user', content: 'Say hello'}]}).withResponse()
    noteCost(response)
    expect(data.type).to.equal('message')
    expect(data.stop_reason).to.equal('end_turn')
    expect(response.headers.get('x-gateway-provider')).to.equal('anthropic')
    // Sonnet 4.6: $3 / $15 per million tokens.
    const expected = data.usage.input_tokens * 3 + data.usage.output_tokens * 15
    expect(response.headers.get('x-gateway-cost-usd')).to.equal((expected / 1e6).toFixed(6))
  })

  it('messages.stream: text events, finalMessage(), and no cost header on the stream', async () => {
    const stream = client.messages.stream({model: 'claude-haiku-4-5', max_tokens: 256, messages: [{role: 'user', content: 'Stream please'}]})
    const texts: string[] = []
    stream.on('text', (t) => texts.push(t))
    const final = await stream.finalMessage()
    expect(texts.length).to.be.greaterThan(1)
    expect(final.content[0]?.type === 'text' && final.content[0].text).to.equal(texts.join(''))
    const {response} = await stream.withResponse()
    expect(response.headers.get('content-type')).to.contain('text/event-stream')
    expect(response.headers.get('x-gateway-cost-usd')).to.equal(null)
  })

  it('tool use round trip', async () => {
    const first = await client.messages.create({model: 'claude-sonnet-4-6', max_tokens: 512, tools: [weatherTool], messages: [{role: 'user', content: 'Use the tool to get the weather'}]}).withResponse()
    noteCost(first.response)
    expect(first.data.stop_reason).to.equal('tool_use')
    const toolUse = first.data.content.find((b) => b.type === 'tool_use')
    if (toolUse?.type !== 'tool_use') throw new Error('no tool_use block')
    const second = await client.messages
      .create({
        model: 'claude-sonnet-4-6',
        max_tokens: 512,
        tools: [weatherTool],
        messages: [
          {role: 'user', content: 'Use the tool to get the weather'},
          {role: 'assistant', content: first.data.content},
          {role: 'user', content: [{type: 'tool_result', tool_use_id: toolUse.id, content: '18°C, cloudy'}]},
        ],
      })
      .withResponse()
    noteCost(second.response)
    expect(second.data.stop_reason).to.equal('end_turn')
  })

  it('countTokens (free: x-gateway-cost-usd 0)', async () => {
    const {data, response} = await client.messages.countTokens({model: 'claude-sonnet-4-6', messages: [{role: 'user', content: 'Count me'}], tools: [weatherTool]}).withResponse()
    noteCost(response)
    expect(data.input_tokens).to.be.greaterThan(0)
    expect(response.headers.get('x-gateway-cost-usd')).to.equal('0.000000')
  })

  it('typed errors: RateLimitError, APIError 529, BadRequestError (upstream and gateway-side)', async () => {
    await mock.setFaults({errorStatus: 429, retryAfterSecs: 0})
    const rate = await client.messages.create({model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{role: 'user', content: 'x'}]}).catch((e: unknown) => e)
    expect(rate).to.be.instanceOf(Anthropic.RateLimitError)
    expect((rate as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).to.equal('0')

    await mock.setFaults({errorStatus: 529})
    const overloaded = await client.messages.create({model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{role: 'user', content: 'x'}]}).catch((e: unknown) => e)
    expect(overloaded).to.be.instanceOf(Anthropic.APIError)
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).to.equal(529)

    await mock.setFaults({errorStatus: 400})
    const upstreamBad = await client.messages.create({model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{role: 'user', content: 'x'}]}).catch((e: unknown) => e)
    expect(upstreamBad).to.be.instanceOf(Anthropic.BadRequestError)

    await mock.setFaults({})
    const gatewayBad = await client.messages.create({model: 'claude-sonnet-4-6', messages: [{role: 'user', content: 'x'}]} as unknown as Anthropic.MessageCreateParamsNonStreaming).catch((e: unknown) => e)
    expect(gatewayBad).to.be.instanceOf(Anthropic.BadRequestError)
    for (const error of [rate, overloaded, upstreamBad, gatewayBad] as Array<InstanceType<typeof Anthropic.APIError>>) {
      // Errors carry the cost header too (nothing was generated: 0).
      costHeaders.set(String(error.headers?.get('x-gateway-request-id')), error.headers?.get('x-gateway-cost-usd') ?? null)
    }
  })

  it('every x-gateway-cost-usd equals its audit row\'s cost, and the audit has one row per request', async () => {
    // 1 create + 1 stream + 2 tool turns + 1 countTokens + 4 errors.
    const totals = await waitForTotal(daemon, 9)
    expect(totals.total_requests).to.equal(9)
    const rows = await allAuditEntries(daemon)
    expect(rows).to.have.length(9)
    expect(costHeaders.size).to.equal(8)
    for (const [requestId, header] of costHeaders) {
      const row = rows.find((r) => r.request_id === requestId)
      expect(row, requestId).to.not.equal(undefined)
      expect(header, `cost header of ${requestId} (${row!.path} ${row!.status})`).to.not.equal(null)
      expect(Math.round(Number(header) * 1e6), requestId).to.equal(row!.cost_micros)
    }
    const statuses = rows.map((r) => r.status).sort()
    expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 400, 400, 429, 529])
    expect(totals.total_cost_micros).to.equal(rows.reduce((sum, r) => sum + (r.cost_micros ?? 0), 0))
  })

  it('/gateway/health and /gateway/providers report the provider; health has the audit check', async () => {
    const health = (await http(`${daemon.url}/gateway/health`)).json as {status: string; checks: Record<string, {ok: boolean}>}
    expect(health.checks.audit).to.deep.equal({ok: true})
    expect(['healthy', 'degraded']).to.include(health.status)
    const providers = (await http(`${daemon.url}/gateway/providers`)).json as {providers: Array<{name: string}>}
    expect(providers.providers.map((p) => p.name)).to.deep.equal(['anthropic'])
  })
})

/** A non-loopback address of this machine, if it has one (to reach the gateway as a remote peer). */
function externalIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return undefined
}

describe('e2e: admin endpoints refuse non-loopback peers', function () {
  this.timeout(60_000)
  const world = new E2eWorld()
  after(() => world.cleanup())
  const external = externalIPv4()

  ;(external ? it : it.skip)('GET /gateway/audit and POST /gateway/metrics/reset answer 403 to a remote peer, 200 to loopback', async () => {
    const mock = await world.mock()
    // Bound to all interfaces so the test can come in over a non-loopback address.
    const daemon = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}, server: {host: '0.0.0.0'}})
    const remote = `http://${external!}:${daemon.gatewayPort}`
    const auditRemote = await http(`${remote}/gateway/audit`)
    expect(auditRemote.status).to.equal(403)
    expect(auditRemote.json).to.deep.nested.include({'error.type': 'permission_error'})
    expect((await http(`${remote}/gateway/metrics/reset`, {method: 'POST'})).status).to.equal(403)
    // Read-only metrics stay readable (a Prometheus server scrapes them).
    expect((await http(`${remote}/metrics`)).status).to.equal(200)
    expect((await http(`${daemon.url}/gateway/audit`)).status).to.equal(200)
    expect((await http(`${daemon.url}/gateway/metrics/reset`, {method: 'POST'})).status).to.equal(200)
  })
})
