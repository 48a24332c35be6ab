/**
 * One criterion: a measurement (and maybe a pinned baseline) -> pass / fail / inconclusive / error.
 *
 * Order of the decision, first match wins:
 *   1. the spec is unusable (bad window, relative criterion with '>' ...)   -> error
 *   2. the source could not measure (measurement.error)                     -> error
 *   3. fleet criterion with fewer hosts than min_hosts                      -> inconclusive
 *   4. window not elapsed / fewer samples than min_samples / no value       -> inconclusive
 *   5. relative criterion without a usable baseline                        -> inconclusive
 *   6. value <operator> effectiveThreshold                                  -> pass | fail
 * An unfinished window is inconclusive even when the value already looks bad: a gate that
 * decides on part of its window is what Argo's "terminated early = success" gets wrong.
 */
import {describeResolutionRule} from './evidence.js'
import {checkDuration} from '../util/duration.js'
import {fleetFailurePercent} from './stats.js'
import type {Baseline, CriterionOutcome, CriterionSpec, HostSample, Measurement, Operator, Outcome} from './types.js'
import {OPERATORS} from './types.js'

/**
 * The one comparison of a measured value with a threshold (gates, triggers and the report's KPIs).
 * Values within a relative 1e-12 of the threshold (absolute below 1) count as equal: 99.9 computed as 999/1000*100
 * meets '>= 99.9' and fails '> 99.9', whatever the floating-point rounding of the arithmetic.
 */
/** A percentage of `samples` padded to `minSamples` with the best values for the claim (100 for "above", 0 for "below"). */
export function bestCaseRatio(value: number, samples: number, minSamples: number, operator: Operator): number | null {
  if (!(minSamples > samples)) return null
  const pad = operator === '>' || operator === '>=' ? 100 : operator === '<' || operator === '<=' ? 0 : null
  if (pad === null) return null
  return (value * samples + pad * (minSamples - samples)) / minSamples
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6
}

export function compare(value: number, operator: Operator, threshold: number): boolean {
  const equal = Math.abs(value - threshold) <= COMPARE_TOLERANCE * Math.max(1, Math.abs(threshold))
  switch (operator) {
    case '>':
      return value > threshold && !equal
    case '>=':
      return value > threshold || equal
    case '<':
      return value < threshold && !equal
    case '<=':
      return value < threshold || equal
    case '==':
      return equal
  }
}

const COMPARE_TOLERANCE = 1e-12

/** Short, stable number formatting for reasons: integers as is, others to 6 significant digits. */
export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'n/a'
  if (!Number.isFinite(n)) return String(n)
  if (Number.isInteger(n)) return String(n)
  return String(Number(n.toPrecision(6)))
}

/** A number with its unit: '0.05%', '420 ms'. */
export function withUnit(n: number | null, unit?: string): string {
  const text = formatNumber(n)
  if (!unit || n === null) return text
  return unit === '%' ? `${text}%` : `${text} ${unit}`
}

function specProblem(spec: CriterionSpec): string | undefined {
  if (!OPERATORS.includes(spec.operator)) return `unknown operator '${String(spec.operator)}' (use one of ${OPERATORS.join(' ')})`
  if (typeof spec.threshold !== 'number' || Number.isNaN(spec.threshold)) return `threshold must be a number, got ${String(spec.threshold)}`
  const window = checkDuration(spec.window, {positive: true})
  if (!window.ok) return `window: ${window.reason}`
  if (spec.relative_to_baseline) {
    const pct = spec.relative_to_baseline.max_increase_pct
    if (typeof pct !== 'number' || !Number.isFinite(pct) || pct < 0) {
      return `relative_to_baseline.max_increase_pct must be a number >= 0, got ${String(pct)}`
    }
    if (spec.operator !== '<' && spec.operator !== '<=') {
      return `relative_to_baseline bounds an increase, so it needs operator '<' or '<=' (got '${spec.operator}')`
    }
    if (spec.min_hosts !== undefined) return 'a fleet criterion (min_hosts) cannot also be relative_to_baseline'
  }
  if (spec.min_hosts !== undefined && !(Number.isInteger(spec.min_hosts) && spec.min_hosts >= 1)) {
    return `min_hosts must be an integer >= 1, got ${String(spec.min_hosts)}`
  }
  if (spec.min_samples !== undefined && !(Number.isInteger(spec.min_samples) && spec.min_samples >= 0)) {
    return `min_samples must be an integer >= 0, got ${String(spec.min_samples)}`
  }
  return undefined
}

export interface EvaluateCriterionOptions {
  /**
   * Default true (gates): an unfinished window is inconclusive. Rollback triggers pass false: they
   * judge the data so far (a trigger that waited for its 1 h window could not protect the first hour
   * after a cutover); every other evidence rule (min_hosts, min_samples, untrusted, no value) holds.
   */
  requireFullWindow?: boolean
}

