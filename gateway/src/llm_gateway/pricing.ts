/**
 * Versioned price table for per-request cost tracking.
 *
 * Source of truth: shared/reference/wire-format.md section 4 (compiled 2026-11-26).
 * Rates are absolute per model (never multipliers of the input price: newer models
 * break the 1.25x / 2x / 0.1x rule) and are held internally as integer picodollars
 * per token (USD per million tokens x 1e6), so cost arithmetic is exact integers.
 *
 * Matching is deterministic: the longest id prefix that matches the model name at a
 * boundary (end of name, '-', '@', ':' or '[') wins; `claude-opus-4-1` matches
 * `claude-opus-4-1-20250805` but not `claude-opus-4-10`. A continuation that is itself a
 * minor version (`-<1-2 digits>` then the end or a boundary) is another model, not a
 * variant: `claude-sonnet-5` matches `claude-sonnet-5-20261001` and `claude-sonnet-5@20261001`
 * but not `claude-sonnet-5-6`. Unknown models stay unknown (the caller records them as
 * "unpriced") instead of borrowing a family price.
 *
 * Current models that are NOT in the table, because the reference gives no complete rate card
 * for them (input, output, cache read, both cache writes), are listed in KNOWN_UNPRICED with
 * what the reference does give; they are recorded as "unpriced" until an operator adds a
 * `costTracking.pricingOverrides` entry (or the table gains the rates).
 */

/** Published rates in USD per million tokens. */
export interface RatesUsdPerMTok {
  input: number
  output: number
  cacheWrite5m: number
  cacheWrite1h: number
  cacheRead: number
}

/** The same rates in integer picodollars per token (USD/MTok x 1e6). */
export interface RatesPico {
  input: number
  output: number
  cacheWrite5m: number
  cacheWrite1h: number
  cacheRead: number
}

export interface PriceVersion {
  /** ISO-8601 instant from which this version applies (inclusive). The first version of a model applies since the model existed. */
  effectiveFrom: string
  /** Standard rates; for models with `offPeak` these are the peak rates. */
  rates: RatesUsdPerMTok
  /** Long-context tier: when input + cache writes + cache reads exceed `aboveInputTokens`, the whole request bills at `rates`. */
  longContext?: {aboveInputTokens: number; rates: RatesUsdPerMTok}
  /** DeepSeek-style off-peak rates; peak hours follow `peakSchedule`. */
  offPeak?: RatesUsdPerMTok
  peakSchedule?: 'deepseek'
  source: string
}

export interface PricedModel {
  /** Canonical id, used in `pricing` labels (e.g. "claude-sonnet-4-6"). */
  id: string
  /** Model-name prefixes that select this entry. */
  match: string[]
  /** Sorted by effectiveFrom ascending. */
  versions: PriceVersion[]
}

/** Identifies this table in audit rows (`pricing` column carries model id and version date). */
export const PRICING_TABLE_VERSION = '2026-12-08'

const SINCE_MODEL_EXISTED = '1970-01-01T00:00:00.000Z'

function claude(input: number, w5: number, w1: number, read: number, output: number): RatesUsdPerMTok {
  return {input, output, cacheWrite5m: w5, cacheWrite1h: w1, cacheRead: read}
}

/** DeepSeek bills cache misses at the input rate and has no cache-write surcharge. */
function deepseek(hit: number, miss: number, output: number): RatesUsdPerMTok {
  return {input: miss, output, cacheWrite5m: miss, cacheWrite1h: miss, cacheRead: hit}
}

const CLAUDE_PAGE = 'wire-format.md 4.1 (Anthropic pricing page, Nov 2026)'
/**
 * Sonnet 5 / 5.5 list rates: $2 input / $10 output, cache read $0.20, cache writes $2.50 (5 min) and $4 (1 h)
 * per MTok (issue #20 item 1, from the Sonnet 5 / 5.5 model pages; wire-format.md 7 lists the sonnet-5 model page
 * as a source, and 4.1's note implies the $2 input: Sonnet 5.5's cut read of $0.10 is 0.05x input).
 */
const SONNET_5_PAGE = 'issue #20 item 1 (Sonnet 5 / 5.5 model pages: $2/$10, read $0.20, writes $2.50/$4) + wire-format.md 4.1 note'
/** wire-format.md 4.1: "Sonnet 5.5 cache reads were cut to $0.10 (0.05x) on 2026-10-07" [P: model pages; S: pricing-tracker release notes]. */
const SONNET_5_5_READ_CUT = '2026-10-07T00:00:00.000Z'
const SONNET_LONG_CONTEXT = {aboveInputTokens: 200_000, rates: claude(6, 7.5, 12, 0.6, 22.5)}
const DEEPSEEK_SWITCH = '2026-08-16T16:00:00.000Z'

