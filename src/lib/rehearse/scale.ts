/**
 * Time compression for a rehearsal. The plan's clock runs in days (a 2-3 day baseline, 4 days of
 * Phase 2 monitoring, 7-day rehearsal recency); a rehearsal runs the same playbook in about a
 * minute by dividing every plan-time duration by the time scale. The compressed playbook lives in
 * memory only: the playbook file is never rewritten.
 *
 * What is scaled (plan time): gate criterion and rollback trigger windows, phase minimum durations
 * and baseline windows, timeline durations. What is not (wall-clock objectives of real operations,
 * which do not get faster because the calendar is compressed): rollback RTOs, step timeouts,
 * check parameters, the communication templates' send offsets.
 *
 * A compressed window never drops below `minWindowMs`: a 1-hour trigger window at a scale of
 * 21600 would be 167 ms, too short to hold the trigger's minimum number of requests.
 */
import {formatDuration} from '../util/duration.js'
import {ConfigError} from '../errors.js'
import {durationMs} from '../util/duration.js'
import type {Playbook} from '../playbook/types.js'
import {resolutionMinSamples} from '../evaluate/evidence.js'

/** Plan seconds per rehearsal second: one plan day takes 4 s, the happy path about a minute. */
export const DEFAULT_TIME_SCALE = 21_600
/** The shortest compressed window (see the module comment). */
export const DEFAULT_MIN_WINDOW_MS = 5000

export interface ScaledDuration {
  /** Where in the playbook, e.g. `gates[phase-1-to-2].criteria[gateway-uptime].window`. */
  at: string
  planned: string
  compressed: string
  compressedMs: number
  /** True when the floor (minWindowMs) applied. */
  floored: boolean
}

/** A gate criterion whose minimum evidence the compressed window cannot hold: waived, and named. */
export interface WaivedEvidence {
  at: string
  plannedMinSamples: number
  rehearsalMinSamples: number
  waiver: string
}

export interface CompressedPlaybook {
  playbook: Playbook
  timeScale: number
  minWindowMs: number
  durations: ScaledDuration[]
  /** Evidence minimums lowered for the compressed windows (each criterion carries evidence_waiver). */
  waivedEvidence: WaivedEvidence[]
}

/**
 * The samples a compressed window is asked to hold instead of the plan's minimum (1000 health
 * samples in 8 s would need a sample every 8 ms): the monitor samples window / (this + 10).
 */
export const REHEARSAL_MIN_SAMPLES = 30

/** Validate --time-scale: a finite number >= 1. */
export function checkTimeScale(value: number): number {
  if (!Number.isFinite(value) || value < 1) {
    throw new ConfigError(`--time-scale must be a number of at least 1 (plan seconds per rehearsal second), got ${value}`, [`The default is ${DEFAULT_TIME_SCALE} (one plan day takes ${(86_400 / DEFAULT_TIME_SCALE).toFixed(0)} s); for example: cutover rehearse --time-scale 43200`], 'TIME_SCALE_INVALID')
  }
  return value
}

/** `2d` at a scale of 21600 -> 8000 ms (never below the floor); 'phase' and other non-durations stay. */
export function compressDuration(text: string, timeScale: number, minWindowMs: number): {text: string; ms: number; floored: boolean} {
  const ms = durationMs(text)
  const scaled = Math.round(ms / timeScale)
  const floored = scaled < minWindowMs
  const value = floored ? Math.min(minWindowMs, ms) : scaled
  return {text: formatDuration(value), ms: value, floored: floored && value === minWindowMs}
}

/** The playbook with every plan-time duration divided by timeScale (a deep copy; the input is untouched). */
export function compressPlaybook(source: Playbook, timeScale: number, opts: {minWindowMs?: number} = {}): CompressedPlaybook {
  checkTimeScale(timeScale)
  const minWindowMs = opts.minWindowMs ?? DEFAULT_MIN_WINDOW_MS
  const playbook = structuredClone(source)
  const durations: ScaledDuration[] = []
  const scale = (at: string, text: string): string => {
    const c = compressDuration(text, timeScale, minWindowMs)
    durations.push({at, planned: text, compressed: c.text, compressedMs: c.ms, floored: c.floored})
    return c.text
  }
  for (const phase of playbook.phases) {
    const at = `phases[${phase.number}]`
    if (phase.min_duration) phase.min_duration = scale(`${at}.min_duration`, phase.min_duration)
    if (phase.baseline_window) {
      phase.baseline_window.min = scale(`${at}.baseline_window.min`, phase.baseline_window.min)
      phase.baseline_window.max = scale(`${at}.baseline_window.max`, phase.baseline_window.max)
    }
  }
  const waivedEvidence: WaivedEvidence[] = []
  for (const gate of playbook.gates) {
    for (const c of gate.criteria) {
      const at = `gates[${gate.id}].criteria[${c.id}]`
      if (c.window === 'phase') continue
      c.window = scale(`${at}.window`, c.window)
      if (c.min_samples > REHEARSAL_MIN_SAMPLES && resolutionMinSamples(c) !== null) {
        const waiver = `rehearsal: the compressed ${c.window} window cannot hold the plan's ${c.min_samples} samples; ${REHEARSAL_MIN_SAMPLES} accepted`
        waivedEvidence.push({at, plannedMinSamples: c.min_samples, rehearsalMinSamples: REHEARSAL_MIN_SAMPLES, waiver})
        c.min_samples = REHEARSAL_MIN_SAMPLES
        c.evidence_waiver = waiver
      }
    }
  }
  for (const t of playbook.rollback_triggers) if (t.window !== 'phase') t.window = scale(`rollback_triggers[${t.id}].window`, t.window)
  if (playbook.timeline) {
    playbook.timeline.total_duration = scale('timeline.total_duration', playbook.timeline.total_duration)
    for (const week of playbook.timeline.weeks) for (const item of week.items) if (item.duration) item.duration = scale(`timeline.week${week.week}[${item.days}].duration`, item.duration)
  }
  return {playbook, timeScale, minWindowMs, durations, waivedEvidence}
}

/** The compressed length of the first gate criterion window of `gateId`/`criterionId`, in ms. */
export function windowMs(compressed: CompressedPlaybook, gateFrom: number, criterionId: string): number | null {
  const gate = compressed.playbook.gates.find((g) => g.from === gateFrom)
  const c = gate?.criteria.find((x) => x.id === criterionId)
  if (!c || c.window === 'phase') return null
  return durationMs(c.window)
}
