/** Durations as written in playbooks: `500ms`, `30s`, `10m`, `1h`, `2d`, `1w`. */

const UNIT_MS = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000} as const
type DurationUnit = keyof typeof UNIT_MS

const DURATION = /^([+-])?(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/

export type DurationParse = {ok: true; ms: number} | {ok: false; reason: string}

/**
 * Parse a duration. Unsigned durations must not be negative; `signed` allows a leading
 * `+`/`-` (offsets such as "48 hours before" = `-48h`).
 */
export function parseDuration(text: string, opts: {signed?: boolean} = {}): DurationParse {
  const m = DURATION.exec(text.trim())
  if (!m) return {ok: false, reason: `"${text}" is not a duration (expected a number and a unit: ms, s, m, h, d or w, e.g. "30s", "10m", "2d")`}
  const [, sign, amount, unit] = m as unknown as [string, string | undefined, string, DurationUnit]
  if (sign && !opts.signed) {
    return {ok: false, reason: sign === '-' ? `negative duration "${text}" (durations must be zero or more)` : `"${text}": a duration takes no sign`}
  }
  const ms = Number(amount) * UNIT_MS[unit]
  return {ok: true, ms: sign === '-' ? -ms : ms}
}

/** Milliseconds of a duration already validated by the loader; throws on a malformed one. */
export function durationMs(text: string): number {
  const parsed = parseDuration(text, {signed: true})
  if (!parsed.ok) throw new Error(parsed.reason)
  return parsed.ms
}

/** `2d` -> "2 days", `30s` -> "30 seconds" (runbook text). */
export function humanDuration(text: string): string {
  const m = DURATION.exec(text.trim())
  if (!m) return text
  const [, sign, amount, unit] = m as unknown as [string, string | undefined, string, DurationUnit]
  const names: Record<DurationUnit, string> = {ms: 'millisecond', s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week'}
  const plural = Number(amount) === 1 ? '' : 's'
  return `${sign === '-' ? '-' : ''}${amount} ${names[unit]}${plural}`
}
