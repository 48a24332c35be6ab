/**
 * Statistics used by the sources and the evaluator. All pure.
 */
import {type HostSample, type Statistic, UP_STATUSES} from './types.js'

/**
 * Nearest-rank percentile: sort ascending, take the value at rank ceil(p/100 * n)
 * (1-based); p = 0 gives the minimum. The result is always an observed value, never an
 * interpolation, so "p95 latency = 812 ms" means some request really took 812 ms.
 * Returns null for an empty input.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new RangeError(`percentile must be within 0..100, got ${p}`)
  const finite = values.filter((v) => !Number.isNaN(v))
  if (finite.length === 0) return null
  const sorted = [...finite].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]!
}

export function mean(values: readonly number[]): number | null {
  const finite = values.filter((v) => !Number.isNaN(v))
  if (finite.length === 0) return null
  let sum = 0
  for (const v of finite) sum += v
  return sum / finite.length
}

/** Events per second over a window. */
export function ratePerSecond(count: number, windowMs: number): number | null {
  if (windowMs <= 0) return null
  return (count * 1000) / windowMs
}

/**
 * numerator / denominator as a percentage; null when the denominator is 0 (no data).
 * Multiplying before dividing keeps exact cases exact (1 of 20 -> exactly 5, 7 of 7 -> exactly 100),
 * which matters for strict comparisons such as "> 5 %" and "== 100 %".
 */
export function percentOf(numerator: number, denominator: number): number | null {
  if (denominator === 0) return null
  return (numerator * 100) / denominator
}

/** Apply a statistic to a series of observed values (e.g. points of a Prometheus range query). */
export function summarize(values: readonly number[], statistic: Statistic, windowMs?: number): number | null {
  const finite = values.filter((v) => !Number.isNaN(v))
  switch (statistic) {
    case 'avg':
      return mean(finite)
    case 'p50':
      return percentile(finite, 50)
    case 'p95':
      return percentile(finite, 95)
    case 'p99':
      return percentile(finite, 99)
    case 'max':
      return finite.length === 0 ? null : Math.max(...finite)
    case 'min':
      return finite.length === 0 ? null : Math.min(...finite)
    case 'last':
      return finite.length === 0 ? null : finite[finite.length - 1]!
    case 'count':
      return finite.length
    case 'rate':
      return windowMs === undefined ? null : ratePerSecond(finite.length, windowMs)
    case 'ratio':
      // A ratio cannot be derived from one series; sources compute it from two counts.
      return finite.length === 0 ? null : finite[finite.length - 1]!
  }
}

/** Share of failing hosts in percent (the value of a fleet criterion); null without hosts. */
export function fleetFailurePercent(hosts: readonly HostSample[]): number | null {
  return percentOf(hosts.filter((h) => !h.ok).length, hosts.length)
}

export interface HealthSample {
  /** Epoch ms or ISO string. */
  ts: number | string | Date
  /** Health as reported by the monitor: 'healthy' | 'degraded' count as up; anything else is down. */
  status: string
}

export interface UptimeOptions {
  /** The monitor's sampling interval. */
  intervalMs: number
  windowStart?: number
  windowEnd?: number
  /**
   * Planned maintenance [from, to] (epoch ms, inclusive): samples and missed slots inside are
   * neither up nor down. Only planned windows belong here; unplanned downtime always counts.
   */
  exclude?: readonly ExcludedSpan[]
}

export interface ExcludedSpan {
  from: number
  to: number
}

export interface UptimeResult {
  /** up / (samples + missed) * 100 over the counted samples; null without counted samples. */
  uptimePct: number | null
  /** Samples counted (those inside planned maintenance are not). */
  samples: number
  up: number
  down: number
  /** Samples that should exist but do not (gaps), counted as down. */
  missed: number
  gaps: Array<{from: number; to: number; missed: number}>
  /** First sample is within 2 intervals of windowStart (the monitor covered the whole window). */
  coversWindowStart: boolean
  /** Samples taken inside planned maintenance, left out of both numerator and denominator. */
  excluded: number
  /** How much of the window planned maintenance covered (overlapping windows merged). */
  plannedDowntimeMs: number
  /** down + missed: the downtime that counts. */
  unplannedDownSamples: number
}


export function toEpochMs(ts: number | string | Date): number {
  if (typeof ts === 'number') return ts
  if (ts instanceof Date) return ts.getTime()
  const parsed = Date.parse(ts)
  if (Number.isNaN(parsed)) throw new RangeError(`invalid timestamp '${ts}': expected epoch milliseconds or an ISO 8601 date`)
  return parsed
}

