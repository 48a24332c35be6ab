import {expect} from 'chai'
import nock from 'nock'
import {request} from 'undici'
import type {GatewaySettings} from '../../src/llm_gateway/settings.js'
import {NodeHttpTransport} from '../../src/llm_gateway/upstream.js'
import {fixture} from './fixtures.js'
import {type TestGateway, parseSseText, provider, startGateway, waitFor} from './helpers.js'

// Provider adapters against their real remote hosts, intercepted by nock. The gateway uses its
// node:http transport here (nock intercepts node:http; the production undici pool is exercised
// against the real mock provider in the integration tests).

// Importing nock installs its interceptors process-wide; keep them off except while this suite runs
// (other suites in the same mocha process send absolute-form requests through a real proxy).
nock.restore()

const env = {ANTHROPIC_KEY: 'sk-ant-gateway', AZURE_KEY: 'azure-key-1', DEEPSEEK_KEY: 'ds-key-1'}

const settings: GatewaySettings = {
  providers: {
    anthropic: provider({providerType: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKeyRef: 'ANTHROPIC_KEY', maxRetries: 0}),
    'anthropic-client-auth': provider({providerType: 'anthropic', baseUrl: 'https://api.anthropic.com', maxRetries: 0}),
    azure: provider({providerType: 'azure', baseUrl: 'https://myres.openai.azure.com', apiKeyRef: 'AZURE_KEY', deployment: 'gpt-4-1', apiVersion: '2024-10-21', maxRetries: 0}),
    'azure-codex': provider({providerType: 'azure', baseUrl: 'https://myres.cognitiveservices.azure.com/openai', apiKeyRef: 'AZURE_KEY', deployment: 'gpt-5.1-codex-mini', maxRetries: 0}),
    deepseek: provider({providerType: 'deepseek', baseUrl: 'https://api.deepseek.com', apiKeyRef: 'DEEPSEEK_KEY', maxRetries: 0}),
    'deepseek-openai': provider({providerType: 'deepseek', baseUrl: 'https://api.deepseek.com', apiKeyRef: 'DEEPSEEK_KEY', api: 'openai', modelMap: {'claude-*': 'deepseek-flash'}, maxRetries: 0}),
    'ollama-openai': provider({providerType: 'ollama', baseUrl: 'http://ollama.internal:11434', api: 'openai', defaultModel: 'qwen3-coder', maxRetries: 0}),
  },
  routing: {
    defaultProvider: 'anthropic',
    agentRules: {client: 'anthropic-client-auth', azure: 'azure', codex: 'azure-codex', deepseek: 'deepseek', 'deepseek-openai': 'deepseek-openai', ollama: 'ollama-openai'},
  },
}

const clientHeaders = {
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
  'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
  'x-api-key': 'sk-client-own-key',
}

async function post(url: string, path: string, body: string, agent?: string) {
  const res = await request(`${url}${path}`, {method: 'POST', headers: agent ? {...clientHeaders, 'x-cco-agent-type': agent} : clientHeaders, body})
  return {status: res.statusCode, headers: res.headers, text: await res.body.text()}
}

const messages = JSON.stringify({model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{role: 'user', content: 'Hi'}]})
const streamMessages = JSON.stringify({model: 'claude-sonnet-4-5', max_tokens: 100, stream: true, messages: [{role: 'user', content: 'Hi'}]})

