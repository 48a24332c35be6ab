/**
 * Server-side SVG charts for the HTML report: scales and paths from d3-scale / d3-shape, markup as
 * strings. The SVG is inlined into the report, so it needs no script and no network to be viewed.
 * Every piece of text passes through esc().
 */
import {scaleBand, scaleLinear, scaleUtc} from 'd3-scale'
import {curveMonotoneX, line} from 'd3-shape'

import {fmtMs, fmtNumber, fmtUsd} from './format.js'
import type {CostPoint, RollbackSummary, SeriesPoint} from './types.js'

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

export const COLORS = {
  blue: '#2563eb',
  violet: '#7c3aed',
  red: '#dc2626',
  green: '#16a34a',
  amber: '#d97706',
  ink: '#1f2937',
  muted: '#6b7280',
  grid: '#e5e7eb',
  band: '#f3f4f6',
  maintenance: '#fcd34d',
}

const WIDTH = 760
const FONT = 'font-family="inherit" font-size="11"'

interface Margin {
  top: number
  right: number
  bottom: number
  left: number
}

function frame(id: string, title: string, height: number, body: string): string {
  return `<svg class="chart" id="${esc(id)}" role="img" aria-label="${esc(title)}" viewBox="0 0 ${WIDTH} ${height}" width="100%" preserveAspectRatio="xMidYMid meet"><title>${esc(title)}</title>${body}</svg>`
}

function emptyChart(id: string, title: string, message: string, height = 140): string {
  return frame(
    id,
    title,
    height,
    `<rect x="0.5" y="0.5" width="${WIDTH - 1}" height="${height - 1}" rx="6" fill="#fafafa" stroke="${COLORS.grid}"/><text x="${WIDTH / 2}" y="${height / 2}" text-anchor="middle" dominant-baseline="middle" ${FONT} font-size="13" fill="${COLORS.muted}">${esc(message)}</text>`,
  )
}

export interface LineSeries {
  name: string
  color: string
  points: SeriesPoint[]
  dashed?: boolean
}

export interface Marker {
  t: number
  label: string
}

export interface TimeChartOptions {
  id: string
  title: string
  series: LineSeries[]
  markers: Marker[]
  /** Formats a y value for the axis. */
  format: (v: number) => string
  /** A horizontal reference line (e.g. the KPI target). */
  reference?: {value: number; label: string}
  /** Planned maintenance spans (epoch ms), shaded. */
  shaded?: {from: number; to: number}[]
  emptyMessage: string
  height?: number
}

