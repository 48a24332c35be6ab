/**
 * Human evidence as a metric source: incidents, feedback, approvals, rollbacks and
 * rollback rehearsals, passed in as plain arrays (the state store owns them).
 *
 * Metrics:
 *   open_critical_incidents | open_major_incidents | open_minor_incidents | open_incidents
 *       incidents (of that severity) opened at or before now and not resolved by now
 *   critical_incidents       critical incidents opened within the window, resolved or not
 *   negative_feedback_ratio  users whose latest feedback in the window is negative / active users * 100
 *   complaint_ratio          same as negative_feedback_ratio ("complaints exceed 10% of active users")
 *   positive_feedback_ratio  users whose latest feedback in the window is positive / users who gave feedback * 100
 *   feedback_responses       users who gave feedback in the window
 *   rollbacks_in_phase       rollbacks (not rehearsals) within the window; pass only this phase's rollbacks
 *   approvals                approvals within the window
 *   last_rehearsal_within_objective
 *                            1 if the latest rehearsal within the window succeeded within its objective, else 0
 *                            (missing rehearsal = 0: "not rehearsed" fails, it is not "no data")
 * A count read from the record store is a complete answer: samples = 1 even when it is 0.
 * Ratios have samples = their denominator; with no users they are no data (inconclusive).
 * Active users: `activeUsers` if given, else the number of users who gave feedback.
 */
import {percentOf, toEpochMs} from '../evaluate/stats.js'
import type {Measurement, MeasureSpec} from '../evaluate/types.js'
import {type MetricSource, errorMeasurement, windowOf} from './types.js'

export type Timestamp = string | number | Date
export type Severity = 'critical' | 'major' | 'minor'

export interface IncidentRecord {
  id?: string | number
  severity: Severity
  title?: string
  opened_at: Timestamp
  resolved_at?: Timestamp | null
}

export interface FeedbackRecord {
  user: string
  sentiment: 'positive' | 'negative'
  at: Timestamp
}

export interface ApprovalRecord {
  by: string
  at: Timestamp
  evaluationHash?: string
}

export interface RollbackRecord {
  at: Timestamp
  kind?: string
}

export interface RehearsalRecord {
  at: Timestamp
  duration_ms: number
  objective_ms: number
  /** Build and tests of the rehearsal passed. */
  ok: boolean
}

export interface RecordsInput {
  incidents?: readonly IncidentRecord[]
  feedback?: readonly FeedbackRecord[]
  approvals?: readonly ApprovalRecord[]
  rollbacks?: readonly RollbackRecord[]
  rehearsals?: readonly RehearsalRecord[]
  /** Active users in the window, the denominator of the complaint ratio. */
  activeUsers?: number
}

type Result = {value: number | null; samples: number; detail?: Record<string, unknown>}
type Window = {start: number; end: number}

export const RECORD_METRICS: readonly string[] = [
  'approvals',
  'complaint_ratio',
  'critical_incidents',
  'feedback_responses',
  'last_rehearsal_within_objective',
  'negative_feedback_ratio',
  'open_critical_incidents',
  'open_incidents',
  'open_major_incidents',
  'open_minor_incidents',
  'positive_feedback_ratio',
  'rollbacks_in_phase',
]

class MissingRecords extends Error {}

function need<T>(list: readonly T[] | undefined, name: string): readonly T[] {
  if (!list) throw new MissingRecords(`no ${name} records were provided to the records source`)
  return list
}

function within(ts: Timestamp, w: Window): boolean {
  const t = toEpochMs(ts)
  return t >= w.start && t <= w.end
}

function openIncidents(input: RecordsInput, w: Window, severity?: Severity): Result {
  const open = need(input.incidents, 'incident').filter(
    (i) =>
      (severity === undefined || i.severity === severity) &&
      toEpochMs(i.opened_at) <= w.end &&
      (i.resolved_at === undefined || i.resolved_at === null || toEpochMs(i.resolved_at) > w.end),
  )
  return {value: open.length, samples: 1, detail: {open: open.map((i) => ({id: i.id, severity: i.severity, title: i.title}))}}
}

