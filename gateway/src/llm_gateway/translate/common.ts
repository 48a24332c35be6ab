/** Shared translation tables: stop reasons, usage mapping, tool-name truncation, ids (wire-format reference §3.1, §3.5, §3.6). */
import {createHash, randomBytes} from 'node:crypto'
import type {Usage} from '../record.js'

export type Json = Record<string, unknown>

/** OpenAI flavours differ in small ways (token field, thinking toggles, usage fields). */
export type ChatFlavor = 'azure' | 'openai' | 'deepseek' | 'ollama'

/** Anthropic usage as put on the wire (message_start / message_delta / Message.usage). */
export interface WireUsage {
  input_tokens: number
  cache_creation_input_tokens: number
  cache_read_input_tokens: number
  output_tokens: number
}

export function mapFinishReason(finish: string | null | undefined, sawToolCalls: boolean): string {
  if (sawToolCalls && (finish === 'tool_calls' || finish === 'function_call' || finish === 'stop' || !finish)) return 'tool_use'
  switch (finish) {
    case 'length': return 'max_tokens'
    case 'tool_calls':
    case 'function_call': return 'tool_use'
    case 'content_filter': return 'refusal'
    default: return 'end_turn'
  }
}

/** Responses API terminal status -> Anthropic stop_reason. */
export function mapResponsesStatus(status: string | undefined, incompleteReason: string | undefined, sawFunctionCall: boolean): string {
  if (status === 'incomplete') {
    if (incompleteReason === 'max_output_tokens') return 'max_tokens'
    if (incompleteReason === 'content_filter') return 'refusal'
    return 'end_turn'
  }
  return sawFunctionCall ? 'tool_use' : 'end_turn'
}

function n(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0
}

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined
}

/** OpenAI/Azure/DeepSeek/Ollama chat usage -> Anthropic usage (input_tokens is the uncached part only). */
export function chatUsageToAnthropic(u: Json): WireUsage {
  const prompt = n(u.prompt_tokens)
  const details = obj(u.prompt_tokens_details)
  let cacheRead = n(details?.cached_tokens)
  const cacheWrite = n(details?.cache_write_tokens)
  let input = Math.max(0, prompt - cacheRead - cacheWrite)
  if (typeof u.prompt_cache_hit_tokens === 'number') {
    // DeepSeek reports hit/miss explicitly (hit + miss = prompt).
    cacheRead = u.prompt_cache_hit_tokens
    input = typeof u.prompt_cache_miss_tokens === 'number' ? u.prompt_cache_miss_tokens : Math.max(0, prompt - cacheRead)
  }
  return {input_tokens: input, cache_creation_input_tokens: cacheWrite, cache_read_input_tokens: cacheRead, output_tokens: n(u.completion_tokens)}
}

/** Responses API usage -> Anthropic usage. */
export function responsesUsageToAnthropic(u: Json): WireUsage {
  const details = obj(u.input_tokens_details)
  const cacheRead = n(details?.cached_tokens)
  const cacheWrite = n(details?.cache_write_tokens)
  return {
    input_tokens: Math.max(0, n(u.input_tokens) - cacheRead - cacheWrite),
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
    output_tokens: n(u.output_tokens),
  }
}

export function wireToRecordUsage(u: WireUsage): Usage {
  return {
    input_tokens: u.input_tokens,
    output_tokens: u.output_tokens,
    cache_creation_input_tokens: u.cache_creation_input_tokens,
    cache_read_input_tokens: u.cache_read_input_tokens,
  }
}

export const MAX_TOOL_NAME = 64

/**
 * OpenAI function names are limited to 64 characters; Claude Code's MCP tools can be longer.
 * Long names become name[:55] + "_" + sha256(name)[:8] and are mapped back in responses.
 */
export class ToolNameMap {
  private readonly toOriginal = new Map<string, string>()

  shorten(name: string): string {
    if (name.length <= MAX_TOOL_NAME) return name
    const short = `${name.slice(0, 55)}_${createHash('sha256').update(name).digest('hex').slice(0, 8)}`
    this.toOriginal.set(short, name)
    return short
  }

  restore(name: string): string {
    return this.toOriginal.get(name) ?? name
  }
}

export function newMessageId(): string {
  return `msg_gw_${randomBytes(12).toString('hex')}`
}

export function newToolId(): string {
  return `toolu_gw_${randomBytes(12).toString('hex')}`
}

/** Anthropic tool ids must match ^[a-zA-Z0-9_-]+$ when sent back to Anthropic. */
export function normalizeToolId(id: string): string {
  const clean = id.replace(/[^a-zA-Z0-9_-]/g, '_')
  return clean || newToolId()
}

/** Thinking budget -> reasoning effort bucket (claude-code-router getThinkLevel). */
export function effortFromThinking(thinking: unknown, outputConfig: unknown): string | undefined {
  const t = obj(thinking)
  if (!t) return undefined
  if (t.type === 'enabled') {
    const budget = n(t.budget_tokens)
    if (budget <= 0) return undefined
    if (budget <= 1024) return 'low'
    if (budget <= 8192) return 'medium'
    return 'high'
  }
  if (t.type === 'adaptive') {
    const effort = obj(outputConfig)?.effort
    return typeof effort === 'string' ? effort : 'medium'
  }
  return undefined
}
