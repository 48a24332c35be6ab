/** Anthropic Messages surface: /v1/messages (JSON + SSE), /v1/messages/count_tokens, /v1/models. */
import type {MockErrorStatus} from './types.js'
import {estimateTokens, hashString, idSuffix, makeRng, mentionsTool, sampleFromSchema, splitString, splitWords, words} from './generate.js'
import {type GenContext, type Reply, isObject, jsonReply, parseJsonObject, sseFrame} from './reply.js'

const ERROR_TYPES: Record<number, [type: string, message: string]> = {
  400: ['invalid_request_error', 'Invalid request (mock fault)'],
  401: ['authentication_error', 'invalid x-api-key (mock fault)'],
  402: ['billing_error', 'Billing problem (mock fault)'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource (mock fault)'],
  404: ['not_found_error', 'Not found (mock fault)'],
  405: ['invalid_request_error', 'Method not allowed'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes (mock fault)'],
  429: ['rate_limit_error', 'Number of requests has exceeded your rate limit (mock fault)'],
  500: ['api_error', 'Internal server error (mock fault)'],
  503: ['api_error', 'Service unavailable (mock fault)'],
  529: ['overloaded_error', 'Overloaded'],
}

export function anthropicError(ctx: GenContext, status: number, message?: string, extraHeaders: Record<string, string> = {}): Reply {
  const [type, defaultMessage] = ERROR_TYPES[status] ?? ['api_error', 'Error']
  const requestId = `req_01${idSuffix(ctx.nextSerial(), makeRng(ctx.seed ^ status), 22)}`
  return jsonReply(status, {type: 'error', error: {type, message: message ?? defaultMessage}, request_id: requestId}, {'request-id': requestId, ...extraHeaders})
}

export function anthropicFaultError(ctx: GenContext, status: MockErrorStatus, retryAfterSecs: number): Reply {
  const headers: Record<string, string> = status === 429 || status === 529 ? {'retry-after': String(retryAfterSecs)} : {}
  return anthropicError(ctx, status, undefined, headers)
}

type Block =
  | {type: 'thinking'; thinking: string; signature: string}
  | {type: 'text'; text: string; pieces: string[]}
  | {type: 'tool_use'; id: string; name: string; input: unknown; json: string}

interface PromptUsage {
  input_tokens: number
  cache_creation_input_tokens: number
  cache_read_input_tokens: number
  cache_creation: {ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number}
}

/** Validation shared by messages and count_tokens; returns the parsed body or an error reply. */
function parseRequest(ctx: GenContext, body: string): Record<string, unknown> | Reply {
  const parsed = parseJsonObject(body)
  if (!parsed.ok) return anthropicError(ctx, 400, parsed.message)
  const request = parsed.value
  if (typeof request.model !== 'string' || request.model === '') return anthropicError(ctx, 400, 'model: Field required (a non-empty string)')
  if (!Array.isArray(request.messages)) return anthropicError(ctx, 400, 'messages: Field required (an array of {role, content})')
  return request
}

export function handleCountTokens(ctx: GenContext, body: string): Reply {
  const request = parseRequest(ctx, body)
  if ('kind' in request) return request as Reply
  return jsonReply(200, {input_tokens: estimateTokens(Buffer.byteLength(body))})
}

export function handleMessages(ctx: GenContext, body: string): Reply {
  const request = parseRequest(ctx, body)
  if ('kind' in request) return request as Reply
  const model = request.model as string
  const serial = ctx.nextSerial()
  const userText = lastUserText(request.messages as unknown[])
  const rng = makeRng(ctx.seed ^ hashString(`${model}\n${userText}`))
  const id = `msg_01${idSuffix(serial, rng, 22)}`
  const requestId = `req_01${idSuffix(serial, rng, 22)}`

  const budget = typeof request.max_tokens === 'number' && request.max_tokens >= 0 ? Math.floor(request.max_tokens) : Infinity
  let remaining = budget
  let truncated = false
  const blocks: Block[] = []

  if (isObject(request.thinking) && request.thinking.type !== 'disabled') {
    const count = Math.min(8, remaining)
    if (count < 8) truncated = true
    if (count > 0) {
      remaining -= count
      blocks.push({type: 'thinking', thinking: words(rng, count).join(' '), signature: `Eq${idSuffix(serial, rng, 40)}`})
    }
  }

  const tool = chooseTool(request)
  const wanted = tool ? 6 : ctx.outputTokens
  const textCount = Math.min(wanted, remaining)
  if (textCount < wanted) truncated = true
  if (textCount > 0) {
    remaining -= textCount
    const list = words(rng, textCount)
    blocks.push({type: 'text', text: list.join(' '), pieces: splitWords(list, ctx.streamEvents)})
  }
  if (tool) {
    const input = sampleFromSchema(tool.schema, rng)
    const json = JSON.stringify(input)
    const cost = estimateTokens(json.length)
    if (!truncated && cost <= remaining) {
      remaining -= cost
      blocks.push({type: 'tool_use', id: `toolu_01${idSuffix(serial, rng, 22)}`, name: tool.name, input, json})
    } else {
      truncated = true
    }
  }
  const output = blocks.reduce((sum, b) => sum + tokensOf(b), 0)
  const stopReason = truncated ? 'max_tokens' : blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'
  const usage = promptUsage(request, body)
  const headers = {'request-id': requestId}

  if (request.stream === true) return {kind: 'sse', headers, ...streamFrames(id, model, blocks, stopReason, usage, output)}

  return jsonReply(200, {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: blocks.map(finalBlock),
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {...usage, output_tokens: output, service_tier: 'standard'},
  }, headers)
}

function tokensOf(block: Block): number {
  if (block.type === 'tool_use') return estimateTokens(block.json.length)
  return (block.type === 'text' ? block.text : block.thinking).split(' ').length
}

function finalBlock(block: Block): Record<string, unknown> {
  switch (block.type) {
    case 'thinking': return {type: 'thinking', thinking: block.thinking, signature: block.signature}
    case 'text': return {type: 'text', text: block.text}
    case 'tool_use': return {type: 'tool_use', id: block.id, name: block.name, input: block.input}
  }
}

function streamFrames(id: string, model: string, blocks: Block[], stopReason: string, usage: PromptUsage, outputTokens: number): {frames: string[]; malformedFrame: string} {
  const frames: string[] = [
    sseFrame('message_start', {
      type: 'message_start',
      message: {id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null,
        usage: {...usage, output_tokens: Math.min(1, outputTokens), service_tier: 'standard'}},
    }),
  ]
  blocks.forEach((block, index) => {
    const delta = (payload: Record<string, unknown>) => sseFrame('content_block_delta', {type: 'content_block_delta', index, delta: payload})
    switch (block.type) {
      case 'thinking':
        frames.push(sseFrame('content_block_start', {type: 'content_block_start', index, content_block: {type: 'thinking', thinking: '', signature: ''}}))
        for (const piece of splitWords(block.thinking.split(' '), 2)) frames.push(delta({type: 'thinking_delta', thinking: piece}))
        frames.push(delta({type: 'signature_delta', signature: block.signature}))
        break
      case 'text':
        frames.push(sseFrame('content_block_start', {type: 'content_block_start', index, content_block: {type: 'text', text: ''}}))
        for (const piece of block.pieces) frames.push(delta({type: 'text_delta', text: piece}))
        break
      case 'tool_use':
        frames.push(sseFrame('content_block_start', {type: 'content_block_start', index, content_block: {type: 'tool_use', id: block.id, name: block.name, input: {}}}))
        for (const piece of ['', ...splitString(block.json, 3)]) frames.push(delta({type: 'input_json_delta', partial_json: piece}))
        break
    }
    // The reference sends a ping right after the first content_block_start.
    if (index === 0) frames.splice(2, 0, 'event: ping\ndata: {"type": "ping"}\n\n')
    frames.push(sseFrame('content_block_stop', {type: 'content_block_stop', index}))
  })
  frames.push(sseFrame('message_delta', {
    type: 'message_delta',
    delta: {stop_reason: stopReason, stop_sequence: null},
    usage: {
      input_tokens: usage.input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      output_tokens: outputTokens,
    },
  }))
  frames.push(sseFrame('message_stop', {type: 'message_stop'}))
  const malformedFrame = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"unterminat\n\n'
  return {frames, malformedFrame}
}

function lastUserText(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]
    if (!isObject(message) || message.role !== 'user') continue
    if (typeof message.content === 'string') return message.content
    if (!Array.isArray(message.content)) return ''
    return message.content
      .filter((block): block is {type: 'text'; text: string} => isObject(block) && block.type === 'text' && typeof block.text === 'string')
      .map((block) => block.text)
      .join('\n')
  }
  return ''
}

