/**
 * Evidence anchored to the phase (#11 item 1): a gate may only rest on what happened in the phase
 * it leaves. Two things follow from the playbook:
 * - a criterion with `anchor: phase_entry` ("uptime > 99.9% for 4+ days") counts only once its whole
 *   window lies after the phase's latest entry; until then it is INCONCLUSIVE, whatever its value;
 * - the phase's `min_duration` and its baseline window's `min` are rows of the gate of their own:
 *   INCONCLUSIVE until that much time has passed since the phase was entered.
 * `phase advance` refuses anything but GO without --force --reason, so these hold it too.
 */
import {evaluateCriterion, withUnit} from '../evaluate/criterion.js'
import type {CriterionOutcome} from '../evaluate/types.js'
import type {Criterion, Gate, Playbook} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import {durationMs, formatDuration, formatElapsed} from '../util/duration.js'
import type {AnchorState, ResolvedWindow} from './criteria.js'

export interface PhaseEntry {
  phase: number
  /** ISO time of the phase's latest entry. */
  since: string
  source: 'recorded' | 'first_record'
}

/**
 * When the gate's phase was (last) entered, or null if the target is not in it. Phase 1 with no phase
 * recorded (an installation that never advanced) began with the state store's first record: the
 * first monitor sample or trail record, whichever is earlier.
 */
export function phaseEntryOf(state: StateStore, gate: Pick<Gate, 'from'>): PhaseEntry | null {
  const phase = state.getPhase()
  if (phase) return phase.phase === gate.from ? {phase: phase.phase, since: phase.since, source: 'recorded'} : null
  if (gate.from !== 1) return null
  const firsts = [state.listSamples({limit: 1})[0]?.ts, state.listTrail({limit: 1})[0]?.ts].filter((t) => t !== undefined).map((t) => new Date(t as number | string).getTime())
  if (firsts.length === 0) return null
  return {phase: 1, since: new Date(Math.min(...firsts)).toISOString(), source: 'first_record'}
}

function notInPhase(state: StateStore, gate: Pick<Gate, 'from'>): string {
  const current = state.getPhase()
  return current ? `the target is in phase ${current.phase}, not ${gate.from}: no phase ${gate.from} evidence` : `nothing is recorded yet: phase ${gate.from} has not begun`
}

function anchorState(requiredMs: number, entry: PhaseEntry | null, now: Date, noEntry: string): AnchorState {
  if (!entry) return {requiredMs, entry: null, entrySource: null, elapsedMs: 0, met: false, why: noEntry}
  const elapsedMs = Math.max(0, now.getTime() - Date.parse(entry.since))
  const met = elapsedMs >= requiredMs
  const since = `phase ${entry.phase} ${entry.source === 'recorded' ? 'entered' : 'began (first record)'} at ${entry.since}`
  return {requiredMs, entry: entry.since, entrySource: entry.source, elapsedMs, met, ...(met ? {} : {why: `${since}, ${formatElapsed(elapsedMs)} ago; ${formatElapsed(requiredMs - elapsedMs)} to go`})}
}

/**
 * The window of an anchored criterion: the trailing window once the phase has held it whole, else
 * what the phase has so far (measured, shown, never decisive). Other criteria are returned as given.
 */
export function anchorWindow(criterion: Pick<Criterion, 'window' | 'anchor'>, window: ResolvedWindow, state: StateStore, gate: Pick<Gate, 'from'>, entry: PhaseEntry | null, now: Date): ResolvedWindow {
  if (criterion.anchor !== 'phase_entry' || criterion.window === 'phase') return window
  const requiredMs = durationMs(criterion.window)
  const anchor = anchorState(requiredMs, entry, now, notInPhase(state, gate))
  if (anchor.met || !entry) return {...window, anchor}
  return {...window, duration: formatDuration(Math.max(1, anchor.elapsedMs)), phaseStart: entry.since, anchor}
}

/** An anchored criterion whose window the phase has not held yet is INCONCLUSIVE (an error stays an error). */
export function applyAnchor(o: CriterionOutcome, window: ResolvedWindow, gate: Pick<Gate, 'from'>): CriterionOutcome {
  const a = window.anchor
  if (!a || a.met || o.outcome === 'error') return o
  const current = o.value === null ? '' : ` (so far ${withUnit(o.value, o.unit)})`
  return {...o, outcome: 'inconclusive', reason: `${o.id}: needs ${window.asWritten} wholly inside phase ${gate.from}: ${a.why}${current}`}
}

export interface TimingRow {
  criterion: Criterion
  window: ResolvedWindow
  outcome: CriterionOutcome
}

/**
 * The phase's own timing requirements as gate rows (key, source "records", metric "phase_elapsed"): minimum duration and
 * minimum baseline window. Their value is 1 once met, 0 before: stable, so an approval stays valid.
 */
export function phaseTimingRows(playbook: Playbook, state: StateStore, gate: Pick<Gate, 'from'>, entry: PhaseEntry | null, now: Date): TimingRow[] {
  const phase = playbook.phases.find((p) => p.number === gate.from)
  if (!phase) return []
  const wanted: Array<{id: string; title: string; duration: string; plan_ref: string}> = []
  if (phase.min_duration) wanted.push({id: 'phase-min-duration', title: `Phase ${phase.number} has lasted its minimum duration (${phase.min_duration})`, duration: phase.min_duration, plan_ref: `phases[${phase.number}].min_duration`})
  if (phase.baseline_window) wanted.push({id: 'baseline-window-min', title: `The baseline window has run its minimum (${phase.baseline_window.min})`, duration: phase.baseline_window.min, plan_ref: phase.baseline_window.plan_ref})
  return wanted.map((w) => {
    const anchor = anchorState(durationMs(w.duration), entry, now, notInPhase(state, gate))
    const criterion: Criterion = {id: w.id, title: w.title, source: 'records', metric: 'phase_elapsed', statistic: 'last', window: w.duration, operator: '>=', threshold: 1, unit: 'count', min_samples: 1, key: true, plan_ref: w.plan_ref}
    const window: ResolvedWindow = {duration: w.duration, asWritten: w.duration, ...(entry ? {phaseStart: entry.since} : {}), anchor}
    const start = entry?.since ?? now.toISOString()
    const measured = evaluateCriterion(
      {id: w.id, title: w.title, source: 'records', metric: 'phase_elapsed', statistic: 'last', window: formatDuration(Math.max(1, anchor.elapsedMs)), operator: '>=', threshold: 1, min_samples: 1, key: true},
      {criterionId: w.id, value: anchor.met ? 1 : 0, samples: entry ? 1 : 0, windowStart: start, windowEnd: now.toISOString(), windowElapsed: true, detail: {required: w.duration, elapsed_ms: anchor.elapsedMs, entry: anchor.entry, entry_source: anchor.entrySource}},
    )
    const outcome: CriterionOutcome = anchor.met
      ? {...measured, reason: `${w.id}: phase ${gate.from} has run ${formatElapsed(anchor.elapsedMs)} since ${anchor.entry} (at least ${w.duration})`}
      : {...measured, outcome: 'inconclusive', reason: `${w.id}: needs ${w.duration} of phase ${gate.from}: ${anchor.why}`}
    return {criterion, window, outcome}
  })
}
