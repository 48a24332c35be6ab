import {expect} from 'chai'
import {estimateInputTokens} from '../../src/llm_gateway/count_tokens.js'
import {errorTypeForStatus, extractUpstreamMessage, mapUpstreamError} from '../../src/llm_gateway/errors.js'
import {findTopLevelString, replaceTopLevelString} from '../../src/llm_gateway/translate/splice.js'
import {backoffDelay, isRetryableStatus, retryAfterMs} from '../../src/llm_gateway/upstream.js'

describe('request path: error mapping', () => {
  it('maps statuses to Anthropic error types', () => {
    const table: [number, string][] = [
      [400, 'invalid_request_error'], [401, 'authentication_error'], [402, 'billing_error'], [403, 'permission_error'], [404, 'not_found_error'],
      [408, 'timeout_error'], [413, 'request_too_large'], [422, 'invalid_request_error'], [429, 'rate_limit_error'], [500, 'api_error'],
      [502, 'api_error'], [503, 'overloaded_error'], [504, 'timeout_error'], [529, 'overloaded_error'],
    ]
    for (const [status, type] of table) expect(errorTypeForStatus(status), String(status)).to.equal(type)
  })

  it('forwards an Anthropic error body unchanged (Claude Code keys recovery on its wording)', () => {
    const body = '{"type":"error","error":{"type":"invalid_request_error","message":"messages.1.content.0.thinking.signature: Invalid signature"},"request_id":"req_1"}'
    expect(mapUpstreamError(400, body, 'anthropic', 'req_gw')).to.deep.equal({body, type: 'invalid_request_error', message: 'messages.1.content.0.thinking.signature: Invalid signature'})
  })

  it('wraps OpenAI / Azure / Ollama / plain-text errors in the envelope with the upstream status type', () => {
    const azure = mapUpstreamError(429, '{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded call rate limit."}}', 'azure', 'req_gw_1')
    expect(JSON.parse(azure.body)).to.deep.equal({
      type: 'error',
      error: {type: 'rate_limit_error', message: 'azure: upstream returned HTTP 429: 429: Requests to the ChatCompletions_Create Operation have exceeded call rate limit.'},
      request_id: 'req_gw_1',
    })
    expect(extractUpstreamMessage('{"error":{"message":"The chatCompletion operation does not work","code":"OperationNotSupported"}}')).to.equal('OperationNotSupported: The chatCompletion operation does not work')
    expect(extractUpstreamMessage('{"error":"model not found"}')).to.equal('model not found')
    expect(extractUpstreamMessage('<html>Bad Gateway</html>')).to.equal('<html>Bad Gateway</html>')
    expect(JSON.parse(mapUpstreamError(529, '', 'x', 'r').body).error.type).to.equal('overloaded_error')
  })
})

describe('request path: retry policy', () => {
  it('retries only 408, 429, 5xx and 529', () => {
    for (const s of [408, 429, 500, 502, 503, 504, 529]) expect(isRetryableStatus(s), String(s)).to.equal(true)
    for (const s of [400, 401, 403, 404, 413, 422]) expect(isRetryableStatus(s), String(s)).to.equal(false)
  })

  it('honours retry-after-ms, then retry-after in seconds or as an HTTP date', () => {
    expect(retryAfterMs({'retry-after-ms': '250', 'retry-after': '7'})).to.equal(250)
    expect(retryAfterMs({'retry-after': '7'})).to.equal(7000)
    const now = Date.parse('2026-11-26T00:00:00Z')
    expect(retryAfterMs({'retry-after': 'Thu, 26 Nov 2026 00:00:03 GMT'}, now)).to.equal(3000)
    expect(retryAfterMs({})).to.equal(undefined)
  })

  it('backs off exponentially with at most 25% jitter, capped; a too-long retry-after is not waited for', () => {
    const policy = {baseMs: 500, maxMs: 8000, maxRetryAfterMs: 30_000}
    expect(backoffDelay(0, undefined, policy, () => 0)).to.equal(500)
    expect(backoffDelay(2, undefined, policy, () => 0)).to.equal(2000)
    expect(backoffDelay(2, undefined, policy, () => 1)).to.equal(1500)
    expect(backoffDelay(10, undefined, policy, () => 0)).to.equal(8000)
    expect(backoffDelay(0, {'retry-after': '2'}, policy)).to.equal(2000)
    expect(backoffDelay(0, {'retry-after': '60'}, policy)).to.equal(undefined)
  })
})