export const BUILTIN_PRICES: readonly PricedModel[] = [
  // Current models (Anthropic SDK 1.14 Model list) with a complete rate card in the reference.
  {id: 'claude-sonnet-5', match: ['claude-sonnet-5'], versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(2, 2.5, 4, 0.2, 10), source: SONNET_5_PAGE}]},
  {
    id: 'claude-sonnet-5-5',
    match: ['claude-sonnet-5-5'],
    versions: [
      {effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(2, 2.5, 4, 0.2, 10), source: SONNET_5_PAGE},
      {effectiveFrom: SONNET_5_5_READ_CUT, rates: claude(2, 2.5, 4, 0.1, 10), source: 'wire-format.md 4.1 note (Sonnet 5.5 cache read cut to $0.10 on 2026-10-07); other rates as before'},
    ],
  },
  // Claude 4.x (wire-format.md 4.1 table; Opus 4.6-4.8, Sonnet 4.5/4.6, Haiku 4.5 are still in SDK 1.14's Model list).
  {id: 'claude-opus-4-8', match: ['claude-opus-4-8'], versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(5, 6.25, 10, 0.5, 25), source: CLAUDE_PAGE}]},
  {id: 'claude-opus-4-7', match: ['claude-opus-4-7'], versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(5, 6.25, 10, 0.5, 25), source: CLAUDE_PAGE}]},
  {id: 'claude-opus-4-6', match: ['claude-opus-4-6'], versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(5, 6.25, 10, 0.5, 25), source: CLAUDE_PAGE}]},
  {id: 'claude-opus-4-5', match: ['claude-opus-4-5'], versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(5, 6.25, 10, 0.5, 25), source: CLAUDE_PAGE}]},
  {id: 'claude-opus-4-1', match: ['claude-opus-4-1'], versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(15, 18.75, 30, 1.5, 75), source: CLAUDE_PAGE}]},
  {id: 'claude-opus-4-0', match: ['claude-opus-4-0', 'claude-opus-4-20250514'], versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(15, 18.75, 30, 1.5, 75), source: CLAUDE_PAGE}]},
  {id: 'claude-sonnet-4-6', match: ['claude-sonnet-4-6'], versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(3, 3.75, 6, 0.3, 15), source: CLAUDE_PAGE}]},
  {
    id: 'claude-sonnet-4-5',
    match: ['claude-sonnet-4-5'],
    versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(3, 3.75, 6, 0.3, 15), longContext: SONNET_LONG_CONTEXT, source: CLAUDE_PAGE}],
  },
  {
    id: 'claude-sonnet-4-0',
    match: ['claude-sonnet-4-0', 'claude-sonnet-4-20250514'],
    versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(3, 3.75, 6, 0.3, 15), longContext: SONNET_LONG_CONTEXT, source: CLAUDE_PAGE}],
  },
  {id: 'claude-haiku-4-5', match: ['claude-haiku-4-5'], versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(1, 1.25, 2, 0.1, 5), source: CLAUDE_PAGE}]},
  {id: 'claude-3-5-haiku', match: ['claude-3-5-haiku'], versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(0.8, 1, 1.6, 0.08, 4), source: CLAUDE_PAGE}]},
  {id: 'claude-3-haiku', match: ['claude-3-haiku'], versions: [{effectiveFrom: SINCE_MODEL_EXISTED, rates: claude(0.25, 0.3, 0.5, 0.03, 1.25), source: CLAUDE_PAGE}]},
  {
    id: 'deepseek-flash',
    match: ['deepseek-flash', 'deepseek-v4-flash'],
    versions: [
      {effectiveFrom: SINCE_MODEL_EXISTED, rates: deepseek(0.0028, 0.14, 0.28), source: 'wire-format.md 4.2 (flat V4-Flash price until 2026-08-16)'},
      {
        effectiveFrom: DEEPSEEK_SWITCH,
        rates: deepseek(0.006, 0.3, 1.2),
        offPeak: deepseek(0.003, 0.15, 0.6),
        peakSchedule: 'deepseek',
        source: 'wire-format.md 4.2 (DeepSeek pricing page, Oct-Nov 2026)',
      },
    ],
  },
  {
    id: 'deepseek-v4-pro',
    match: ['deepseek-v4-pro'],
    versions: [
      {effectiveFrom: SINCE_MODEL_EXISTED, rates: deepseek(0.003625, 0.435, 0.87), source: 'wire-format.md 4.2 (flat V4-Pro price until 2026-08-16)'},
      {
        effectiveFrom: DEEPSEEK_SWITCH,
        rates: deepseek(0.044, 1.32, 3.96),
        offPeak: deepseek(0.022, 0.66, 1.98),
        peakSchedule: 'deepseek',
        source: 'wire-format.md 4.2 (DeepSeek pricing page, Oct-Nov 2026)',
      },
    ],
  },
  {
    id: 'deepseek-chat',
    match: ['deepseek-chat'],
    versions: [
      {effectiveFrom: SINCE_MODEL_EXISTED, rates: deepseek(0.07, 0.27, 1.1), source: 'wire-format.md 4.2 (V3 era)'},
      {effectiveFrom: '2025-09-29T00:00:00.000Z', rates: deepseek(0.028, 0.28, 0.42), source: 'wire-format.md 4.2 (V3.2 era, until retirement 2026-07-24)'},
    ],
  },
  {
    id: 'deepseek-reasoner',
    match: ['deepseek-reasoner'],
    versions: [
      {effectiveFrom: SINCE_MODEL_EXISTED, rates: deepseek(0.14, 0.55, 2.19), source: 'wire-format.md 4.2 (R1 era)'},
      {effectiveFrom: '2025-09-29T00:00:00.000Z', rates: deepseek(0.028, 0.28, 0.42), source: 'wire-format.md 4.2 (V3.2 era, until retirement 2026-07-24)'},
    ],
  },
]

