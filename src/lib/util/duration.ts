/**
 * The one duration grammar of cutover: playbooks, target files, check params and command-line flags
 * all read durations here, so what `playbook lint` accepts is exactly what `gonogo` measures.
 *
 *   duration := [sign] part+        part := number unit        number := digits [ "." digits ]
 *   unit     := ms | s | m | h | d (24 h) | w (7 d), each at most once, largest first ("1h30m")
 *
 * A sign is allowed only where an offset is meant ("-48h" = 48 hours before). A bare number is read as
 * seconds only for command-line flags (`--wait 30`). formatDuration() writes the canonical spelling,
 * which is also valid PromQL, so it can be substituted into a range selector.
 */
import {ConfigError} from '../errors.js'

const UNIT_MS = {w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1} as const
type Unit = keyof typeof UNIT_MS
const UNIT_NAMES: Record<Unit, string> = {w: 'week', d: 'day', h: 'hour', m: 'minute', s: 'second', ms: 'millisecond'}
// Largest unit first: formatDuration emits the shortest spelling.
const FORMAT_UNITS = Object.entries(UNIT_MS) as Array<[Unit, number]>
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y
const BARE_NUMBER = /^\d+(?:\.\d+)?$/
const EXAMPLES = 'e.g. 250ms, 30s, 15m, 1h30m, 2d'

/** A duration that does not follow the grammar. A ConfigError: exit 2, with the expected form. */
export class DurationError extends ConfigError {
  constructor(message: string) {
    super(message, [`Write a number and a unit (ms, s, m, h, d or w), ${EXAMPLES}.`], 'DURATION_INVALID')
    this.name = 'DurationError'
  }
}

export interface DurationOptions {
  /** allow a leading + or - (offsets) */
  signed?: boolean
  /** read a bare number as seconds (command-line flags) */
  bareSeconds?: boolean
  /** refuse zero (measurement windows, intervals) */
  positive?: boolean
}

export type DurationCheck = {ok: true; ms: number} | {ok: false; reason: string}

/** Parse without throwing: the reason says what is wrong in words an operator can act on. */
export function checkDuration(input: unknown, opts: DurationOptions = {}): DurationCheck {
  if (typeof input !== 'string') return {ok: false, reason: `a duration must be a string such as "15m" or "4d", got ${typeof input}`}
  let text = input.trim()
  if (text.length === 0) return {ok: false, reason: `the duration is empty; write one, ${EXAMPLES}`}
  let sign = 1
  if (text[0] === '+' || text[0] === '-') {
    if (!opts.signed) {
      return {ok: false, reason: text[0] === '-' ? `negative duration "${input}" (durations must be zero or more)` : `"${input}": a duration takes no sign`}
    }
    sign = text[0] === '-' ? -1 : 1
    text = text.slice(1)
  }
  let total: number
  if (opts.bareSeconds && BARE_NUMBER.test(text)) total = Number(text) * 1000
  else {
    const parsed = parseParts(input, text)
    if (!parsed.ok) return parsed
    total = parsed.ms
  }
  const ms = Math.round(total)
  if (!Number.isSafeInteger(ms)) return {ok: false, reason: `duration "${input}" is too large`}
  if (opts.positive && ms <= 0) return {ok: false, reason: `duration "${input}" must be longer than 0`}
  return {ok: true, ms: sign * ms || 0}
}

function parseParts(input: string, text: string): DurationCheck {
  let total = 0
  let pos = 0
  let previousUnitMs = Number.POSITIVE_INFINITY
  while (pos < text.length) {
    PART.lastIndex = pos
    const match = PART.exec(text)
    if (!match) {
      const hint = BARE_NUMBER.test(text) ? ` (add a unit, e.g. "${text}s")` : ''
      return {ok: false, reason: `"${input}" is not a duration at "${text.slice(pos)}"${hint}: expected a number and a unit (ms, s, m, h, d or w), ${EXAMPLES}`}
    }
    const unitMs = UNIT_MS[match[2] as Unit]
    // '30m1h' is almost certainly a typo; PromQL refuses it too.
    if (unitMs >= previousUnitMs) return {ok: false, reason: `"${input}" is not a duration: units go from largest to smallest, each at most once (e.g. "1h30m")`}
    previousUnitMs = unitMs
    total += Number(match[1]) * unitMs
    pos = PART.lastIndex
  }
  return {ok: true, ms: total}
}

/** Milliseconds of a duration; throws DurationError naming `what` (the key or flag) and the expected form. */
export function parseDuration(text: string, opts: DurationOptions & {what?: string} = {}): number {
  const checked = checkDuration(text, opts)
  if (!checked.ok) throw new DurationError(opts.what ? `${opts.what}: ${checked.reason}` : checked.reason)
  return checked.ms
}

/** A command-line flag's duration: a bare number is seconds (`--wait 30`). */
export function parseFlagDuration(text: string, flag: string): number {
  return parseDuration(text, {bareSeconds: true, what: flag})
}

/** Milliseconds of a duration the playbook loader already validated (signed: offsets are negative). */
export function durationMs(text: string): number {
  return parseDuration(text, {signed: true})
}

/** The canonical spelling of a whole number of milliseconds: 5_400_000 -> '1h30m', 0 -> '0s'. Valid PromQL. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new DurationError(`cannot write ${ms} as a duration: need a whole number of milliseconds, zero or more`)
  if (ms === 0) return '0s'
  let rest = ms
  let out = ''
  for (const [unit, size] of FORMAT_UNITS) {
    if (rest < size) continue
    const n = Math.floor(rest / size)
    out += `${n}${unit}`
    rest -= n * size
  }
  return out
}

/** A measured elapsed time for people, compact and rounded: 850ms, 12.3s, 4m05s, 2h10m, 3d4h. */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms)
  const sign = ms < 0 ? '-' : ''
  const abs = Math.abs(ms)
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(abs < 10_000 ? 2 : 1)}s`
  const totalSeconds = Math.round(abs / 1000)
  const days = Math.floor(totalSeconds / 86_400)
  const hours = Math.floor((totalSeconds % 86_400) / 3600)
  const minutes = Math.floor((totalSeconds % 3600) / 60)
  const seconds = totalSeconds % 60
  if (days > 0) return `${sign}${days}d${hours}h`
  if (hours > 0) return `${sign}${hours}h${String(minutes).padStart(2, '0')}m`
  return `${sign}${minutes}m${String(seconds).padStart(2, '0')}s`
}

/** A duration as written, in words for runbooks: '2d' -> '2 days', '1h30m' -> '1 hour 30 minutes'. */
export function humanDuration(text: string): string {
  const trimmed = text.trim()
  const sign = trimmed[0] === '-' ? '-' : ''
  const body = trimmed.replace(/^[+-]/, '')
  const words: string[] = []
  PART.lastIndex = 0
  let pos = 0
  while (pos < body.length) {
    PART.lastIndex = pos
    const match = PART.exec(body)
    if (!match) return text
    const amount = match[1] as string
    words.push(`${amount} ${UNIT_NAMES[match[2] as Unit]}${Number(amount) === 1 ? '' : 's'}`)
    pos = PART.lastIndex
  }
  return words.length === 0 ? text : `${sign}${words.join(' ')}`
}