/** UTC tick labels: clock time for short spans, dates for long ones. */
export function timeTickFormat(domain: [number, number]): (d: Date) => string {
  const span = domain[1] - domain[0]
  return (d: Date) => {
    const iso = d.toISOString()
    if (span <= 10 * 60_000) return iso.slice(11, 19)
    if (span <= 2 * 86_400_000) return iso.slice(11, 16)
    return iso.slice(11, 16) === '00:00' ? iso.slice(5, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`
  }
}

/** Shared x range of time charts: the data's, widened to include the phase markers. */
function timeDomain(series: LineSeries[], markers: Marker[]): [number, number] | null {
  const ts = [...series.flatMap((s) => s.points.filter((p) => p.v !== null).map((p) => p.t)), ...markers.map((m) => m.t)]
  if (ts.length === 0) return null
  let lo = Math.min(...ts)
  let hi = Math.max(...ts)
  if (hi - lo < 1000) {
    lo -= 30_000
    hi += 30_000
  }
  return [lo, hi]
}

export function timeChart(o: TimeChartOptions): string {
  const values = o.series.flatMap((s) => s.points.map((p) => p.v).filter((v): v is number => v !== null))
  if (values.length === 0) return emptyChart(o.id, o.title, o.emptyMessage)
  const height = o.height ?? 260
  const m: Margin = {top: 46, right: 22, bottom: 34, left: 64}
  const domain = timeDomain(o.series, o.markers)!
  const x = scaleUtc().domain(domain).range([m.left, WIDTH - m.right])
  const yMax = Math.max(...values, o.reference?.value ?? 0, 0)
  const y = scaleLinear()
    .domain([0, yMax > 0 ? yMax * 1.12 : 1])
    .nice(5)
    .range([height - m.bottom, m.top])
  const parts: string[] = []

  // Phase bands (alternating shade) and boundary markers.
  const markers = [...o.markers].sort((a, b) => a.t - b.t)
  markers.forEach((mk, i) => {
    const x0 = Math.max(m.left, x(mk.t))
    const next = markers[i + 1]
    const x1 = next ? Math.min(WIDTH - m.right, x(next.t)) : WIDTH - m.right
    if (i % 2 === 1 && x1 > x0) parts.push(`<rect x="${x0.toFixed(1)}" y="${m.top}" width="${(x1 - x0).toFixed(1)}" height="${height - m.top - m.bottom}" fill="${COLORS.band}"/>`)
  })

  // Planned maintenance: hatched-looking amber bands (at least 2 px wide, so a restart stays visible).
  for (const span of o.shaded ?? []) {
    const x0 = Math.max(m.left, x(span.from))
    const x1 = Math.min(WIDTH - m.right, x(span.to))
    if (x1 < m.left || x0 > WIDTH - m.right) continue
    parts.push(`<rect class="maintenance-band" x="${x0.toFixed(1)}" y="${m.top}" width="${Math.max(2, x1 - x0).toFixed(1)}" height="${height - m.top - m.bottom}" fill="${COLORS.maintenance}" fill-opacity="0.35"><title>${esc(`planned maintenance ${new Date(span.from).toISOString().slice(11, 19)}-${new Date(span.to).toISOString().slice(11, 19)} UTC (excluded from availability)`)}</title></rect>`)
  }

  // Grid and y axis.
  for (const tick of y.ticks(5)) {
    const ty = y(tick).toFixed(1)
    parts.push(`<line x1="${m.left}" x2="${WIDTH - m.right}" y1="${ty}" y2="${ty}" stroke="${COLORS.grid}"/>`)
    parts.push(`<text x="${m.left - 8}" y="${ty}" text-anchor="end" dominant-baseline="middle" ${FONT} fill="${COLORS.muted}">${esc(o.format(tick))}</text>`)
  }
  // x axis.
  const xTicks = x.ticks(6)
  const xFormat = timeTickFormat(domain)
  parts.push(`<line x1="${m.left}" x2="${WIDTH - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="${COLORS.muted}"/>`)
  for (const tick of xTicks) {
    const tx = x(tick).toFixed(1)
    parts.push(`<line x1="${tx}" x2="${tx}" y1="${height - m.bottom}" y2="${height - m.bottom + 4}" stroke="${COLORS.muted}"/>`)
    parts.push(`<text x="${tx}" y="${height - m.bottom + 16}" text-anchor="middle" ${FONT} fill="${COLORS.muted}">${esc(xFormat(tick))}</text>`)
  }

  if (o.reference) {
    const ry = y(o.reference.value).toFixed(1)
    parts.push(`<line x1="${m.left}" x2="${WIDTH - m.right}" y1="${ry}" y2="${ry}" stroke="${COLORS.amber}" stroke-dasharray="6 4" stroke-width="1.5"/>`)
    parts.push(`<text x="${WIDTH - m.right - 4}" y="${Number(ry) - 5}" text-anchor="end" ${FONT} fill="${COLORS.amber}">${esc(o.reference.label)}</text>`)
  }

  for (const mk of markers) {
    const mx = x(mk.t).toFixed(1)
    parts.push(`<line class="phase-marker" x1="${mx}" x2="${mx}" y1="${m.top - 6}" y2="${height - m.bottom}" stroke="${COLORS.ink}" stroke-dasharray="3 3" stroke-width="1"/>`)
    const nearRight = Number(mx) > WIDTH - m.right - 60
    parts.push(`<text x="${nearRight ? Number(mx) - 4 : Number(mx) + 4}" y="${m.top - 10}"${nearRight ? ' text-anchor="end"' : ''} ${FONT} font-weight="600" fill="${COLORS.ink}">${esc(mk.label)}</text>`)
  }

  for (const s of o.series) {
    const path = line<SeriesPoint>()
      .defined((p) => p.v !== null)
      .x((p) => x(p.t))
      .y((p) => y(p.v ?? 0))
      .curve(curveMonotoneX)(s.points)
    if (path) parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''} stroke-linejoin="round" stroke-linecap="round"/>`)
    // Isolated points (a single sample between gaps) would not show as a line: draw them as dots.
    s.points.forEach((p, i) => {
      const before = s.points[i - 1]
      const after = s.points[i + 1]
      if (p.v !== null && (before === undefined || before.v === null) && (after === undefined || after.v === null)) {
        parts.push(`<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="3" fill="${s.color}"/>`)
      }
    })
  }

  // Legend.
  let lx = m.left
  for (const s of o.series) {
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="12" y2="12" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`)
    parts.push(`<text x="${lx + 24}" y="12" dominant-baseline="middle" ${FONT} fill="${COLORS.ink}">${esc(s.name)}</text>`)
    lx += 34 + s.name.length * 6.5
  }
  return frame(o.id, o.title, height, parts.join(''))
}