describe('request path: provider adapters against remote hosts (nock)', () => {
  let gw: TestGateway

  before(async () => {
    if (!nock.isActive()) nock.activate()
    nock.disableNetConnect()
    nock.enableNetConnect(/^127\.0\.0\.1(:\d+)?$/)
    gw = await startGateway(settings, {env, transport: new NodeHttpTransport()})
  })
  afterEach(() => nock.cleanAll())
  after(async () => {
    await gw.close()
    nock.enableNetConnect()
    nock.restore()
  })

  it('anthropic with apiKeyRef: same body bytes and anthropic-* headers to api.anthropic.com, gateway key instead of the client key', async () => {
    const scope = nock('https://api.anthropic.com', {
      reqheaders: {
        'x-api-key': 'sk-ant-gateway',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
      },
      badheaders: ['authorization'],
    })
      .post('/v1/messages', (b: unknown) => JSON.stringify(b) === messages)
      .reply(200, fixture('anthropic-fixture-b.sse'), {'content-type': 'text/event-stream', 'request-id': 'req_upstream_1'})
    const r = await post(gw.url, '/v1/messages?beta=true', messages)
    expect(r.status).to.equal(200)
    expect(r.text).to.equal(fixture('anthropic-fixture-b.sse'))
    expect(r.headers['request-id']).to.equal('req_upstream_1')
    scope.done()
  })

  it('anthropic without apiKeyRef passes the client credential through', async () => {
    const scope = nock('https://api.anthropic.com', {reqheaders: {'x-api-key': 'sk-client-own-key'}})
      .post('/v1/messages/count_tokens')
      .reply(200, {input_tokens: 2095})
    const r = await post(gw.url, '/v1/messages/count_tokens?beta=true', messages, 'client')
    expect(JSON.parse(r.text)).to.deep.equal({input_tokens: 2095})
    scope.done()
  })

  it('anthropic 429 with retry-after: status, body and retry-after forwarded unchanged', async () => {
    const errBody = '{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_x"}'
    nock('https://api.anthropic.com').post('/v1/messages').reply(429, errBody, {'content-type': 'application/json', 'retry-after': '7'})
    const r = await post(gw.url, '/v1/messages', messages)
    expect(r.status).to.equal(429)
    expect(r.headers['retry-after']).to.equal('7')
    expect(r.text).to.equal(errBody)
  })

  it('azure chat: deployment path with api-version and api-key; the client key and anthropic headers are not sent', async () => {
    const scope = nock('https://myres.openai.azure.com', {reqheaders: {'api-key': 'azure-key-1'}, badheaders: ['x-api-key', 'authorization', 'anthropic-version', 'anthropic-beta']})
      .post('/openai/deployments/gpt-4-1/chat/completions', (b: {model: string; max_completion_tokens: number; messages: unknown[]}) => b.model === 'gpt-4-1' && b.max_completion_tokens === 100 && b.messages.length === 1)
      .query({'api-version': '2024-10-21'})
      .reply(200, fixture('openai-fixture-d.sse'), {'content-type': 'text/event-stream'})
    const r = await post(gw.url, '/v1/messages', streamMessages, 'azure')
    expect(r.status).to.equal(200)
    const frames = parseSseText(r.text)
    expect(frames.map((f) => f.event)).to.deep.equal([
      'message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'content_block_start',
      'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop',
    ])
    scope.done()
  })

  it('azure codex deployment defaults to the Responses API at /openai/v1/responses', async () => {
    const scope = nock('https://myres.cognitiveservices.azure.com', {reqheaders: {'api-key': 'azure-key-1'}})
      .post('/openai/v1/responses', (b: {model: string; store: boolean; input: unknown[]}) => b.model === 'gpt-5.1-codex-mini' && b.store === false && b.input.length === 1)
      .reply(200, fixture('responses-fixture-e.sse'), {'content-type': 'text/event-stream'})
    const r = await post(gw.url, '/v1/messages', streamMessages, 'codex')
    const frames = parseSseText(r.text)
    expect(frames.find((f) => f.event === 'message_delta')!.data).to.deep.include({delta: {stop_reason: 'tool_use', stop_sequence: null}})
    scope.done()
  })

  it('azure errors are mapped into the envelope with the upstream status and retry-after', async () => {
    nock('https://myres.openai.azure.com')
      .post('/openai/deployments/gpt-4-1/chat/completions')
      .query(true)
      .reply(429, {error: {code: '429', message: 'Requests have exceeded call rate limit. Please retry after 6 seconds.'}}, {'retry-after': '6'})
    const r = await post(gw.url, '/v1/messages', messages, 'azure')
    expect(r.status).to.equal(429)
    expect(r.headers['retry-after']).to.equal('6')
    const e = JSON.parse(r.text) as {type: string; error: {type: string; message: string}}
    expect(e.type).to.equal('error')
    expect(e.error.type).to.equal('rate_limit_error')
    expect(e.error.message).to.include('Please retry after 6 seconds')

    nock('https://myres.openai.azure.com')
      .post('/openai/deployments/gpt-4-1/chat/completions')
      .query(true)
      .reply(400, {error: {code: 'OperationNotSupported', message: 'The chatCompletion operation does not work with the specified model, gpt-5-codex.'}})
    const bad = await post(gw.url, '/v1/messages', messages, 'azure')
    expect(bad.status).to.equal(400)
    expect((JSON.parse(bad.text) as {error: {type: string; message: string}}).error).to.deep.include({type: 'invalid_request_error'})
    expect(bad.text).to.include('OperationNotSupported')
  })

  it('deepseek passthrough goes to api.deepseek.com/anthropic/v1/messages with the DeepSeek key', async () => {
    const scope = nock('https://api.deepseek.com', {reqheaders: {'x-api-key': 'ds-key-1', 'anthropic-version': '2023-06-01'}, badheaders: ['authorization']})
      .post('/anthropic/v1/messages', (b: unknown) => JSON.stringify(b) === messages)
      .reply(200, {id: 'msg_1', type: 'message', role: 'assistant', model: 'deepseek-flash', content: [{type: 'text', text: 'hi'}], stop_reason: 'end_turn', stop_sequence: null, usage: {input_tokens: 5, output_tokens: 1}})
    const r = await post(gw.url, '/v1/messages', messages, 'deepseek')
    expect(r.status).to.equal(200)
    expect((JSON.parse(r.text) as {model: string}).model).to.equal('deepseek-flash')
    scope.done()
  })

  it('deepseek api:openai goes to /v1/chat/completions with a Bearer key, mapped model and explicit thinking', async () => {
    const scope = nock('https://api.deepseek.com', {reqheaders: {authorization: 'Bearer ds-key-1'}, badheaders: ['x-api-key']})
      .post('/v1/chat/completions', (b: {model: string; thinking: unknown; max_tokens: number}) => b.model === 'deepseek-flash' && JSON.stringify(b.thinking) === '{"type":"disabled"}' && b.max_tokens === 100)
      .reply(200, {
        id: 'c1',
        object: 'chat.completion',
        choices: [{index: 0, message: {role: 'assistant', content: 'Hello!'}, finish_reason: 'stop'}],
        usage: {prompt_tokens: 120, completion_tokens: 3, prompt_cache_hit_tokens: 100, prompt_cache_miss_tokens: 20},
      })
    const r = await post(gw.url, '/v1/messages', messages, 'deepseek-openai')
    const m = JSON.parse(r.text) as {model: string; content: unknown; usage: unknown}
    expect(m.model).to.equal('claude-sonnet-4-5')
    expect(m.content).to.deep.equal([{type: 'text', text: 'Hello!'}])
    expect(m.usage).to.deep.equal({input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 100, output_tokens: 3})
    scope.done()
    const rec = await waitFor(() => gw.records.find((x) => x.provider === 'deepseek-openai'), 'the deepseek-openai record')
    expect(rec.usage).to.deep.include({input_tokens: 20, cache_read_input_tokens: 100, output_tokens: 3})
  })

  it('ollama api:openai uses its defaultModel and sends no credential at all', async () => {
    const scope = nock('http://ollama.internal:11434', {badheaders: ['x-api-key', 'authorization']})
      .post('/v1/chat/completions', (b: {model: string}) => b.model === 'qwen3-coder')
      .reply(200, {choices: [{index: 0, message: {role: 'assistant', content: 'ok'}, finish_reason: 'length'}], usage: {prompt_tokens: 5, completion_tokens: 100}})
    const r = await post(gw.url, '/v1/messages', messages, 'ollama')
    expect((JSON.parse(r.text) as {stop_reason: string}).stop_reason).to.equal('max_tokens')
    scope.done()
  })
})
