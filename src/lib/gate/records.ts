/**
 * The human and operational evidence of the state store, shaped for the records metric source,
 * plus the two records metrics only the state store can answer:
 *   last_validation_passed           1 if the last finished validation run of the phase passed, else 0
 *   last_rehearsal_within_objective  with params {kind, objective}: the latest rollback or rehearsal of
 *                                    that kind succeeded within the objective (the gate's, if it gives one)
 *
 * Contracts with the commands that write these records:
 * - `phase validate` records a run with kind VALIDATION_RUN_KIND ('validate'), the phase, and
 *   outcome 'pass' when every required check passed.
 * - `rollback` records kind 'flag' | 'git' | ... for a real rollback, and `<kind>-rehearsal`
 *   (e.g. 'git-rehearsal') for a rehearsal. A real rollback within its objective also proves the
 *   procedure works, so both count as "rehearsed"; only real ones count as "rollbacks in phase".
 * - `feedback add --active-users N` appends a trail record of kind ACTIVE_USERS_KIND; the latest
 *   one is the denominator of the complaint ratio.
 */
import type {Measurement, MeasureSpec} from '../evaluate/types.js'
import type {FeedbackRecord, IncidentRecord, RecordsInput, RehearsalRecord, RollbackRecord} from '../sources/records.js'
import {RecordsSource} from '../sources/records.js'
import {errorMeasurement, windowOf} from '../sources/types.js'
import type {StateStore} from '../state/store.js'
import type {RunRecord, RollbackRecord as StoredRollback} from '../state/types.js'
import {parseDuration} from '../util/duration.js'

export const VALIDATION_RUN_KIND = 'validate'
export const ACTIVE_USERS_KIND = 'feedback.active_users'
export const REHEARSAL_SUFFIX = '-rehearsal'

export function isRehearsal(kind: string): boolean {
  return kind.endsWith(REHEARSAL_SUFFIX)
}

/** The rollback kind a record belongs to: 'git-rehearsal' -> 'git'. */
export function rollbackKindOf(kind: string): string {
  return isRehearsal(kind) ? kind.slice(0, -REHEARSAL_SUFFIX.length) : kind
}

/** Everything the records source may need, read once per gate evaluation. */
export function recordsInputFromState(state: StateStore): RecordsInput {
  const incidents: IncidentRecord[] = state.listIncidents().map((i) => ({id: i.id, severity: i.severity, title: i.title, opened_at: i.ts, resolved_at: i.resolvedAt}))
  const feedback: FeedbackRecord[] = state.listFeedback().map((f) => ({user: f.user, sentiment: f.sentiment, at: f.ts}))
  const approvals = state.listApprovals().map((a) => ({by: a.by, at: a.ts, ...(a.evaluationHash ? {evaluationHash: a.evaluationHash} : {})}))
  const stored = state.listRollbacks({limit: 10_000})
  const rollbacks: RollbackRecord[] = stored.filter((r) => !isRehearsal(r.kind)).map((r) => ({at: r.ts, kind: r.kind}))
  const rehearsals: RehearsalRecord[] = stored.map((r) => toRehearsal(r))
  const activeUsers = latestActiveUsers(state)
  return {incidents, feedback, approvals, rollbacks, rehearsals, ...(activeUsers === null ? {} : {activeUsers})}
}

function toRehearsal(r: StoredRollback, objectiveMs?: number): RehearsalRecord {
  const objective = objectiveMs ?? r.objectiveMs ?? Number.POSITIVE_INFINITY
  return {at: r.ts, duration_ms: r.totalMs ?? Number.POSITIVE_INFINITY, objective_ms: objective, ok: r.outcome === 'success'}
}

/** The latest `--active-users` figure recorded with feedback, or null. */
export function latestActiveUsers(state: StateStore): number | null {
  const records = state.listTrail({kind: ACTIVE_USERS_KIND})
  const last = records[records.length - 1]
  const value = (last?.payload as {active_users?: unknown} | undefined)?.active_users
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null
}

export interface RecordsMeasureOptions {
  params?: Record<string, unknown>
}

/** Measure a records criterion against the state store (never throws). */
export function measureRecords(state: StateStore, input: RecordsInput, spec: MeasureSpec, now: Date, opts: RecordsMeasureOptions = {}): Measurement {
  const params = opts.params ?? {}
  if (spec.metric === 'last_validation_passed') return measureLastValidation(state, spec, now, params)
  if (spec.metric === 'last_rehearsal_within_objective' && (params.kind !== undefined || params.objective !== undefined)) {
    const kind = typeof params.kind === 'string' ? params.kind : undefined
    let objectiveMs: number | undefined
    if (params.objective !== undefined) {
      try {
        objectiveMs = parseDuration(String(params.objective), {bareSeconds: true, what: `${spec.id}: params.objective`})
      } catch (error) {
        return errorMeasurement(spec, now, (error as Error).message)
      }
    }
    const rehearsals = state
      .listRollbacks({limit: 10_000})
      .filter((r) => kind === undefined || rollbackKindOf(r.kind) === kind)
      .map((r) => toRehearsal(r, objectiveMs))
    const m = new RecordsSource({...input, rehearsals}).measureSync(spec, now)
    return {...m, detail: {...m.detail, ...(kind ? {kind} : {}), ...(objectiveMs === undefined ? {} : {objective_ms: objectiveMs})}}
  }
  return new RecordsSource(input).measureSync(spec, now)
}

/**
 * "All success criteria met": the latest validation of the phase's whole checklist that finished in
 * the window (for `window: phase`, after the phase was entered) decides, 1 if every required check
 * passed. Partial runs (`--check`) and runs recorded before runs carried their scope never count.
 */
function measureLastValidation(state: StateStore, spec: MeasureSpec, now: Date, params: Record<string, unknown>): Measurement {
  const phase = Number(params.phase)
  if (!Number.isInteger(phase)) {
    return errorMeasurement(spec, now, `${spec.id}: last_validation_passed needs params.phase (the phase whose validation counts)`)
  }
  const window = windowOf(spec, now)
  const inWindow = (r: RunRecord) => r.finishedAt !== null && Date.parse(r.finishedAt) >= window.start.getTime() && Date.parse(r.finishedAt) <= window.end.getTime()
  const runs = state.listRuns<{scope?: {complete?: unknown}}>({kind: VALIDATION_RUN_KIND, phase, limit: 10_000}).filter(inWindow)
  // listRuns is newest first by start; the newest finished decides.
  runs.sort((a, b) => Date.parse(b.finishedAt!) - Date.parse(a.finishedAt!))
  const complete = runs.find((r) => r.results?.scope?.complete === true)
  const partialSince = runs.filter((r) => r.results?.scope?.complete !== true && (!complete || Date.parse(r.finishedAt!) > Date.parse(complete.finishedAt!))).length
  const common = {criterionId: spec.id, windowStart: window.start.toISOString(), windowEnd: window.end.toISOString(), windowElapsed: true}
  if (!complete) {
    // Never validated whole (in this window): nothing to rest "all success criteria met" on.
    const partial = partialSince > 0 ? `; ${partialSince} partial run(s) (--check) do not count` : ''
    return {...common, value: null, samples: 0, detail: {phase, partial_runs: partialSince, reason: `no finished validation of the whole phase ${phase} checklist in the window${partial}; run: cutover phase validate --phase ${phase}`}}
  }
  return {...common, value: complete.outcome === 'pass' ? 1 : 0, samples: 1, detail: {phase, run_id: complete.id, finished_at: complete.finishedAt, outcome: complete.outcome, complete: true, partial_runs_since: partialSince}}
}