/** Sorted, merged spans clipped to [start, end]; empty or inverted spans are dropped. */
export function mergeSpans(spans: readonly ExcludedSpan[], start = Number.NEGATIVE_INFINITY, end = Number.POSITIVE_INFINITY): ExcludedSpan[] {
  const clipped = spans
    .map((s) => ({from: Math.max(s.from, start), to: Math.min(s.to, end)}))
    .filter((s) => Number.isFinite(s.from) && Number.isFinite(s.to) && s.to >= s.from)
    .sort((a, b) => a.from - b.from)
  const merged: ExcludedSpan[] = []
  for (const s of clipped) {
    const last = merged[merged.length - 1]
    if (last && s.from <= last.to) last.to = Math.max(last.to, s.to)
    else merged.push({...s})
  }
  return merged
}

/**
 * Whether the sample stamped `t` falls in planned maintenance. A sample is stamped with its slot's
 * start but taken during the slot, so it is planned when [t, t + interval) meets a span: the sample
 * of the slot in which a restart began may already have seen the daemon down.
 */
export function inPlannedSpan(t: number, intervalMs: number, spans: readonly ExcludedSpan[]): boolean {
  return spans.some((s) => t + intervalMs > s.from && t <= s.to)
}

/**
 * Uptime from periodic health samples.
 *
 * - A sample whose status is 'healthy' or 'degraded' is up; anything else (unhealthy,
 *   unreachable, error, ...) is down.
 * - Planned maintenance (`exclude`): samples inside (see inPlannedSpan) are left out of numerator
 *   and denominator (standard SLO practice; they are reported as `excluded` and
 *   `plannedDowntimeMs`). Anything else that is down (a crash, a kill -9, a failing gateway) counts.
 * - Gaps: when two consecutive samples (or the last sample and windowEnd) are more than
 *   2x the interval apart, the monitor saw nothing, and "nothing seen" must not count as
 *   up. Such a gap of length g has floor(g / interval) - 1 missed slots, counted as down,
 *   except the slots that fall inside planned maintenance.
 * - The time before the first sample is not a gap: if the first sample is later than
 *   windowStart + 2 intervals, coversWindowStart is false and the caller reports the window
 *   as not elapsed (inconclusive) instead of inventing down time.
 * - uptimePct = up / (counted samples + missed) * 100.
 */
export function computeUptime(samples: readonly HealthSample[], opts: UptimeOptions): UptimeResult {
  if (!(opts.intervalMs > 0)) throw new RangeError(`sampling interval must be positive, got ${opts.intervalMs}`)
  const start = opts.windowStart ?? Number.NEGATIVE_INFINITY
  const end = opts.windowEnd ?? Number.POSITIVE_INFINITY
  const spans = mergeSpans(opts.exclude ?? [], start, end)
  const planned = (t: number) => inPlannedSpan(t, opts.intervalMs, spans)
  const points = samples
    .map((s) => ({t: toEpochMs(s.ts), up: UP_STATUSES.has(s.status)}))
    .filter((p) => p.t >= start && p.t <= end)
    .sort((a, b) => a.t - b.t)
  const gapLimit = 2 * opts.intervalMs
  const gaps: UptimeResult['gaps'] = []
  const addGap = (from: number, to: number) => {
    if (to - from <= gapLimit) return
    const slots = Math.floor((to - from) / opts.intervalMs) - 1
    let missed = 0
    for (let k = 1; k <= slots; k++) if (!planned(from + k * opts.intervalMs)) missed++
    if (missed > 0) gaps.push({from, to, missed})
  }
  for (let i = 1; i < points.length; i++) addGap(points[i - 1]!.t, points[i]!.t)
  if (points.length > 0 && Number.isFinite(end)) addGap(points[points.length - 1]!.t, end)
  const counted = points.filter((p) => !planned(p.t))
  const up = counted.filter((p) => p.up).length
  const missed = gaps.reduce((n, g) => n + g.missed, 0)
  const total = counted.length + missed
  return {
    uptimePct: counted.length === 0 ? null : percentOf(up, total),
    samples: counted.length,
    up,
    down: counted.length - up,
    missed,
    gaps,
    // Coverage is about whether the monitor looked, so samples inside maintenance count for it.
    coversWindowStart: points.length > 0 && (!Number.isFinite(start) || points[0]!.t - start <= gapLimit),
    excluded: points.length - counted.length,
    plannedDowntimeMs: spans.reduce((ms, s) => ms + (s.to - s.from), 0),
    unplannedDownSamples: counted.length - up + missed,
  }
}