/**
 * Current Claude models (SDK 1.14's Model list) the reference gives no complete rate card for: not
 * priced (a guessed cache-write or input rate would be a wrong cost that looks right). What the
 * reference does say is kept here so operators and the cost check can point at it.
 */
export const KNOWN_UNPRICED: ReadonlyArray<{match: string; known: string}> = [
  {match: 'claude-opus-5-5', known: 'input $4, output $20, cache read $0.20 (0.05x) per MTok; cache-write rates not in the reference (wire-format.md 4.1 note)'},
  {match: 'claude-opus-5', known: 'no rates in the reference'},
  {match: 'claude-fable-5-1', known: 'cache read is 0.025x input; no absolute rates in the reference (wire-format.md 4.1 note)'},
  {match: 'claude-fable-5-2', known: 'no rates in the reference'},
  {match: 'claude-fable-5', known: 'no rates in the reference'},
  {match: 'claude-haiku-5-5', known: 'prompt-length tiers; no rates in the reference (wire-format.md 4.1 note)'},
  {match: 'claude-mythos-5-2', known: 'no rates in the reference'},
  {match: 'claude-mythos-5-1', known: 'no rates in the reference'},
  {match: 'claude-mythos-5', known: 'no rates in the reference'},
  {match: 'claude-mythos-preview', known: 'no rates in the reference (retired 2026-06-30 per SDK 1.14)'},
]

/** What the reference says about a current model the table does not price, or null. */
export function knownUnpriced(model: string): string | null {
  const name = model.toLowerCase()
  const hit = [...KNOWN_UNPRICED].sort((a, b) => b.match.length - a.match.length).find((k) => modelIdMatches(name, k.match))
  return hit?.known ?? null
}

/** `costTracking.pricingOverrides[model]` as written in the config (USD per million tokens). */
export interface PriceOverride {
  inputPerMillion: number
  outputPerMillion: number
  cacheWrite5mPerMillion?: number
  cacheWrite1hPerMillion?: number
  /** Used for both cache-write TTLs when the specific ones are absent. */
  cacheWritePerMillion?: number
  cacheReadPerMillion?: number
}

/** `providers.<name>.pricing` for Azure deployments (USD per million tokens). */
export interface ProviderPricing {
  inputPerMillion: number
  outputPerMillion: number
  cacheReadPerMillion?: number
}

export class PricingConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PricingConfigError'
  }
}

/** A resolved price for one request. */
export interface PriceSelection {
  /** Label stored with the cost: `<model id>@<effective date>`, `override:<key>` or `provider:<name>`. */
  label: string
  tier: 'standard' | 'long_context' | 'peak' | 'off_peak'
  rates: RatesPico
}

