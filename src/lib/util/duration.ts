import {ConfigError} from '../errors.js'

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/**
 * Parse a duration such as `30s`, `15m`, `1h30m`, `3d` or `250ms` into milliseconds.
 * A bare number is taken as seconds. `what` names the flag or key in the error.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const input = text.trim()
  if (/^\d+(\.\d+)?$/.test(input)) return Math.round(Number(input) * 1000)
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy
  let total = 0
  let consumed = 0
  let match: RegExpExecArray | null
  while ((match = part.exec(input)) !== null) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number)
    consumed = part.lastIndex
  }
  if (input.length === 0 || consumed !== input.length) {
    throw new ConfigError(`${what}: "${text}" is not a duration`, ['Use a number with a unit, e.g. 250ms, 30s, 15m, 1h30m, 3d.'], 'DURATION_INVALID')
  }
  return Math.round(total)
}

/** Format milliseconds compactly: 850ms, 12.3s, 4m05s, 2h10m, 3d4h. */
export function formatDuration(ms: number): string {
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
