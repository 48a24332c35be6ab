import {expect} from 'chai'
import {startMockProvider, type RunningMockProvider} from '../../src/mock_provider/index.js'
import {parseSse, rawRequest} from './helpers.js'

const functionTool = {type: 'function', function: {name: 'get_weather', parameters: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']}}}
const bearer = {authorization: 'Bearer sk-test', 'content-type': 'application/json'}
const azureKey = {'api-key': 'azure-test', 'content-type': 'application/json'}

interface ChatChunk {
  id: string
  object: string
  model: string
  choices: {index: number; delta?: {role?: string; content?: string; tool_calls?: {index: number; id?: string; type?: string; function: {name?: string; arguments?: string}}[]}; finish_reason: string | null}[]
  usage?: {prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details: {cached_tokens: number}} | null
}

/** Reassembles a Chat Completions stream the way OpenAI clients do. */
function reassemble(body: string) {
  const datas = parseSse(body).map((e) => e.data)
  expect(datas.at(-1)).to.equal('[DONE]')
  const chunks = datas.slice(0, -1).map((d) => JSON.parse(d) as ChatChunk)
  let content = ''
  const calls: {id?: string; name?: string; arguments: string}[] = []
  let finish: string | null = null
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      content += choice.delta?.content ?? ''
      for (const call of choice.delta?.tool_calls ?? []) {
        const slot = (calls[call.index] ??= {arguments: ''})
        slot.id ??= call.id
        slot.name ??= call.function.name
        slot.arguments += call.function.arguments ?? ''
      }
      finish = choice.finish_reason ?? finish
    }
  }
  return {chunks, content, calls, finish}
}

