/**
 * Rebuilds the final Anthropic `Message` from its stream events (the SDK's accumulation
 * rules) and tracks usage, stop reason and terminal state for the RequestRecord.
 * Fed with parsed event objects: a copy parsed on the side for passthrough streams, the
 * emitted events for translated ones.
 */
import type {Usage} from '../record.js'

type Json = Record<string, unknown>

export interface StreamError {
  type: string
  message: string
}

export class MessageAccumulator {
  private message: Json | null = null
  private readonly content: Json[] = []
  private readonly partialJson = new Map<number, string>()
  private usage: Json | null = null
  stopReason: string | null = null
  stopSequence: string | null = null
  sawStart = false
  sawStop = false
  /** A message_delta carried usage: the totals are final (a cut stream has only message_start's partial usage). */
  sawFinalUsage = false
  error: StreamError | null = null

  /** Parses an SSE data payload and applies it; malformed JSON is ignored (returns false). */
  applyData(data: string): boolean {
    let parsed: unknown
    try {
      parsed = JSON.parse(data)
    } catch {
      return false
    }
    if (typeof parsed !== 'object' || parsed === null) return false
    this.apply(parsed as Json)
    return true
  }

  apply(ev: Json): void {
    switch (ev.type) {
      case 'message_start': {
        const msg = asObject(ev.message)
        this.sawStart = true
        this.message = msg ? {...msg} : {type: 'message', role: 'assistant'}
        const u = asObject(msg?.usage)
        if (u) this.usage = {...u}
        break
      }
      case 'content_block_start': {
        const index = typeof ev.index === 'number' ? ev.index : this.content.length
        const block = asObject(ev.content_block)
        this.content[index] = block ? {...block} : {type: 'text', text: ''}
        break
      }
      case 'content_block_delta': {
        const index = typeof ev.index === 'number' ? ev.index : this.content.length - 1
        const block = this.content[index]
        const delta = asObject(ev.delta)
        if (!block || !delta) break
        switch (delta.type) {
          case 'text_delta':
            block.text = `${typeof block.text === 'string' ? block.text : ''}${String(delta.text ?? '')}`
            break
          case 'input_json_delta':
            this.partialJson.set(index, (this.partialJson.get(index) ?? '') + String(delta.partial_json ?? ''))
            break
          case 'thinking_delta':
            block.thinking = `${typeof block.thinking === 'string' ? block.thinking : ''}${String(delta.thinking ?? '')}`
            break
          case 'signature_delta':
            block.signature = String(delta.signature ?? '')
            break
          case 'citations_delta': {
            const list = Array.isArray(block.citations) ? block.citations : []
            list.push(delta.citation)
            block.citations = list
            break
          }
          default:
            break
        }
        break
      }
      case 'content_block_stop': {
        const index = typeof ev.index === 'number' ? ev.index : this.content.length - 1
        const json = this.partialJson.get(index)
        const block = this.content[index]
        if (json !== undefined && block) {
          try {
            block.input = json === '' ? {} : JSON.parse(json)
          } catch {
            block.input = {}
          }
          this.partialJson.delete(index)
        }
        break
      }
      case 'message_delta': {
        const delta = asObject(ev.delta)
        if (delta) {
          if (typeof delta.stop_reason === 'string') this.stopReason = delta.stop_reason
          if (typeof delta.stop_sequence === 'string') this.stopSequence = delta.stop_sequence
        }
        const u = asObject(ev.usage)
        if (u) {
          this.sawFinalUsage = true
          // Later non-null fields replace earlier ones (cumulative totals), never add.
          this.usage = this.usage ?? {}
          for (const [k, v] of Object.entries(u)) if (v !== null && v !== undefined) this.usage[k] = v
        }
        break
      }
      case 'message_stop':
        this.sawStop = true
        break
      case 'error': {
        const err = asObject(ev.error)
        this.error = {type: typeof err?.type === 'string' ? err.type : 'api_error', message: typeof err?.message === 'string' ? err.message : ''}
        break
      }
      default:
        break
    }
  }

  /** Usage in the RequestRecord shape, or null when the stream carried none. */
  recordUsage(): Usage | null {
    return toRecordUsage(this.usage)
  }

  /** The reassembled final Message JSON (null if no message_start was seen). */
  finalMessageJson(): string | null {
    if (!this.message) return null
    return JSON.stringify({
      ...this.message,
      content: this.content.filter(Boolean),
      stop_reason: this.stopReason,
      stop_sequence: this.stopSequence,
      usage: this.usage ?? this.message.usage ?? null,
    })
  }
}

/** Converts an Anthropic usage object to the RequestRecord Usage. */
export function toRecordUsage(u: Json | null | undefined): Usage | null {
  if (!u) return null
  const cc = asObject(u.cache_creation)
  const usage: Usage = {
    input_tokens: num(u.input_tokens),
    output_tokens: num(u.output_tokens),
    cache_creation_input_tokens: num(u.cache_creation_input_tokens),
    cache_read_input_tokens: num(u.cache_read_input_tokens),
  }
  if (cc) {
    if (typeof cc.ephemeral_5m_input_tokens === 'number') usage.cache_creation_5m_input_tokens = cc.ephemeral_5m_input_tokens
    if (typeof cc.ephemeral_1h_input_tokens === 'number') usage.cache_creation_1h_input_tokens = cc.ephemeral_1h_input_tokens
  }
  return usage
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0
}

export function asObject(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined
}
