/**
 * Streaming state machines: OpenAI Chat Completions chunks and Responses API events ->
 * Anthropic SSE events (wire-format reference §3.4). Guarantees the grammar Claude Code and
 * the SDK need: exactly one message_start first, blocks opened and closed in order without
 * interleaving, one message_delta (stop reason + final usage) then message_stop, and an
 * `error` event (never a fake end_turn) when the upstream fails or ends early.
 */
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

export interface StreamContext {
  /** Model name reported to the client (the one it asked for). */
  model: string
  toolNames: ToolNameMap
  /** Pre-counted prompt tokens for message_start (Claude Code's context meter reads it). */
  inputTokensEstimate: number
  messageId?: string
}

type BlockKind = 'text' | 'thinking' | 'tool'

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined
}

function errorTypeForCode(code: unknown, status: unknown): string {
  const c = typeof code === 'string' ? code : ''
  if (/rate_limit|too_many/i.test(c)) return 'rate_limit_error'
  if (/overload|unavailable/i.test(c)) return 'overloaded_error'
  if (/context_length|invalid|content_filter|bad_request/i.test(c)) return 'invalid_request_error'
  if (/timeout/i.test(c)) return 'timeout_error'
  const s = typeof status === 'number' ? status : typeof code === 'number' ? code : 0
  if (s === 429) return 'rate_limit_error'
  if (s === 529 || s === 503) return 'overloaded_error'
  if (s >= 400 && s < 500) return 'invalid_request_error'
  return 'api_error'
}

export abstract class StreamTranslator {
  protected out: Json[] = []
  protected blockIndex = -1
  protected openKind: BlockKind | null = null
  protected started = false
  /** A terminal event (message_stop or error) was emitted; later input is ignored. */
  finished = false
  /** Upstream usage (mapped), null until the upstream reports it. */
  usage: WireUsage | null = null
  stopReason: string | null = null
  error: {type: string; message: string} | null = null
  private outputChars = 0

  constructor(protected readonly ctx: StreamContext) {}

  /** Feeds one upstream SSE event; returns the Anthropic events to send now. */
  abstract push(data: string, event: string): Json[]

  /** Upstream ended (EOF or [DONE]); returns the closing events. */
  abstract end(): Json[]

  /** The upstream failed mid-stream (cut, idle timeout): emits an error event. */
  fail(type: string, message: string): Json[] {
    if (!this.finished) this.emitError(type, message)
    return this.drain()
  }

  protected drain(): Json[] {
    const events = this.out
    this.out = []
    return events
  }

  protected ensureStarted(): void {
    if (this.started) return
    this.started = true
    this.out.push({
      type: 'message_start',
      message: {
        id: this.ctx.messageId ?? newMessageId(),
        type: 'message',
        role: 'assistant',
        model: this.ctx.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {input_tokens: this.ctx.inputTokensEstimate, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0},
      },
    })
  }

  protected openBlock(kind: BlockKind, contentBlock: Json): number {
    this.closeBlock()
    this.blockIndex++
    this.openKind = kind
    this.out.push({type: 'content_block_start', index: this.blockIndex, content_block: contentBlock})
    return this.blockIndex
  }

  protected closeBlock(): void {
    if (this.openKind === null) return
    this.out.push({type: 'content_block_stop', index: this.blockIndex})
    this.openKind = null
  }

  protected text(delta: string): void {
    if (this.openKind !== 'text') this.openBlock('text', {type: 'text', text: ''})
    this.outputChars += delta.length
    this.out.push({type: 'content_block_delta', index: this.blockIndex, delta: {type: 'text_delta', text: delta}})
  }

  protected thinking(delta: string): void {
    if (this.openKind !== 'thinking') this.openBlock('thinking', {type: 'thinking', thinking: '', signature: ''})
    this.outputChars += delta.length
    this.out.push({type: 'content_block_delta', index: this.blockIndex, delta: {type: 'thinking_delta', thinking: delta}})
  }

  protected toolArgs(index: number, partial: string): void {
    this.outputChars += partial.length
    this.out.push({type: 'content_block_delta', index, delta: {type: 'input_json_delta', partial_json: partial}})
  }

  protected finishMessage(stopReason: string): void {
    this.ensureStarted()
    this.closeBlock()
    this.stopReason = stopReason
    const usage: WireUsage = this.usage ?? {
      input_tokens: this.ctx.inputTokensEstimate,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      // No usage from upstream (stream interrupted or include_usage unsupported): estimate from the streamed text.
      output_tokens: Math.ceil(this.outputChars / 4),
    }
    this.out.push({type: 'message_delta', delta: {stop_reason: stopReason, stop_sequence: null}, usage: {...usage}})
    this.out.push({type: 'message_stop'})
    this.finished = true
  }

  protected emitError(type: string, message: string): void {
    this.error = {type, message}
    this.out.push({type: 'error', error: {type, message}})
    this.finished = true
  }
}

