/**
 * Durations as written in playbooks and on the command line: one or more
 * `<integer><unit>` parts, e.g. '15m', '4d', '1h30m', '250ms'.
 * Units: ms, s, m, h, d (24 h), w (7 d). The same spelling is valid PromQL,
 * so formatDuration() output can be substituted into a range selector.
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

// Largest unit first so formatDuration emits the shortest spelling.
const FORMAT_UNITS: Array<[string, number]> = [
  ['w', UNIT_MS.w!],
  ['d', UNIT_MS.d!],
  ['h', UNIT_MS.h!],
  ['m', UNIT_MS.m!],
  ['s', UNIT_MS.s!],
  ['ms', 1],
]

export class DurationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DurationError'
  }
}

const PART = /(\d+)(ms|s|m|h|d|w)/y

/** Parse a duration string into milliseconds. Throws DurationError saying what is wrong. */
export function parseDuration(input: string): number {
  if (typeof input !== 'string') {
    throw new DurationError(`duration must be a string like '15m' or '4d', got ${typeof input}`)
  }
  const text = input.trim()
  if (text.length === 0) throw new DurationError("duration is empty; write e.g. '15m', '4d' or '1h30m'")
  let total = 0
  let pos = 0
  let lastUnitMs = Number.POSITIVE_INFINITY
  while (pos < text.length) {
    PART.lastIndex = pos
    const match = PART.exec(text)
    if (!match) {
      throw new DurationError(
        `invalid duration '${input}' at '${text.slice(pos)}': expected <integer><unit> with unit ms, s, m, h, d or w (e.g. '15m', '4d', '1h30m')`,
      )
    }
    const amount = Number(match[1])
    const unitMs = UNIT_MS[match[2]!]!
    // '30m1h' is almost certainly a typo; PromQL rejects it too.
    if (unitMs >= lastUnitMs) {
      throw new DurationError(`invalid duration '${input}': units must go from largest to smallest, each at most once (e.g. '1h30m')`)
    }
    lastUnitMs = unitMs
    total += amount * unitMs
    pos = PART.lastIndex
  }
  if (!Number.isSafeInteger(total)) throw new DurationError(`duration '${input}' is too large`)
  return total
}

/** Format milliseconds as the shortest duration string, e.g. 5_400_000 -> '1h30m', 0 -> '0s'. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0 || !Number.isInteger(ms)) {
    throw new DurationError(`cannot format ${ms} as a duration: need a non-negative integer number of milliseconds`)
  }
  if (ms === 0) return '0s'
  let rest = ms
  let out = ''
  for (const [unit, size] of FORMAT_UNITS) {
    if (rest >= size) {
      const n = Math.floor(rest / size)
      out += `${n}${unit}`
      rest -= n * size
    }
  }
  return out
}
