import Anthropic from '@anthropic-ai/sdk'
import {expect} from 'chai'
import http from 'node:http'
import {request} from 'undici'
import {startMockProvider, type RunningMockProvider} from '../../src/mock_provider/index.js'
import type {GatewaySettings} from '../../src/llm_gateway/settings.js'
import {fixture} from './fixtures.js'
import {type TestGateway, parseSseText, provider, startGateway, weatherTool} from './helpers.js'

const env = {TEST_AZURE_KEY: 'azure-secret-key', TEST_DEEPSEEK_KEY: 'deepseek-secret-key', TEST_ANTHROPIC_KEY: 'gateway-anthropic-key'}

function config(mockUrl: string, over: Partial<GatewaySettings> = {}): GatewaySettings {
  return {
    providers: {
      anthropic: provider({providerType: 'anthropic', baseUrl: mockUrl}),
      'anthropic-keyed': provider({providerType: 'anthropic', baseUrl: mockUrl, apiKeyRef: 'env:TEST_ANTHROPIC_KEY'}),
      'azure-chat': provider({providerType: 'azure', baseUrl: mockUrl, apiKeyRef: 'TEST_AZURE_KEY', deployment: 'gpt-4-1', apiVersion: '2024-10-21'}),
      'azure-responses': provider({providerType: 'azure', baseUrl: mockUrl, apiKeyRef: 'TEST_AZURE_KEY', deployment: 'gpt-5.1-codex-mini', api: 'responses'}),
      deepseek: provider({providerType: 'deepseek', baseUrl: mockUrl, apiKeyRef: '$TEST_DEEPSEEK_KEY', modelMap: {'claude-*': 'deepseek-flash'}}),
      'deepseek-openai': provider({providerType: 'deepseek', baseUrl: mockUrl, apiKeyRef: 'TEST_DEEPSEEK_KEY', api: 'openai', modelMap: {'claude-*': 'deepseek-flash'}}),
      ollama: provider({providerType: 'ollama', baseUrl: mockUrl}),
    },
    routing: {
      defaultProvider: 'anthropic',
      agentRules: {
        keyed: 'anthropic-keyed',
        'azure-chat': 'azure-chat',
        'azure-responses': 'azure-responses',
        deepseek: 'deepseek',
        'deepseek-openai': 'deepseek-openai',
        ollama: 'ollama',
      },
      fallbackChain: [],
    },
    ...over,
  }
}

interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

async function raw(url: string, opts: {method?: string; headers?: Record<string, string>; body?: string | Buffer} = {}): Promise<RawResponse> {
  const res = await request(url, {method: (opts.method ?? 'POST') as 'POST', headers: opts.headers, body: opts.body})
  return {status: res.statusCode, headers: res.headers, text: await res.body.text()}
}

const jsonHeaders = {'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-client-key'}

function messagesBody(over: Record<string, unknown> = {}): string {
  return JSON.stringify({model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{role: 'user', content: 'Hello'}], ...over})
}

function envelope(text: string): {type: string; error: {type: string; message: string}} {
  return JSON.parse(text) as {type: string; error: {type: string; message: string}}
}