/** A strip of health samples: green up, red down; blank where no monitor ran. */
export function healthStrip(id: string, points: SeriesPoint[], markers: Marker[], domainFrom: LineSeries[]): string {
  if (points.length === 0) return emptyChart(id, 'Gateway health samples', 'No health samples yet: run cutover monitor', 60)
  const height = 62
  const m: Margin = {top: 8, right: 22, bottom: 22, left: 64}
  const domain = timeDomain([...domainFrom, {name: 'health', color: '', points}], markers)!
  const x = scaleUtc().domain(domain).range([m.left, WIDTH - m.right])
  const sorted = [...points].sort((a, b) => a.t - b.t)
  const diffs = sorted.slice(1).map((p, i) => p.t - sorted[i]!.t).sort((a, b) => a - b)
  const step = diffs[Math.floor(diffs.length / 2)] ?? 1000
  const w = Math.max(1, x(domain[0] + step) - x(domain[0]))
  const parts: string[] = [`<rect x="${m.left}" y="${m.top}" width="${WIDTH - m.left - m.right}" height="${height - m.top - m.bottom}" fill="#fafafa" stroke="${COLORS.grid}"/>`]
  for (const p of sorted) {
    parts.push(`<rect x="${(x(p.t) - w / 2).toFixed(1)}" y="${m.top + 1}" width="${w.toFixed(2)}" height="${height - m.top - m.bottom - 2}" fill="${p.v === 1 ? COLORS.green : COLORS.red}"${p.v === 1 ? ' fill-opacity="0.75"' : ''}/>`)
  }
  for (const mk of markers) {
    const mx = x(mk.t).toFixed(1)
    parts.push(`<line x1="${mx}" x2="${mx}" y1="${m.top - 4}" y2="${height - m.bottom + 2}" stroke="${COLORS.ink}" stroke-dasharray="3 3"/>`)
  }
  parts.push(`<text x="${m.left - 8}" y="${(m.top + height - m.bottom) / 2}" text-anchor="end" dominant-baseline="middle" ${FONT} fill="${COLORS.muted}">health</text>`)
  const xFormat = timeTickFormat(domain)
  for (const tick of x.ticks(6)) parts.push(`<text x="${x(tick).toFixed(1)}" y="${height - 6}" text-anchor="middle" ${FONT} fill="${COLORS.muted}">${esc(xFormat(tick))}</text>`)
  return frame(id, 'Gateway health samples', height, parts.join(''))
}

export function costChart(id: string, title: string, points: CostPoint[], emptyMessage: string): string {
  if (points.length === 0) return emptyChart(id, title, emptyMessage)
  const height = 240
  const m: Margin = {top: 26, right: 22, bottom: 40, left: 72}
  const x = scaleBand<string>()
    .domain(points.map((p) => String(p.t)))
    .range([m.left, WIDTH - m.right])
    .paddingInner(0.25)
    .paddingOuter(0.15)
  const max = Math.max(...points.map((p) => p.costUsd), 0)
  const y = scaleLinear()
    .domain([0, max > 0 ? max * 1.15 : 1])
    .nice(5)
    .range([height - m.bottom, m.top])
  const parts: string[] = []
  for (const tick of y.ticks(5)) {
    const ty = y(tick).toFixed(1)
    parts.push(`<line x1="${m.left}" x2="${WIDTH - m.right}" y1="${ty}" y2="${ty}" stroke="${COLORS.grid}"/>`)
    parts.push(`<text x="${m.left - 8}" y="${ty}" text-anchor="end" dominant-baseline="middle" ${FONT} fill="${COLORS.muted}">${esc(`$${Number(tick.toPrecision(4))}`)}</text>`)
  }
  parts.push(`<line x1="${m.left}" x2="${WIDTH - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="${COLORS.muted}"/>`)
  const labelEvery = Math.max(1, Math.ceil(points.length / 12))
  points.forEach((p, i) => {
    // A few buckets would make slabs: cap the bar width and centre it in its band.
    const bw = Math.min(x.bandwidth(), 90)
    const bx = (x(String(p.t)) ?? m.left) + (x.bandwidth() - bw) / 2
    const by = y(p.costUsd)
    parts.push(`<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.max(0, height - m.bottom - by).toFixed(1)}" rx="2" fill="${COLORS.blue}"><title>${esc(`${p.label}: ${fmtUsd(p.costUsd)} over ${p.requests} requests`)}</title></rect>`)
    if (points.length <= 16) parts.push(`<text x="${(bx + bw / 2).toFixed(1)}" y="${(by - 5).toFixed(1)}" text-anchor="middle" ${FONT} fill="${COLORS.ink}">${esc(fmtUsd(p.costUsd))}</text>`)
    if (i % labelEvery === 0) parts.push(`<text x="${(bx + bw / 2).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle" ${FONT} fill="${COLORS.muted}">${esc(p.label)}</text>`)
  })
  return frame(id, title, height, parts.join(''))
}

