/**
 * Issue #20: every current Claude model id through the bundled gateway (the daemon's LLM gateway
 * plugin: request path + evidence, mounted on the gateway server) to the mock provider carries an
 * exact x-gateway-cost-usd, computed here from the published rates for input, output, cache read and
 * both cache writes; models without a price show up as unpriced in /gateway/metrics (per model) and
 * in Prometheus (gateway_unpriced_requests_total{model}).
 */
import {expect} from 'chai'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'
import {defaultGatewayConfig} from '../../src/daemon/config.js'
import {createLogger} from '../../src/daemon/log.js'
import {ProviderHealth} from '../../src/llm_gateway/health.js'
import {createLlmGatewayPlugin} from '../../src/llm_gateway/plugin.js'
import type {GatewayPlugin} from '../../src/llm_gateway/server.js'
import {startGatewayServer, type GatewayServerHandle} from '../../src/llm_gateway/server.js'
import {startMockProvider, type RunningMockProvider} from '../../src/mock_provider/index.js'
import {computeCost} from '../../src/llm_gateway/cost.js'
import {PricingTable} from '../../src/llm_gateway/pricing.js'
import {GatewayPrometheus} from '../../src/llm_gateway/prometheus.js'
import {parseExposition} from '../evidence/harness.js'
import {makeRecord} from '../evidence/records.js'

/** Published USD per million tokens: input, output, cache read, 5-minute and 1-hour cache writes. */
interface Published {
  input: number
  output: number
  read: number
  write5m: number
  write1h: number
}

const rates = (input: number, output: number, read: number, write5m: number, write1h: number): Published => ({input, output, read, write5m, write1h})

// Source: ../shared/reference/wire-format.md 4.1 (Anthropic pricing page, Nov 2026).
const OPUS_4_5_TO_4_8 = rates(5, 25, 0.5, 6.25, 10)
const SONNET_4_X = rates(3, 15, 0.3, 3.75, 6)
const HAIKU_4_5 = rates(1, 5, 0.1, 1.25, 2)
// Source: issue #20 item 1 (Sonnet 5 / 5.5 model pages: $2 / $10, cache read $0.20, writes $2.50 / $4);
// wire-format.md 4.1 note: Sonnet 5.5 cache reads cut to $0.10 on 2026-10-07.
const SONNET_5 = rates(2, 10, 0.2, 2.5, 4)
const SONNET_5_5_READ_CUT = Date.parse('2026-10-07T00:00:00Z')
const sonnet55 = (): Published => rates(2, 10, Date.now() >= SONNET_5_5_READ_CUT ? 0.1 : 0.2, 2.5, 4)

/** The priced ids of @anthropic-ai/sdk 1.14's Model list (its other ids have no complete rate card in the reference). */
const PRICED_CURRENT: Array<[string, () => Published]> = [
  ['claude-sonnet-5-5', sonnet55],
  ['claude-sonnet-5', () => SONNET_5],
  ['claude-opus-4-8', () => OPUS_4_5_TO_4_8],
  ['claude-opus-4-7', () => OPUS_4_5_TO_4_8],
  ['claude-opus-4-6', () => OPUS_4_5_TO_4_8],
  ['claude-opus-4-5', () => OPUS_4_5_TO_4_8],
  ['claude-opus-4-5-20251101', () => OPUS_4_5_TO_4_8],
  ['claude-sonnet-4-6', () => SONNET_4_X],
  ['claude-sonnet-4-5', () => SONNET_4_X],
  ['claude-sonnet-4-5-20250929', () => SONNET_4_X],
  ['claude-haiku-4-5', () => HAIKU_4_5],
  ['claude-haiku-4-5-20251001', () => HAIKU_4_5],
]

/** SDK 1.14 ids the reference gives no complete rates for, and one id nobody prices. */
const UNPRICED = ['claude-opus-5-5', 'claude-opus-5', 'claude-fable-5-2', 'claude-fable-5-1', 'claude-fable-5', 'claude-haiku-5-5', 'claude-mythos-5-2', 'claude-mythos-5-1', 'claude-mythos-5', 'claude-mythos-preview', 'no-such-model-7']

interface MockUsage {
  input_tokens: number
  output_tokens: number
  cache_read_input_tokens: number
  cache_creation: {ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number}
}

/** Exact micro-dollars: integer picodollars per token (USD/MTok x 1e6), summed as BigInt, rounded half up once. */
function expectedMicros(u: MockUsage, r: Published): bigint {
  const pico = (usdPerMTok: number): bigint => BigInt(Math.round(usdPerMTok * 1e6))
  const total =
    BigInt(u.input_tokens) * pico(r.input) +
    BigInt(u.output_tokens) * pico(r.output) +
    BigInt(u.cache_read_input_tokens) * pico(r.read) +
    BigInt(u.cache_creation.ephemeral_5m_input_tokens) * pico(r.write5m) +
    BigInt(u.cache_creation.ephemeral_1h_input_tokens) * pico(r.write1h)
  return (total + 500_000n) / 1_000_000n
}

const usd = (micros: bigint): string => `${micros / 1_000_000n}.${String(micros % 1_000_000n).padStart(6, '0')}`