describe('request path: integration through the gateway to the mock provider', function () {
  this.timeout(30_000)
  let mock: RunningMockProvider
  let gw: TestGateway
  let client: Anthropic

  before(async () => {
    mock = await startMockProvider({seed: 7})
    gw = await startGateway(config(mock.url), {env})
    client = new Anthropic({baseURL: gw.url, apiKey: 'sk-client-key', maxRetries: 0})
  })
  after(async () => {
    await gw.close()
    await mock.close()
  })
  beforeEach(() => {
    mock.setFaults({})
    mock.clearRequests()
    gw.records.length = 0
    gw.logs.length = 0
  })

  describe('official SDK', () => {
    it('messages.create returns the message, gateway headers and exactly one complete record', async () => {
      const {data, response} = await client.messages.create({model: 'claude-sonnet-4-6', max_tokens: 256, messages: [{role: 'user', content: 'Say hello'}]}).withResponse()
      expect(data.type).to.equal('message')
      expect(data.stop_reason).to.equal('end_turn')
      expect(response.headers.get('x-gateway-provider')).to.equal('anthropic')
      expect(response.headers.get('x-gateway-attempts')).to.equal('1')
      expect(response.headers.get('x-gateway-fallback')).to.equal('false')
      expect(Number(response.headers.get('x-gateway-overhead-ms'))).to.be.at.least(0)
      expect(response.headers.get('x-gateway-request-id')).to.match(/^req_gw_/)
      const [rec] = await gw.waitForRecords(1)
      expect(rec).to.deep.include({
        path: '/v1/messages', method: 'POST', agent_type: 'main', provider: 'anthropic', provider_type: 'anthropic', model_requested: 'claude-sonnet-4-6',
        model_served: 'claude-sonnet-4-6', routing_reason: 'default', stream: false, status: 200, success: true, error_type: null, attempts: 1,
        fallback_used: false, usage_missing: false, stop_reason: 'end_turn', request_id: response.headers.get('x-gateway-request-id'),
      })
      expect(rec!.usage).to.deep.include({input_tokens: data.usage.input_tokens, output_tokens: data.usage.output_tokens})
      expect(JSON.parse(rec!.response_body!)).to.deep.equal(data)
      expect(rec!.request_body!.toString()).to.equal(mock.requests()[0]!.body)
      expect(rec!.first_byte_at).to.be.a('number')
      expect(rec!.done_at).to.be.at.least(rec!.received_at)
      expect(gw.logs.map((l) => l.msg)).to.include.members(['Routing request: agent_type=main, provider=anthropic, reason=default', 'Forwarding to provider: anthropic'])
    })

    it('messages.stream emits text events and finalMessage(); the record has stream usage and the reassembled message', async () => {
      const stream = client.messages.stream({model: 'claude-haiku-4-5', max_tokens: 256, messages: [{role: 'user', content: 'Stream please'}]})
      const texts: string[] = []
      stream.on('text', (t) => texts.push(t))
      const final = await stream.finalMessage()
      expect(texts.length).to.be.greaterThan(1)
      expect(final.content[0]?.type === 'text' && final.content[0].text).to.equal(texts.join(''))
      const [rec] = await gw.waitForRecords(1)
      expect(rec).to.deep.include({stream: true, success: true, status: 200, stop_reason: 'end_turn', usage_missing: false})
      expect(rec!.usage).to.deep.include({input_tokens: final.usage.input_tokens, output_tokens: final.usage.output_tokens})
      expect(JSON.parse(rec!.response_body!)).to.deep.include({content: final.content, stop_reason: 'end_turn'})
    })

    it('tool use round trip: tool_use, then tool_result gets an answer', async () => {
      const first = await client.messages.create({model: 'claude-sonnet-4-6', max_tokens: 512, tools: [weatherTool], messages: [{role: 'user', content: 'Use the tool to get the weather'}]})
      expect(first.stop_reason).to.equal('tool_use')
      const toolUse = first.content.find((b) => b.type === 'tool_use')
      if (toolUse?.type !== 'tool_use') throw new Error('no tool_use block')
      const second = await client.messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 512,
        tools: [weatherTool],
        messages: [
          {role: 'user', content: 'Use the tool to get the weather'},
          {role: 'assistant', content: first.content},
          {role: 'user', content: [{type: 'tool_result', tool_use_id: toolUse.id, content: '18°C, cloudy'}]},
        ],
      })
      expect(second.stop_reason).to.equal('end_turn')
      const sent = JSON.parse(mock.requests()[1]!.body) as {messages: unknown[]}
      expect(sent.messages).to.have.length(3)
    })

    it('countTokens is forwarded to the Anthropic-format provider', async () => {
      const r = await client.messages.countTokens({model: 'claude-sonnet-4-6', messages: [{role: 'user', content: 'Count me'}], tools: [weatherTool]})
      expect(r.input_tokens).to.be.greaterThan(0)
      expect(mock.requests()[0]!.path).to.equal('/v1/messages/count_tokens')
      const [rec] = await gw.waitForRecords(1)
      expect(rec).to.deep.include({path: '/v1/messages/count_tokens', success: true, status: 200, provider: 'anthropic'})
    })

    it('typed errors: RateLimitError (429 with retry-after), APIError 529, BadRequestError', async () => {
      mock.setFaults({errorStatus: 429, retryAfterSecs: 0})
      const rate = await client.messages.create({model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{role: 'user', content: 'x'}]}).catch((e: unknown) => e)
      expect(rate).to.be.instanceOf(Anthropic.RateLimitError)
      expect((rate as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).to.equal('0')

      mock.setFaults({errorStatus: 529, retryAfterSecs: 0})
      const overloaded = await client.messages.create({model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{role: 'user', content: 'x'}]}).catch((e: unknown) => e)
      expect(overloaded).to.be.instanceOf(Anthropic.APIError)
      expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).to.equal(529)
      expect(((overloaded as InstanceType<typeof Anthropic.APIError>).error as {error: {type: string}}).error.type).to.equal('overloaded_error')

      mock.setFaults({errorStatus: 400})
      const bad = await client.messages.create({model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{role: 'user', content: 'x'}]}).catch((e: unknown) => e)
      expect(bad).to.be.instanceOf(Anthropic.BadRequestError)
      const recs = await gw.waitForRecords(3)
      expect(recs.map((r) => [r.status, r.error_type, r.attempts])).to.deep.equal([[429, 'rate_limit_error', 3], [529, 'overloaded_error', 3], [400, 'invalid_request_error', 1]])
    })

    it('a gateway-side 400 for a malformed body is a BadRequestError too', async () => {
      const bad = await client.messages.create({model: 'claude-sonnet-4-6', messages: [{role: 'user', content: 'x'}]} as unknown as Anthropic.MessageCreateParamsNonStreaming).catch((e: unknown) => e)
      expect(bad).to.be.instanceOf(Anthropic.BadRequestError)
      expect(mock.requests()).to.have.length(0)
    })
  })

  describe('byte-faithful passthrough', () => {
    const oddBody = '{ "max_tokens" : 64,"model":"claude-sonnet-4-5",  "messages":[{"role":"user","content":"h\\u00e9llo ☃ \\"quoted\\""}],\n"tools":[{"name":"t","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}],"thinking":{"type":"adaptive"},"context_management":{"edits":[]},"unknown_future_field":[1,2.50,{"a":null}] }'

    it('forwards the body bytes and the anthropic-* / other headers exactly; the client credential passes through', async () => {
      const headers = {
        ...jsonHeaders,
        'anthropic-version': '2026-10-21',
        'anthropic-beta': 'claude-code-20250219,some-unknown-beta-2099-01-01',
        'anthropic-dangerous-direct-browser-access': 'true',
        'x-stainless-retry-count': '0',
        'x-claude-code-session-id': 'sess-1',
        'user-agent': 'claude-cli/2.0.77 (external, sdk-cli)',
        'accept-encoding': 'gzip, deflate',
      }
      const res = await raw(`${gw.url}/v1/messages?beta=true`, {headers, body: oddBody})
      expect(res.status).to.equal(200)
      const seen = mock.requests()[0]!
      expect(seen.body).to.equal(oddBody)
      expect(seen.path).to.equal('/v1/messages')
      for (const name of ['anthropic-version', 'anthropic-beta', 'anthropic-dangerous-direct-browser-access', 'x-stainless-retry-count', 'x-claude-code-session-id', 'user-agent', 'x-api-key', 'content-type']) {
        expect(seen.headers[name], name).to.equal(headers[name as keyof typeof headers])
      }
      expect(seen.headers['accept-encoding']).to.not.equal('gzip, deflate')
      expect(seen.headers.host).to.not.equal(new URL(gw.url).host)
    })

    it('accepts Authorization: Bearer (OAuth) and passes it through unchanged', async () => {
      const res = await raw(`${gw.url}/v1/messages`, {headers: {'content-type': 'application/json', 'anthropic-version': '2023-06-01', authorization: 'Bearer oauth-token-1'}, body: messagesBody()})
      expect(res.status).to.equal(200)
      expect(mock.requests()[0]!.headers.authorization).to.equal('Bearer oauth-token-1')
      expect(mock.requests()[0]!.headers['x-api-key']).to.equal(undefined)
    })

    it('a provider with apiKeyRef sends its own key; the client credential is not forwarded', async () => {
      const res = await raw(`${gw.url}/v1/messages`, {headers: {...jsonHeaders, authorization: 'Bearer client-oauth', 'x-cco-agent-type': 'keyed'}, body: messagesBody()})
      expect(res.status).to.equal(200)
      const seen = mock.requests()[0]!
      expect(seen.headers['x-api-key']).to.equal('gateway-anthropic-key')
      expect(seen.headers.authorization).to.equal(undefined)
      expect(seen.headers['x-cco-agent-type']).to.equal(undefined)
      expect(seen.body).to.equal(messagesBody())
    })

    it('deepseek passthrough: only the model value is rewritten by modelMap, the provider key is sent, the client key never is', async () => {
      const body = messagesBody({stream: true, metadata: {user_id: 'u'}})
      const res = await raw(`${gw.url}/v1/messages`, {headers: {...jsonHeaders, 'x-cco-agent-type': 'deepseek'}, body})
      expect(res.status).to.equal(200)
      const seen = mock.requests()[0]!
      expect(seen.body).to.equal(body.replace('"claude-sonnet-4-5"', '"deepseek-flash"'))
      expect(seen.headers['x-api-key']).to.equal('deepseek-secret-key')
      expect(seen.headers['anthropic-version']).to.equal('2023-06-01')
      const [rec] = await gw.waitForRecords(1)
      expect(rec).to.deep.include({provider: 'deepseek', model_requested: 'claude-sonnet-4-5', model_served: 'deepseek-flash', routing_reason: 'agent_rule:deepseek'})
    })

    it('ollama passthrough without a key forwards no client credential', async () => {
      const res = await raw(`${gw.url}/v1/messages`, {headers: {...jsonHeaders, 'x-cco-agent-type': 'ollama'}, body: messagesBody()})
      // The mock (like Anthropic) wants some credential; what matters is that the client's never left the gateway.
      expect(res.status).to.equal(401)
      expect(envelope(res.text).error.type).to.equal('authentication_error')
      expect(mock.requests()[0]!.headers['x-api-key']).to.equal(undefined)
    })

    it('streams SSE with event: lines, no compression and x-accel-buffering: no', async () => {
      const res = await raw(`${gw.url}/v1/messages?beta=true`, {headers: {...jsonHeaders, 'accept-encoding': 'gzip, deflate'}, body: messagesBody({stream: true})})
      expect(res.status).to.equal(200)
      expect(res.headers['content-type']).to.match(/^text\/event-stream/)
      expect(res.headers['x-accel-buffering']).to.equal('no')
      expect(res.headers['content-encoding']).to.equal(undefined)
      const frames = parseSseText(res.text)
      expect(frames[0]!.event).to.equal('message_start')
      expect(frames.at(-1)!.event).to.equal('message_stop')
      for (const f of frames) expect((f.data as {type: string}).type).to.equal(f.event)
    })
  })

  describe('inbound surface and client mistakes', () => {
    it('HEAD / and HEAD /api/hello answer 200 without a body; telemetry is accepted and dropped', async () => {
      for (const path of ['/', '/api/hello']) {
        const r = await raw(`${gw.url}${path}`, {method: 'HEAD'})
        expect(r.status, path).to.equal(200)
        expect(r.text).to.equal('')
      }
      const t = await raw(`${gw.url}/api/event_logging/batch`, {headers: {'content-type': 'application/json'}, body: JSON.stringify({events: [{a: 1}]})})
      expect(t.status).to.equal(204)
      expect(mock.requests()).to.have.length(0)
    })

    it('GET /v1/models?limit=1000 is forwarded with its query', async () => {
      const r = await raw(`${gw.url}/v1/models?limit=1000`, {method: 'GET', headers: {'x-api-key': 'k', 'anthropic-version': '2023-06-01'}})
      expect(r.status).to.equal(200)
      const page = JSON.parse(r.text) as {data: {id: string}[]}
      expect(page.data.length).to.be.greaterThan(0)
      expect(mock.requests()[0]!.path).to.equal('/v1/models?limit=1000')
    })

    it('answers client mistakes in the envelope, never 500, and records each', async () => {
      const cases: [string, {method?: string; body?: string; headers?: Record<string, string>}, number, string][] = [
        ['/v1/messages', {body: '{"model": "x", '}, 400, 'invalid_request_error'],
        ['/v1/messages', {body: ''}, 400, 'invalid_request_error'],
        ['/v1/messages', {body: '[1,2]'}, 400, 'invalid_request_error'],
        ['/v1/messages', {body: '{"messages":[]}'}, 400, 'invalid_request_error'],
        ['/v1/messages', {method: 'GET'}, 405, 'invalid_request_error'],
        ['/v1/complete', {body: '{}'}, 404, 'not_found_error'],
        ['/v1/messages/batches', {body: '{}'}, 404, 'not_found_error'],
        ['/v1/messages/count_tokens', {body: '{"model":"claude-sonnet-4-5"}'}, 400, 'invalid_request_error'],
      ]
      for (const [path, opts, status, type] of cases) {
        const r = await raw(`${gw.url}${path}`, {headers: jsonHeaders, ...opts})
        expect(r.status, `${path} ${opts.body}`).to.equal(status)
        const e = envelope(r.text)
        expect(e.type).to.equal('error')
        expect(e.error.type, path).to.equal(type)
        expect(e.error.message).to.be.a('string').and.not.equal('')
      }
      const recs = await gw.waitForRecords(cases.length)
      expect(recs.map((r) => r.status)).to.deep.equal(cases.map((c) => c[2]))
      expect(recs.every((r) => r.success === false)).to.equal(true)
      expect(mock.requests()).to.have.length(0)
    })

    it('a body over the limit gets 413 without being buffered', async () => {
      const small = await startGateway({...config(mock.url), server: {maxBodyBytes: 4096}}, {env})
      try {
        const declared = await raw(`${small.url}/v1/messages`, {headers: jsonHeaders, body: messagesBody({pad: 'x'.repeat(10_000)})})
        expect(declared.status).to.equal(413)
        expect(envelope(declared.text).error.type).to.equal('request_too_large')
        // Chunked (no content-length): the gateway stops at the limit.
        const chunked = await new Promise<number>((resolve, reject) => {
          const req = http.request(`${small.url}/v1/messages`, {method: 'POST', headers: {...jsonHeaders, 'transfer-encoding': 'chunked'}}, (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          })
          req.on('error', reject)
          for (let i = 0; i < 10; i++) req.write('x'.repeat(1000))
          req.end()
        })
        expect(chunked).to.equal(413)
        expect(mock.requests()).to.have.length(0)
      } finally {
        await small.close()
      }
    })
  })

  describe('Claude Code 2.0.77 replay', () => {
    const lines = fixture('claude-code-2.0.77-requests.jsonl').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)

    function bodyFor(rec: Record<string, unknown>): string {
      const keys = rec.keys as string[]
      const tools = Array.from({length: Number(rec.ntools ?? 0)}, (_, i) => ({name: `Tool${i}`, description: `Tool ${i}`, input_schema: {type: 'object', properties: {path: {type: 'string'}}}}))
      const values: Record<string, unknown> = {
        model: rec.model,
        messages: Array.from({length: Number(rec.nmsg ?? 1)}, () => ({role: 'user', content: [{type: 'text', text: 'Replay of a recorded Claude Code turn'}]})),
        system: [{type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: {type: 'ephemeral'}}, {type: 'text', text: 'You are a file search specialist.'}],
        tools,
        metadata: {user_id: 'user_replay_session_1'},
        max_tokens: rec.max_tokens,
        stream: rec.stream,
        events: [{event_type: 'ClaudeCodeInternalEvent'}],
      }
      const out: Record<string, unknown> = {}
      for (const k of keys) out[k] = values[k]
      return JSON.stringify(out)
    }

    it('every recorded path and header combination gets the right answer', async () => {
      for (const rec of lines) {
        const headers = {...(rec.headers as Record<string, string>)}
        for (const h of ['host', 'content-length', 'connection']) delete headers[h]
        const url = String(rec.url)
        const body = bodyFor(rec)
        const res = await raw(`${gw.url}${url}`, {method: String(rec.method), headers, body})
        if (url.startsWith('/v1/messages?')) {
          expect(res.status, url).to.equal(200)
          const frames = parseSseText(res.text)
          expect(frames[0]!.event).to.equal('message_start')
          expect(frames.at(-1)!.event).to.equal('message_stop')
          const sent = mock.requests().at(-1)!
          expect(sent.body).to.equal(body)
          expect(sent.headers['anthropic-beta']).to.equal(headers['anthropic-beta'])
          expect(sent.headers['anthropic-version']).to.equal('2023-06-01')
        } else if (url.startsWith('/v1/messages/count_tokens')) {
          expect(res.status, url).to.equal(200)
          expect((JSON.parse(res.text) as {input_tokens: number}).input_tokens).to.be.greaterThan(0)
        } else {
          expect(res.status, url).to.equal(204)
        }
      }
      // Telemetry never reached the upstream; everything else did, once.
      expect(mock.requests().map((r) => r.path.split('?')[0])).to.deep.equal(lines.filter((l) => String(l.url).startsWith('/v1/')).map((l) => String(l.url).split('?')[0]))
      const recs = await gw.waitForRecords(9)
      expect(recs.every((r) => r.success)).to.equal(true)
      expect(recs.filter((r) => r.stream)).to.have.length(8)
    })
  })

  describe('translated providers', () => {
    it('Azure chat completions (deployment path): SDK stream with tool use; provider key sent, client key not', async () => {
      const c = new Anthropic({baseURL: gw.url, apiKey: 'sk-client-key', maxRetries: 0, defaultHeaders: {'x-cco-agent-type': 'azure-chat'}})
      const stream = c.messages.stream({model: 'claude-sonnet-4-6', max_tokens: 512, system: 'Be brief.', tools: [weatherTool], messages: [{role: 'user', content: 'Use the tool to get the weather'}]})
      const final = await stream.finalMessage()
      expect(final.stop_reason).to.equal('tool_use')
      expect(final.model).to.equal('claude-sonnet-4-6')
      const tool = final.content.find((b) => b.type === 'tool_use')
      expect(tool?.type === 'tool_use' && (tool.input as {city?: unknown}).city).to.be.a('string')
      const seen = mock.requests()[0]!
      expect(seen.path).to.equal('/openai/deployments/gpt-4-1/chat/completions?api-version=2024-10-21')
      expect(seen.headers['api-key']).to.equal('azure-secret-key')
      expect(seen.headers['x-api-key']).to.equal(undefined)
      expect(seen.headers.authorization).to.equal(undefined)
      expect(seen.headers['anthropic-version']).to.equal(undefined)
      const sent = JSON.parse(seen.body) as {stream_options: unknown; messages: {role: string}[]}
      expect(sent.stream_options).to.deep.equal({include_usage: true})
      expect(sent.messages[0]).to.deep.equal({role: 'system', content: 'Be brief.'})
      const [rec] = await gw.waitForRecords(1)
      expect(rec).to.deep.include({provider: 'azure-chat', provider_type: 'azure', model_served: 'gpt-4-1', success: true, stop_reason: 'tool_use', usage_missing: false})
      expect(final.usage.output_tokens).to.equal(rec!.usage!.output_tokens)
    })

    it('Azure Responses API: streamed text and non-streamed JSON', async () => {
      const c = new Anthropic({baseURL: gw.url, apiKey: 'k', maxRetries: 0, defaultHeaders: {'x-cco-agent-type': 'azure-responses'}})
      const final = await c.messages.stream({model: 'claude-sonnet-4-6', max_tokens: 512, messages: [{role: 'user', content: 'Hello'}]}).finalMessage()
      expect(final.stop_reason).to.equal('end_turn')
      expect(final.content.some((b) => b.type === 'text')).to.equal(true)
      expect(mock.requests()[0]!.path).to.equal('/openai/v1/responses')
      expect((JSON.parse(mock.requests()[0]!.body) as {model: string}).model).to.equal('gpt-5.1-codex-mini')
      const json = await c.messages.create({model: 'claude-sonnet-4-6', max_tokens: 512, tools: [weatherTool], messages: [{role: 'user', content: 'Use the tool to get the weather'}]})
      expect(json.stop_reason).to.equal('tool_use')
    })

    it('DeepSeek OpenAI endpoint: non-streamed, Bearer key, usage mapped; count_tokens is estimated', async () => {
      const c = new Anthropic({baseURL: gw.url, apiKey: 'sk-client-key', maxRetries: 0, defaultHeaders: {'x-cco-agent-type': 'deepseek-openai'}})
      const m = await c.messages.create({model: 'claude-sonnet-4-6', max_tokens: 256, messages: [{role: 'user', content: 'Hello'}]})
      expect(m.type).to.equal('message')
      expect(m.usage.output_tokens).to.be.greaterThan(0)
      const seen = mock.requests()[0]!
      expect(seen.path).to.equal('/v1/chat/completions')
      expect(seen.headers.authorization).to.equal('Bearer deepseek-secret-key')
      expect((JSON.parse(seen.body) as {model: string; thinking: unknown}).thinking).to.deep.equal({type: 'disabled'})
      mock.clearRequests()
      const count = await c.messages.countTokens({model: 'claude-sonnet-4-6', messages: [{role: 'user', content: 'Count me please'}]})
      expect(count.input_tokens).to.be.greaterThan(0)
      expect(mock.requests()).to.have.length(0)
    })

    it('a translated provider that cannot serve a claude model answers 404 not_found_error', async () => {
      const g = await startGateway(
        {providers: {o: provider({providerType: 'ollama', baseUrl: mock.url, api: 'openai'})}, routing: {defaultProvider: 'o'}},
        {env},
      )
      try {
        const r = await raw(`${g.url}/v1/messages`, {headers: jsonHeaders, body: messagesBody()})
        expect(r.status).to.equal(404)
        expect(envelope(r.text).error.type).to.equal('not_found_error')
        expect(envelope(r.text).error.message).to.include('modelMap')
      } finally {
        await g.close()
      }
    })
  })
})
