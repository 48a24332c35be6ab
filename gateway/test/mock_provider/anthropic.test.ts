import Anthropic from '@anthropic-ai/sdk'
import {expect} from 'chai'
import {startMockProvider, type RunningMockProvider} from '../../src/mock_provider/index.js'
import {anthropicHeaders, parseSse, rawRequest, weatherTool} from './helpers.js'

describe('mock provider: Anthropic Messages surface', () => {
  let mock: RunningMockProvider
  let client: Anthropic

  before(async () => {
    mock = await startMockProvider({seed: 42})
    client = new Anthropic({baseURL: mock.url, apiKey: 'test', maxRetries: 0})
  })
  after(async () => mock.close())
  beforeEach(() => mock.clearRequests())

  it('streams text that the official SDK accumulates into a final message', async () => {
    const stream = client.messages.stream({model: 'claude-sonnet-4-6', max_tokens: 1024, messages: [{role: 'user', content: 'Say hello'}]})
    const deltas: string[] = []
    stream.on('text', (text) => deltas.push(text))
    const message = await stream.finalMessage()
    expect(message.model).to.equal('claude-sonnet-4-6')
    expect(message.stop_reason).to.equal('end_turn')
    expect(message.content).to.have.length(1)
    const block = message.content[0]
    expect(block?.type).to.equal('text')
    expect(deltas.length).to.equal(5)
    expect(block?.type === 'text' && block.text).to.equal(deltas.join(''))
    expect(message.usage.input_tokens).to.be.greaterThan(0)
    expect(message.usage.output_tokens).to.equal(20)
  })

  it('streams a tool_use block with input_json_delta pieces when the user asks for a tool', async () => {
    const stream = client.messages.stream({
      model: 'claude-haiku-4-5', max_tokens: 1024, tools: [weatherTool],
      messages: [{role: 'user', content: 'Use the tool to get the weather'}],
    })
    const jsonPieces: string[] = []
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') jsonPieces.push(event.delta.partial_json)
    })
    const message = await stream.finalMessage()
    expect(message.stop_reason).to.equal('tool_use')
    const toolUse = message.content.find((b) => b.type === 'tool_use')
    expect(toolUse).to.not.equal(undefined)
    expect(toolUse?.type === 'tool_use' && toolUse.name).to.equal('get_weather')
    expect(toolUse?.type === 'tool_use' && toolUse.id).to.match(/^toolu_/)
    const input = toolUse?.type === 'tool_use' ? (toolUse.input as Record<string, unknown>) : {}
    expect(input.city).to.be.a('string')
    expect(input.days).to.be.a('number')
    expect(jsonPieces[0]).to.equal('')
    expect(jsonPieces.filter((p) => p !== '').length).to.be.greaterThan(1)
  })

  it('does not call a tool when tools exist but the user does not mention one, unless tool_choice forces it', async () => {
    const plain = await client.messages.create({model: 'm', max_tokens: 100, tools: [weatherTool], messages: [{role: 'user', content: 'hello'}]})
    expect(plain.stop_reason).to.equal('end_turn')
    const forced = await client.messages.create({
      model: 'm', max_tokens: 100, tools: [{...weatherTool, name: 'other', input_schema: {type: 'object'}}, weatherTool],
      tool_choice: {type: 'tool', name: 'get_weather'}, messages: [{role: 'user', content: 'hello'}],
    })
    expect(forced.stop_reason).to.equal('tool_use')
    expect(forced.content.at(-1)).to.include({type: 'tool_use', name: 'get_weather'})
    const refused = await client.messages.create({model: 'm', max_tokens: 100, tools: [weatherTool], tool_choice: {type: 'none'}, messages: [{role: 'user', content: 'use a tool'}]})
    expect(refused.stop_reason).to.equal('end_turn')
  })

  it('adds a thinking block (thinking_delta + signature_delta) when the request has a thinking param', async () => {
    const response = await rawRequest(`${mock.url}/v1/messages`, {
      headers: anthropicHeaders,
      body: JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 4096, stream: true, thinking: {type: 'enabled', budget_tokens: 2048}, messages: [{role: 'user', content: 'think'}]}),
    })
    const deltas = parseSse(response.body).filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.type)
    expect(deltas.slice(0, 3)).to.deep.equal(['thinking_delta', 'thinking_delta', 'signature_delta'])
    const stream = client.messages.stream({model: 'claude-sonnet-4-6', max_tokens: 4096, thinking: {type: 'enabled', budget_tokens: 2048}, messages: [{role: 'user', content: 'think'}]})
    const message = await stream.finalMessage()
    expect(message.content.map((b) => b.type)).to.deep.equal(['thinking', 'text'])
    const thinking = message.content[0]
    expect(thinking?.type === 'thinking' && thinking.signature).to.match(/^Eq/)
  })

  it('follows the reference SSE framing exactly: event + data lines, blank-line separated, contiguous blocks, one start and one stop', async () => {
    const response = await rawRequest(`${mock.url}/v1/messages?beta=true`, {
      headers: anthropicHeaders,
      body: JSON.stringify({model: 'claude-x', max_tokens: 100, stream: true, tools: [weatherTool], messages: [{role: 'user', content: 'tool please'}]}),
    })
    expect(response.status).to.equal(200)
    expect(response.headers['content-type']).to.match(/^text\/event-stream/)
    expect(response.headers['request-id']).to.match(/^req_/)
    expect(response.body.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).to.equal(true)
    const frames = response.body.split('\n\n').filter((f) => f !== '')
    for (const frame of frames) expect(frame).to.match(/^event: [a-z_]+\ndata: \{.*\}$/)
    const events = parseSse(response.body)
    for (const event of events) expect(JSON.parse(event.data).type).to.equal(event.event)
    const names = events.map((e) => e.event)
    expect(names[0]).to.equal('message_start')
    expect(names[2]).to.equal('ping')
    expect(names.filter((n) => n === 'message_start')).to.have.length(1)
    expect(names.at(-2)).to.equal('message_delta')
    const started = events.filter((e) => e.event === 'content_block_start').map((e) => JSON.parse(e.data).index)
    const stopped = events.filter((e) => e.event === 'content_block_stop').map((e) => JSON.parse(e.data).index)
    expect(started).to.deep.equal([0, 1])
    expect(stopped).to.deep.equal([0, 1])
    const start = JSON.parse(events[0]?.data ?? '{}').message
    expect(start).to.include({model: 'claude-x', stop_reason: null, role: 'assistant'})
    expect(start.content).to.deep.equal([])
    expect(start.usage).to.have.keys('input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'cache_creation', 'output_tokens', 'service_tier')
    const delta = JSON.parse(events.at(-2)?.data ?? '{}')
    expect(delta.delta).to.deep.equal({stop_reason: 'tool_use', stop_sequence: null})
    expect(delta.usage.input_tokens).to.equal(start.usage.input_tokens)
  })

  it('returns a JSON Message from messages.create, echoing the model', async () => {
    const message = await client.messages.create({model: 'my-alias', max_tokens: 100, messages: [{role: 'user', content: 'hi'}]})
    expect(message).to.include({type: 'message', role: 'assistant', model: 'my-alias', stop_reason: 'end_turn', stop_sequence: null})
    expect(message.id).to.match(/^msg_/)
    expect(message.content[0]?.type).to.equal('text')
    expect(message.usage).to.include({cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 20, service_tier: 'standard'})
  })

  it('is deterministic for a seed: same request, same text; another seed, other text', async () => {
    const request = {model: 'm', max_tokens: 100, messages: [{role: 'user' as const, content: 'repeat me'}]}
    const first = await client.messages.create(request)
    const second = await client.messages.create(request)
    expect(first.content).to.deep.equal(second.content)
    const other = await startMockProvider({seed: 7})
    try {
      const third = await new Anthropic({baseURL: other.url, apiKey: 'test', maxRetries: 0}).messages.create(request)
      expect(third.content).to.not.deep.equal(first.content)
    } finally {
      await other.close()
    }
  })

  it('stops at max_tokens with stop_reason max_tokens', async () => {
    const message = await client.messages.create({model: 'm', max_tokens: 3, messages: [{role: 'user', content: 'long answer'}]})
    expect(message.stop_reason).to.equal('max_tokens')
    expect(message.usage.output_tokens).to.equal(3)
    const block = message.content[0]
    expect(block?.type === 'text' && block.text.split(' ')).to.have.length(3)
  })

  it('reports cache reads and 5m/1h cache creation when blocks carry cache_control', async () => {
    const longText = 'You are a careful assistant. '.repeat(200)
    const message = await client.messages.create({
      model: 'm', max_tokens: 100,
      system: [{type: 'text', text: longText, cache_control: {type: 'ephemeral', ttl: '1h'}}],
      messages: [{role: 'user', content: [{type: 'text', text: longText, cache_control: {type: 'ephemeral'}}, {type: 'text', text: 'and now?'}]}],
    })
    const usage = message.usage
    expect(usage.cache_read_input_tokens).to.be.greaterThan(0)
    expect(usage.cache_creation?.ephemeral_1h_input_tokens).to.be.greaterThan(0)
    expect(usage.cache_creation?.ephemeral_5m_input_tokens).to.be.greaterThan(0)
    expect(usage.cache_creation_input_tokens).to.equal((usage.cache_creation?.ephemeral_1h_input_tokens ?? 0) + (usage.cache_creation?.ephemeral_5m_input_tokens ?? 0))
    expect(usage.input_tokens).to.be.greaterThan(0)
    const onlyFiveMinutes = await client.messages.create({
      model: 'm', max_tokens: 100, system: [{type: 'text', text: longText, cache_control: {type: 'ephemeral'}}], messages: [{role: 'user', content: 'hi'}],
    })
    expect(onlyFiveMinutes.usage.cache_creation?.ephemeral_1h_input_tokens).to.equal(0)
    expect(onlyFiveMinutes.usage.cache_creation?.ephemeral_5m_input_tokens).to.be.greaterThan(0)
  })

  it('counts tokens', async () => {
    const small = await client.messages.countTokens({model: 'm', messages: [{role: 'user', content: 'hi'}]})
    const large = await client.messages.countTokens({model: 'm', messages: [{role: 'user', content: 'hi '.repeat(1000)}]})
    expect(small.input_tokens).to.be.greaterThan(0)
    expect(large.input_tokens).to.be.greaterThan(small.input_tokens)
    const beta = await rawRequest(`${mock.url}/v1/messages/count_tokens?beta=true`, {headers: anthropicHeaders, body: JSON.stringify({model: 'm', messages: [{role: 'user', content: 'x'}]})})
    expect(JSON.parse(beta.body)).to.have.keys('input_tokens')
  })

  it('lists models in the Anthropic page shape and pages with after_id', async () => {
    const page = await client.models.list({limit: 2})
    expect(page.data).to.have.length(2)
    expect(page.data[0]?.id).to.match(/^claude/)
    const raw = await rawRequest(`${mock.url}/v1/models?limit=1000`, {method: 'GET', headers: anthropicHeaders})
    const body = JSON.parse(raw.body)
    expect(body).to.have.keys('data', 'has_more', 'first_id', 'last_id')
    expect(body.has_more).to.equal(false)
    expect(body.first_id).to.equal(body.data[0].id)
    expect(body.last_id).to.equal(body.data.at(-1).id)
    const all: string[] = []
    for await (const model of client.models.list({limit: 2})) all.push(model.id)
    expect(all).to.deep.equal(body.data.map((m: {id: string}) => m.id))
    const one = await client.models.retrieve('claude-sonnet-4-6')
    expect(one.id).to.equal('claude-sonnet-4-6')
  })

  it('rejects bad requests like Anthropic: invalid JSON, missing fields, missing credentials', async () => {
    const invalid = await rawRequest(`${mock.url}/v1/messages`, {headers: anthropicHeaders, body: '{"model": '})
    expect(invalid.status).to.equal(400)
    expect(JSON.parse(invalid.body)).to.deep.include({type: 'error'})
    expect(JSON.parse(invalid.body).error.type).to.equal('invalid_request_error')
    const noModel = await rawRequest(`${mock.url}/v1/messages`, {headers: anthropicHeaders, body: JSON.stringify({messages: []})})
    expect(noModel.status).to.equal(400)
    expect(JSON.parse(noModel.body).error.message).to.match(/^model:/)
    const noMessages = await rawRequest(`${mock.url}/v1/messages`, {headers: anthropicHeaders, body: JSON.stringify({model: 'm'})})
    expect(JSON.parse(noMessages.body).error.message).to.match(/^messages:/)
    const noKey = await rawRequest(`${mock.url}/v1/messages`, {headers: {'content-type': 'application/json'}, body: JSON.stringify({model: 'm', messages: []})})
    expect(noKey.status).to.equal(401)
    expect(JSON.parse(noKey.body).error.type).to.equal('authentication_error')
    const bearer = await rawRequest(`${mock.url}/v1/messages`, {headers: {authorization: 'Bearer t'}, body: JSON.stringify({model: 'm', max_tokens: 5, messages: []})})
    expect(bearer.status).to.equal(200)
    let sdkError: unknown
    await new Anthropic({baseURL: mock.url, apiKey: 'x', maxRetries: 0}).messages.create({model: '', max_tokens: 1, messages: []}).catch((error: unknown) => (sdkError = error))
    expect(sdkError).to.be.instanceOf(Anthropic.BadRequestError)
  })

  it('answers HEAD / (the Claude Code probe) and 404s unknown paths with the error envelope', async () => {
    const head = await rawRequest(`${mock.url}/`, {method: 'HEAD'})
    expect(head.status).to.equal(200)
    const missing = await rawRequest(`${mock.url}/v2/nothing`, {method: 'GET', headers: anthropicHeaders})
    expect(missing.status).to.equal(404)
    expect(JSON.parse(missing.body).error.type).to.equal('not_found_error')
    const wrongMethod = await rawRequest(`${mock.url}/v1/messages`, {method: 'GET', headers: anthropicHeaders})
    expect(wrongMethod.status).to.equal(405)
  })
})
