/**
 * Token estimate for count_tokens on providers that cannot count (translated ones, Ollama).
 * Counts everything that reaches the model: system, every message block (text, tool_use
 * input, tool_result content, thinking, images), tool definitions and tool_choice. It errs
 * high (about 3.5 characters per token) because undercounting makes Claude Code skip
 * auto-compaction and later hit hard context errors.
 */

type Json = Record<string, unknown>

const CHARS_PER_TOKEN = 3.5
/** Anthropic's documented ceiling for one image (about 1.15 megapixels / 750). */
const IMAGE_TOKENS = 1600
const PER_MESSAGE_OVERHEAD = 4
const PER_TOOL_OVERHEAD = 10

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined
}

function blockChars(block: unknown, images: {count: number}): number {
  if (typeof block === 'string') return block.length
  const b = obj(block)
  if (!b) return 0
  switch (b.type) {
    case 'text':
      return String(b.text ?? '').length
    case 'thinking':
      return String(b.thinking ?? '').length
    case 'redacted_thinking':
      return String(b.data ?? '').length / 4
    case 'tool_use':
    case 'server_tool_use':
      return String(b.name ?? '').length + JSON.stringify(b.input ?? {}).length
    case 'tool_result': {
      const c = b.content
      if (typeof c === 'string') return c.length
      let sum = 0
      if (Array.isArray(c)) for (const inner of c) sum += blockChars(inner, images)
      return sum
    }
    case 'image':
      images.count++
      return 0
    case 'document': {
      const src = obj(b.source)
      if (src?.type === 'text') return String(src.data ?? '').length
      if (src?.type === 'base64') return String(src.data ?? '').length / 2 // PDFs: rough, errs high
      return JSON.stringify(b).length
    }
    default:
      return JSON.stringify(b).length
  }
}

/** Estimated input tokens of a Messages / count_tokens body; 0 only when it has no content at all. */
export function estimateInputTokens(body: Json): number {
  let chars = 0
  let overhead = 0
  const images = {count: 0}
  const system = body.system
  if (typeof system === 'string') chars += system.length
  else if (Array.isArray(system)) for (const b of system) chars += blockChars(b, images)
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      const msg = obj(m)
      if (!msg) continue
      overhead += PER_MESSAGE_OVERHEAD
      const c = msg.content
      if (typeof c === 'string') chars += c.length
      else if (Array.isArray(c)) for (const b of c) chars += blockChars(b, images)
    }
  }
  if (Array.isArray(body.tools)) {
    for (const t of body.tools) {
      overhead += PER_TOOL_OVERHEAD
      chars += JSON.stringify(t).length
    }
  }
  if (body.tool_choice !== undefined) chars += JSON.stringify(body.tool_choice).length
  if (chars === 0 && images.count === 0) return 0
  return Math.ceil(chars / CHARS_PER_TOKEN) + images.count * IMAGE_TOKENS + overhead
}