export function evaluateCriterion(spec: CriterionSpec, measurement: Measurement, baseline?: Baseline | null, opts: EvaluateCriterionOptions = {}): CriterionOutcome {
  const isFleet = spec.min_hosts !== undefined
  const hosts: HostSample[] | undefined = measurement.hosts ? [...measurement.hosts].sort((a, b) => a.name.localeCompare(b.name)) : undefined
  const failingHosts = hosts?.filter((h) => !h.ok).map((h) => h.name)
  const value = isFleet ? (hosts ? fleetFailurePercent(hosts) : null) : measurement.value
  const samples = isFleet ? (hosts?.length ?? 0) : measurement.samples
  const what = `${spec.id} (${spec.statistic} over ${spec.window})`

  const base = {
    id: spec.id,
    title: spec.title,
    threshold: spec.threshold,
    operator: spec.operator,
    statistic: spec.statistic,
    window: spec.window,
    unit: isFleet ? '%' : spec.unit,
    samples,
    windowStart: measurement.windowStart,
    windowEnd: measurement.windowEnd,
    key: spec.key,
    spec,
    measurement,
    ...(hosts ? {hosts, failingHosts} : {}),
  }
  const done = (outcome: Outcome, reason: string, extra: Partial<CriterionOutcome> = {}): CriterionOutcome => ({
    ...base,
    outcome,
    value,
    effectiveThreshold: null,
    reason,
    ...extra,
  })

  const problem = specProblem(spec)
  if (problem) return done('error', `${spec.id}: invalid criterion: ${problem}`)
  if (measurement.criterionId !== spec.id) {
    return done('error', `${spec.id}: received the measurement of '${measurement.criterionId}' instead of its own`)
  }
  if (measurement.error !== undefined) {
    return done('error', `${spec.id}: the ${spec.source} source could not measure it: ${measurement.error}`)
  }
  if (value !== null && Number.isNaN(value)) return done('error', `${spec.id}: the ${spec.source} source returned NaN`)

  const unit = base.unit
  if (isFleet) {
    const have = hosts?.length ?? 0
    if (have < spec.min_hosts!) {
      return done('inconclusive', `${spec.id}: only ${have} host(s) reported, at least ${spec.min_hosts} needed before a fleet share can be judged`)
    }
  }
  const current = value === null ? '' : ` (currently ${withUnit(value, unit)})`
  if (!measurement.windowElapsed && opts.requireFullWindow !== false) {
    return done('inconclusive', `${what}: the data does not cover the ${spec.window} window yet (${measurement.windowStart} .. ${measurement.windowEnd})${current}`)
  }
  const minSamples = isFleet ? 0 : (spec.min_samples ?? 1)
  if (samples < minSamples) {
    const rule = describeResolutionRule(spec)
    // Too few samples to claim a pass, but maybe enough to rule it out: if even the missing samples,
    // all good, could not bring the ratio to the threshold, the criterion has failed already.
    const best = value === null || rule === null || spec.relative_to_baseline ? null : bestCaseRatio(value, samples, minSamples, spec.operator)
    if (best !== null && !compare(best, spec.operator, spec.threshold)) {
      return done('fail', `${what}: ${withUnit(value as number, base.unit)} over ${samples} sample(s); even if the ${minSamples - samples} more the evidence rule needs were all good it would be ${withUnit(round6(best), base.unit)}, not ${spec.operator} ${withUnit(spec.threshold, base.unit)}`, {effectiveThreshold: spec.threshold})
    }
    return done('inconclusive', `${what}: ${samples} sample(s), at least ${minSamples} needed${rule ? ` (evidence rule: ${rule})` : ''}${current}`)
  }
  if (measurement.untrusted !== undefined) return done('inconclusive', `${what}: ${measurement.untrusted}${current}`)
  if (value === null) return done('inconclusive', `${what}: no data in the window (${samples} sample(s))`)

  let effectiveThreshold = spec.threshold
  let baselineNote = ''
  const extra: Partial<CriterionOutcome> = {}
  if (spec.relative_to_baseline) {
    const pct = spec.relative_to_baseline.max_increase_pct
    if (!baseline || typeof baseline.value !== 'number' || !Number.isFinite(baseline.value)) {
      return done('inconclusive', `${what}: relative to a baseline, but no baseline is pinned (pin one when the previous phase completes)${current}`, {baseline: null})
    }
    if (baseline.value <= 0) {
      return done('inconclusive', `${what}: the pinned baseline is ${formatNumber(baseline.value)}, so a relative increase is undefined${current}`, {baseline: baseline.value})
    }
    const relativeBound = baseline.value * (1 + pct / 100)
    effectiveThreshold = Math.min(spec.threshold, relativeBound)
    extra.baseline = baseline.value
    extra.changePct = ((value - baseline.value) * 100) / baseline.value
    baselineNote = ` (baseline ${withUnit(baseline.value, unit)} +${formatNumber(pct)}% = ${withUnit(relativeBound, unit)}; absolute limit ${withUnit(spec.threshold, unit)}; change ${extra.changePct >= 0 ? '+' : ''}${formatNumber(extra.changePct)}%)`
  }

  const ok = compare(value, spec.operator, effectiveThreshold)
  const needs = `needs ${spec.operator} ${withUnit(effectiveThreshold, unit)}${baselineNote}`
  let reason: string
  if (isFleet) {
    const failing = failingHosts ?? []
    reason = `${spec.id}: ${failing.length} of ${samples} host(s) failing (${withUnit(value, '%')}), ${needs}`
    if (failing.length > 0) reason += `; failing: ${failing.join(', ')}`
  } else {
    reason = `${what} = ${withUnit(value, unit)}, ${needs} (${samples} sample(s))`
  }
  return done(ok ? 'pass' : 'fail', reason, {...extra, effectiveThreshold})
}