/** A body whose prompt has a cache read, a 1-hour and a 5-minute cache write and uncached input (the mock's cache accounting). */
function cachedBody(model: string): string {
  const long = (word: string): string => Array.from({length: 120}, (_, i) => `${word} ${i}`).join(' ')
  return JSON.stringify({
    model,
    max_tokens: 64,
    system: [
      {type: 'text', text: long('guidelines'), cache_control: {type: 'ephemeral', ttl: '1h'}},
      {type: 'text', text: long('project'), cache_control: {type: 'ephemeral'}},
    ],
    messages: [{role: 'user', content: `Summarise the repository layout, please. ${long('question')}`}],
  })
}

describe('request path: current Claude models are priced exactly through the bundled gateway (#20)', function () {
  this.timeout(30_000)
  let mock: RunningMockProvider
  let plugin: GatewayPlugin
  let server: GatewayServerHandle
  let home: string
  let base: string

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'cco-pricing-'))
    mock = await startMockProvider({seed: 20})
    const config = defaultGatewayConfig(home)
    config.providers.anthropic!.baseUrl = mock.url
    const log = createLogger(() => {})
    const health = new ProviderHealth(config)
    plugin = await createLlmGatewayPlugin({config, home, log, health}, {flushIntervalMs: 10})
    server = await startGatewayServer({config, home, log, health, apiHandler: plugin.apiHandler, routes: plugin.routes})
    base = `http://127.0.0.1:${server.port}`
  })
  after(async () => {
    await server?.close()
    await plugin?.close?.()
    await mock?.close()
    rmSync(home, {recursive: true, force: true})
  })

  const post = async (model: string): Promise<{status: number; cost: string | undefined; usage: MockUsage}> => {
    const res = await request(`${base}/v1/messages`, {
      method: 'POST',
      headers: {'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-pricing-test-key', 'x-cco-agent-type': 'pricing-test'},
      body: cachedBody(model),
    })
    const body = (await res.body.json()) as {usage: MockUsage}
    const cost = res.headers['x-gateway-cost-usd']
    return {status: res.statusCode, cost: Array.isArray(cost) ? cost[0] : cost, usage: body.usage}
  }

  for (const [model, published] of PRICED_CURRENT) {
    it(`${model}: x-gateway-cost-usd = input + output + cache read + 5m and 1h cache writes at the published rates`, async () => {
      const r = await post(model)
      expect(r.status).to.equal(200)
      const u = r.usage
      // Every price component is exercised.
      for (const n of [u.input_tokens, u.output_tokens, u.cache_read_input_tokens, u.cache_creation.ephemeral_5m_input_tokens, u.cache_creation.ephemeral_1h_input_tokens]) expect(n, JSON.stringify(u)).to.be.greaterThan(0)
      expect(r.cost, JSON.stringify(u)).to.equal(usd(expectedMicros(u, published())))
    })
  }

  it('models without a price: no x-gateway-cost-usd, counted per model in /gateway/metrics and in gateway_unpriced_requests_total{model}', async () => {
    for (const model of UNPRICED) {
      const r = await post(model)
      expect(r.status, model).to.equal(200)
      expect(r.cost, model).to.equal(undefined)
    }
    await post('no-such-model-7')
    const wanted = Object.fromEntries(UNPRICED.map((m) => [m, m === 'no-such-model-7' ? 2 : 1]))

    let summary: {unpriced_requests: number; unpriced_by_model: Record<string, number>; total_requests: number} | undefined
    const expectedTotal = PRICED_CURRENT.length + UNPRICED.length + 1
    for (let i = 0; i < 200; i++) {
      const res = await request(`${base}/gateway/metrics`)
      summary = ((await res.body.json()) as {summary: NonNullable<typeof summary>}).summary
      if (summary.total_requests >= expectedTotal) break
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    expect(summary?.total_requests).to.equal(expectedTotal)
    expect(summary?.unpriced_by_model).to.deep.equal(wanted)
    expect(summary?.unpriced_requests).to.equal(UNPRICED.length + 1)

    const text = await (await request(`${base}/metrics`)).body.text()
    expect(text).to.contain('# TYPE gateway_unpriced_requests_total counter')
    const samples = parseExposition(text).filter((s) => s.name === 'gateway_unpriced_requests_total')
    expect(Object.fromEntries(samples.map((s) => [s.labels.model, s.value]))).to.deep.equal(wanted)
    for (const s of samples) expect(Object.keys(s.labels)).to.deep.equal(['model'])
  })
})

describe('gateway_unpriced_requests_total respects the model-label cap', () => {
  it('past 200 distinct model labels, new unpriced models count under model="other"', async () => {
    const prom = new GatewayPrometheus({version: '0.0.0-test', providers: ['anthropic'], processMetrics: false})
    const table = new PricingTable()
    for (let i = 0; i < 205; i++) {
      const record = makeRecord({model_requested: `unpriced-model-${i}`, model_served: `unpriced-model-${i}`})
      prom.observe(record, computeCost(record, table))
    }
    const samples = parseExposition(await prom.metrics()).filter((s) => s.name === 'gateway_unpriced_requests_total')
    expect(samples.length).to.equal(201)
    expect(samples.find((s) => s.labels.model === 'other')?.value).to.equal(5)
    expect(samples.find((s) => s.labels.model === 'unpriced-model-0')?.value).to.equal(1)
  })
})