describe('mock provider: OpenAI / Azure surfaces', () => {
  let mock: RunningMockProvider
  before(async () => (mock = await startMockProvider()))
  after(async () => mock.close())

  it('answers Chat Completions JSON with usage and echoes the model', async () => {
    const response = await rawRequest(`${mock.url}/v1/chat/completions`, {headers: bearer, body: JSON.stringify({model: 'gpt-4.1', messages: [{role: 'user', content: 'hello'}]})})
    expect(response.status).to.equal(200)
    expect(response.headers['content-type']).to.equal('application/json')
    const body = JSON.parse(response.body)
    expect(body).to.include({object: 'chat.completion', model: 'gpt-4.1'})
    expect(body.choices[0].finish_reason).to.equal('stop')
    expect(body.choices[0].message.role).to.equal('assistant')
    expect(body.choices[0].message.content.split(' ')).to.have.length(20)
    expect(body.usage.total_tokens).to.equal(body.usage.prompt_tokens + body.usage.completion_tokens)
  })

  it('streams content, tool_calls with split arguments, a finish chunk, the usage chunk and [DONE]', async () => {
    const response = await rawRequest(`${mock.url}/v1/chat/completions`, {
      headers: bearer,
      body: JSON.stringify({model: 'gpt-4.1', stream: true, stream_options: {include_usage: true}, tools: [functionTool], messages: [{role: 'user', content: 'call the tool'}]}),
    })
    expect(response.headers['content-type']).to.match(/^text\/event-stream/)
    expect(response.body).to.not.match(/^event:/m)
    const {chunks, content, calls, finish} = reassemble(response.body)
    expect(chunks[0]?.choices[0]?.delta).to.deep.equal({role: 'assistant', content: ''})
    expect(content.length).to.be.greaterThan(0)
    expect(finish).to.equal('tool_calls')
    expect(calls).to.have.length(1)
    expect(calls[0]?.id).to.match(/^call_/)
    expect(calls[0]?.name).to.equal('get_weather')
    expect(JSON.parse(calls[0]?.arguments ?? '')).to.have.keys('city')
    const argumentChunks = chunks.filter((c) => c.choices[0]?.delta?.tool_calls?.[0]?.function.arguments)
    expect(argumentChunks.length).to.be.greaterThan(1)
    const usageChunk = chunks.at(-1)
    expect(usageChunk?.choices).to.deep.equal([])
    expect(usageChunk?.usage?.total_tokens).to.be.greaterThan(0)
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).to.equal(null)
  })

  it('omits the usage chunk without stream_options.include_usage', async () => {
    const response = await rawRequest(`${mock.url}/v1/chat/completions`, {headers: bearer, body: JSON.stringify({model: 'g', stream: true, messages: [{role: 'user', content: 'hi'}]})})
    const {chunks, finish} = reassemble(response.body)
    expect(finish).to.equal('stop')
    expect(chunks.every((c) => c.choices.length === 1 && !('usage' in c))).to.equal(true)
  })

  it('serves the Azure deployment path: api-key auth, deployment as model, api-version required, prompt-filter chunk first', async () => {
    const path = '/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21'
    const body = JSON.stringify({stream: true, stream_options: {include_usage: true}, messages: [{role: 'user', content: 'hi'}]})
    const response = await rawRequest(`${mock.url}${path}`, {headers: azureKey, body})
    expect(response.status).to.equal(200)
    const {chunks, content} = reassemble(response.body)
    expect(chunks[0]?.choices).to.deep.equal([])
    expect(chunks[0]).to.have.property('prompt_filter_results')
    expect(chunks[1]?.model).to.equal('gpt-4o-prod')
    expect(content.length).to.be.greaterThan(0)
    const noKey = await rawRequest(`${mock.url}${path}`, {headers: {'content-type': 'application/json'}, body})
    expect(noKey.status).to.equal(401)
    expect(JSON.parse(noKey.body).error.code).to.equal('401')
    const noVersion = await rawRequest(`${mock.url}/openai/deployments/gpt-4o-prod/chat/completions`, {headers: azureKey, body})
    expect(noVersion.status).to.equal(400)
    expect(JSON.parse(noVersion.body).error.code).to.equal('MissingApiVersionParameter')
  })

  it('uses OpenAI error envelopes on OpenAI paths', async () => {
    const invalid = await rawRequest(`${mock.url}/v1/chat/completions`, {headers: bearer, body: 'not json'})
    expect(invalid.status).to.equal(400)
    expect(JSON.parse(invalid.body).error).to.include({type: 'invalid_request_error'})
    const missing = await rawRequest(`${mock.url}/v1/chat/completions`, {headers: bearer, body: JSON.stringify({model: 'g'})})
    expect(JSON.parse(missing.body).error).to.include({param: 'messages', code: 'missing_required_parameter'})
    const noKey = await rawRequest(`${mock.url}/v1/chat/completions`, {body: JSON.stringify({model: 'g', messages: []})})
    expect(noKey.status).to.equal(401)
    expect(JSON.parse(noKey.body).error).to.have.keys('message', 'type', 'param', 'code')
  })

  it('answers the Responses API as JSON with a function_call item', async () => {
    const response = await rawRequest(`${mock.url}/openai/v1/responses`, {
      headers: azureKey,
      body: JSON.stringify({
        model: 'gpt-5.1-codex-mini', instructions: 'be brief', reasoning: {effort: 'low'},
        tools: [{type: 'function', name: 'get_weather', parameters: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']}}],
        input: [{role: 'user', content: [{type: 'input_text', text: 'use the tool'}]}],
      }),
    })
    const body = JSON.parse(response.body)
    expect(body).to.include({object: 'response', status: 'completed', model: 'gpt-5.1-codex-mini'})
    expect(body.output.map((i: {type: string}) => i.type)).to.deep.equal(['reasoning', 'message', 'function_call'])
    const call = body.output[2]
    expect(call.call_id).to.match(/^call_/)
    expect(JSON.parse(call.arguments)).to.have.keys('city')
    expect(body.usage.output_tokens_details.reasoning_tokens).to.be.greaterThan(0)
    expect(body.usage.total_tokens).to.equal(body.usage.input_tokens + body.usage.output_tokens)
  })

  it('streams the Responses API with typed response.* events and increasing sequence numbers', async () => {
    const response = await rawRequest(`${mock.url}/openai/v1/responses`, {
      headers: azureKey,
      body: JSON.stringify({model: 'codex', stream: true, tools: [{type: 'function', name: 'f', parameters: {type: 'object'}}], tool_choice: 'required', input: 'hi'}),
    })
    const events = parseSse(response.body)
    const payloads = events.map((e) => JSON.parse(e.data) as {type: string; sequence_number: number; delta?: string; arguments?: string})
    events.forEach((e, i) => expect(payloads[i]?.type).to.equal(e.event))
    expect(payloads.map((p) => p.sequence_number)).to.deep.equal(payloads.map((_p, i) => i))
    const types = payloads.map((p) => p.type)
    expect(types.slice(0, 2)).to.deep.equal(['response.created', 'response.in_progress'])
    expect(types.at(-1)).to.equal('response.completed')
    expect(types).to.include.members(['response.output_text.delta', 'response.content_part.done', 'response.function_call_arguments.delta', 'response.function_call_arguments.done'])
    const text = payloads.filter((p) => p.type === 'response.output_text.delta').map((p) => p.delta).join('')
    const done = payloads.find((p) => p.type === 'response.output_text.done') as {text?: string}
    expect(text).to.equal(done.text)
    const args = payloads.filter((p) => p.type === 'response.function_call_arguments.delta').map((p) => p.delta).join('')
    expect(args).to.equal(payloads.find((p) => p.type === 'response.function_call_arguments.done')?.arguments)
  })

  it('ends a truncated Responses stream with response.incomplete', async () => {
    const response = await rawRequest(`${mock.url}/v1/responses`, {headers: bearer, body: JSON.stringify({model: 'codex', stream: true, max_output_tokens: 2, input: 'hi'})})
    const last = JSON.parse(parseSse(response.body).at(-1)?.data ?? '{}')
    expect(last.type).to.equal('response.incomplete')
    expect(last.response.incomplete_details).to.deep.equal({reason: 'max_output_tokens'})
  })
})
