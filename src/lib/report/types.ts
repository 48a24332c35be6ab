/**
 * The report's data: what `cutover report --format json` prints, and what the Markdown and HTML
 * renderers draw from. Stable shape (v: 1): add fields, never rename or remove them.
 *
 * Units: every ratio is a percentage (0..100), latencies in ms, money in USD, times ISO 8601 (UTC)
 * except chart points, which carry epoch milliseconds (`t`).
 */

export type KpiStatus = 'met' | 'missed' | 'unknown'

export interface KpiTarget {
  operator: '>' | '>=' | '<' | '<=' | '=='
  threshold: number
  unit: string
  /** As the plan says it: '> 99.9%'. */
  text: string
}

export interface KpiResult {
  id: string
  title: string
  /** null when the plan sets no target for it (status is then 'unknown'). */
  target: KpiTarget | null
  measured: number | null
  unit: string
  /** measured, formatted with its unit ('99.95%', '412 ms', 'n/a'). */
  display: string
  status: KpiStatus
  /** Where the value comes from. */
  source: string
  /** How many samples / requests the value rests on. */
  samples: number
  /** The evidence rule's minimum (the gate's resolutionMinSamples; 1 when no rule applies): fewer samples is 'unknown'. */
  minSamples: number
  /** The gate evaluator's verdict on the figure (evaluateCriterion): pass / fail / inconclusive / error, and why. */
  evaluation?: {outcome: string; reason: string}
  /** A KPI with a target that is 'unknown': why, shortly ("25 samples, 1,000 needed, currently 96%"), as the verdict line names it. */
  unknownBecause?: string
  /** Every figure the KPI was judged on when there is more than one (error rate: the gateway's and the clients'); `judged` marks the one the status rests on (the worse). */
  figures?: KpiFigure[]
  /** Why the status is what it is when it is not plainly met/missed. */
  note?: string
  planRef?: string
}

export interface KpiFigure {
  source: string
  measured: number | null
  display: string
  samples: number
  failed?: number
  status: KpiStatus
  judged: boolean
}

/** What cutover's own traffic generator saw (client side), e.g. a rehearsal's TrafficGenerator. */
export interface ClientTraffic {
  source: string
  sent: number
  ok: number
  failed: number
  /** Failures by kind ('http_502': 12, 'timeout': 8). */
  errors: Record<string, number>
}

/** What the evidence behind the report is not: forced advances, synthetic data, skipped steps, waived rules. */
export interface Provenance {
  forced: Array<{what: string; why: string}>
  synthetic: string[]
  skipped: string[]
  waived: string[]
}

export interface BreakdownRow {
  name: string
  requests: number | null
  failedRequests: number | null
  costUsd: number
  inputTokens: number | null
  outputTokens: number | null
}

export interface Totals {
  requests: number
  successfulRequests: number | null
  failedRequests: number | null
  costUsd: number | null
  tokens: {input: number | null; output: number | null; cacheWrite: number | null; cacheRead: number | null}
  auditRecords: number | null
  /** When the gateway's counters start (its first audit record). */
  since: string | null
  byModel: BreakdownRow[]
  byProvider: BreakdownRow[]
  byAgent: BreakdownRow[]
  source: string
}

export interface StreamingUsage {
  requests: number | null
  streamed: number | null
  failures: number | null
  /** streamed / requests, %. */
  sharePct: number | null
  /** failures / streamed, %. */
  failureRatePct: number | null
  /** The monitor's streaming probes. */
  probes: {ok: number; failed: number; lastError: string | null}
  source: string
}

export interface PhaseSpan {
  phase: number
  title: string
  start: string
  /** null: the current phase. */
  end: string | null
  durationMs: number
  reason: string | null
  actor: string
}

export interface CriterionResult {
  id: string
  title: string
  key: boolean
  outcome: string
  value: number | null
  operator: string | null
  threshold: number | null
  unit: string | null
  samples: number | null
  reason: string
}

export interface GateEvaluationSummary {
  id: string
  ts: string
  from: number
  to: number
  gateTitle: string
  verdict: string
  actor: string
  evidenceHash: string
  criteria: CriterionResult[]
  passed: number
  failed: number
  /** inconclusive + error. */
  other: number
  approval: {required: boolean; status: string; by: string | null; at: string | null} | null
}

export interface ApprovalSummary {
  id: number
  ts: string
  phase: number
  by: string
  reason: string | null
  evaluationId: string | null
  /** The approved evaluation's verdict when it is still in the store. */
  evaluationVerdict: string | null
}

export interface IncidentSummary {
  id: number
  ts: string
  severity: string
  title: string
  detail: string | null
  author: string
  state: 'open' | 'resolved'
  resolvedAt: string | null
  resolvedBy: string | null
  resolution: string | null
  /** Time to resolve, ms. */
  timeToResolveMs: number | null
}