/** The tool to call, or undefined: tools present and the last user text mentions "tool", or tool_choice forces one. */
function chooseTool(request: Record<string, unknown>): {name: string; schema: unknown} | undefined {
  if (!Array.isArray(request.tools)) return undefined
  const tools = request.tools.filter((t): t is Record<string, unknown> & {name: string} => isObject(t) && typeof t.name === 'string')
  if (tools.length === 0) return undefined
  const choice = isObject(request.tool_choice) ? request.tool_choice : {type: 'auto'}
  if (choice.type === 'none') return undefined
  const forced = choice.type === 'any' || choice.type === 'tool'
  if (!forced && !mentionsTool(lastUserText(request.messages as unknown[]))) return undefined
  const named = choice.type === 'tool' ? tools.find((t) => t.name === choice.name) : undefined
  const tool = named ?? tools.find((t) => isObject(t.input_schema)) ?? tools[0]
  return tool ? {name: tool.name, schema: tool.input_schema ?? {type: 'object'}} : undefined
}

/**
 * Deterministic prompt-cache accounting. Blocks are walked in cache-prefix order (tools, system, messages); the prefix ends at the
 * last cache_control breakpoint. The first half of the first segment counts as a cache read, the rest of the prefix as cache
 * creation, each segment under the ttl of the breakpoint that closes it; whatever follows the prefix is uncached input.
 */
