/**
 * Rollback triggers (the plan's "Rollback Decision Criteria").
 *
 * Banded triggers compare with the pinned baseline. With the plan's bands
 * ("do NOT rollback for < 25 %", "rollback if > 50 %"):
 *   degradation <  25 %          -> none
 *   25 % <= degradation <= 50 %  -> alert (a human decides)
 *   degradation >  50 %          -> rollback
 * Both boundaries (exactly 25 % and exactly 50 %) fall in the alert band: neither is
 * "< 25 %" nor "> 50 %". Anything between no_action_below and rollback_above is alert,
 * even if alert_between is narrower, so a mis-set band can only err towards a human.
 *
 * Plain triggers fire when `value <operator> threshold` and then ask for their action.
 * The evidence is judged by evaluateCriterion, the gates' path, with the same rules: too few
 * hosts (min_hosts) or samples (min_samples), untrusted evidence, no data or no baseline ->
 * 'none' with status 'inconclusive'. A source error -> 'alert' with status 'error': an outage
 * of the measurement must reach a human (watch exits 4), but never rolls back on its own.
 */
import {compare, evaluateCriterion, formatNumber, withUnit} from './criterion.js'
import type {Baseline, CriterionSpec, DegradationBands, Measurement, RollbackTriggerSpec, TriggerBand, TriggerDecision} from './types.js'

export const PLAN_DEGRADATION_BANDS: DegradationBands = {
  no_action_below: 25,
  alert_between: [25, 50],
  rollback_above: 50,
}

/** Degradation in percent of the baseline; positive = worse. */
export function degradationPct(currentValue: number, baselineValue: number, worseWhen: 'higher' | 'lower' = 'higher'): number {
  if (!Number.isFinite(baselineValue) || baselineValue <= 0) {
    throw new RangeError(`baseline must be a positive number to compute a degradation, got ${baselineValue}`)
  }
  if (!Number.isFinite(currentValue)) throw new RangeError(`current value must be a finite number, got ${currentValue}`)
  const delta = worseWhen === 'higher' ? currentValue - baselineValue : baselineValue - currentValue
  return (delta * 100) / baselineValue
}

export function bandForDegradation(pct: number, bands: DegradationBands = PLAN_DEGRADATION_BANDS): TriggerBand {
  if (pct < bands.no_action_below) return 'none'
  if (pct > bands.rollback_above) return 'rollback'
  return 'alert'
}

export function classifyDegradation(
  currentValue: number,
  baselineValue: number,
  bands: DegradationBands = PLAN_DEGRADATION_BANDS,
  worseWhen: 'higher' | 'lower' = 'higher',
): TriggerBand {
  return bandForDegradation(degradationPct(currentValue, baselineValue, worseWhen), bands)
}

