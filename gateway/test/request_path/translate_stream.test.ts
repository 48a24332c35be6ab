import {expect} from 'chai'
import {SseParser} from '../../src/llm_gateway/sse.js'
import {MessageAccumulator} from '../../src/llm_gateway/translate/accumulator.js'
import {type Json, ToolNameMap} from '../../src/llm_gateway/translate/common.js'
import {ChatStreamTranslator, ResponsesStreamTranslator, type StreamTranslator, framesOf} from '../../src/llm_gateway/translate/stream.js'
import {fixture} from './fixtures.js'
import {parseSseText} from './helpers.js'

function ctx(over: Partial<{inputTokensEstimate: number; toolNames: ToolNameMap}> = {}) {
  return {model: 'claude-sonnet-4-6', toolNames: new ToolNameMap(), inputTokensEstimate: 56, messageId: 'msg_gw_0001', ...over}
}

/** Runs an upstream SSE text through a translator (with the real SSE parser), ending with EOF unless told not to. */
function run(t: StreamTranslator, sse: string, eof = true): Json[] {
  const out: Json[] = []
  const parser = new SseParser((ev) => out.push(...t.push(ev.data, ev.event)))
  parser.push(Buffer.from(sse))
  if (eof) out.push(...t.end())
  return out
}

function chunk(choices: unknown[], usage: unknown = null, extra: Json = {}): string {
  return `data: ${JSON.stringify({id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt', choices, usage, ...extra})}\n\n`
}

/** Asserts the Anthropic grammar: message_start first, message_stop last (or a final error), contiguous, balanced blocks. */
function assertGrammar(events: Json[]): void {
  expect(events[0]?.type).to.equal('message_start')
  const last = events.at(-1)?.type
  expect(['message_stop', 'error']).to.include(last)
  let open: number | null = null
  let next = 0
  for (const e of events.slice(1)) {
    if (e.type === 'content_block_start') {
      expect(open, 'blocks do not interleave').to.equal(null)
      expect(e.index).to.equal(next)
      open = e.index as number
      next++
    } else if (e.type === 'content_block_delta') {
      expect(e.index).to.equal(open)
    } else if (e.type === 'content_block_stop') {
      expect(e.index).to.equal(open)
      open = null
    } else if (e.type === 'message_delta') {
      expect(open, 'every block is closed before message_delta').to.equal(null)
    }
  }
  expect(events.filter((e) => e.type === 'message_start')).to.have.length(1)
  expect(events.filter((e) => e.type === 'message_stop').length).to.be.at.most(1)
}

