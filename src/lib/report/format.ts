/** Number, money, duration and time formatting shared by the report renderers (UTC, no locale). */

export function fmtNumber(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a'
  if (Number.isInteger(n)) return groupThousands(String(n))
  const fixed = Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(digits) : Number(n.toPrecision(3)).toString()
  return groupThousands(fixed.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, ''))
}

function groupThousands(text: string): string {
  const [whole = '', fraction] = text.split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return fraction === undefined ? grouped : `${grouped}.${fraction}`
}

export function fmtPct(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a'
  // Availability-like values need their decimals (99.95 must not round to 100).
  const text = n === 100 || n === 0 ? String(n) : n >= 99 ? n.toFixed(3).replace(/0+$/, '').replace(/\.$/, '') : fmtNumber(n, 2)
  return `${text}%`
}

/** 412 -> "412 ms", 1830 -> "1.83 s", 95_000 -> "1.6 min". */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'n/a'
  if (Math.abs(ms) < 1000) {
    const tenths = Math.round(ms * 10) / 10
    return `${Number.isInteger(tenths) ? tenths : tenths.toFixed(1)} ms`
  }
  if (Math.abs(ms) < 60_000) return `${fmtNumber(ms / 1000, 2)} s`
  if (Math.abs(ms) < 3_600_000) return `${fmtNumber(ms / 60_000, 1)} min`
  return `${fmtNumber(ms / 3_600_000, 1)} h`
}

/** A span of time for people: "3 d 4 h", "12 min 5 s", "45 s". */
export function fmtSpan(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'n/a'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.round(ms / 1000)
  const d = Math.floor(s / 86_400)
  const h = Math.floor((s % 86_400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`
  if (m > 0) return sec > 0 ? `${m} min ${sec} s` : `${m} min`
  return `${sec} s`
}

export function fmtUsd(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a'
  if (n === 0) return '$0.00'
  if (Math.abs(n) < 0.01) return `$${Number(n.toPrecision(3))}`
  // Below $1 keep up to four decimals (per-request costs are small), but no trailing zeros past the cents.
  if (Math.abs(n) < 1) return `$${n.toFixed(4).replace(/(\.\d\d\d*?)0+$/, '$1')}`
  if (Math.abs(n) < 100) return `$${n.toFixed(2)}`
  return `$${groupThousands(n.toFixed(2))}`
}

/** ISO or epoch ms -> "2025-12-02 14:03:05 UTC". */
export function fmtTime(t: string | number | null | undefined): string {
  if (t === null || t === undefined) return 'n/a'
  const ms = typeof t === 'number' ? t : Date.parse(t)
  if (!Number.isFinite(ms)) return String(t)
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

export function fmtDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10)
}

export const UNIT_TEXT: Record<string, string> = {percent: '%', ms: 'ms', s: 's', count: '', usd: 'USD', rps: 'req/s', ratio: ''}

/** A value with the report's unit ('%', 'ms', 'USD', ...). */
export function fmtWithUnit(n: number | null | undefined, unit: string): string {
  if (unit === '%') return fmtPct(n)
  if (unit === 'ms') return fmtMs(n)
  if (unit === 'USD') return fmtUsd(n)
  const text = fmtNumber(n)
  return unit && text !== 'n/a' ? `${text} ${unit}` : text
}
