/** OpenAI-style surfaces: Chat Completions (OpenAI, DeepSeek-style and Azure deployment paths) and the Responses API. */
import type {MockErrorStatus} from './types.js'
import {estimateTokens, hashString, idSuffix, makeRng, mentionsTool, openAiCachedTokens, sampleFromSchema, splitString, splitWords, words} from './generate.js'
import {type GenContext, type Reply, isObject, jsonReply, parseJsonObject, sseFrame} from './reply.js'

const ERRORS: Record<number, [type: string, code: string | null, message: string]> = {
  400: ['invalid_request_error', null, 'Invalid request (mock fault)'],
  401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided (mock fault)'],
  403: ['invalid_request_error', 'permission_denied', 'You are not allowed to access this resource (mock fault)'],
  404: ['invalid_request_error', 'model_not_found', 'The model or deployment does not exist (mock fault)'],
  405: ['invalid_request_error', null, 'Method not allowed'],
  413: ['invalid_request_error', 'request_too_large', 'Request too large (mock fault)'],
  429: ['requests', 'rate_limit_exceeded', 'Rate limit reached for requests (mock fault)'],
  500: ['server_error', null, 'The server had an error while processing your request (mock fault)'],
  503: ['server_error', null, 'The engine is currently overloaded, please try again later (mock fault)'],
  529: ['server_error', 'overloaded', 'The engine is currently overloaded, please try again later (mock fault)'],
}

export function openAiError(ctx: GenContext, status: number, message?: string, options: {code?: string; param?: string; headers?: Record<string, string>} = {}): Reply {
  const [type, code, defaultMessage] = ERRORS[status] ?? ['server_error', null, 'Error']
  const requestId = `req_${idSuffix(ctx.nextSerial(), makeRng(ctx.seed ^ status), 26)}`
  return jsonReply(status, {error: {message: message ?? defaultMessage, type, param: options.param ?? null, code: options.code ?? code}}, {'x-request-id': requestId, ...options.headers})
}

export function openAiFaultError(ctx: GenContext, status: MockErrorStatus, retryAfterSecs: number): Reply {
  return openAiError(ctx, status, undefined, {headers: status === 429 || status === 529 ? {'retry-after': String(retryAfterSecs)} : {}})
}

interface ToolCall {
  id: string
  name: string
  arguments: string
}

/** The generated answer, independent of the wire shape. */
interface Answer {
  text: string
  pieces: string[]
  toolCall?: ToolCall
  reasoningTokens: number
  promptTokens: number
  cachedTokens: number
  completionTokens: number
  truncated: boolean
}

function answer(ctx: GenContext, serial: number, options: {model: string; userText: string; tool?: {name: string; schema: unknown}; reasoning: boolean; maxTokens: unknown; bodyBytes: number}): Answer {
  const rng = makeRng(ctx.seed ^ hashString(`${options.model}\n${options.userText}`))
  let remaining = typeof options.maxTokens === 'number' && options.maxTokens >= 0 ? Math.floor(options.maxTokens) : Infinity
  const reasoningTokens = options.reasoning ? Math.min(8, remaining) : 0
  remaining -= reasoningTokens
  const wanted = options.tool ? 6 : ctx.outputTokens
  const textCount = Math.min(wanted, remaining)
  remaining -= textCount
  let truncated = textCount < wanted || (options.reasoning && reasoningTokens < 8)
  const list = words(rng, textCount)
  let toolCall: ToolCall | undefined
  let completionTokens = reasoningTokens + textCount
  if (options.tool && !truncated) {
    const args = JSON.stringify(sampleFromSchema(options.tool.schema, rng))
    if (estimateTokens(args.length) <= remaining) {
      toolCall = {id: `call_${idSuffix(serial, rng, 24)}`, name: options.tool.name, arguments: args}
      completionTokens += estimateTokens(args.length)
    } else {
      truncated = true
    }
  }
  const promptTokens = estimateTokens(options.bodyBytes)
  return {
    text: list.join(' '),
    pieces: splitWords(list, ctx.streamEvents),
    toolCall,
    reasoningTokens,
    promptTokens,
    cachedTokens: openAiCachedTokens(promptTokens),
    completionTokens,
    truncated,
  }
}

function textOf(content: unknown, partType: string): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .filter((part): part is {text: string} => isObject(part) && part.type === partType && typeof part.text === 'string')
    .map((part) => part.text)
    .join('\n')
}

function lastUserText(items: unknown[], partType: string): string {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]
    if (isObject(item) && item.role === 'user') return textOf(item.content, partType)
  }
  return ''
}