export function toPico(rates: RatesUsdPerMTok): RatesPico {
  const conv = (usd: number): number => Math.round(usd * 1e6)
  return {
    input: conv(rates.input),
    output: conv(rates.output),
    cacheWrite5m: conv(rates.cacheWrite5m),
    cacheWrite1h: conv(rates.cacheWrite1h),
    cacheRead: conv(rates.cacheRead),
  }
}

const BOUNDARY_CHARS = new Set(['-', '@', ':', '['])

/** `-5`, `-10`: a minor version right after the prefix (then the end or a boundary), i.e. another model. */
const MINOR_VERSION_CONTINUATION = /^-\d{1,2}(?:$|[-@:[])/

/** True when `model` equals `prefix` or continues it after a boundary character (override keys: `claude-sonnet-4` covers every 4.x). */
export function prefixMatches(model: string, prefix: string): boolean {
  if (!model.startsWith(prefix)) return false
  if (model.length === prefix.length) return true
  return BOUNDARY_CHARS.has(model[prefix.length] as string)
}

/**
 * Built-in table ids: `prefixMatches`, unless the continuation is a minor version (`claude-sonnet-5`
 * does not match `claude-sonnet-5-6`, another model; dated variants like `-20261001` and `@20261001` do).
 */
export function modelIdMatches(model: string, id: string): boolean {
  return prefixMatches(model, id) && !MINOR_VERSION_CONTINUATION.test(model.slice(id.length))
}

/**
 * DeepSeek peak hours: 01:00-04:00 and 06:00-10:00 UTC, Monday to Friday (Beijing 09:00-12:00, 14:00-18:00).
 * Chinese public holidays are off-peak too, but the reference gives no holiday list, so a weekday
 * holiday is priced at peak (overstated 2x, never understated).
 */
export function isDeepSeekPeak(epochMs: number): boolean {
  const d = new Date(epochMs)
  const day = d.getUTCDay()
  if (day === 0 || day === 6) return false
  const minute = d.getUTCHours() * 60 + d.getUTCMinutes()
  return (minute >= 60 && minute < 240) || (minute >= 360 && minute < 600)
}

function checkRate(where: string, field: string, value: unknown, required: boolean): number | undefined {
  if (value === undefined || value === null) {
    if (required) throw new PricingConfigError(`${where}.${field} is missing: give the price in USD per million tokens (e.g. 3 for $3/MTok)`)
    return undefined
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new PricingConfigError(`${where}.${field} must be a non-negative number of USD per million tokens, got ${JSON.stringify(value)}`)
  }
  return value
}

/** Validates an override and fills absent cache rates: writes default to the input rate (no surcharge assumed), reads to the input rate. */
export function overrideRates(where: string, o: unknown): RatesUsdPerMTok {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new PricingConfigError(`${where} must be an object like {"inputPerMillion": 3, "outputPerMillion": 15}`)
  }
  const r = o as Record<string, unknown>
  const input = checkRate(where, 'inputPerMillion', r.inputPerMillion, true) as number
  const output = checkRate(where, 'outputPerMillion', r.outputPerMillion, true) as number
  const write = checkRate(where, 'cacheWritePerMillion', r.cacheWritePerMillion, false)
  const w5 = checkRate(where, 'cacheWrite5mPerMillion', r.cacheWrite5mPerMillion, false) ?? write ?? input
  const w1 = checkRate(where, 'cacheWrite1hPerMillion', r.cacheWrite1hPerMillion, false) ?? write ?? w5
  const read = checkRate(where, 'cacheReadPerMillion', r.cacheReadPerMillion, false) ?? input
  return {input, output, cacheWrite5m: w5, cacheWrite1h: w1, cacheRead: read}
}

/** Azure deployment pricing: no cache-write surcharge; cached input at `cacheReadPerMillion` (default: input rate). */
export function providerRates(where: string, p: unknown): RatesUsdPerMTok {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    throw new PricingConfigError(`${where} must be an object like {"inputPerMillion": 1.1, "outputPerMillion": 4.4}`)
  }
  const r = p as Record<string, unknown>
  const input = checkRate(where, 'inputPerMillion', r.inputPerMillion, true) as number
  const output = checkRate(where, 'outputPerMillion', r.outputPerMillion, true) as number
  const read = checkRate(where, 'cacheReadPerMillion', r.cacheReadPerMillion, false) ?? input
  return {input, output, cacheWrite5m: input, cacheWrite1h: input, cacheRead: read}
}