function promptUsage(request: Record<string, unknown>, body: string): PromptUsage {
  const total = estimateTokens(Buffer.byteLength(body))
  const none = {input_tokens: total, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: {ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0}}
  if (!body.includes('"cache_control"')) return none

  const breakpoints: {at: number; ttl: '5m' | '1h'}[] = []
  let position = 0
  const visit = (block: unknown) => {
    position += estimateTokens(typeof block === 'string' ? block.length : JSON.stringify(block).length)
    if (isObject(block) && isObject(block.cache_control)) breakpoints.push({at: position, ttl: block.cache_control.ttl === '1h' ? '1h' : '5m'})
  }
  if (Array.isArray(request.tools)) request.tools.forEach(visit)
  if (Array.isArray(request.system)) request.system.forEach(visit)
  else if (typeof request.system === 'string') visit(request.system)
  if (Array.isArray(request.messages)) {
    for (const message of request.messages) {
      if (!isObject(message)) continue
      if (Array.isArray(message.content)) message.content.forEach(visit)
      else visit(message.content ?? '')
    }
  }
  if (isObject(request.cache_control)) breakpoints.push({at: position, ttl: request.cache_control.ttl === '1h' ? '1h' : '5m'})
  if (breakpoints.length === 0 || total < 2) return none

  const prefixEnd = Math.min((breakpoints.at(-1) as {at: number}).at, total - 1)
  const read = Math.min(Math.max(1, Math.floor((breakpoints[0] as {at: number}).at / 2)), prefixEnd)
  let from = read
  const creation = {ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0}
  for (const breakpoint of breakpoints) {
    const to = Math.min(breakpoint.at, prefixEnd)
    if (to <= from) continue
    if (breakpoint.ttl === '1h') creation.ephemeral_1h_input_tokens += to - from
    else creation.ephemeral_5m_input_tokens += to - from
    from = to
  }
  return {
    input_tokens: total - prefixEnd,
    cache_creation_input_tokens: creation.ephemeral_5m_input_tokens + creation.ephemeral_1h_input_tokens,
    cache_read_input_tokens: read,
    cache_creation: creation,
  }
}

const MODELS: {id: string; display_name: string; created_at: string; max_input_tokens: number; max_tokens: number}[] = [
  {id: 'claude-opus-4-8', display_name: 'Claude Opus 4.8', created_at: '2026-09-30T00:00:00Z', max_input_tokens: 1000000, max_tokens: 128000},
  {id: 'claude-opus-4-6', display_name: 'Claude Opus 4.6', created_at: '2026-02-05T00:00:00Z', max_input_tokens: 1000000, max_tokens: 128000},
  {id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6', created_at: '2026-02-17T00:00:00Z', max_input_tokens: 1000000, max_tokens: 128000},
  {id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z', max_input_tokens: 200000, max_tokens: 64000},
  {id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z', max_input_tokens: 200000, max_tokens: 64000},
]

function modelInfo(model: (typeof MODELS)[number]): Record<string, unknown> {
  return {type: 'model', ...model, capabilities: null}
}

/** GET /v1/models with limit / after_id / before_id paging. */
export function handleListModels(ctx: GenContext, query: URLSearchParams): Reply {
  const limitText = query.get('limit')
  const limit = limitText === null ? 20 : Number(limitText)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return anthropicError(ctx, 400, `limit: expected an integer from 1 to 1000, got ${JSON.stringify(limitText)}`)
  let start = 0
  let end = MODELS.length
  const after = query.get('after_id')
  const before = query.get('before_id')
  if (after !== null) start = MODELS.findIndex((m) => m.id === after) + 1
  if (before !== null) end = Math.max(0, MODELS.findIndex((m) => m.id === before))
  let page = MODELS.slice(start, end)
  const hasMore = page.length > limit
  page = before !== null && after === null ? page.slice(-limit) : page.slice(0, limit)
  return jsonReply(200, {
    data: page.map(modelInfo),
    has_more: hasMore,
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
  })
}

export function handleGetModel(ctx: GenContext, id: string): Reply {
  const model = MODELS.find((m) => m.id === id)
  return model ? jsonReply(200, modelInfo(model)) : anthropicError(ctx, 404, `model: ${id}`)
}
