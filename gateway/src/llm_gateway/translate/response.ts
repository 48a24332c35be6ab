/** Non-streamed OpenAI Chat / Responses API bodies -> Anthropic Message (wire-format reference §3.3). */
import {
  type Json,
  type ToolNameMap,
  type WireUsage,
  chatUsageToAnthropic,
  mapFinishReason,
  mapResponsesStatus,
  newMessageId,
  newToolId,
  responsesUsageToAnthropic,
} from './common.js'

export interface ResponseContext {
  /** Model name reported to the client (the one it asked for). */
  model: string
  toolNames: ToolNameMap
}

export interface TranslatedMessage {
  message: Json
  /** Upstream usage mapped to Anthropic's shape, or null when the upstream sent none. */
  usage: WireUsage | null
  stopReason: string
}

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined
}

function parseArgs(raw: unknown): unknown {
  if (typeof raw !== 'string') return obj(raw) ?? {}
  if (raw.trim() === '') return {}
  try {
    const parsed: unknown = JSON.parse(raw)
    return obj(parsed) ?? {value: parsed}
  } catch {
    return {text: raw}
  }
}

const ZERO_USAGE: WireUsage = {input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0}

export function chatResponseToAnthropic(body: Json, ctx: ResponseContext): TranslatedMessage {
  const choice = obj(Array.isArray(body.choices) ? body.choices[0] : undefined)
  const message = obj(choice?.message) ?? {}
  const content: Json[] = []
  const reasoning = typeof message.reasoning_content === 'string' ? message.reasoning_content : typeof message.reasoning === 'string' ? message.reasoning : ''
  if (reasoning) content.push({type: 'thinking', thinking: reasoning, signature: ''})
  if (typeof message.content === 'string' && message.content !== '') content.push({type: 'text', text: message.content})
  else if (Array.isArray(message.content)) {
    const text = message.content.map((p) => String(obj(p)?.text ?? '')).join('')
    if (text) content.push({type: 'text', text})
  }
  if (typeof message.refusal === 'string' && message.refusal) content.push({type: 'text', text: message.refusal})
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : []
  for (const c of calls) {
    const call = obj(c)
    const fn = obj(call?.function)
    if (!call || !fn) continue
    content.push({
      type: 'tool_use',
      id: typeof call.id === 'string' && call.id ? call.id : newToolId(),
      name: ctx.toolNames.restore(String(fn.name ?? '')),
      input: parseArgs(fn.arguments),
    })
  }
  const finish = typeof choice?.finish_reason === 'string' ? choice.finish_reason : null
  const stopReason = mapFinishReason(finish, calls.length > 0)
  const u = obj(body.usage)
  const usage = u ? chatUsageToAnthropic(u) : null
  return {
    message: {
      id: newMessageId(),
      type: 'message',
      role: 'assistant',
      model: ctx.model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: usage ?? ZERO_USAGE,
    },
    usage,
    stopReason,
  }
}

export function responsesResponseToAnthropic(body: Json, ctx: ResponseContext): TranslatedMessage {
  const content: Json[] = []
  let sawFunctionCall = false
  for (const it of Array.isArray(body.output) ? body.output : []) {
    const item = obj(it)
    if (!item) continue
    if (item.type === 'reasoning') {
      const summary = Array.isArray(item.summary) ? item.summary.map((s) => String(obj(s)?.text ?? '')).join('') : ''
      if (summary) content.push({type: 'thinking', thinking: summary, signature: ''})
    } else if (item.type === 'message') {
      for (const p of Array.isArray(item.content) ? item.content : []) {
        const part = obj(p)
        if (part?.type === 'output_text' && typeof part.text === 'string') content.push({type: 'text', text: part.text})
        else if (part?.type === 'refusal' && typeof part.refusal === 'string') content.push({type: 'text', text: part.refusal})
      }
    } else if (item.type === 'function_call') {
      sawFunctionCall = true
      content.push({
        type: 'tool_use',
        id: typeof item.call_id === 'string' && item.call_id ? item.call_id : newToolId(),
        name: ctx.toolNames.restore(String(item.name ?? '')),
        input: parseArgs(item.arguments),
      })
    }
  }
  const status = typeof body.status === 'string' ? body.status : undefined
  const incomplete = obj(body.incomplete_details)
  const stopReason = mapResponsesStatus(status, typeof incomplete?.reason === 'string' ? incomplete.reason : undefined, sawFunctionCall)
  const u = obj(body.usage)
  const usage = u ? responsesUsageToAnthropic(u) : null
  return {
    message: {
      id: newMessageId(),
      type: 'message',
      role: 'assistant',
      model: ctx.model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: usage ?? ZERO_USAGE,
    },
    usage,
    stopReason,
  }
}