export interface RollbackSummary {
  id: number
  ts: string
  kind: string
  /** A rehearsal (drill in a worktree / sandbox), not a real rollback of the target. */
  rehearsal: boolean
  outcome: string
  totalMs: number | null
  objectiveMs: number | null
  /** Where the objective comes from: the record, or the playbook's RTO for the kind. */
  objectiveSource: 'record' | 'playbook' | null
  withinObjective: boolean
  timings: Record<string, number>
  actor: string
}

export interface ReviewItem {
  id: string
  metric: string
  value: number | null
  unit: string
  display: string
  status: 'ok' | 'not_enough_data'
  note?: string
}

export interface ReviewSection {
  week: number
  title: string
  /** The review period: [start, start + week * 7d]. */
  periodStart: string | null
  periodEnd: string | null
  /** The period has fully elapsed. */
  complete: boolean
  /** How much of the period is observed so far, ms. */
  observedMs: number
  items: ReviewItem[]
  planRef?: string
}

export interface SeriesPoint {
  t: number
  v: number | null
}

export interface CostPoint {
  /** Bucket start, epoch ms (UTC). */
  t: number
  label: string
  costUsd: number
  requests: number
}

/** Chart data; long series are averaged into at most MAX_SERIES_POINTS time buckets (health: the worst sample per bucket). */
export interface ReportSeries {
  latencyAvg: SeriesPoint[]
  latencyP95: SeriesPoint[]
  errorRate: SeriesPoint[]
  /** Health samples: 1 up, 0 down. */
  health: SeriesPoint[]
  /** Planned maintenance spans (epoch ms), shaded on the time charts. */
  maintenance?: {from: number; to: number}[]
  /** Vertical markers: phase changes. */
  phaseMarkers: {t: number; phase: number; label: string}[]
  /** Cost per bucket: day, or a finer bucket when the whole span is shorter than two days. */
  cost: {bucket: 'day' | 'hour' | 'minute'; points: CostPoint[]; note?: string}
  /** Cost per UTC day (always day buckets). */
  costPerDay: CostPoint[]
}

/** A maintenance window (cutover's own daemon restarts, drills); planned ones are left out of availability. */
export interface MaintenanceSummary {
  id: number
  kind: string
  reason: string
  planned: boolean
  start: string
  /** The end used (recorded, or capped when nobody closed it). */
  end: string
  durationMs: number
  /** Open longer than the cap (a crash or kill left it open): capped. */
  unterminated: boolean
  open: boolean
  operationId: string | null
  actor: string
}

export interface ReportData {
  v: 1
  title: string
  generatedAt: string
  playbook: {name: string; version: string; source: {title: string; version: string | null; date: string | null} | null}
  /** The current phase in the state store. */
  phase: {phase: number; title: string; since: string} | null
  /** First evidence (phase change, sample, record) .. generatedAt. */
  span: {start: string | null; end: string}
  live: {available: boolean; note: string}
  kpis: KpiResult[]
  /** 'met' only when every KPI with a target is met; 'missed' when any is missed. */
  overall: KpiStatus
  /**
   * One line at the top of every format: the KPI counts (missed and unknown ones named, with the
   * evidence they lack), failed requests seen by clients, and what was forced, synthetic, skipped or waived.
   */
  verdict: string
  /** Client-side traffic figures when the caller passed them (null otherwise). */
  clientTraffic: ClientTraffic | null
  /** Forced advances recorded in the state store's trail, plus what the caller declared. */
  provenance: Provenance
  totals: Totals | null
  streaming: StreamingUsage
  phases: PhaseSpan[]
  gates: GateEvaluationSummary[]
  approvals: ApprovalSummary[]
  incidents: {items: IncidentSummary[]; open: number; openCritical: number}
  rollbacks: {items: RollbackSummary[]; real: number; rehearsals: number; withinObjective: number}
  feedback: {positive: number; negative: number; count: number; scorePct: number | null}
  monitoring: {healthSamples: number; metricsSamples: number; probeSamples: number; first: string | null; last: string | null}
  /** Maintenance windows; planned ones are excluded from availability (plannedDowntimeMs, excludedSamples). */
  maintenance: {items: MaintenanceSummary[]; plannedDowntimeMs: number; excludedSamples: number; unplannedDownSamples: number}
  review: ReviewSection[]
  series: ReportSeries
  notes: string[]
}

/** One request of the gateway's audit log, as the report needs it. */
export interface RequestRow {
  /** received_at, epoch ms */
  t: number
  success: boolean
  stream: boolean
  latencyMs: number | null
  costUsd: number | null
}