describe('request path: count_tokens estimate', () => {
  it('is > 0 for a non-empty request and counts text, tools, tool_use, tool_result and thinking', () => {
    const textOnly = estimateInputTokens({messages: [{role: 'user', content: 'Hello there, how are you?'}]})
    expect(textOnly).to.be.greaterThan(0)
    const bigTool = {name: 'Bash', description: 'Run a command '.repeat(50), input_schema: {type: 'object', properties: {command: {type: 'string'}}}}
    const withTools = estimateInputTokens({messages: [{role: 'user', content: 'Hello there, how are you?'}], tools: [bigTool]})
    expect(withTools).to.be.greaterThan(textOnly + 150)
    const base = {messages: [{role: 'user', content: 'hi'}]}
    const baseN = estimateInputTokens(base)
    const longText = 'x'.repeat(3500)
    for (const block of [
      {type: 'tool_use', id: 't', name: 'Bash', input: {command: longText}},
      {type: 'tool_result', tool_use_id: 't', content: longText},
      {type: 'tool_result', tool_use_id: 't', content: [{type: 'text', text: longText}]},
      {type: 'thinking', thinking: longText, signature: 's'},
    ]) {
      const n = estimateInputTokens({messages: [...base.messages, {role: 'assistant', content: [block]}]})
      expect(n - baseN, block.type).to.be.greaterThan(900)
    }
    expect(estimateInputTokens({system: [{type: 'text', text: longText}], messages: []})).to.be.greaterThan(900)
    expect(estimateInputTokens({messages: [{role: 'user', content: [{type: 'image', source: {type: 'base64', media_type: 'image/png', data: 'AA=='}}]}]})).to.be.greaterThan(1000)
  })

  it('is 0 only for a request with nothing in it', () => {
    expect(estimateInputTokens({model: 'x', messages: []})).to.equal(0)
  })
})

describe('request path: byte-level model rewrite', () => {
  it('replaces only the top-level model value, leaving every other byte as sent', () => {
    const body = Buffer.from('{ "messages":[{"role":"user","content":"model: \\"x\\" {\\"model\\":1}","model":"inner"}],\n  "model" :  "claude-sonnet-4-5", "stream":true}')
    const out = replaceTopLevelString(body, 'model', 'deepseek-flash')
    expect(out.toString()).to.equal('{ "messages":[{"role":"user","content":"model: \\"x\\" {\\"model\\":1}","model":"inner"}],\n  "model" :  "deepseek-flash", "stream":true}')
    expect((JSON.parse(out.toString()) as {model: string}).model).to.equal('deepseek-flash')
  })

  it('takes the last duplicate key (as JSON.parse does) and leaves a body without the key untouched', () => {
    const dup = Buffer.from('{"model":"a","x":{"model":"n"},"model":"b"}')
    const span = findTopLevelString(dup, 'model')!
    expect(dup.subarray(span[0], span[1]).toString()).to.equal('"b"')
    const none = Buffer.from('{"messages":[]}')
    expect(replaceTopLevelString(none, 'model', 'z')).to.equal(none)
  })

  it('compares key names decoded: "mod\\u0065l" is the model key, and every top-level occurrence is replaced (issue 13 item 4)', () => {
    const escaped = Buffer.from('{"mod\\u0065l":"claude-opus-4-1","messages":[{"model":"inner"}]}')
    expect(replaceTopLevelString(escaped, 'model', 'mapped').toString()).to.equal('{"mod\\u0065l":"mapped","messages":[{"model":"inner"}]}')
    const dup = Buffer.from('{"model":"a","x":{"model":"n"},"\\u006dodel":"b"}')
    const span = findTopLevelString(dup, 'model')!
    expect(dup.subarray(span[0], span[1]).toString()).to.equal('"b"')
    expect(replaceTopLevelString(dup, 'model', 'z').toString()).to.equal('{"model":"z","x":{"model":"n"},"\\u006dodel":"z"}')
    // A key that only looks alike is not the model key.
    const other = Buffer.from('{"models":"a","mode\\u006c2":"b"}')
    expect(replaceTopLevelString(other, 'model', 'z')).to.equal(other)
  })
})