describe('request path: stream translation (OpenAI / Responses -> Anthropic SSE)', () => {
  it('Fixture D -> Fixture F: text, split tool arguments, usage chunk after the finish chunk (input = prompt - cached)', () => {
    const t = new ChatStreamTranslator(ctx())
    const events = run(t, fixture('openai-fixture-d.sse'), false)
    const expected = parseSseText(fixture('anthropic-fixture-f.sse')).map((f) => f.data as Json)
    // message_start carries the pre-count (the fixture's pre-count also knew the cache split; ours is an estimate).
    const startUsage = (events[0]!.message as Json).usage
    expect(startUsage).to.deep.equal({input_tokens: 56, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0})
    expect(events.slice(1)).to.deep.equal(expected.slice(1))
    expect((events[0]!.message as Json).id).to.equal('msg_gw_0001')
    expect(t.usage).to.deep.equal({input_tokens: 56, cache_creation_input_tokens: 0, cache_read_input_tokens: 64, output_tokens: 25})
    expect(t.stopReason).to.equal('tool_use')
    // The frames are real Anthropic SSE (event: + data: + blank line), byte-identical to the fixture after message_start.
    const frames = framesOf(events)
    expect(frames.slice(frames.indexOf('event: content_block_start'))).to.equal(fixture('anthropic-fixture-f.sse').slice(fixture('anthropic-fixture-f.sse').indexOf('event: content_block_start')))
  })

  it('accumulates to the final Message the SDK would build', () => {
    const events = run(new ChatStreamTranslator(ctx()), fixture('openai-fixture-d.sse'))
    const acc = new MessageAccumulator()
    for (const e of events) acc.apply(e)
    const msg = JSON.parse(acc.finalMessageJson()!) as Json
    expect(msg.content).to.deep.equal([
      {type: 'text', text: "I'll check the weather."},
      {type: 'tool_use', id: 'call_Fx0001', name: 'get_weather', input: {city: 'Paris'}},
    ])
    expect(msg.stop_reason).to.equal('tool_use')
  })

  it('Azure: skips the prompt_filter_results chunk (empty choices) and choices without delta', () => {
    const sse =
      `data: ${JSON.stringify({id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: [{prompt_index: 0, content_filter_results: {}}]})}\n\n` +
      chunk([{index: 0, delta: {role: 'assistant', content: ''}, finish_reason: null}]) +
      chunk([{index: 0, delta: {content: 'Hi'}, finish_reason: null, content_filter_results: {}}]) +
      chunk([{index: 0, finish_reason: null, content_filter_offsets: {start_offset: 0}}]) +
      chunk([{index: 0, delta: {}, finish_reason: 'stop'}]) +
      'data: [DONE]\n\n'
    const events = run(new ChatStreamTranslator(ctx()), sse, false)
    assertGrammar(events)
    expect(events.map((e) => e.type)).to.deep.equal(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
    expect((events[4]!.delta as Json).stop_reason).to.equal('end_turn')
  })

  it('splits a single chunk carrying content + finish_reason + usage', () => {
    const t = new ChatStreamTranslator(ctx())
    const events = run(t, chunk([{index: 0, delta: {content: 'All done.'}, finish_reason: 'length'}], {prompt_tokens: 10, completion_tokens: 3}) + 'data: [DONE]\n\n', false)
    assertGrammar(events)
    expect(events.map((e) => e.type)).to.deep.equal(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'])
    expect(events[4]).to.deep.equal({type: 'message_delta', delta: {stop_reason: 'max_tokens', stop_sequence: null}, usage: {input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 3}})
  })

  it('two parallel tool calls with interleaved argument fragments become two contiguous tool_use blocks', () => {
    const sse =
      chunk([{index: 0, delta: {tool_calls: [{index: 0, id: 'call_a', type: 'function', function: {name: 'get_weather', arguments: ''}}]}}]) +
      chunk([{index: 0, delta: {tool_calls: [{index: 1, id: 'call_b', type: 'function', function: {name: 'get_time', arguments: '{"tz":'}}]}}]) +
      chunk([{index: 0, delta: {tool_calls: [{index: 0, function: {arguments: '{"city":'}}]}}]) +
      chunk([{index: 0, delta: {tool_calls: [{index: 1, function: {arguments: '"UTC"}'}}]}}]) +
      chunk([{index: 0, delta: {tool_calls: [{index: 0, function: {arguments: '"Paris"}'}}]}}]) +
      chunk([{index: 0, delta: {}, finish_reason: 'tool_calls'}]) +
      'data: [DONE]\n\n'
    const events = run(new ChatStreamTranslator(ctx()), sse, false)
    assertGrammar(events)
    const acc = new MessageAccumulator()
    for (const e of events) acc.apply(e)
    const msg = JSON.parse(acc.finalMessageJson()!) as Json
    expect(msg.content).to.deep.equal([
      {type: 'tool_use', id: 'call_a', name: 'get_weather', input: {city: 'Paris'}},
      {type: 'tool_use', id: 'call_b', name: 'get_time', input: {tz: 'UTC'}},
    ])
    expect(msg.stop_reason).to.equal('tool_use')
  })

  it('sequential parallel tool calls stream live, each block closed before the next starts', () => {
    const sse =
      chunk([{index: 0, delta: {tool_calls: [{index: 0, id: 'call_a', type: 'function', function: {name: 'a', arguments: '{"x":'}}]}}]) +
      chunk([{index: 0, delta: {tool_calls: [{index: 0, function: {arguments: '1}'}}]}}]) +
      chunk([{index: 0, delta: {tool_calls: [{index: 1, id: 'call_b', type: 'function', function: {name: 'b', arguments: '{}'}}]}}]) +
      chunk([{index: 0, delta: {}, finish_reason: 'tool_calls'}]) +
      'data: [DONE]\n\n'
    const events = run(new ChatStreamTranslator(ctx()), sse, false)
    assertGrammar(events)
    expect(events.map((e) => `${e.type}${e.index ?? ''}`)).to.deep.equal([
      'message_start', 'content_block_start0', 'content_block_delta0', 'content_block_delta0', 'content_block_stop0',
      'content_block_start1', 'content_block_delta1', 'content_block_stop1', 'message_delta', 'message_stop',
    ])
  })

  it('restores tool names longer than 64 characters that were shortened in the request', () => {
    const names = new ToolNameMap()
    const long = `mcp__${'very_long_server_name_'.repeat(4)}__tool`
    const short = names.shorten(long)
    expect(short).to.have.length(64)
    const sse = chunk([{index: 0, delta: {tool_calls: [{index: 0, id: 'call_1', function: {name: short, arguments: '{}'}}]}, finish_reason: 'tool_calls'}]) + 'data: [DONE]\n\n'
    const events = run(new ChatStreamTranslator(ctx({toolNames: names})), sse, false)
    expect((events.find((e) => e.type === 'content_block_start')!.content_block as Json).name).to.equal(long)
  })

  it('maps finish_reason content_filter to refusal and length to max_tokens', () => {
    const filtered = run(new ChatStreamTranslator(ctx()), chunk([{index: 0, delta: {content: 'Sorry'}, finish_reason: 'content_filter'}]) + 'data: [DONE]\n\n', false)
    expect((filtered.find((e) => e.type === 'message_delta')!.delta as Json).stop_reason).to.equal('refusal')
  })

  it('without a usage chunk, estimates usage for the client and reports the upstream usage as missing', () => {
    const t = new ChatStreamTranslator(ctx({inputTokensEstimate: 100}))
    const events = run(t, chunk([{index: 0, delta: {content: 'abcdefgh'}}]) + chunk([{index: 0, delta: {}, finish_reason: 'stop'}]) + 'data: [DONE]\n\n', false)
    assertGrammar(events)
    expect(t.usage).to.equal(null)
    expect(events.find((e) => e.type === 'message_delta')!.usage).to.deep.equal({input_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 2})
  })

  it('DeepSeek reasoning_content becomes a thinking block before the text; prompt_cache_hit/miss tokens map to cache_read/input', () => {
    const t = new ChatStreamTranslator(ctx())
    const events = run(
      t,
      chunk([{index: 0, delta: {reasoning_content: 'Think'}}]) +
        chunk([{index: 0, delta: {reasoning_content: 'ing.'}}]) +
        chunk([{index: 0, delta: {content: 'Answer'}}]) +
        chunk([{index: 0, delta: {}, finish_reason: 'stop'}]) +
        chunk([], {prompt_tokens: 120, completion_tokens: 30, prompt_cache_hit_tokens: 100, prompt_cache_miss_tokens: 20}) +
        'data: [DONE]\n\n',
      false,
    )
    assertGrammar(events)
    expect(events[1]).to.deep.equal({type: 'content_block_start', index: 0, content_block: {type: 'thinking', thinking: '', signature: ''}})
    expect(events[2]).to.deep.equal({type: 'content_block_delta', index: 0, delta: {type: 'thinking_delta', thinking: 'Think'}})
    expect(t.usage).to.deep.equal({input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 100, output_tokens: 30})
  })

  it('upstream EOF without finish_reason ends with an api_error event, never a synthetic end_turn', () => {
    const t = new ChatStreamTranslator(ctx())
    const events = run(t, chunk([{index: 0, delta: {content: 'partial'}}]))
    assertGrammar(events)
    expect(events.at(-1)).to.deep.equal({type: 'error', error: {type: 'api_error', message: 'upstream stream ended before completion (no finish_reason)'}})
    expect(events.some((e) => e.type === 'message_delta')).to.equal(false)
  })

  it('an in-stream error chunk becomes an Anthropic error event with a mapped type', () => {
    const t = new ChatStreamTranslator(ctx())
    const events = run(t, chunk([{index: 0, delta: {content: 'x'}}]) + `data: ${JSON.stringify({error: {message: 'Rate limit reached', code: 'rate_limit_exceeded'}})}\n\n`)
    expect(events.at(-1)).to.deep.equal({type: 'error', error: {type: 'rate_limit_error', message: 'Rate limit reached'}})
    expect(t.error?.type).to.equal('rate_limit_error')
  })

  it('ignores anything after the terminal event and a malformed frame in the middle', () => {
    const t = new ChatStreamTranslator(ctx())
    const events = run(
      t,
      chunk([{index: 0, delta: {content: 'a'}}]) + 'data: {not json\n\n' + chunk([{index: 0, delta: {}, finish_reason: 'stop'}]) + 'data: [DONE]\n\n' + chunk([{index: 0, delta: {content: 'late'}}]),
    )
    assertGrammar(events)
    expect(events.filter((e) => e.type === 'content_block_delta')).to.have.length(1)
  })

  it('Responses API Fixture E -> tool_use block with the call id, stop_reason tool_use, usage 56/64/25', () => {
    const t = new ResponsesStreamTranslator(ctx())
    const events = run(t, fixture('responses-fixture-e.sse'))
    assertGrammar(events)
    expect(events.map((e) => e.type)).to.deep.equal([
      'message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop',
    ])
    expect(events[1]).to.deep.equal({type: 'content_block_start', index: 0, content_block: {type: 'tool_use', id: 'call_Fx0001', name: 'get_weather', input: {}}})
    expect(events[5]).to.deep.equal({
      type: 'message_delta',
      delta: {stop_reason: 'tool_use', stop_sequence: null},
      usage: {input_tokens: 56, cache_creation_input_tokens: 0, cache_read_input_tokens: 64, output_tokens: 25},
    })
  })

  it('Responses API: reasoning summary -> thinking, output text -> text, incomplete(max_output_tokens) -> max_tokens', () => {
    const ev = (type: string, body: Json): string => `event: ${type}\ndata: ${JSON.stringify({type, ...body})}\n\n`
    const sse =
      ev('response.created', {response: {id: 'r', status: 'in_progress'}}) +
      ev('response.output_item.added', {output_index: 0, item: {id: 'rs', type: 'reasoning', summary: []}}) +
      ev('response.reasoning_summary_text.delta', {output_index: 0, delta: 'Plan.'}) +
      ev('response.output_item.done', {output_index: 0, item: {id: 'rs', type: 'reasoning'}}) +
      ev('response.output_item.added', {output_index: 1, item: {id: 'm', type: 'message', content: []}}) +
      ev('response.content_part.added', {output_index: 1, content_index: 0, part: {type: 'output_text', text: ''}}) +
      ev('response.output_text.delta', {output_index: 1, content_index: 0, delta: 'Hello'}) +
      ev('response.output_text.delta', {output_index: 1, content_index: 0, delta: ' world'}) +
      ev('response.output_item.done', {output_index: 1, item: {id: 'm', type: 'message'}}) +
      ev('response.incomplete', {response: {status: 'incomplete', incomplete_details: {reason: 'max_output_tokens'}, usage: {input_tokens: 10, output_tokens: 5}}})
    const events = run(new ResponsesStreamTranslator(ctx()), sse)
    assertGrammar(events)
    const acc = new MessageAccumulator()
    for (const e of events) acc.apply(e)
    const msg = JSON.parse(acc.finalMessageJson()!) as Json
    expect(msg.content).to.deep.equal([{type: 'thinking', thinking: 'Plan.', signature: ''}, {type: 'text', text: 'Hello world'}])
    expect(msg.stop_reason).to.equal('max_tokens')
  })

  it('Responses API: response.failed and a stream without a terminal event end in error events', () => {
    const failedEvents = run(new ResponsesStreamTranslator(ctx()), `event: response.failed\ndata: ${JSON.stringify({type: 'response.failed', response: {status: 'failed', error: {code: 'server_error', message: 'boom'}}})}\n\n`)
    expect(failedEvents.at(-1)).to.deep.equal({type: 'error', error: {type: 'api_error', message: 'boom'}})
    const cut = run(new ResponsesStreamTranslator(ctx()), `event: response.created\ndata: ${JSON.stringify({type: 'response.created', response: {}})}\n\n`)
    assertGrammar(cut)
    expect((cut.at(-1)!.error as Json).type).to.equal('api_error')
  })

  it('fail() after bytes were sent emits one error event and nothing afterwards', () => {
    const t = new ChatStreamTranslator(ctx())
    run(t, chunk([{index: 0, delta: {content: 'a'}}]), false)
    expect(t.fail('timeout_error', 'idle')).to.deep.equal([{type: 'error', error: {type: 'timeout_error', message: 'idle'}}])
    expect(t.fail('api_error', 'again')).to.deep.equal([])
    expect(t.end()).to.deep.equal([])
  })
})
