/**
 * Types shared by the gate evaluator and the metric sources.
 *
 * Conventions (the playbook uses the same field names):
 * - Every ratio-like metric (error rate, uptime, audit coverage, feedback ratios, fleet
 *   failure share) is a PERCENTAGE in 0..100, because the plan states its thresholds in
 *   percent ("< 0.1 %", "> 99.9 %", "100 %", "> 10 %", "> 5 % of systems").
 * - Times in measurements are ISO 8601 strings so that stored evaluations and the
 *   evidence hash do not depend on the host's time zone or Date serialisation.
 */

export type SourceName = 'gateway' | 'prometheus' | 'records'
/** What GET /gateway/health may say, and which of those count as up (uptime, monitor, report). */
export const GATEWAY_STATUSES = ['healthy', 'degraded', 'unhealthy'] as const
export type GatewayHealthStatus = (typeof GATEWAY_STATUSES)[number]
export const UP_STATUSES: ReadonlySet<string> = new Set<GatewayHealthStatus>(['healthy', 'degraded'])
export const isGatewayStatus = (s: unknown): s is GatewayHealthStatus => (GATEWAY_STATUSES as readonly unknown[]).includes(s)

/** The one list of each: the playbook schema validates against these, the evaluator implements them. */
export const OPERATORS = ['>', '>=', '<', '<=', '=='] as const
export const STATISTICS = ['avg', 'p50', 'p95', 'p99', 'rate', 'count', 'ratio', 'max', 'min', 'last'] as const
export type Operator = (typeof OPERATORS)[number]
export type Statistic = (typeof STATISTICS)[number]

/** What a source needs to take a measurement (criteria and rollback triggers both provide it). */
export interface MeasureSpec {
  id: string
  source: SourceName
  /** Source-specific: a gateway/records metric name, or a PromQL expression (may contain `$window`). */
  metric: string
  statistic?: Statistic
  /** Duration string such as '15m' or '4d'. */
  window: string
  /** Set for fleet criteria: the measurement reports one entry per host. */
  min_hosts?: number
}

/** One Go/No-Go criterion of a gate. It passes when `value <operator> threshold` holds. */
export interface CriterionSpec extends MeasureSpec {
  title: string
  statistic: Statistic
  operator: Operator
  threshold: number
  unit?: string
  /** Fewer samples than this -> inconclusive. Default 1 (no data is never a pass). */
  min_samples?: number
  /** Key criteria decide the verdict; non-key failures are reported as warnings. */
  key: boolean
  /**
   * Also require `value <= baseline * (1 + max_increase_pct / 100)` against the pinned
   * baseline. Only for "lower is better" criteria (operator '<' or '<=').
   */
  relative_to_baseline?: {max_increase_pct: number}
  /**
   * Fleet criterion: the value is the percentage of hosts whose `ok` is false, compared
   * with the operator exactly as written (e.g. '<=' 5 means "fails on > 5 % of systems"
   * is a no-go); fewer hosts than this -> inconclusive.
   */
  min_hosts?: number
}

export interface HostSample {
  name: string
  value: number | null
  ok: boolean
}

export interface Measurement {
  criterionId: string
  /** null = no data (e.g. zero requests in the window, or 0/0). */
  value: number | null
  samples: number
  windowStart: string
  windowEnd: string
  /** False when the data does not yet cover the whole window (monitor or gateway started later). */
  windowElapsed: boolean
  hosts?: HostSample[]
  /** Set when the source could not answer; the criterion is then 'error', never pass or fail. */
  error?: string
  /** Set when the evidence cannot support a verdict (e.g. a sampling interval too long to see gaps): inconclusive, with this reason. */
  untrusted?: string
  /** Free-form evidence (query, raw counts). Not part of the evidence hash. */
  detail?: Record<string, unknown>
}

/** A baseline value pinned in the state store when a phase completed. */
export interface Baseline {
  value: number
  pinnedAt?: string
  phase?: number | string
  windowStart?: string
  windowEnd?: string
}

export type Outcome = 'pass' | 'fail' | 'inconclusive' | 'error'

export interface CriterionOutcome {
  id: string
  title: string
  outcome: Outcome
  value: number | null
  threshold: number
  /** The bound actually compared against (differs from threshold for baseline-relative criteria). */
  effectiveThreshold: number | null
  operator: Operator
  statistic: Statistic
  window: string
  unit?: string
  samples: number
  windowStart: string
  windowEnd: string
  reason: string
  key: boolean
  baseline?: number | null
  /** Relative change against the baseline, in percent (positive = higher than baseline). */
  changePct?: number | null
  /** Fleet criteria: hosts sorted by name, and the names of the failing ones. */
  hosts?: HostSample[]
  failingHosts?: string[]
  spec: CriterionSpec
  measurement: Measurement
}

export type Verdict = 'GO' | 'NO-GO' | 'INCONCLUSIVE' | 'AWAITING_APPROVAL' | 'ERROR'

export interface Approval {
  /** The evidence hash of the evaluation the approver looked at. */
  evaluationHash: string
  by: string
  at: string
  reason?: string
}

export type ApprovalStatus = 'not_required' | 'valid' | 'missing' | 'stale'

export interface GateVerdict {
  verdict: Verdict
  exitCode: 0 | 1 | 3 | 4
  outcomes: CriterionOutcome[]
  evidenceHash: string
  summary: string
  /** Ids of key criteria that failed / errored / were inconclusive. */
  blocking: string[]
  /** Ids of non-key criteria that did not pass (reported, never blocking). */
  warnings: string[]
  approval: {required: boolean; status: ApprovalStatus; by?: string; at?: string; evaluationHash?: string}
}

export interface DegradationBands {
  no_action_below: number
  alert_between: [number, number]
  rollback_above: number
}

export type TriggerAction = 'rollback' | 'alert'

export interface RollbackTriggerSpec {
  id: string
  title: string
  source: SourceName
  metric: string
  statistic?: Statistic
  /** Window the source measures over; default '15m'. */
  window?: string
  operator: Operator
  threshold: number
  unit?: string
  /** With bands the trigger compares against the pinned baseline (degradation in percent). */
  bands?: DegradationBands
  /** Which direction is a degradation: latency 'higher' (default), throughput 'lower'. */
  worse_when?: 'higher' | 'lower'
  min_samples?: number
  /** Fleet trigger: the value is the percentage of failing hosts; fewer hosts than this -> inconclusive (as for a gate criterion). */
  min_hosts?: number
  /** Banded triggers: the unit of the measured value ('ms', 'req/s'); `unit` is the threshold's (the degradation, '%'). Default: unit. */
  value_unit?: string
  /** What a tripped non-banded trigger asks for. */
  action: TriggerAction
}

export type TriggerBand = 'none' | 'alert' | 'rollback'

export interface TriggerDecision {
  id: string
  title: string
  /** The measured value (for banded triggers: the measured metric, see degradationPct). */
  value: number | null
  threshold: number
  operator: Operator
  baseline?: number | null
  degradationPct?: number | null
  band: TriggerBand
  decision: TriggerBand
  /** 'inconclusive' (not enough data, no baseline) never acts; 'error' alerts a human, never rolls back. */
  status: 'evaluated' | 'inconclusive' | 'error'
  reason: string
  /** Samples, or for a fleet trigger the hosts that reported. */
  samples: number
  /** Fleet triggers: hosts sorted by name, and the names of the failing ones. */
  hosts?: HostSample[]
  failingHosts?: string[]
  windowStart?: string
  windowEnd?: string
}
