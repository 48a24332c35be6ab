import {expect} from 'chai'
import {defaultGatewayConfig, validateGatewayConfig} from '../../src/daemon/config.js'
import {createLogger} from '../../src/daemon/log.js'
import {ProviderHealth, UNHEALTHY_AFTER_FAILURES} from '../../src/llm_gateway/health.js'
import {sendJson, startGatewayServer, type GatewayServerHandle} from '../../src/llm_gateway/server.js'
import {http} from '../helpers/cco.js'

const HOME = '/tmp/cco-gateway-server-test'

describe('LLM Gateway server (startGatewayServer)', () => {
  const logged: string[] = []
  const log = createLogger((line) => logged.push(line))
  let handle: GatewayServerHandle | null = null
  afterEach(async () => {
    await handle?.close()
    handle = null
  })

  it('serves /gateway/health and /gateway/providers with the documented shapes', async () => {
    handle = await startGatewayServer({config: defaultGatewayConfig(HOME), home: HOME, log})
    const base = `http://127.0.0.1:${handle.port}`
    const health = await http(`${base}/gateway/health`)
    expect(health.status).to.equal(200)
    expect(health.headers['content-type']).to.equal('application/json')
    const body = health.json as Record<string, unknown>
    expect(body).to.include({status: 'healthy'})
    expect(body.version).to.be.a('string')
    expect(body.uptime_seconds).to.be.a('number')
    expect(body.providers).to.have.property('anthropic').that.includes({healthy: true, type: 'anthropic', enabled: true})
    expect(body.routing).to.deep.equal({default_provider: 'anthropic', fallback_chain: ['anthropic']})
    const providers = await http(`${base}/gateway/providers`)
    expect(providers.json).to.deep.equal({providers: [{name: 'anthropic', type: 'anthropic', enabled: true, healthy: true, base_url: 'https://api.anthropic.com'}]})
  })

  it('answers /v1/* with an Anthropic 404 envelope when no API handler is mounted, and 405 for a wrong method', async () => {
    handle = await startGatewayServer({config: defaultGatewayConfig(HOME), home: HOME, log})
    const res = await http(`http://127.0.0.1:${handle.port}/v1/messages`, {method: 'POST', body: '{}'})
    expect(res.status).to.equal(404)
    expect(res.json).to.deep.equal({type: 'error', error: {type: 'not_found_error', message: 'Not found: POST /v1/messages'}})
    const wrong = await http(`http://127.0.0.1:${handle.port}/gateway/health`, {method: 'POST'})
    expect(wrong.status).to.equal(405)
    expect(wrong.headers.allow).to.equal('GET')
  })

  it('mounts extra routes and delegates everything else to the API handler first', async () => {
    const seen: string[] = []
    handle = await startGatewayServer({
      config: defaultGatewayConfig(HOME),
      home: HOME,
      log,
      routes: [{method: 'GET', path: '/gateway/metrics', handler: (_req, res) => sendJson(res, 200, {summary: {total_requests: 0}})}],
      apiHandler: async (req, res) => {
        seen.push(`${req.method} ${req.url}`)
        if (req.url !== '/v1/messages') return false
        const chunks: Buffer[] = []
        for await (const chunk of req) chunks.push(chunk as Buffer)
        sendJson(res, 200, {echo: Buffer.concat(chunks).toString('utf8')})
        return true
      },
    })
    const base = `http://127.0.0.1:${handle.port}`
    expect((await http(`${base}/gateway/metrics`)).json).to.deep.equal({summary: {total_requests: 0}})
    expect((await http(`${base}/v1/messages`, {method: 'POST', body: 'hello'})).json).to.deep.equal({echo: 'hello'})
    expect((await http(`${base}/v1/other`)).status).to.equal(404)
    expect(seen).to.deep.equal(['POST /v1/messages', 'GET /v1/other'])
  })

  it('turns a throwing handler into a 500 api_error and logs it', async () => {
    handle = await startGatewayServer({
      config: defaultGatewayConfig(HOME),
      home: HOME,
      log,
      apiHandler: async () => {
        throw new Error('boom')
      },
    })
    const res = await http(`http://127.0.0.1:${handle.port}/v1/messages`, {method: 'POST'})
    expect(res.status).to.equal(500)
    expect((res.json as {error: {type: string}}).error.type).to.equal('api_error')
    expect(logged.join('')).to.contain('boom')
  })
})

describe('ProviderHealth', () => {
  const config = validateGatewayConfig(
    {
      providers: {
        a: {providerType: 'anthropic', baseUrl: 'https://a.example'},
        b: {providerType: 'deepseek', baseUrl: 'https://b.example', apiKeyRef: 'B_KEY'},
      },
      routing: {defaultProvider: 'a'},
    },
    HOME,
    'test',
  ).config!

  it('derives health from the env and from reported outcomes', () => {
    const health = new ProviderHealth(config, {B_KEY: 'x'})
    expect(health.status()).to.equal('healthy')
    for (let i = 0; i < UNHEALTHY_AFTER_FAILURES - 1; i++) health.recordOutcome('a', false, 10, 'HTTP 529')
    expect(health.isHealthy('a')).to.equal(true)
    health.recordOutcome('a', false, 12, 'HTTP 529')
    expect(health.provider('a')).to.include({healthy: false, consecutive_failures: UNHEALTHY_AFTER_FAILURES, last_latency_ms: 12, last_error: 'HTTP 529'})
    expect(health.status()).to.equal('degraded')
    health.recordOutcome('a', true, 5)
    expect(health.isHealthy('a')).to.equal(true)
    expect(new ProviderHealth(config, {}).provider('b')).to.include({healthy: false, reason: 'API key env var B_KEY is not set'})
    health.recordOutcome('unknown', false, 1)
    expect(Object.keys(health.snapshot())).to.deep.equal(['a', 'b'])
  })
})
