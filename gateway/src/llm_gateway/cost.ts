/**
 * Per-request cost in integer micro-dollars (wire-format.md 4.3).
 *
 * Arithmetic is exact: rates are integer picodollars per token, the sum is a BigInt,
 * and only the final result is rounded (half up) to whole micro-dollars, so no float
 * drift and no per-request truncation bias.
 */
import type {RequestRecord, Usage} from './record.js'
import type {PriceSelection, PricingTable} from './pricing.js'

/**
 * - priced: usage reported and a price matched.
 * - estimated: the response carried no usage (e.g. a cut stream); tokens were estimated.
 * - free: local model (Ollama), cost 0 by definition.
 * - unpriced: no price for this model; cost unknown (null), never silently 0.
 * - not_billed: an error response with no usage (nothing was generated upstream), or a request that
 *   is not a completion (count_tokens, models): cost 0.
 * - disabled: costTracking.enabled is false.
 */
export type CostStatus = 'priced' | 'estimated' | 'free' | 'unpriced' | 'not_billed' | 'disabled'

export interface CostResult {
  /** Integer micro-dollars, or null when unknown (unpriced / disabled). */
  micros: number | null
  status: CostStatus
  /** Which price applied: `<model>@<date>`, `override:<key>`, `provider:<name>`, `ollama`; null if none. */
  pricing: string | null
  tier: PriceSelection['tier'] | null
  /** The usage the cost is based on (the estimate when status is "estimated"). */
  usage: Usage
  usageEstimated: boolean
}

/** The RequestRecord fields cost depends on (the request path can call this before the record is complete). */
export type CostInput = Pick<RequestRecord, 'provider' | 'provider_type' | 'model_served' | 'model_requested' | 'usage' | 'usage_missing' | 'received_at' | 'status'> &
  Partial<Pick<RequestRecord, 'request_body' | 'response_body' | 'path'>>

/** Only completions are billed; count_tokens and model listings are free (no path given: assumed a completion). */
export function isBillablePath(path: string | undefined): boolean {
  return path === undefined || path === '/v1/messages'
}

export const ZERO_USAGE: Readonly<Usage> = Object.freeze({input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0})

/** Prompt tokens as Anthropic bills them: uncached input + cache writes + cache reads. */
export function promptTokens(u: Usage): number {
  return u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens
}

/** Splits cache writes into 5-minute and 1-hour parts without double counting the total. */
export function cacheWriteSplit(u: Usage): {w5m: number; w1h: number} {
  const total = u.cache_creation_input_tokens
  if (u.cache_creation_5m_input_tokens === undefined && u.cache_creation_1h_input_tokens === undefined) return {w5m: total, w1h: 0}
  const w1h = u.cache_creation_1h_input_tokens ?? 0
  const w5m = u.cache_creation_5m_input_tokens ?? Math.max(0, total - w1h)
  return {w5m, w1h}
}

/** Exact cost of `u` at `rates`, rounded half up to whole micro-dollars. */
export function priceUsage(u: Usage, sel: PriceSelection): number {
  const {w5m, w1h} = cacheWriteSplit(u)
  const r = sel.rates
  const big = (n: number): bigint => BigInt(Math.max(0, Math.trunc(n)))
  const pico =
    big(u.input_tokens) * BigInt(r.input) +
    big(w5m) * BigInt(r.cacheWrite5m) +
    big(w1h) * BigInt(r.cacheWrite1h) +
    big(u.cache_read_input_tokens) * BigInt(r.cacheRead) +
    big(u.output_tokens) * BigInt(r.output)
  return Number((pico + 500_000n) / 1_000_000n)
}

/** Micro-dollars as a USD decimal string with 6 places ("0.011991"), for headers and JSON. */
export function formatMicros(micros: number): string {
  const neg = micros < 0
  const abs = Math.abs(Math.trunc(micros))
  const whole = Math.floor(abs / 1_000_000)
  const frac = String(abs % 1_000_000).padStart(6, '0')
  return `${neg ? '-' : ''}${whole}.${frac}`
}

export function microsToUsd(micros: number): number {
  return micros / 1_000_000
}

// ---------------------------------------------------------------------------------------------
// Usage estimation for responses that carried none (wire-format.md 4.3: "record usage_missing and
// estimate (count streamed text) rather than silently billing 0"). Rough rule: 4 characters per token.

const CHARS_PER_TOKEN = 4

function tokensForChars(chars: number): number {
  return chars > 0 ? Math.ceil(chars / CHARS_PER_TOKEN) : 0
}

/** Characters of generated content in an Anthropic Message JSON (text, thinking, tool input). */
export function generatedChars(responseBody: string): number {
  let parsed: unknown
  try {
    parsed = JSON.parse(responseBody)
  } catch {
    return responseBody.length
  }
  const content = (parsed as {content?: unknown}).content
  if (!Array.isArray(content)) return 0
  let chars = 0
  for (const block of content as Array<Record<string, unknown>>) {
    if (typeof block !== 'object' || block === null) continue
    if (typeof block.text === 'string') chars += block.text.length
    if (typeof block.thinking === 'string') chars += block.thinking.length
    if (block.input !== undefined) chars += JSON.stringify(block.input).length
  }
  return chars
}

/**
 * Best available usage when the response had none: partial usage as reported (an Anthropic stream cut
 * after message_start still has input counts), output raised to the streamed text's estimate, input
 * estimated from the request body size when nothing was reported.
 */
