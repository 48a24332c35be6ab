/**
 * Playbook criteria -> the evaluator's CriterionSpec, with the window resolved.
 * `window: phase` means "since the current phase began" (the phase state's `since`); without a
 * phase state, or when the gate does not leave the current phase, it means "everything recorded".
 */
import {formatDuration} from '../util/duration.js'
import type {CriterionSpec, SourceName} from '../evaluate/types.js'
import type {Criterion, Gate, Playbook, Unit} from '../playbook/types.js'
import type {PhaseState} from '../state/types.js'

/** A playbook unit as shown next to a value (`count` and `ratio` have none). */
export const UNIT_TEXT: Record<Unit, string | undefined> = {percent: '%', ms: 'ms', s: 's', count: undefined, usd: 'USD', rps: 'req/s', ratio: undefined}

export interface ResolvedWindow {
  /** Duration string the sources understand. */
  duration: string
  /** As written in the playbook ('phase' or a duration). */
  asWritten: string
  /** For 'phase': where it starts and why. */
  phaseStart?: string
  note?: string
  /** Set for `anchor: phase_entry`: how much of the window the phase has held so far. */
  anchor?: AnchorState
}

export interface AnchorState {
  /** The window as written, which must lie wholly inside the phase. */
  requiredMs: number
  /** The phase's latest entry, or null when the target is not in the gate's phase. */
  entry: string | null
  /** How the entry is known: recorded by cutover, or (phase 1 with nothing recorded) the store's first record. */
  entrySource: 'recorded' | 'first_record' | null
  elapsedMs: number
  met: boolean
  /** Why the window is not met yet, for the criterion's reason. */
  why?: string
}

export function resolveWindow(window: string, gate: Pick<Gate, 'from'>, phase: PhaseState | null, now: Date): ResolvedWindow {
  if (window !== 'phase') return {duration: window, asWritten: window}
  if (phase && phase.phase === gate.from) {
    const ms = Math.max(1, now.getTime() - Date.parse(phase.since))
    return {duration: formatDuration(ms), asWritten: 'phase', phaseStart: phase.since}
  }
  const note = phase
    ? `the current phase is ${phase.phase}, not ${gate.from}, so 'phase' covers everything recorded`
    : `no phase is recorded in the state store yet, so 'phase' covers everything recorded`
  return {duration: formatDuration(Math.max(1, now.getTime())), asWritten: 'phase', phaseStart: new Date(0).toISOString(), note}
}

/** A measurable criterion for the evaluator. Source 'check' has no evaluator source: the caller reports it as an error. */
export function toCriterionSpec(criterion: Criterion, window: ResolvedWindow): CriterionSpec {
  const unit = UNIT_TEXT[criterion.unit]
  return {
    id: criterion.id,
    title: criterion.title,
    source: criterion.source as SourceName,
    metric: criterion.metric,
    statistic: criterion.statistic,
    window: window.duration,
    operator: criterion.operator,
    threshold: criterion.threshold,
    ...(unit ? {unit} : {}),
    min_samples: criterion.min_samples,
    key: criterion.key,
    ...(criterion.relative_to_baseline?.max_increase_pct === undefined ? {} : {relative_to_baseline: {max_increase_pct: criterion.relative_to_baseline.max_increase_pct}}),
    ...(criterion.min_hosts === undefined ? {} : {min_hosts: criterion.min_hosts}),
  }
}

/** The gate leaving `from` (to `to`, if given). */
export function findGate(playbook: Playbook, from: number, to?: number): Gate | undefined {
  return playbook.gates.find((g) => g.from === from && (to === undefined || g.to === to))
}

/** The key a baseline value is stored under for a metric: `<source>:<metric>:<statistic>`. */
export function baselineKey(m: {source: string; metric: string; statistic?: string}): string {
  return `${m.source}:${m.metric}:${m.statistic ?? 'last'}`
}
