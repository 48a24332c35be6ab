/** Records of the state store, as returned by StateStore (timestamps are ISO 8601 strings unless named *Ms). */

export interface PhaseState {
  phase: number
  since: string
  reason: string | null
  actor: string
}

export interface RunRecord<R = unknown> {
  id: string
  kind: string
  phase: number | null
  startedAt: string
  finishedAt: string | null
  outcome: string | null
  results: R
  actor: string
}

export interface SampleRecord<M = Record<string, unknown>> {
  id: number
  /** epoch milliseconds */
  ts: number
  source: string
  metrics: M
}

export interface EvaluationRecord<I = unknown> {
  id: string
  ts: string
  from: number
  to: number
  verdict: string
  inputs: I
  /** sha256 of the canonical JSON of {from, to, verdict, inputs}: what an approval refers to. */
  evidenceHash: string
  actor: string
}

export interface ApprovalRecord {
  id: number
  ts: string
  phase: number
  by: string
  reason: string | null
  evaluationId: string | null
  evaluationHash: string | null
}

export const INCIDENT_SEVERITIES = ['critical', 'major', 'minor'] as const
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number]

export interface IncidentRecord {
  id: number
  ts: string
  severity: IncidentSeverity
  title: string
  detail: string | null
  author: string
  resolvedAt: string | null
  resolvedBy: string | null
  resolution: string | null
}

export const SENTIMENTS = ['positive', 'negative'] as const
export type Sentiment = (typeof SENTIMENTS)[number]

export interface FeedbackRecord {
  id: number
  ts: string
  user: string
  sentiment: Sentiment
  comment: string | null
  author: string
}

export interface BaselineRecord {
  id: number
  pinnedAt: string
  phase: number
  windowStart: string | null
  windowEnd: string | null
  sampleCount: number | null
  metrics: Record<string, number>
  actor: string
}

export const OPERATION_STATES = ['running', 'done', 'failed', 'rolled_back'] as const
export type OperationState = (typeof OPERATION_STATES)[number]
export const STEP_STATES = ['planned', 'running', 'done', 'failed', 'rolled_back'] as const
export type StepState = (typeof STEP_STATES)[number]

export interface OperationRecord<P = unknown> {
  id: string
  kind: string
  params: P
  state: OperationState
  startedAt: string
  finishedAt: string | null
  actor: string
  detail: unknown
}

export interface JournalStep {
  operationId: string
  index: number
  name: string
  state: StepState
  plannedAt: string
  startedAt: string | null
  finishedAt: string | null
  detail: unknown
}

/** An operation that was started and not finished: what the next invocation must resume or roll back. */
export interface PendingOperation<P = unknown> {
  operation: OperationRecord<P>
  steps: JournalStep[]
  /** A step journaled as running: interrupted while it ran, its effect is unknown. */
  interruptedStep: JournalStep | null
  /** The first step that is not done (the interrupted one, else the next planned), or null if all are done. */
  nextStep: JournalStep | null
}

export interface RollbackRecord {
  id: number
  ts: string
  kind: string
  outcome: string
  /** named phase durations in ms, e.g. {decision_to_flag: 12, flag_to_daemon_up: 840, verify: 120} */
  timings: Record<string, number>
  objectiveMs: number | null
  totalMs: number | null
  withinObjective: boolean
  operationId: string | null
  detail: unknown
  actor: string
}

export interface TrailRecord<P = unknown> {
  seq: number
  ts: string
  kind: string
  actor: string
  payload: P
  prevHash: string
  hash: string
}

export type TrailVerification =
  | {ok: true; count: number; head: {seq: number; hash: string} | null}
  | {ok: false; count: number; firstBadSeq: number; reason: string}

/** insert / update: written by cutover; seal: a row already present when the row chain was added (migration 3). */
export type RowChainOp = 'insert' | 'update' | 'seal'

/**
 * One way a chained record differs from what cutover wrote: `edited` (content changed),
 * `inserted` (a row with no chain entry: written outside cutover), `deleted` (a chain entry
 * whose row is gone), `relinked` (a chain entry itself was changed, removed or re-linked;
 * table is 'row_chain' and rowKey the entry's seq when the entry is gone).
 */
export interface RecordIssue {
  table: string
  rowKey: string
  problem: 'edited' | 'inserted' | 'deleted' | 'relinked'
  /** The chain entry involved (null for a row inserted outside cutover). */
  seq: number | null
  reason: string
}

export interface RecordVerification {
  ok: boolean
  /** Chained rows checked, in all and per table. */
  rows: number
  tables: Record<string, number>
  /** Row chain entries, and how many of them sealed rows present at the migration. */
  entries: number
  sealed: number
  head: {seq: number; hash: string} | null
  /** All issues are counted; at most 100 are listed, first the one earliest in the chain. */
  issueCount: number
  firstBad: RecordIssue | null
  issues: RecordIssue[]
}

/** The trail's chain and the per-row chain, read in one snapshot. */
export interface StateVerification {
  ok: boolean
  trail: TrailVerification
  records: RecordVerification
}

export interface OperationLockHolder {
  name: string
  pid: number
  host: string
  acquiredAt: string
}

/**
 * Why cutover took the daemon down on purpose. Planned kinds are excluded from availability;
 * `rollback` (an emergency rollback) is recorded with planned = false and its downtime counts.
 */
export const MAINTENANCE_KINDS = ['advance-step', 'rollback-drill', 'rollback', 'validate-restart', 'rehearsal'] as const
export type MaintenanceKind = (typeof MAINTENANCE_KINDS)[number]

/** Default cap of a window nobody closed (a crash, a kill): it ends at most this long after its start when read. */
export const DEFAULT_MAINTENANCE_CAP_MS = 60_000

export interface MaintenanceWindow {
  id: number
  kind: MaintenanceKind
  reason: string
  /** Planned maintenance is excluded from availability; unplanned (an emergency rollback) is only shown. */
  planned: boolean
  operationId: string | null
  actor: string
  startedAt: string
  /** As recorded (null while open, or when the process that opened it died). */
  endedAt: string | null
  /** The end used for availability: endedAt, else min(now, start + cap). */
  effectiveEnd: string
  /** Still open and younger than the cap: maintenance in progress. */
  open: boolean
  /** Open for longer than the cap (nobody closed it): capped at start + cap. */
  unterminated: boolean
  detail: unknown
}