export function estimateUsage(input: CostInput): Usage {
  const base: Usage = input.usage ? {...input.usage} : {...ZERO_USAGE}
  if (input.response_body !== undefined) {
    base.output_tokens = Math.max(base.output_tokens, tokensForChars(generatedChars(input.response_body)))
  }
  if (input.usage === null && input.request_body !== undefined) {
    base.input_tokens = tokensForChars(input.request_body.length)
  }
  return base
}

export interface CostOptions {
  enabled: boolean
}

/** Cost of one request. Synchronous and cheap: the request path may call it to set `x-gateway-cost-usd`. */
export function computeCost(input: CostInput, table: PricingTable, opts: CostOptions = {enabled: true}): CostResult {
  const reported = input.usage
  const estimated = input.usage_missing || reported === null
  const notBilled = (reported === null && (input.status < 200 || input.status >= 300)) || !isBillablePath(input.path)
  const usage = notBilled ? {...ZERO_USAGE} : estimated ? estimateUsage(input) : {...reported}
  const usageEstimated = estimated && !notBilled
  const result = (micros: number | null, status: CostStatus, sel: PriceSelection | null, pricing?: string): CostResult => ({
    micros,
    status,
    pricing: pricing ?? sel?.label ?? null,
    tier: sel?.tier ?? null,
    usage,
    usageEstimated,
  })

  if (!opts.enabled) return result(null, 'disabled', null)
  if (input.provider_type === 'ollama') return result(0, 'free', null, 'ollama')
  if (notBilled) return result(0, 'not_billed', null)

  const model = input.model_served ?? input.model_requested
  const sel = table.forProvider(input.provider) ?? table.forModel(model, input.received_at, promptTokens(usage))
  if (!sel) return result(null, 'unpriced', null)
  return result(priceUsage(usage, sel), usageEstimated ? 'estimated' : 'priced', sel)
}

// ---------------------------------------------------------------------------------------------
// Usage parsing helpers (wire-format.md 1.4, 1.5, 3.6) for callers that hold raw upstream usage.

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}

/** Anthropic `usage` object (non-stream body, or message_start) -> Usage; null when absent. */
export function usageFromAnthropic(raw: unknown): Usage | null {
  const u = obj(raw)
  if (!u) return null
  const split = obj(u.cache_creation)
  const usage: Usage = {
    input_tokens: num(u.input_tokens) ?? 0,
    output_tokens: num(u.output_tokens) ?? 0,
    cache_creation_input_tokens: num(u.cache_creation_input_tokens) ?? 0,
    cache_read_input_tokens: num(u.cache_read_input_tokens) ?? 0,
  }
  const w5 = num(split?.ephemeral_5m_input_tokens)
  const w1 = num(split?.ephemeral_1h_input_tokens)
  if (w5 !== undefined) usage.cache_creation_5m_input_tokens = w5
  if (w1 !== undefined) usage.cache_creation_1h_input_tokens = w1
  return usage
}

/** Streaming: start from message_start.usage and overwrite with every non-null field of message_delta.usage (SDK semantics). */
export function mergeStreamUsage(start: Usage | null, deltaRaw: unknown): Usage | null {
  const d = obj(deltaRaw)
  if (!d) return start
  const out: Usage = start ? {...start} : {...ZERO_USAGE}
  const set = (key: 'input_tokens' | 'output_tokens' | 'cache_creation_input_tokens' | 'cache_read_input_tokens', v: unknown): void => {
    const n = num(v)
    if (n !== undefined) out[key] = n
  }
  set('input_tokens', d.input_tokens)
  set('output_tokens', d.output_tokens)
  set('cache_creation_input_tokens', d.cache_creation_input_tokens)
  set('cache_read_input_tokens', d.cache_read_input_tokens)
  const split = obj(d.cache_creation)
  const w5 = num(split?.ephemeral_5m_input_tokens)
  const w1 = num(split?.ephemeral_1h_input_tokens)
  if (w5 !== undefined) out.cache_creation_5m_input_tokens = w5
  if (w1 !== undefined) out.cache_creation_1h_input_tokens = w1
  return out
}

/**
 * OpenAI Chat / Responses / DeepSeek usage -> Usage. `input_tokens` is the uncached part only
 * (prompt - cached - cache writes, clamped at 0), so the three prompt parts never double count.
 */
export function usageFromOpenAI(raw: unknown): Usage | null {
  const u = obj(raw)
  if (!u) return null
  const output = num(u.completion_tokens) ?? num(u.output_tokens) ?? 0
  const hitDs = num(u.prompt_cache_hit_tokens)
  const missDs = num(u.prompt_cache_miss_tokens)
  if (hitDs !== undefined || missDs !== undefined) {
    const prompt = num(u.prompt_tokens) ?? 0
    const hit = hitDs ?? 0
    return {input_tokens: missDs ?? Math.max(0, prompt - hit), output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: hit}
  }
  const prompt = num(u.prompt_tokens) ?? num(u.input_tokens) ?? 0
  const details = obj(u.prompt_tokens_details) ?? obj(u.input_tokens_details)
  const cached = num(details?.cached_tokens) ?? 0
  const writes = num(details?.cache_write_tokens) ?? 0
  return {
    input_tokens: Math.max(0, prompt - cached - writes),
    output_tokens: output,
    cache_creation_input_tokens: writes,
    cache_read_input_tokens: cached,
  }
}

/** Ollama native response (`prompt_eval_count` / `eval_count`) -> Usage. */
export function usageFromOllama(raw: unknown): Usage | null {
  const u = obj(raw)
  if (!u) return null
  return {input_tokens: num(u.prompt_eval_count) ?? 0, output_tokens: num(u.eval_count) ?? 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0}
}
