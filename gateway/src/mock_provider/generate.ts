/** Deterministic content generation shared by the Anthropic and OpenAI surfaces. */

export type Rng = () => number

/** mulberry32: tiny, fast, good enough for deterministic mock output. */
export function makeRng(seed: number): Rng {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** FNV-1a over at most `limit` UTF-16 units, so huge prompts cost no more than small ones. */
export function hashString(text: string, limit = 512): number {
  let hash = 0x811c9dc5
  const end = Math.min(text.length, limit)
  for (let i = 0; i < end; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash ^ text.length) >>> 0
}

const WORDS = [
  'the', 'gateway', 'routes', 'each', 'request', 'to', 'a', 'provider', 'and', 'streams', 'tokens', 'back', 'while', 'cost',
  'is', 'recorded', 'for', 'every', 'model', 'call', 'mock', 'answer', 'with', 'deterministic', 'text', 'from', 'seed',
  'cache', 'usage', 'stays', 'stable', 'across', 'runs', 'so', 'tests', 'can', 'compare', 'output', 'exactly', 'today',
]
const PLACES = ['Paris', 'Lisbon', 'Oslo', 'Kyoto', 'Quito', 'Nairobi', 'Perth', 'Tallinn']

export function words(rng: Rng, count: number): string[] {
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(WORDS[Math.floor(rng() * WORDS.length)] as string)
  if (out.length > 0) {
    const first = out[0] as string
    out[0] = first.charAt(0).toUpperCase() + first.slice(1)
    out[out.length - 1] += '.'
  }
  return out
}

/** Splits words into `parts` non-empty text pieces whose concatenation is `words.join(' ')`. */
export function splitWords(list: string[], parts: number): string[] {
  if (list.length === 0) return []
  const n = Math.max(1, Math.min(parts, list.length))
  const pieces: string[] = []
  for (let p = 0; p < n; p++) {
    const from = Math.floor((p * list.length) / n)
    const to = Math.floor(((p + 1) * list.length) / n)
    const chunk = list.slice(from, to).join(' ')
    pieces.push(p === 0 ? chunk : ` ${chunk}`)
  }
  return pieces
}

/** Splits a string into `parts` non-empty pieces (fewer when it is shorter). */
export function splitString(text: string, parts: number): string[] {
  const n = Math.max(1, Math.min(parts, text.length))
  const pieces: string[] = []
  for (let p = 0; p < n; p++) pieces.push(text.slice(Math.floor((p * text.length) / n), Math.floor(((p + 1) * text.length) / n)))
  return pieces
}

export function idSuffix(counter: number, rng: Rng, length = 20): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  let out = counter.toString(36).padStart(6, '0')
  while (out.length < length) out += alphabet[Math.floor(rng() * alphabet.length)]
  return out
}

type JsonSchema = {type?: unknown; properties?: unknown; required?: unknown; items?: unknown; enum?: unknown}

/** A plausible value for a JSON schema: required properties only (all when none are required), one array item. */
export function sampleFromSchema(schema: unknown, rng: Rng, depth = 0): unknown {
  if (typeof schema !== 'object' || schema === null || depth > 4) return 'mock'
  const s = schema as JsonSchema
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0]
  const type = Array.isArray(s.type) ? s.type[0] : s.type
  switch (type) {
    case 'string': return PLACES[Math.floor(rng() * PLACES.length)]
    case 'integer':
    case 'number': return 1 + Math.floor(rng() * 100)
    case 'boolean': return true
    case 'null': return null
    case 'array': return [sampleFromSchema(s.items, rng, depth + 1)]
    case 'object':
    case undefined: {
      if (typeof s.properties !== 'object' || s.properties === null) return {}
      const props = s.properties as Record<string, unknown>
      const required = Array.isArray(s.required) ? s.required.filter((k): k is string => typeof k === 'string' && k in props) : []
      const keys = required.length > 0 ? required : Object.keys(props)
      const out: Record<string, unknown> = {}
      for (const key of keys) out[key] = sampleFromSchema(props[key], rng, depth + 1)
      return out
    }
    default: return 'mock'
  }
}

/** Rough token estimate: 4 bytes per token, at least 1 for a non-empty input. */
export function estimateTokens(byteLength: number): number {
  return byteLength <= 0 ? 0 : Math.max(1, Math.ceil(byteLength / 4))
}

export function mentionsTool(text: string): boolean {
  return /\btool/i.test(text)
}

/** OpenAI-style automatic prefix caching: only prompts >= 1024 tokens, in 128-token steps; half the prompt is "cached". */
export function openAiCachedTokens(promptTokens: number): number {
  return promptTokens >= 1024 ? Math.floor(promptTokens / 2 / 128) * 128 : 0
}