function latestSentiments(input: RecordsInput, w: Window): Map<string, FeedbackRecord['sentiment']> {
  const latest = new Map<string, {t: number; sentiment: FeedbackRecord['sentiment']}>()
  for (const f of need(input.feedback, 'feedback')) {
    const t = toEpochMs(f.at)
    if (t < w.start || t > w.end) continue
    const prev = latest.get(f.user)
    if (!prev || t >= prev.t) latest.set(f.user, {t, sentiment: f.sentiment})
  }
  return new Map([...latest].map(([u, v]) => [u, v.sentiment]))
}

function negativeRatio(input: RecordsInput, w: Window): Result {
  const users = latestSentiments(input, w)
  const negative = [...users.values()].filter((s) => s === 'negative').length
  const active = input.activeUsers ?? users.size
  if (active < users.size) {
    throw new MissingRecords(`activeUsers (${active}) is smaller than the ${users.size} users who gave feedback in the window`)
  }
  return {value: percentOf(negative, active), samples: active, detail: {negativeUsers: negative, activeUsers: active, activeUsersFrom: input.activeUsers === undefined ? 'feedback' : 'input'}}
}

const METRICS: Record<string, (input: RecordsInput, w: Window) => Result> = {
  open_critical_incidents: (i, w) => openIncidents(i, w, 'critical'),
  open_major_incidents: (i, w) => openIncidents(i, w, 'major'),
  open_minor_incidents: (i, w) => openIncidents(i, w, 'minor'),
  open_incidents: (i, w) => openIncidents(i, w),
  critical_incidents: (i, w) => {
    const found = need(i.incidents, 'incident').filter((x) => x.severity === 'critical' && within(x.opened_at, w))
    return {value: found.length, samples: 1, detail: {incidents: found.map((x) => ({id: x.id, title: x.title}))}}
  },
  negative_feedback_ratio: negativeRatio,
  complaint_ratio: negativeRatio,
  positive_feedback_ratio: (i, w) => {
    const users = latestSentiments(i, w)
    const positive = [...users.values()].filter((s) => s === 'positive').length
    return {value: percentOf(positive, users.size), samples: users.size, detail: {positiveUsers: positive, respondents: users.size}}
  },
  feedback_responses: (i, w) => ({value: latestSentiments(i, w).size, samples: 1}),
  rollbacks_in_phase: (i, w) => {
    const found = need(i.rollbacks, 'rollback').filter((r) => within(r.at, w))
    return {value: found.length, samples: 1, detail: {rollbacks: found.map((r) => ({at: new Date(toEpochMs(r.at)).toISOString(), kind: r.kind}))}}
  },
  approvals: (i, w) => {
    const found = need(i.approvals, 'approval').filter((a) => within(a.at, w))
    return {value: found.length, samples: 1, detail: {by: found.map((a) => a.by)}}
  },
  last_rehearsal_within_objective: (i, w) => {
    const inWindow = need(i.rehearsals, 'rehearsal')
      .filter((r) => within(r.at, w))
      .sort((a, b) => toEpochMs(a.at) - toEpochMs(b.at))
    const last = inWindow[inWindow.length - 1]
    if (!last) return {value: 0, samples: 1, detail: {reason: 'no rollback rehearsal in the window'}}
    const ok = last.ok && last.duration_ms <= last.objective_ms
    return {
      value: ok ? 1 : 0,
      samples: 1,
      detail: {at: new Date(toEpochMs(last.at)).toISOString(), duration_ms: last.duration_ms, objective_ms: last.objective_ms, ok: last.ok},
    }
  },
}

export class RecordsSource implements MetricSource {
  constructor(private readonly input: RecordsInput) {}

  /** Never throws: failures come back as a Measurement with `error`. */
  async measure(spec: MeasureSpec, now: Date): Promise<Measurement> {
    return this.measureSync(spec, now)
  }

  measureSync(spec: MeasureSpec, now: Date): Measurement {
    const compute = METRICS[spec.metric]
    if (!compute) return errorMeasurement(spec, now, `unknown records metric '${spec.metric}'; known: ${RECORD_METRICS.join(', ')}`)
    try {
      const window = windowOf(spec, now)
      const result = compute(this.input, {start: window.start.getTime(), end: window.end.getTime()})
      return {
        criterionId: spec.id,
        value: result.value,
        samples: result.samples,
        windowStart: window.start.toISOString(),
        windowEnd: window.end.toISOString(),
        windowElapsed: true,
        ...(result.detail ? {detail: result.detail} : {}),
      }
    } catch (error) {
      return errorMeasurement(spec, now, (error as Error).message)
    }
  }
}