/** tools: Chat uses {type, function: {name, parameters}}, Responses uses flat {type, name, parameters}. */
function chooseTool(request: Record<string, unknown>, userText: string, flat: boolean): {name: string; schema: unknown} | undefined {
  if (!Array.isArray(request.tools)) return undefined
  const tools = request.tools
    .map((t) => (isObject(t) ? (flat ? t : t.function) : undefined))
    .filter((f): f is Record<string, unknown> & {name: string} => isObject(f) && typeof f.name === 'string')
  if (tools.length === 0) return undefined
  const choice = request.tool_choice
  if (choice === 'none') return undefined
  const namedChoice = isObject(choice) ? (flat ? choice.name : isObject(choice.function) ? choice.function.name : undefined) : undefined
  const forced = choice === 'required' || namedChoice !== undefined
  if (!forced && !mentionsTool(userText)) return undefined
  const tool = tools.find((t) => t.name === namedChoice) ?? tools[0]
  return tool ? {name: tool.name, schema: tool.parameters ?? {type: 'object'}} : undefined
}

// ---------------------------------------------------------------------------------------------------------------------------
// Chat Completions

export interface ChatRoute {
  /** Azure deployment path: the deployment name replaces the body's model. */
  deployment?: string
}

export function handleChatCompletions(ctx: GenContext, body: string, route: ChatRoute): Reply {
  const parsed = parseJsonObject(body)
  if (!parsed.ok) return openAiError(ctx, 400, `We could not parse the JSON body of your request: ${parsed.message}`)
  const request = parsed.value
  if (!Array.isArray(request.messages)) return openAiError(ctx, 400, "Missing required parameter: 'messages'.", {param: 'messages', code: 'missing_required_parameter'})
  const model = route.deployment ?? request.model
  if (typeof model !== 'string' || model === '') return openAiError(ctx, 400, "Missing required parameter: 'model'.", {param: 'model', code: 'missing_required_parameter'})

  const serial = ctx.nextSerial()
  const userText = lastUserText(request.messages, 'text')
  const reasoning = typeof request.reasoning_effort === 'string' && request.reasoning_effort !== 'none'
  const result = answer(ctx, serial, {
    model, userText, reasoning,
    tool: chooseTool(request, userText, false),
    maxTokens: request.max_completion_tokens ?? request.max_tokens,
    bodyBytes: Buffer.byteLength(body),
  })
  const id = `chatcmpl-${idSuffix(serial, makeRng(ctx.seed ^ serial), 29)}`
  const created = Math.floor(Date.now() / 1000)
  const finishReason = result.truncated ? 'length' : result.toolCall ? 'tool_calls' : 'stop'
  const usage = {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
    prompt_tokens_details: {cached_tokens: result.cachedTokens, audio_tokens: 0},
    completion_tokens_details: {reasoning_tokens: result.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0},
  }
  const headers = {'x-request-id': id}

  if (request.stream !== true) {
    const message: Record<string, unknown> = {role: 'assistant', content: result.text === '' && result.toolCall ? null : result.text, refusal: null}
    if (result.toolCall) {
      message.tool_calls = [{id: result.toolCall.id, type: 'function', function: {name: result.toolCall.name, arguments: result.toolCall.arguments}}]
    }
    return jsonReply(200, {id, object: 'chat.completion', created, model, choices: [{index: 0, message, logprobs: null, finish_reason: finishReason}], usage}, headers)
  }

  const includeUsage = isObject(request.stream_options) && request.stream_options.include_usage === true
  const chunk = (choices: unknown[], chunkUsage: unknown = null) => {
    const payload: Record<string, unknown> = {id, object: 'chat.completion.chunk', created, model, choices}
    if (includeUsage) payload.usage = chunkUsage
    return `data: ${JSON.stringify(payload)}\n\n`
  }
  const deltaChunk = (delta: Record<string, unknown>) => chunk([{index: 0, delta, logprobs: null, finish_reason: null}])
  const frames: string[] = []
  // Azure sends a leading chunk with empty choices carrying prompt filter results.
  if (route.deployment !== undefined) {
    frames.push(`data: ${JSON.stringify({choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{prompt_index: 0, content_filter_results: {hate: {filtered: false, severity: 'safe'}, self_harm: {filtered: false, severity: 'safe'}, sexual: {filtered: false, severity: 'safe'}, violence: {filtered: false, severity: 'safe'}}}]})}\n\n`)
  }
  frames.push(deltaChunk({role: 'assistant', content: ''}))
  for (const piece of result.pieces) frames.push(deltaChunk({content: piece}))
  if (result.toolCall) {
    const {id: callId, name, arguments: args} = result.toolCall
    frames.push(deltaChunk({tool_calls: [{index: 0, id: callId, type: 'function', function: {name, arguments: ''}}]}))
    for (const piece of splitString(args, 3)) frames.push(deltaChunk({tool_calls: [{index: 0, function: {arguments: piece}}]}))
  }
  frames.push(chunk([{index: 0, delta: {}, logprobs: null, finish_reason: finishReason}]))
  if (includeUsage) frames.push(chunk([], usage))
  frames.push('data: [DONE]\n\n')
  const malformedFrame = `data: {"id":"${id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"unterminat\n\n`
  return {kind: 'sse', headers, frames, malformedFrame}
}