/** One row per rollback: the measured time as a bar, the objective as a line on the row's own scale. */
export function rollbackChart(id: string, rollbacks: RollbackSummary[]): string {
  const rows = rollbacks.filter((r) => r.totalMs !== null)
  const title = 'Rollback recovery time against objective'
  if (rows.length === 0) return emptyChart(id, title, 'No rollback measured yet: run the rollback drill (cutover rollback --flag)')
  const rowHeight = 34
  const m: Margin = {top: 30, right: 150, bottom: 12, left: 190}
  const height = m.top + m.bottom + rows.length * rowHeight
  const band = scaleBand<number>()
    .domain(rows.map((r) => r.id))
    .range([m.top, height - m.bottom])
    .paddingInner(0.35)
  const parts: string[] = [
    `<text x="${m.left}" y="14" ${FONT} fill="${COLORS.muted}">bar: measured recovery time · line: objective (each row on its own scale)</text>`,
  ]
  for (const r of rows) {
    const total = r.totalMs ?? 0
    const limit = Math.max(total, r.objectiveMs ?? 0) * 1.15 || 1
    const x = scaleLinear().domain([0, limit]).range([m.left, WIDTH - m.right])
    const by = band(r.id) ?? m.top
    const bh = band.bandwidth()
    const ok = r.withinObjective
    const label = `${r.kind}${r.rehearsal ? '' : ' rollback'} #${r.id}`
    parts.push(`<text x="${m.left - 10}" y="${(by + bh / 2).toFixed(1)}" text-anchor="end" dominant-baseline="middle" ${FONT} font-size="12" fill="${COLORS.ink}">${esc(label)}</text>`)
    parts.push(`<rect x="${m.left}" y="${by.toFixed(1)}" width="${WIDTH - m.left - m.right}" height="${bh.toFixed(1)}" fill="${COLORS.band}" rx="3"/>`)
    parts.push(`<rect class="rollback-bar" x="${m.left}" y="${by.toFixed(1)}" width="${Math.max(1, x(total) - m.left).toFixed(1)}" height="${bh.toFixed(1)}" rx="3" fill="${ok ? COLORS.green : COLORS.red}"><title>${esc(`${label}: ${fmtMs(total)}, ${r.outcome}`)}</title></rect>`)
    if (r.objectiveMs !== null) {
      const ox = x(r.objectiveMs).toFixed(1)
      parts.push(`<line class="objective-line" x1="${ox}" x2="${ox}" y1="${(by - 4).toFixed(1)}" y2="${(by + bh + 4).toFixed(1)}" stroke="${COLORS.ink}" stroke-width="2"/>`)
    }
    const verdict = r.objectiveMs === null ? 'no objective' : `${ok ? 'within' : 'over'} ${fmtMs(r.objectiveMs)}`
    parts.push(`<text x="${WIDTH - m.right + 8}" y="${(by + bh / 2).toFixed(1)}" dominant-baseline="middle" ${FONT} font-size="12" fill="${ok ? COLORS.green : COLORS.red}">${esc(`${fmtMs(total)} · ${verdict}`)}</text>`)
  }
  return frame(id, title, height, parts.join(''))
}

export const formatters = {
  ms: (v: number) => fmtMs(v),
  pct: (v: number) => `${fmtNumber(v)}%`,
}