interface ToolCallState {
  id: string
  name: string
  /** Arguments received so far. */
  args: string
  /** Anthropic block index once started, else -1. */
  block: number
  closed: boolean
}

/** OpenAI / Azure / DeepSeek / Ollama chat.completion.chunk stream -> Anthropic events. */
export class ChatStreamTranslator extends StreamTranslator {
  private finish: string | null = null
  private readonly tools = new Map<number, ToolCallState>()
  private active: ToolCallState | null = null
  private sawTools = false

  push(data: string): Json[] {
    if (this.finished) return []
    if (data.trim() === '[DONE]') return this.end()
    let chunk: Json | undefined
    try {
      chunk = obj(JSON.parse(data))
    } catch {
      return [] // a broken frame is skipped; the terminal checks still apply
    }
    if (!chunk) return []
    const err = chunk.error
    if (err !== undefined && err !== null) {
      const e = obj(err)
      this.ensureStarted()
      this.emitError(errorTypeForCode(e?.code ?? e?.type, e?.status), typeof e?.message === 'string' ? e.message : typeof err === 'string' ? err : 'upstream error')
      return this.drain()
    }
    this.ensureStarted()
    const choices = Array.isArray(chunk.choices) ? chunk.choices : []
    const choice = obj(choices[0])
    if (choice) {
      const delta = obj(choice.delta)
      if (delta) {
        const reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : typeof delta.reasoning === 'string' ? delta.reasoning : ''
        if (reasoning) this.thinkingDelta(reasoning)
        if (typeof delta.content === 'string' && delta.content !== '') this.textDelta(delta.content)
        if (Array.isArray(delta.tool_calls)) for (const tc of delta.tool_calls) this.toolCallDelta(obj(tc))
      }
      if (typeof choice.finish_reason === 'string' && choice.finish_reason) this.finish = choice.finish_reason
    }
    const usage = obj(chunk.usage)
    if (usage) this.usage = chatUsageToAnthropic(usage)
    return this.drain()
  }

  end(): Json[] {
    if (this.finished) return this.drain()
    if (this.finish === null) {
      this.ensureStarted()
      this.emitError('api_error', 'upstream stream ended before completion (no finish_reason)')
      return this.drain()
    }
    this.closeTool()
    for (const st of this.tools.values()) if (st.block < 0) this.flushPendingTool(st)
    this.finishMessage(mapFinishReason(this.finish, this.sawTools))
    return this.drain()
  }

  private thinkingDelta(text: string): void {
    this.closeTool()
    this.thinking(text)
  }

  private textDelta(text: string): void {
    this.closeTool()
    this.text(text)
  }

  private closeTool(): void {
    if (this.active) {
      this.active.closed = true
      this.active = null
      this.closeBlock()
    }
  }

  private toolCallDelta(tc: Json | undefined): void {
    if (!tc) return
    this.sawTools = true
    const idx = typeof tc.index === 'number' ? tc.index : 0
    const fn = obj(tc.function)
    let st = this.tools.get(idx)
    if (!st) {
      st = {id: '', name: '', args: '', block: -1, closed: false}
      this.tools.set(idx, st)
    }
    if (typeof tc.id === 'string' && tc.id && !st.id) st.id = tc.id
    if (typeof fn?.name === 'string' && fn.name && !st.name) st.name = fn.name
    const fragment = typeof fn?.arguments === 'string' ? fn.arguments : ''
    if (st.closed) return // a fragment for a finished call cannot be placed any more
    st.args += fragment
    if (st.block >= 0) {
      if (fragment) this.toolArgs(st.block, fragment)
      return
    }
    // Not started yet: start once the name is known and no other call is still streaming.
    if (!st.name) return
    if (this.active && this.active !== st) {
      if (!isCompleteJson(this.active.args)) return // interleaved: buffer until the open call completes
      this.closeTool()
    }
    this.startTool(st)
    if (st.args) this.toolArgs(st.block, st.args)
  }

  private startTool(st: ToolCallState): void {
    this.closeBlock()
    st.block = this.openBlock('tool', {type: 'tool_use', id: st.id || newToolId(), name: this.ctx.toolNames.restore(st.name), input: {}})
    this.active = st
  }

  private flushPendingTool(st: ToolCallState): void {
    this.startTool(st)
    if (st.args) this.toolArgs(st.block, st.args)
    this.closeTool()
  }
}

function isCompleteJson(s: string): boolean {
  if (!s) return false
  try {
    JSON.parse(s)
    return true
  } catch {
    return false
  }
}

interface OutputItemState {
  kind: 'reasoning' | 'message' | 'function_call' | 'other'
  block: number
  argsEmitted: boolean
}

/** Responses API stream (response.* events) -> Anthropic events. */
export class ResponsesStreamTranslator extends StreamTranslator {
  private readonly items = new Map<number, OutputItemState>()
  private openItem = -1
  private sawFunctionCall = false