function baselineValueOf(b: Baseline | number | undefined | null): number | null {
  if (b === undefined || b === null) return null
  const v = typeof b === 'number' ? b : b.value
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

/** The gate criterion a trigger's evidence is judged as: the same rules (min_hosts, min_samples, untrusted evidence, no value). */
export function triggerCriterionSpec(trigger: RollbackTriggerSpec): CriterionSpec {
  const unit = trigger.bands ? (trigger.value_unit ?? trigger.unit) : trigger.unit
  return {
    id: trigger.id,
    title: trigger.title,
    source: trigger.source,
    metric: trigger.metric,
    statistic: trigger.statistic ?? 'last',
    window: trigger.window ?? '15m',
    operator: trigger.bands ? '>' : trigger.operator,
    threshold: trigger.bands ? trigger.bands.rollback_above : trigger.threshold,
    ...(unit ? {unit} : {}),
    min_samples: trigger.min_samples ?? 1,
    ...(trigger.min_hosts === undefined ? {} : {min_hosts: trigger.min_hosts}),
    key: true,
  }
}

/**
 * One trigger: first the evidence, exactly as a gate criterion (evaluateCriterion, one path): a source
 * error is 'error' (alerts a human, never rolls back); too few hosts or samples, untrusted evidence or
 * no value is 'inconclusive' (no action). Only then the trigger's own rule: the bands against the
 * pinned baseline, or `value <operator> threshold` -> its action. Unlike a gate, a trigger judges the
 * data of an unfinished window (it must protect the first hour after a cutover too).
 */
export function evaluateTrigger(trigger: RollbackTriggerSpec, measurement: Measurement | undefined, baseline?: Baseline | number | null): TriggerDecision {
  const threshold = trigger.bands ? trigger.bands.rollback_above : trigger.threshold
  const common = {
    id: trigger.id,
    title: trigger.title,
    threshold,
    operator: trigger.bands ? ('>' as const) : trigger.operator,
    value: measurement?.value ?? null,
    samples: measurement?.samples ?? 0,
    ...(measurement ? {windowStart: measurement.windowStart, windowEnd: measurement.windowEnd} : {}),
  }
  if (!measurement) return {...common, band: 'none', decision: 'none', status: 'inconclusive', reason: `${trigger.id}: no measurement was taken`}
  const evidence = evaluateCriterion(triggerCriterionSpec(trigger), {...measurement, criterionId: trigger.id}, null, {requireFullWindow: false})
  const judged = {...common, value: evidence.value, samples: evidence.samples, ...(evidence.hosts ? {hosts: evidence.hosts, failingHosts: evidence.failingHosts ?? []} : {})}
  if (evidence.outcome === 'error') {
    return {...judged, band: 'none', decision: 'alert', status: 'error', reason: `${evidence.reason}; the trigger could not be evaluated, a human must check`}
  }
  if (evidence.outcome === 'inconclusive') return {...judged, band: 'none', decision: 'none', status: 'inconclusive', reason: `${evidence.reason} -> inconclusive, no action`}
  const value = evidence.value as number

  if (trigger.bands) {
    const unit = trigger.value_unit ?? trigger.unit
    const base = baselineValueOf(baseline)
    const inconclusive = (reason: string, b: number | null): TriggerDecision => ({...judged, baseline: b, band: 'none', decision: 'none', status: 'inconclusive', reason: `${trigger.id}: ${withUnit(value, unit)}; ${reason} -> inconclusive, no action`})
    if (base === null) return inconclusive('no pinned baseline to compare with', null)
    if (base <= 0) return inconclusive(`the pinned baseline is ${formatNumber(base)}, so a degradation is undefined`, base)
    const pct = degradationPct(value, base, trigger.worse_when ?? 'higher')
    const band = bandForDegradation(pct, trigger.bands)
    const b = trigger.bands
    const reason =
      `${trigger.id}: ${withUnit(value, unit)} vs baseline ${withUnit(base, unit)} = ` +
      `${pct >= 0 ? '+' : ''}${formatNumber(pct)}% degradation -> ${band} (none < ${formatNumber(b.no_action_below)}% <= alert <= ${formatNumber(b.rollback_above)}% < rollback${trigger.worse_when === 'lower' ? '; lower is worse' : ''})`
    return {...judged, baseline: base, degradationPct: pct, band, decision: band, status: 'evaluated', reason}
  }

  const tripped = compare(value, trigger.operator, trigger.threshold)
  const band: TriggerBand = tripped ? trigger.action : 'none'
  const unit = evidence.unit
  const measured = evidence.hosts
    ? `${evidence.failingHosts?.length ?? 0} of ${evidence.hosts.length} host(s) failing (${withUnit(value, '%')})`
    : withUnit(value, unit)
  const evidenceNote = evidence.hosts ? (evidence.failingHosts?.length ? `; failing: ${evidence.failingHosts.join(', ')}` : '') : ` (${evidence.samples} sample(s))`
  const reason = `${trigger.id}: ${measured} ${tripped ? '' : 'not '}${trigger.operator} ${withUnit(trigger.threshold, unit)} -> ${band}${evidenceNote}`
  return {...judged, band, decision: band, status: 'evaluated', reason}
}

/**
 * Evaluate every trigger against its measurement (matched by measurement.criterionId ==
 * trigger.id) and its pinned baseline (baselines[trigger.id]).
 */
export function evaluateTriggers(
  triggers: readonly RollbackTriggerSpec[],
  measurements: readonly Measurement[],
  baselines: Readonly<Record<string, Baseline | number | undefined>> = {},
): TriggerDecision[] {
  const byId = new Map(measurements.map((m) => [m.criterionId, m]))
  return triggers.map((t) => evaluateTrigger(t, byId.get(t.id), baselines[t.id]))
}

/** The most severe decision of a set: rollback > alert > none. */
export function overallDecision(decisions: readonly TriggerDecision[]): TriggerBand {
  if (decisions.some((d) => d.decision === 'rollback')) return 'rollback'
  if (decisions.some((d) => d.decision === 'alert')) return 'alert'
  return 'none'
}