interface CompiledVersion {
  from: number
  version: PriceVersion
  rates: RatesPico
  long?: {above: number; rates: RatesPico}
  offPeak?: RatesPico
}

interface CompiledModel {
  id: string
  versions: CompiledVersion[]
}

export interface PricingTableOptions {
  overrides?: Record<string, unknown>
  /** Provider name -> its `pricing` block (only providers that have one). */
  providerPricing?: Record<string, unknown>
  /** Replaces the built-in table (tests). */
  table?: readonly PricedModel[]
}

export class PricingTable {
  private readonly prefixes: Array<{prefix: string; model: CompiledModel}> = []
  private readonly overrides: Array<{key: string; rates: RatesPico}> = []
  private readonly providers = new Map<string, RatesPico>()

  constructor(opts: PricingTableOptions = {}) {
    const seen = new Map<string, string>()
    for (const m of opts.table ?? BUILTIN_PRICES) {
      if (m.versions.length === 0) throw new PricingConfigError(`price table entry ${m.id} has no versions`)
      const versions = [...m.versions]
        .map((v): CompiledVersion => {
          const from = Date.parse(v.effectiveFrom)
          if (Number.isNaN(from)) throw new PricingConfigError(`price table entry ${m.id}: bad effectiveFrom ${v.effectiveFrom}`)
          return {
            from,
            version: v,
            rates: toPico(v.rates),
            long: v.longContext ? {above: v.longContext.aboveInputTokens, rates: toPico(v.longContext.rates)} : undefined,
            offPeak: v.offPeak ? toPico(v.offPeak) : undefined,
          }
        })
        .sort((a, b) => a.from - b.from)
      const compiled: CompiledModel = {id: m.id, versions}
      for (const raw of m.match) {
        const prefix = raw.toLowerCase()
        const other = seen.get(prefix)
        if (other) throw new PricingConfigError(`price table prefix "${prefix}" is claimed by both ${other} and ${m.id}`)
        seen.set(prefix, m.id)
        this.prefixes.push({prefix, model: compiled})
      }
    }
    // Longest prefix first; ties cannot happen (prefixes are unique).
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length)

    for (const [key, value] of Object.entries(opts.overrides ?? {})) {
      const where = `costTracking.pricingOverrides["${key}"]`
      if (key.trim() === '') throw new PricingConfigError(`${where}: the model name must not be empty`)
      this.overrides.push({key: key.toLowerCase(), rates: toPico(overrideRates(where, value))})
    }
    this.overrides.sort((a, b) => b.key.length - a.key.length || (a.key < b.key ? -1 : 1))

    for (const [name, value] of Object.entries(opts.providerPricing ?? {})) {
      this.providers.set(name, toPico(providerRates(`providers.${name}.pricing`, value)))
    }
  }

  /** Provider-level pricing (Azure deployments), if configured. */
  forProvider(provider: string | null): PriceSelection | null {
    if (provider === null) return null
    const rates = this.providers.get(provider)
    return rates ? {label: `provider:${provider}`, tier: 'standard', rates} : null
  }

  /**
   * Price for `model` at `atMs` (request start) given the prompt size (for the long-context tier).
   * Overrides win over the built-in table; null when nothing matches (unpriced).
   */
  forModel(model: string | null, atMs: number, promptTokens: number): PriceSelection | null {
    if (!model) return null
    const name = model.toLowerCase()
    for (const o of this.overrides) {
      if (prefixMatches(name, o.key)) return {label: `override:${o.key}`, tier: 'standard', rates: o.rates}
    }
    const hit = this.prefixes.find((p) => modelIdMatches(name, p.prefix))
    if (!hit) return null
    let chosen: CompiledVersion | undefined
    for (const v of hit.model.versions) if (v.from <= atMs) chosen = v
    if (!chosen) return null
    const label = `${hit.model.id}@${chosen.version.effectiveFrom.slice(0, 10)}`
    if (chosen.long && promptTokens > chosen.long.above) return {label, tier: 'long_context', rates: chosen.long.rates}
    if (chosen.offPeak && chosen.version.peakSchedule === 'deepseek') {
      return isDeepSeekPeak(atMs) ? {label, tier: 'peak', rates: chosen.rates} : {label, tier: 'off_peak', rates: chosen.offPeak}
    }
    return {label, tier: 'standard', rates: chosen.rates}
  }
}