  push(data: string, eventName: string): Json[] {
    if (this.finished) return []
    if (data.trim() === '[DONE]') return this.end()
    let ev: Json | undefined
    try {
      ev = obj(JSON.parse(data))
    } catch {
      return []
    }
    if (!ev) return []
    const type = typeof ev.type === 'string' ? ev.type : eventName
    this.ensureStarted()
    const oi = typeof ev.output_index === 'number' ? ev.output_index : -1
    switch (type) {
      case 'response.output_item.added': {
        const item = obj(ev.item)
        const kind = item?.type === 'reasoning' || item?.type === 'message' || item?.type === 'function_call' ? item.type : 'other'
        const st: OutputItemState = {kind, block: -1, argsEmitted: false}
        this.items.set(oi, st)
        if (kind === 'function_call' && item) this.startFunctionCall(oi, st, item)
        break
      }
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
        if (typeof ev.delta === 'string' && ev.delta) {
          this.ensureItemBlock(oi, 'thinking')
          this.thinking(ev.delta)
        }
        break
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        if (typeof ev.delta === 'string' && ev.delta) {
          this.ensureItemBlock(oi, 'text')
          this.text(ev.delta)
        }
        break
      case 'response.function_call_arguments.delta': {
        const st = this.items.get(oi)
        if (st && st.block >= 0 && this.openItem === oi && typeof ev.delta === 'string' && ev.delta) {
          st.argsEmitted = true
          this.toolArgs(st.block, ev.delta)
        }
        break
      }
      case 'response.function_call_arguments.done': {
        const st = this.items.get(oi)
        if (st && st.block >= 0 && this.openItem === oi && !st.argsEmitted && typeof ev.arguments === 'string' && ev.arguments) {
          st.argsEmitted = true
          this.toolArgs(st.block, ev.arguments)
        }
        break
      }
      case 'response.output_item.done': {
        const item = obj(ev.item)
        let st = this.items.get(oi)
        if (!st && item?.type === 'function_call') {
          st = {kind: 'function_call', block: -1, argsEmitted: false}
          this.items.set(oi, st)
          this.startFunctionCall(oi, st, item)
        }
        if (st && st.kind === 'function_call' && st.block >= 0 && this.openItem === oi && !st.argsEmitted && typeof item?.arguments === 'string' && item.arguments) {
          st.argsEmitted = true
          this.toolArgs(st.block, item.arguments)
        }
        if (this.openItem === oi) {
          this.closeBlock()
          this.openItem = -1
        }
        break
      }
      case 'response.completed':
      case 'response.incomplete': {
        const response = obj(ev.response)
        const usage = obj(response?.usage)
        if (usage) this.usage = responsesUsageToAnthropic(usage)
        const status = typeof response?.status === 'string' ? response.status : type === 'response.incomplete' ? 'incomplete' : 'completed'
        const reason = obj(response?.incomplete_details)?.reason
        this.finishMessage(mapResponsesStatus(status, typeof reason === 'string' ? reason : undefined, this.sawFunctionCall))
        break
      }
      case 'response.failed': {
        const e = obj(obj(ev.response)?.error)
        this.emitError(errorTypeForCode(e?.code, undefined), typeof e?.message === 'string' ? e.message : 'upstream response failed')
        break
      }
      case 'error': {
        const e = obj(ev.error) ?? ev
        this.emitError(errorTypeForCode(e.code, e.status), typeof e.message === 'string' ? e.message : 'upstream error')
        break
      }
      default:
        break // response.created, in_progress, content_part.*, output_text.done, ... carry nothing new
    }
    return this.drain()
  }

  end(): Json[] {
    if (!this.finished) {
      this.ensureStarted()
      this.emitError('api_error', 'upstream stream ended before completion (no response.completed)')
    }
    return this.drain()
  }

  private startFunctionCall(oi: number, st: OutputItemState, item: Json): void {
    this.sawFunctionCall = true
    const id = typeof item.call_id === 'string' && item.call_id ? item.call_id : typeof item.id === 'string' && item.id ? item.id : newToolId()
    st.block = this.openBlock('tool', {type: 'tool_use', id, name: this.ctx.toolNames.restore(String(item.name ?? '')), input: {}})
    this.openItem = oi
  }

  private ensureItemBlock(oi: number, kind: 'text' | 'thinking'): void {
    if (this.openItem === oi && this.openKind === kind) return
    const contentBlock: Json = kind === 'text' ? {type: 'text', text: ''} : {type: 'thinking', thinking: '', signature: ''}
    const block = this.openBlock(kind, contentBlock)
    const st = this.items.get(oi)
    if (st) st.block = block
    this.openItem = oi
  }
}

/** Serialises Anthropic events as SSE frames (event: + data: + blank line). */
export function framesOf(events: Json[]): string {
  let s = ''
  for (const ev of events) s += `event: ${String(ev.type)}\ndata: ${JSON.stringify(ev)}\n\n`
  return s
}