// ---------------------------------------------------------------------------------------------------------------------------
// Responses API

export function handleResponses(ctx: GenContext, body: string): Reply {
  const parsed = parseJsonObject(body)
  if (!parsed.ok) return openAiError(ctx, 400, `We could not parse the JSON body of your request: ${parsed.message}`)
  const request = parsed.value
  const model = request.model
  if (typeof model !== 'string' || model === '') return openAiError(ctx, 400, "Missing required parameter: 'model'.", {param: 'model', code: 'missing_required_parameter'})
  const input = request.input
  if (typeof input !== 'string' && !Array.isArray(input)) return openAiError(ctx, 400, "Missing required parameter: 'input' (a string or an array of input items).", {param: 'input', code: 'missing_required_parameter'})

  const serial = ctx.nextSerial()
  const userText = typeof input === 'string' ? input : lastUserText(input, 'input_text')
  const reasoning = isObject(request.reasoning) && request.reasoning.effort !== 'none'
  const result = answer(ctx, serial, {
    model, userText, reasoning,
    tool: chooseTool(request, userText, true),
    maxTokens: request.max_output_tokens,
    bodyBytes: Buffer.byteLength(body),
  })
  const idRng = makeRng(ctx.seed ^ serial)
  const responseId = `resp_${idSuffix(serial, idRng, 32)}`
  const createdAt = Math.floor(Date.now() / 1000)

  // Output items in their final state.
  const items: Record<string, unknown>[] = []
  if (reasoning) items.push({id: `rs_${idSuffix(serial, idRng, 32)}`, type: 'reasoning', summary: []})
  const messageItemIndex = result.text === '' ? -1 : items.length
  if (result.text !== '') {
    items.push({id: `msg_${idSuffix(serial, idRng, 32)}`, type: 'message', status: result.truncated ? 'incomplete' : 'completed', role: 'assistant',
      content: [{type: 'output_text', text: result.text, annotations: []}]})
  }
  if (result.toolCall) {
    items.push({id: `fc_${idSuffix(serial, idRng, 32)}`, type: 'function_call', status: 'completed', call_id: result.toolCall.id, name: result.toolCall.name, arguments: result.toolCall.arguments})
  }
  const usage = {
    input_tokens: result.promptTokens,
    input_tokens_details: {cached_tokens: result.cachedTokens},
    output_tokens: result.completionTokens,
    output_tokens_details: {reasoning_tokens: result.reasoningTokens},
    total_tokens: result.promptTokens + result.completionTokens,
  }
  const response = (status: string, output: unknown[], finalUsage: unknown) => ({
    id: responseId, object: 'response', created_at: createdAt, status, error: null,
    incomplete_details: status === 'incomplete' ? {reason: 'max_output_tokens'} : null,
    instructions: request.instructions ?? null, model, output,
    parallel_tool_calls: request.parallel_tool_calls ?? true, tool_choice: request.tool_choice ?? 'auto', tools: request.tools ?? [],
    usage: finalUsage,
  })
  const finalStatus = result.truncated ? 'incomplete' : 'completed'
  const headers = {'x-request-id': responseId}
  if (request.stream !== true) return jsonReply(200, response(finalStatus, items, usage), headers)

  let sequence = 0
  const frames: string[] = []
  const emit = (type: string, payload: Record<string, unknown>) => frames.push(sseFrame(type, {type, sequence_number: sequence++, ...payload}))
  emit('response.created', {response: response('in_progress', [], null)})
  emit('response.in_progress', {response: response('in_progress', [], null)})
  items.forEach((item, outputIndex) => {
    const base = {output_index: outputIndex}
    if (item.type === 'reasoning') {
      emit('response.output_item.added', {...base, item})
    } else if (outputIndex === messageItemIndex) {
      emit('response.output_item.added', {...base, item: {...item, status: 'in_progress', content: []}})
      const part = {item_id: item.id, ...base, content_index: 0}
      emit('response.content_part.added', {...part, part: {type: 'output_text', text: '', annotations: []}})
      for (const delta of result.pieces) emit('response.output_text.delta', {...part, delta, logprobs: []})
      emit('response.output_text.done', {...part, text: result.text, logprobs: []})
      emit('response.content_part.done', {...part, part: {type: 'output_text', text: result.text, annotations: []}})
    } else {
      const args = item.arguments as string
      emit('response.output_item.added', {...base, item: {...item, status: 'in_progress', arguments: ''}})
      for (const delta of splitString(args, 3)) emit('response.function_call_arguments.delta', {item_id: item.id, ...base, delta})
      emit('response.function_call_arguments.done', {item_id: item.id, ...base, arguments: args})
    }
    emit('response.output_item.done', {...base, item})
  })
  emit(`response.${finalStatus}`, {response: response(finalStatus, items, usage)})
  const malformedFrame = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"unterminat\n\n'
  return {kind: 'sse', headers, frames, malformedFrame}
}
