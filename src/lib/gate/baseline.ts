/**
 * Pin the baseline when a phase completes (the advance calls this before moving on): every metric
 * that a later criterion or rollback trigger compares against a baseline (`relative_to_baseline`,
 * banded triggers) is measured over the completed phase's baseline window and stored under
 * baselineKey(source, metric, statistic). gonogo and the trigger watcher read state.latestBaseline().
 */
import type {MeasureSpec, Statistic} from '../evaluate/types.js'
import type {Measurement as PlaybookMeasurement, Playbook} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import type {BaselineRecord} from '../state/types.js'
import type {Target} from '../target/target.js'
import {baselineKey, resolveWindow} from './criteria.js'
import {measure} from './measure.js'
import {recordsInputFromState} from './records.js'

export interface PinBaselineOptions {
  state: StateStore
  target: Target
  playbook: Playbook
  /** The phase that completed. */
  phase: number
  prometheusUrl?: string
  now?: Date
}

export interface PinnedMetric {
  key: string
  value: number
  samples: number
  window: string
}

export interface PinBaselineResult {
  /** null when no baseline metric could be measured (nothing pinned). */
  baseline: BaselineRecord | null
  pinned: PinnedMetric[]
  skipped: {key: string; reason: string}[]
}

/** The metrics the playbook compares against a baseline, by baseline key. */
export function baselineMetrics(playbook: Playbook): Map<string, PlaybookMeasurement & {id: string}> {
  const out = new Map<string, PlaybookMeasurement & {id: string}>()
  for (const gate of playbook.gates) for (const c of gate.criteria) if (c.relative_to_baseline) out.set(baselineKey(c), c)
  for (const t of playbook.rollback_triggers) if (t.bands) out.set(baselineKey(t), t)
  return out
}

export async function pinBaseline(opts: PinBaselineOptions): Promise<PinBaselineResult> {
  const now = opts.now ?? new Date()
  const {state, playbook, phase} = opts
  const phaseDef = playbook.phases.find((p) => p.number === phase)
  const phaseState = state.getPhase()
  const pinned: PinnedMetric[] = []
  const skipped: PinBaselineResult['skipped'] = []
  const ctx = {state, target: opts.target, records: recordsInputFromState(state), ...(opts.prometheusUrl ? {prometheusUrl: opts.prometheusUrl} : {})}
  let windowStart: string | undefined
  let samples = 0
  for (const [key, m] of baselineMetrics(playbook)) {
    // The phase's own baseline window if it declares one, else the metric's window.
    const asWritten = phaseDef?.baseline_window?.max ?? m.window
    const window = resolveWindow(asWritten, {from: phase}, phaseState, now)
    const spec: MeasureSpec = {id: `baseline:${key}`, source: m.source as MeasureSpec['source'], metric: m.metric, statistic: m.statistic as Statistic, window: window.duration}
    const result = await measure(ctx, spec, now, {...(m.params ? {params: m.params} : {}), ...(m.host_label ? {hostLabel: m.host_label} : {})})
    if (result.error !== undefined) skipped.push({key, reason: result.error})
    else if (result.value === null || !Number.isFinite(result.value)) skipped.push({key, reason: `no data over ${asWritten} (${result.samples} sample(s))`})
    else if (result.samples < m.min_samples) skipped.push({key, reason: `${result.samples} sample(s) over ${asWritten}, at least ${m.min_samples} needed`})
    else {
      pinned.push({key, value: result.value, samples: result.samples, window: asWritten})
      windowStart = windowStart === undefined || result.windowStart < windowStart ? result.windowStart : windowStart
      samples += result.samples
    }
  }
  if (pinned.length === 0) return {baseline: null, pinned, skipped}
  const baseline = state.pinBaseline({
    phase,
    metrics: Object.fromEntries(pinned.map((p) => [p.key, p.value])),
    ...(windowStart ? {windowStart} : {}),
    windowEnd: now.toISOString(),
    sampleCount: samples,
  })
  return {baseline, pinned, skipped}
}
