/**
 * Minimum evidence a gate criterion needs before its pass can mean anything (#11 item 5).
 *
 * Resolution: a percentage from n samples moves in steps of 100 / n. A claim "above t %" has a
 * margin of 100 - t to the ideal ("below t %": t to zero); unless one sample is at most that margin,
 * a single bad sample could not fail the claim, and a pass says nothing: 30 samples "prove"
 * 99.9 % uptime as well as 97 %. So n >= 100 / margin: 1000 samples for 99.9 %, 1000 requests
 * for an error rate below 0.1 %, 2 users for "more than half positive".
 *
 * Coverage: the monitor declares its sampling interval on each sample, and a gap counts as down
 * time only when it is longer than two declared intervals. A declared interval longer than
 * window / min_samples would let a monitor that looked rarely hide its gaps, so such evidence is
 * not trusted (inconclusive).
 */
import type {Operator, Statistic} from './types.js'

export interface EvidenceSubject {
  statistic: Statistic | string
  unit?: string | undefined
  operator: Operator | string
  threshold: number
}

/** The fewest samples whose single-sample step fits the claim's margin, or null when the rule does not apply. */
export function resolutionMinSamples(c: EvidenceSubject): number | null {
  if (c.statistic !== 'ratio' || (c.unit !== 'percent' && c.unit !== '%')) return null
  const margin = c.operator === '>' || c.operator === '>=' ? 100 - c.threshold : c.operator === '<' || c.operator === '<=' ? c.threshold : null
  if (margin === null || !(margin > 0) || margin >= 100) return null
  // 100 / 0.1 is 1000.0000000000001 in floating point: not a reason to ask for 1001.
  return Math.ceil(100 / margin - 1e-9)
}

/** Why that many: "one sample must be at most the 0.1 % margin of > 99.9 %". */
export function describeResolutionRule(c: EvidenceSubject): string | null {
  const n = resolutionMinSamples(c)
  if (n === null) return null
  const margin = c.operator === '>' || c.operator === '>=' ? 100 - c.threshold : c.threshold
  return `>= ${n} samples: one sample (100 / n %) must be at most the ${round(margin)} % margin of "${c.operator} ${c.threshold} %"`
}

/** The longest declared sampling interval that window / minSamples allows (null: no rule). */
export function maxTrustedIntervalMs(windowMs: number, minSamples: number): number | null {
  if (!(minSamples > 0) || !(windowMs > 0)) return null
  return Math.floor(windowMs / minSamples)
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6
}
