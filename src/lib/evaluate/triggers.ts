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
 * No data / no baseline -> 'none' with status 'inconclusive'. A source error -> 'alert'
 * with status 'error': an outage of the measurement must reach a human, but never rolls
 * back on its own.
 */
import {compare, formatNumber, withUnit} from './criterion.js'
import type {Baseline, DegradationBands, Measurement, RollbackTriggerSpec, TriggerBand, TriggerDecision} from './types.js'

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
  const inconclusive = (reason: string, extra: Partial<TriggerDecision> = {}): TriggerDecision => ({
    ...common, band: 'none', decision: 'none', status: 'inconclusive', reason: `${trigger.id}: ${reason}`, ...extra,
  })
  if (!measurement) return inconclusive('no measurement was taken')
  if (measurement.error !== undefined) {
    return {...common, band: 'none', decision: 'alert', status: 'error', reason: `${trigger.id}: could not measure (${measurement.error}); a human must check`}
  }
  const minSamples = trigger.min_samples ?? 1
  if (measurement.samples < minSamples) return inconclusive(`${measurement.samples} sample(s), at least ${minSamples} needed`)
  const value = measurement.value
  if (value === null || Number.isNaN(value)) return inconclusive('no data in the window')

  if (trigger.bands) {
    const base = baselineValueOf(baseline)
    if (base === null) return inconclusive('no pinned baseline to compare with', {baseline: null})
    if (base <= 0) return inconclusive(`the pinned baseline is ${formatNumber(base)}, so a degradation is undefined`, {baseline: base})
    const pct = degradationPct(value, base, trigger.worse_when ?? 'higher')
    const band = bandForDegradation(pct, trigger.bands)
    const b = trigger.bands
    const reason =
      `${trigger.id}: ${withUnit(value, trigger.unit)} vs baseline ${withUnit(base, trigger.unit)} = ` +
      `${formatNumber(pct)}% degradation -> ${band} (none < ${formatNumber(b.no_action_below)}% <= alert <= ${formatNumber(b.rollback_above)}% < rollback)`
    return {...common, baseline: base, degradationPct: pct, band, decision: band, status: 'evaluated', reason}
  }

  const tripped = compare(value, trigger.operator, trigger.threshold)
  const band: TriggerBand = tripped ? trigger.action : 'none'
  const reason = `${trigger.id}: ${withUnit(value, trigger.unit)} ${tripped ? '' : 'not '}${trigger.operator} ${withUnit(trigger.threshold, trigger.unit)} -> ${band}`
  return {...common, band, decision: band, status: 'evaluated', reason}
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
