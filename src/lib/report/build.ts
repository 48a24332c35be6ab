/**
 * buildReport: the post-migration review as data, from the state store (phases, monitor samples,
 * gate evaluations, approvals, incidents, feedback, baselines, rollbacks) and, when the daemon
 * answered, the gateway's all-time metrics and its audit log's requests.
 *
 * Pure given its inputs (the store is only read; `now` is passed in), so the same store and the
 * same gateway answers always give the same report.
 *
 * Measurement rules (also stated in the report where they matter):
 * - KPIs are judged with the gate's code (kpis.ts): availability is the gate's uptime measurement
 *   (computeUptime over the monitor's health samples, monitoring gaps counted as down, planned
 *   maintenance left out), and every KPI with a target goes through evaluateCriterion with the
 *   evidence rule's minimum samples, so a KPI without enough evidence is 'unknown', never 'met'.
 * - Latency, error rate, streaming and cost tracking come from /gateway/metrics (all time). Without
 *   it, latency/error rate/streaming fall back to the monitor's metrics samples (trailing windows,
 *   taken so that they do not overlap), marked approximate; cost tracking is then unknown. With
 *   client-side figures (clientTraffic), the error rate is judged on the worse of the two.
 */
import {mergeSpans} from '../evaluate/stats.js'
import {UP_STATUSES} from '../evaluate/types.js'
import {HEALTH_SOURCE, METRICS_SOURCE, PROBE_SOURCE} from '../gate/measure.js'
import {isRehearsal, rollbackKindOf} from '../gate/records.js'
import type {GatewayMetrics, GatewayMetricsSummary} from '../target/gateway-client.js'
import {durationMs} from '../util/duration.js'
import {auditCoverage} from '../sources/gateway.js'
import type {Playbook, RollbackProcedure} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import type {BaselineRecord, RollbackRecord, SampleRecord} from '../state/types.js'
import {redactValue} from '../util/redact.js'
import {withinObjective} from '../util/objective.js'
import {fmtDay, fmtMs, fmtTime, fmtNumber, fmtPct, fmtSpan, fmtUsd, fmtWithUnit} from './format.js'
import {buildKpis, overallStatus} from './kpis.js'
import {gatherProvenance, verdictLine} from './verdict.js'
import type {
  ApprovalSummary,
  BreakdownRow,
  ClientTraffic,
  CostPoint,
  CriterionResult,
  GateEvaluationSummary,
  IncidentSummary,
  MaintenanceSummary,
  PhaseSpan,
  Provenance,
  ReportData,
  ReportSeries,
  RequestRow,
  ReviewItem,
  ReviewSection,
  RollbackSummary,
  SeriesPoint,
  StreamingUsage,
  Totals,
} from './types.js'

export {HEALTH_SOURCE, METRICS_SOURCE, PROBE_SOURCE}
const DAY = 86_400_000
const WEEK = 7 * DAY
const LIMIT = 1_000_000

export interface BuildReportInput {
  state: StateStore
  playbook: Playbook
  /** /gateway/metrics (all time): the whole document, or just its summary. null: the daemon could not be reached. */
  gatewayMetrics?: GatewayMetrics | GatewayMetricsSummary | null
  /** The audit log's requests (cost over time, review periods); null/undefined when not read. */
  requests?: RequestRow[] | null
  /** Why live data is missing or partial (shown in the report). */
  liveNote?: string
  /** What cutover's own traffic generator saw (client side); the error-rate KPI is then judged on the worse of it and the gateway's figure. */
  clientTraffic?: ClientTraffic | null
  /** What the evidence is not (forced, synthetic, skipped, waived), named in the verdict line with the forced advances the trail records. */
  provenance?: Partial<Provenance> | null
  now: Date
}

interface MetricsSample {
  window?: string
  total_requests?: number
  failed_requests?: number | null
  error_rate?: number | null
  avg_latency_ms?: number | null
  p95_latency_ms?: number | null
  streaming_requests?: number | null
  streaming_failures?: number | null
}

interface HealthSampleMetrics {
  status?: string
  interval_ms?: number
}

interface ProbeSample {
  ok?: boolean
  error?: string
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const pct = (part: number | null, whole: number | null): number | null => (part === null || whole === null || whole === 0 ? null : (part * 100) / whole)
const ms = (iso: string): number => Date.parse(iso)

export function buildReport(input: BuildReportInput): ReportData {
  const {state, playbook, now} = input
  const nowMs = now.getTime()
  const doc = normaliseMetrics(input.gatewayMetrics)
  const summary = doc?.summary ?? null
  const requests = input.requests ?? null
  const notes: string[] = []

  const health = state.listSamples<HealthSampleMetrics>({source: HEALTH_SOURCE, to: nowMs})
  const metricsSamples = state.listSamples<MetricsSample>({source: METRICS_SOURCE, to: nowMs})
  const probes = state.listSamples<ProbeSample>({source: PROBE_SOURCE, to: nowMs})
  const phases = phaseSpans(state, playbook, nowMs)
  const evaluations = state.listEvaluations({limit: LIMIT}).reverse()
  const approvals = state.listApprovals().reverse()
  const incidents = state.listIncidents()
  const feedback = state.listFeedback()
  const rollbacks = state.listRollbacks({limit: LIMIT}).reverse()
  const baseline = latencyBaseline(state)

  const live = summary
    ? {available: true, note: `live gateway metrics from /gateway/metrics${summary.since ? ` (since ${fmtTime(summary.since)})` : ''}${input.liveNote ? `; ${input.liveNote}` : ''}`}
    : {available: false, note: input.liveNote ?? 'live gateway metrics were unavailable (the daemon was not reached); this report is built from the state store only'}
  if (!summary) notes.push(live.note)
  else if (input.liveNote) notes.push(input.liveNote)

  // ---------------------------------------------------------------- traffic figures
  const fallback = metricsFromSamples(metricsSamples)
  const traffic = summary
    ? {
        requests: summary.total_requests,
        failed: num(summary.failed_requests),
        avgLatency: summary.total_requests > 0 ? num(summary.avg_latency_ms) : null,
        p95Latency: summary.total_requests > 0 ? num(summary.p95_latency_ms) : null,
        streamed: num(summary.streaming_requests),
        streamingFailures: num(summary.streaming_failures),
        auditRecords: num(summary.audit_records),
        auditCoveragePct: auditCoverage(summary),
        source: '/gateway/metrics (all time)',
        approximate: false,
      }
    : fallback
      ? {...fallback, auditRecords: null, auditCoveragePct: null, source: `monitor metrics samples (${fallback.windows} non-overlapping ${fallback.window} windows, approximate)`, approximate: true}
      : null
  if (!summary && fallback) notes.push(`Latency, error rate and streaming figures are approximations from ${fallback.windows} of the monitor's ${fallback.window} metrics samples, because live gateway metrics were unavailable.`)

  // ---------------------------------------------------------------- KPIs
  const maintenanceWindows = state.listMaintenance(undefined, nowMs)
  const plannedSpans = maintenanceWindows.filter((w) => w.planned).map((w) => ({from: ms(w.startedAt), to: Math.min(ms(w.effectiveEnd), nowMs)}))
  const plannedDowntimeMs = mergeSpans(plannedSpans).reduce((sum, w) => sum + (w.to - w.from), 0)
  const maintenanceItems: MaintenanceSummary[] = maintenanceWindows.map((w) => ({
    id: w.id,
    kind: w.kind,
    reason: w.reason,
    planned: w.planned,
    start: w.startedAt,
    end: w.effectiveEnd,
    durationMs: Math.max(0, ms(w.effectiveEnd) - ms(w.startedAt)),
    unterminated: w.unterminated,
    open: w.open,
    operationId: w.operationId,
    actor: w.actor,
  }))
  const clientTraffic = input.clientTraffic ?? null
  const firsts = [
    phases[0] ? ms(phases[0].start) : null,
    health[0]?.ts ?? null,
    metricsSamples[0]?.ts ?? null,
    evaluations[0] ? ms(evaluations[0].ts) : null,
    incidents[0] ? ms(incidents[0].ts) : null,
    rollbacks[0] ? ms(rollbacks[0].ts) : null,
    approvals[0] ? ms(approvals[0].ts) : null,
    feedback[0] ? ms(feedback[0].ts) : null,
    requests && requests.length > 0 ? Math.min(...requests.map((r) => r.t)) : null,
  ].filter((t): t is number => t !== null && Number.isFinite(t))
  const spanStart = firsts.length > 0 ? Math.min(...firsts) : null
  const {kpis, availability} = buildKpis(playbook, {state, now, firstHealthMs: health[0]?.ts ?? null, spanStartMs: spanStart, traffic, clientTraffic})
  if (availability.excluded > 0 || maintenanceItems.some((w) => w.planned)) {
    notes.push(`Availability leaves out ${availability.excluded} health sample(s) taken during ${maintenanceItems.filter((w) => w.planned).length} planned maintenance window(s) (${fmtSpan(plannedDowntimeMs)}: cutover's own journaled restarts and drills); unplanned downtime (crashes, kills, emergency rollbacks, a failing gateway) counts.`)
  }
  const unterminated = maintenanceItems.filter((w) => w.unterminated)
  if (unterminated.length > 0) notes.push(`${unterminated.length} maintenance window(s) were never closed (the process that opened them stopped): each is capped at ${fmtSpan(state.maintenanceCapMs)} after its start, and the downtime after that counts.`)
  if (availability.gaps.length > 0) {
    notes.push(
      `Availability is judged as the gate judges uptime: ${availability.gaps.length} monitoring gap(s) (no monitor running for more than two ${fmtSpan(availability.intervalMs)} sampling intervals) count ${availability.missed} missed sample slot(s) as down.`,
    )
  }
  const overall = overallStatus(kpis)
  const provenance = gatherProvenance(state, input.provenance ?? undefined)
  if (clientTraffic) {
    const kinds = Object.entries(clientTraffic.errors)
      .filter(([, n]) => n > 0)
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .map(([k, n]) => `${k} ×${n}`)
    notes.push(`Client side (${clientTraffic.source}): ${clientTraffic.sent} request(s) sent, ${clientTraffic.ok} ok, ${clientTraffic.failed} failed${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}; the error-rate KPI is judged on the worse of the clients' failed / finished and the gateway's figure.`)
  }

  // ---------------------------------------------------------------- totals and streaming
  const totals = doc && summary ? totalsOf(doc, summary) : null
  const probeOk = probes.filter((p) => p.metrics.ok === true).length
  const lastFailedProbe = [...probes].reverse().find((p) => p.metrics.ok !== true)
  const streaming: StreamingUsage = {
    requests: traffic?.requests ?? null,
    streamed: traffic?.streamed ?? null,
    failures: traffic?.streamingFailures ?? null,
    sharePct: pct(traffic?.streamed ?? null, traffic?.requests ?? null),
    failureRatePct: pct(traffic?.streamingFailures ?? null, traffic?.streamed ?? null),
    probes: {ok: probeOk, failed: probes.length - probeOk, lastError: lastFailedProbe?.metrics.error ?? null},
    source: traffic?.source ?? 'no traffic data',
  }

  // ---------------------------------------------------------------- records
  const gates = evaluations.map((e) => gateSummary(e, playbook))
  const approvalRows: ApprovalSummary[] = approvals.map((a) => ({
    id: a.id,
    ts: a.ts,
    phase: a.phase,
    by: a.by,
    reason: a.reason,
    evaluationId: a.evaluationId,
    evaluationVerdict: a.evaluationId ? (state.getEvaluation(a.evaluationId)?.verdict ?? null) : null,
  }))
  const incidentRows: IncidentSummary[] = incidents.map((i) => ({
    id: i.id,
    ts: i.ts,
    severity: i.severity,
    title: i.title,
    detail: i.detail,
    author: i.author,
    state: i.resolvedAt ? 'resolved' : 'open',
    resolvedAt: i.resolvedAt,
    resolvedBy: i.resolvedBy,
    resolution: i.resolution,
    timeToResolveMs: i.resolvedAt ? ms(i.resolvedAt) - ms(i.ts) : null,
  }))
  const rollbackRows = rollbacks.map((r) => rollbackSummary(r, playbook))
  const positive = feedback.filter((f) => f.sentiment === 'positive').length

  // ---------------------------------------------------------------- span, review, series
  // The migration starts when Phase 1 begins; before any phase is recorded, with the first evidence.
  const migrationStart = phases[0] ? ms(phases[0].start) : spanStart

  const review = buildReview({
    playbook,
    start: migrationStart,
    nowMs,
    requests,
    summary,
    rollbacks: rollbackRows,
    feedback,
    incidents: incidentRows,
    baseline,
    kpiAvgLatency: traffic?.avgLatency ?? null,
  })
  const series = {...buildSeries({health, metricsSamples, phases, requests, spanStart, nowMs, summary}), maintenance: mergeSpans(plannedSpans)}
  if (series.cost.note) notes.push(series.cost.note)

  const current = state.getPhase()
  const report: ReportData = {
    v: 1,
    title: `${playbook.source?.title ?? playbook.name}: Post-Migration Review`,
    verdict: verdictLine(kpis, clientTraffic, provenance),
    generatedAt: now.toISOString(),
    playbook: {
      name: playbook.name,
      version: playbook.version,
      source: playbook.source ? {title: playbook.source.title, version: playbook.source.version ?? null, date: playbook.source.date ?? null} : null,
    },
    phase: current ? {phase: current.phase, title: phaseTitle(playbook, current.phase), since: current.since} : null,
    span: {start: spanStart === null ? null : new Date(spanStart).toISOString(), end: now.toISOString()},
    live,
    kpis,
    overall,
    clientTraffic,
    provenance,
    totals,
    streaming,
    phases,
    gates,
    approvals: approvalRows,
    incidents: {
      items: incidentRows,
      open: incidentRows.filter((i) => i.state === 'open').length,
      openCritical: incidentRows.filter((i) => i.state === 'open' && i.severity === 'critical').length,
    },
    rollbacks: {
      items: rollbackRows,
      real: rollbackRows.filter((r) => !r.rehearsal).length,
      rehearsals: rollbackRows.filter((r) => r.rehearsal).length,
      withinObjective: rollbackRows.filter((r) => r.withinObjective).length,
    },
    feedback: {positive, negative: feedback.length - positive, count: feedback.length, scorePct: pct(positive, feedback.length)},
    monitoring: {
      healthSamples: health.length,
      metricsSamples: metricsSamples.length,
      probeSamples: probes.length,
      first: health[0] ? new Date(health[0].ts).toISOString() : null,
      last: health.length > 0 ? new Date(health[health.length - 1]!.ts).toISOString() : null,
    },
    maintenance: {items: maintenanceItems, plannedDowntimeMs, excludedSamples: availability.excluded, unplannedDownSamples: availability.unplannedDownSamples},
    review,
    series,
    notes,
  }
  // Records were redacted when stored; this also covers gateway answers and free text.
  return redactValue(report)
}

// ------------------------------------------------------------------ gateway metrics

function normaliseMetrics(input: GatewayMetrics | GatewayMetricsSummary | null | undefined): GatewayMetrics | null {
  if (!input || typeof input !== 'object') return null
  if ('summary' in input && input.summary && typeof input.summary === 'object') return input as GatewayMetrics
  if (typeof (input as GatewayMetricsSummary).total_requests === 'number') return {summary: input as GatewayMetricsSummary}
  return null
}

function totalsOf(doc: GatewayMetrics, s: GatewayMetricsSummary): Totals {
  const breakdown = (doc.breakdown ?? {}) as Record<string, unknown>
  const rows = (dimension: string, costs: unknown): BreakdownRow[] => {
    const stats = (breakdown[dimension] ?? {}) as Record<string, Record<string, unknown>>
    const costMap = (costs ?? {}) as Record<string, unknown>
    const names = [...new Set([...Object.keys(stats), ...Object.keys(costMap)])]
    return names
      .map((name) => {
        const st = stats[name] ?? {}
        return {
          name,
          requests: num(st.requests),
          failedRequests: num(st.failed_requests),
          costUsd: num(st.total_cost_usd) ?? num(costMap[name]) ?? 0,
          inputTokens: num(st.input_tokens),
          outputTokens: num(st.output_tokens),
        }
      })
      .sort((a, b) => b.costUsd - a.costUsd || (b.requests ?? 0) - (a.requests ?? 0) || a.name.localeCompare(b.name))
  }
  return {
    requests: s.total_requests,
    successfulRequests: num(s.successful_requests),
    failedRequests: num(s.failed_requests),
    costUsd: num(s.total_cost_usd),
    tokens: {input: num(s.total_input_tokens), output: num(s.total_output_tokens), cacheWrite: num(s.total_cache_write_tokens), cacheRead: num(s.total_cache_read_tokens)},
    auditRecords: num(s.audit_records),
    since: typeof s.since === 'string' ? s.since : typeof s.since === 'number' ? new Date(s.since).toISOString() : null,
    byModel: rows('model', doc.by_model),
    byProvider: rows('provider', doc.by_provider),
    byAgent: rows('agent', doc.by_agent),
    source: '/gateway/metrics (all time)',
  }
}

interface SampleTraffic {
  requests: number
  failed: number | null
  avgLatency: number | null
  p95Latency: number | null
  streamed: number | null
  streamingFailures: number | null
  windows: number
  window: string
}

/**
 * Traffic figures from the monitor's metrics samples. Each sample covers a trailing window (15m),
 * so consecutive samples overlap; walking back from the newest and taking a sample only once the
 * previous one's window has been left gives windows that do not overlap.
 */
export function metricsFromSamples(samples: SampleRecord<MetricsSample>[]): SampleTraffic | null {
  const chosen: MetricsSample[] = []
  let window = '15m'
  let before = Number.POSITIVE_INFINITY
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i]!
    if (s.ts > before) continue
    let windowMs: number
    try {
      windowMs = durationMs(s.metrics.window ?? '15m')
      window = s.metrics.window ?? window
    } catch {
      continue
    }
    chosen.push(s.metrics)
    before = s.ts - windowMs
  }
  const withTraffic = chosen.filter((m) => (num(m.total_requests) ?? 0) > 0)
  if (withTraffic.length === 0) return null
  const requests = withTraffic.reduce((n, m) => n + (m.total_requests ?? 0), 0)
  const sum = (f: (m: MetricsSample) => number | null | undefined): number | null => {
    let total = 0
    for (const m of withTraffic) {
      const v = f(m)
      if (v === null || v === undefined || !Number.isFinite(v)) return null
      total += v
    }
    return total
  }
  const weighted = (f: (m: MetricsSample) => number | null | undefined): number | null => {
    const total = sum((m) => {
      const v = f(m)
      return v === null || v === undefined ? null : v * (m.total_requests ?? 0)
    })
    return total === null ? null : total / requests
  }
  return {
    requests,
    failed: sum((m) => m.failed_requests),
    avgLatency: weighted((m) => m.avg_latency_ms),
    p95Latency: weighted((m) => m.p95_latency_ms),
    streamed: sum((m) => m.streaming_requests),
    streamingFailures: sum((m) => m.streaming_failures),
    windows: withTraffic.length,
    window,
  }
}

// ------------------------------------------------------------------ phases, gates, rollbacks

export function phaseTitle(playbook: Playbook, phase: number): string {
  const def = playbook.phases.find((p) => p.number === phase)
  return def ? `Phase ${phase}: ${def.title}` : `Phase ${phase}`
}

function phaseSpans(state: StateStore, playbook: Playbook, nowMs: number): PhaseSpan[] {
  const changes = state
    .listTrail({kind: 'phase.set'})
    .map((r) => ({ts: r.ts, to: num((r.payload as {to?: unknown} | null)?.to), reason: (r.payload as {reason?: unknown} | null)?.reason, actor: r.actor}))
    .filter((c): c is {ts: string; to: number; reason: unknown; actor: string} => c.to !== null)
  if (changes.length === 0) {
    const current = state.getPhase()
    if (current) changes.push({ts: current.since, to: current.phase, reason: current.reason, actor: current.actor})
  }
  return changes.map((c, i) => {
    const next = changes[i + 1]
    const end = next ? next.ts : null
    return {
      phase: c.to,
      title: phaseTitle(playbook, c.to),
      start: c.ts,
      end,
      durationMs: Math.max(0, (end ? ms(end) : nowMs) - ms(c.ts)),
      reason: typeof c.reason === 'string' ? c.reason : null,
      actor: c.actor,
    }
  })
}

function gateSummary(e: {id: string; ts: string; from: number; to: number; verdict: string; inputs: unknown; evidenceHash: string; actor: string}, playbook: Playbook): GateEvaluationSummary {
  const inputs = (e.inputs ?? {}) as {gate?: {title?: unknown}; outcomes?: unknown; approval?: Record<string, unknown>}
  const outcomes = Array.isArray(inputs.outcomes) ? (inputs.outcomes as Record<string, unknown>[]) : []
  const criteria: CriterionResult[] = outcomes.map((o) => ({
    id: String(o.id ?? ''),
    title: String(o.title ?? o.id ?? ''),
    key: o.key !== false,
    outcome: String(o.outcome ?? 'unknown'),
    value: num(o.value),
    operator: typeof o.operator === 'string' ? o.operator : null,
    threshold: num(o.effectiveThreshold) ?? num(o.threshold),
    unit: typeof o.unit === 'string' ? o.unit : null,
    samples: num(o.samples),
    reason: typeof o.reason === 'string' ? o.reason : '',
  }))
  const approval = inputs.approval
  const gateTitle = typeof inputs.gate?.title === 'string' ? inputs.gate.title : (playbook.gates.find((g) => g.from === e.from && g.to === e.to)?.title ?? `Gate ${e.from} → ${e.to}`)
  return {
    id: e.id,
    ts: e.ts,
    from: e.from,
    to: e.to,
    gateTitle,
    verdict: e.verdict,
    actor: e.actor,
    evidenceHash: e.evidenceHash,
    criteria,
    passed: criteria.filter((c) => c.outcome === 'pass').length,
    failed: criteria.filter((c) => c.outcome === 'fail').length,
    other: criteria.filter((c) => c.outcome !== 'pass' && c.outcome !== 'fail').length,
    approval: approval
      ? {
          required: approval.required === true,
          status: String(approval.status ?? 'unknown'),
          by: typeof approval.by === 'string' ? approval.by : null,
          at: typeof approval.at === 'string' ? approval.at : null,
        }
      : null,
  }
}

/** The playbook's recovery-time objective for a rollback kind (phase procedures first, then emergency ones). */
export function playbookObjectiveMs(playbook: Playbook, kind: string): number | null {
  const procedures: RollbackProcedure[] = [...playbook.phases.flatMap((p) => p.rollback), ...playbook.emergency_rollback]
  const found = procedures.find((p) => p.kind === rollbackKindOf(kind) && p.rto)
  if (!found?.rto) return null
  try {
    return durationMs(found.rto)
  } catch {
    return null
  }
}

function rollbackSummary(r: RollbackRecord, playbook: Playbook): RollbackSummary {
  const fromPlaybook = r.objectiveMs === null ? playbookObjectiveMs(playbook, r.kind) : null
  const objectiveMs = r.objectiveMs ?? fromPlaybook
  const within = r.objectiveMs !== null ? r.withinObjective : r.totalMs !== null && withinObjective(r.outcome, r.totalMs, objectiveMs)
  return {
    id: r.id,
    ts: r.ts,
    kind: r.kind,
    rehearsal: isRehearsal(r.kind),
    outcome: r.outcome,
    totalMs: r.totalMs,
    objectiveMs,
    objectiveSource: r.objectiveMs !== null ? 'record' : fromPlaybook !== null ? 'playbook' : null,
    withinObjective: within,
    timings: r.timings ?? {},
    actor: r.actor,
  }
}

/** The latency baseline (avg) pinned when a phase completed; Phase 1's when there is one. */
function latencyBaseline(state: StateStore): {value: number; pinnedAt: string; phase: number} | null {
  const pick = (b: BaselineRecord | null) => {
    if (!b) return null
    const key = Object.keys(b.metrics).find((k) => k === 'gateway:latency_ms:avg') ?? Object.keys(b.metrics).find((k) => /latency_ms:avg$/.test(k))
    const value = key ? b.metrics[key] : undefined
    return typeof value === 'number' ? {value, pinnedAt: b.pinnedAt, phase: b.phase} : null
  }
  return pick(state.latestBaseline(1)) ?? pick(state.latestBaseline())
}

// ------------------------------------------------------------------ post-migration review

interface ReviewInputs {
  playbook: Playbook
  start: number | null
  nowMs: number
  requests: RequestRow[] | null
  summary: GatewayMetricsSummary | null
  rollbacks: RollbackSummary[]
  feedback: {ts: string; sentiment: string}[]
  incidents: IncidentSummary[]
  baseline: {value: number; pinnedAt: string; phase: number} | null
  kpiAvgLatency: number | null
}

interface PeriodTraffic {
  requests: number
  failed: number
  streamed: number
  avgLatency: number | null
  costUsd: number | null
  source: string
}

function buildReview(r: ReviewInputs): ReviewSection[] {
  const planRef = (week: number) => r.playbook.post_migration_review?.find((p) => p.week === week)?.plan_ref
  const section = (week: number, title: string, build: (from: number, to: number, traffic: PeriodTraffic | null, trafficNote: string) => ReviewItem[]): ReviewSection => {
    if (r.start === null) {
      const none = build(0, -1, null, 'nothing recorded yet')
      return {week, title, periodStart: null, periodEnd: null, complete: false, observedMs: 0, items: none, ...(planRef(week) ? {planRef: planRef(week)} : {})}
    }
    const from = r.start
    const to = r.start + week * WEEK
    const {traffic, note} = periodTraffic(r, from, to)
    return {
      week,
      title,
      periodStart: new Date(from).toISOString(),
      periodEnd: new Date(to).toISOString(),
      complete: r.nowMs >= to,
      observedMs: Math.max(0, Math.min(r.nowMs, to) - from),
      items: build(from, to, traffic, note),
      ...(planRef(week) ? {planRef: planRef(week)} : {}),
    }
  }
  const inPeriod = (iso: string, from: number, to: number) => ms(iso) >= from && ms(iso) <= to
  const missing = (id: string, metric: string, unit: string, note: string): ReviewItem => ({id, metric, value: null, unit, display: 'not enough data', status: 'not_enough_data', note})
  const item = (id: string, metric: string, value: number, unit: string, note?: string, display?: string): ReviewItem => ({
    id,
    metric,
    value,
    unit,
    display: display ?? fmtWithUnit(value, unit),
    status: 'ok',
    ...(note ? {note} : {}),
  })

  const week1 = section(1, 'Week 1 metrics', (from, to, t, trafficNote) => {
    const items: ReviewItem[] = []
    items.push(t ? item('total-requests', 'Total requests processed', t.requests, '', t.source) : missing('total-requests', 'Total requests processed', '', trafficNote))
    items.push(t && t.avgLatency !== null ? item('avg-latency', 'Average latency', t.avgLatency, 'ms', t.source) : missing('avg-latency', 'Average latency', 'ms', t ? 'no requests in the period' : trafficNote))
    items.push(t && t.requests > 0 ? item('error-rate', 'Error rate', (t.failed * 100) / t.requests, '%', `${t.failed} of ${t.requests} requests failed`) : missing('error-rate', 'Error rate', '%', t ? 'no requests in the period' : trafficNote))
    const rollbacks = r.start === null ? [] : r.rollbacks.filter((x) => !x.rehearsal && inPeriod(x.ts, from, to))
    const rehearsals = r.start === null ? [] : r.rollbacks.filter((x) => x.rehearsal && inPeriod(x.ts, from, to))
    items.push(r.start === null ? missing('rollback-count', 'Rollback count', '', 'nothing recorded yet') : item('rollback-count', 'Rollback count', rollbacks.length, '', `real rollbacks of the target; ${rehearsals.length} rehearsal(s) not counted`))
    const fb = r.start === null ? [] : r.feedback.filter((f) => inPeriod(f.ts, from, to))
    const positive = fb.filter((f) => f.sentiment === 'positive').length
    items.push(
      fb.length === 0
        ? missing('feedback-score', 'User feedback score', '%', 'no user feedback recorded (cutover feedback add --user ID --sentiment positive|negative)')
        : item('feedback-score', 'User feedback score', (positive * 100) / fb.length, '%', `${positive} positive of ${fb.length}`, `${fmtPct((positive * 100) / fb.length)} positive`),
    )
    return items
  })

  const week4 = section(4, 'Week 4 metrics', (from, to, t, trafficNote) => {
    const items: ReviewItem[] = []
    items.push(
      t && t.costUsd !== null
        ? item('cost', 'Cost (savings, if any)', t.costUsd, 'USD', 'The old proxy tracked no cost, so there is no earlier figure to compute savings from; this is the first cost baseline.')
        : missing('cost', 'Cost (savings, if any)', 'USD', t ? 'the gateway reported no cost' : trafficNote),
    )
    items.push(performanceItem(r, from, to, missing, item))
    items.push(
      t && t.requests > 0
        ? item('streaming-adoption', 'Feature adoption (streaming usage)', (t.streamed * 100) / t.requests, '%', `${t.streamed} of ${t.requests} requests streamed`, `${fmtPct((t.streamed * 100) / t.requests)} of requests streamed`)
        : missing('streaming-adoption', 'Feature adoption (streaming usage)', '%', t ? 'no requests in the period' : trafficNote),
    )
    const incidents = r.start === null ? [] : r.incidents.filter((i) => inPeriod(i.ts, from, to))
    items.push(
      r.start === null
        ? missing('incident-count', 'Incident count', '', 'nothing recorded yet')
        : item('incident-count', 'Incident count', incidents.length, '', `${incidents.filter((i) => i.state === 'open').length} still open; ${incidents.filter((i) => i.severity === 'critical').length} critical`),
    )
    return items
  })
  return [week1, week4]
}

function performanceItem(
  r: ReviewInputs,
  from: number,
  to: number,
  missing: (id: string, metric: string, unit: string, note: string) => ReviewItem,
  item: (id: string, metric: string, value: number, unit: string, note?: string, display?: string) => ReviewItem,
): ReviewItem {
  const id = 'performance-vs-baseline'
  const metric = 'Performance vs baseline (average latency)'
  if (!r.baseline) return missing(id, metric, '%', 'no latency baseline pinned yet (it is pinned when Phase 1 completes)')
  const after = ms(r.baseline.pinnedAt)
  let current: number | null = null
  let basis = ''
  if (r.requests) {
    const rows = r.requests.filter((q) => q.t > after && q.t >= from && q.t <= to && q.latencyMs !== null)
    if (rows.length > 0) {
      current = rows.reduce((n, q) => n + (q.latencyMs ?? 0), 0) / rows.length
      basis = `${rows.length} requests since the baseline was pinned`
    }
  } else if (r.kpiAvgLatency !== null) {
    current = r.kpiAvgLatency
    basis = 'all-time average (includes the baseline period: the audit log was not read)'
  }
  if (current === null) return missing(id, metric, '%', 'no requests since the baseline was pinned')
  const change = ((current - r.baseline.value) * 100) / r.baseline.value
  const word = change <= 0 ? 'faster' : 'slower'
  return item(
    id,
    metric,
    change,
    '%',
    `${fmtMs(r.baseline.value)} (Phase ${r.baseline.phase} baseline) → ${fmtMs(current)}; ${basis}`,
    `${fmtNumber(Math.abs(change), 1)}% ${word} than baseline`,
  )
}

function periodTraffic(r: ReviewInputs, from: number, to: number): {traffic: PeriodTraffic | null; note: string} {
  if (r.requests) {
    const rows = r.requests.filter((q) => q.t >= from && q.t <= to)
    const latencies = rows.map((q) => q.latencyMs).filter((v): v is number => v !== null)
    return {
      traffic: {
        requests: rows.length,
        failed: rows.filter((q) => !q.success).length,
        streamed: rows.filter((q) => q.stream).length,
        avgLatency: latencies.length > 0 ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null,
        costUsd: rows.reduce((n, q) => n + (q.costUsd ?? 0), 0),
        source: 'gateway audit log',
      },
      note: '',
    }
  }
  if (!r.summary) return {traffic: null, note: 'live gateway data unavailable'}
  // Without the audit rows, the all-time summary is this period's figure only while the period is still running.
  if (r.nowMs > to) return {traffic: null, note: 'the period has ended and the audit log could not be read for it'}
  const s = r.summary
  return {
    traffic: {
      requests: s.total_requests,
      failed: num(s.failed_requests) ?? 0,
      streamed: num(s.streaming_requests) ?? 0,
      avgLatency: s.total_requests > 0 ? num(s.avg_latency_ms) : null,
      costUsd: num(s.total_cost_usd),
      source: '/gateway/metrics (all time, within the period)',
    },
    note: '',
  }
}

// ------------------------------------------------------------------ chart series

interface SeriesInputs {
  health: SampleRecord<HealthSampleMetrics>[]
  metricsSamples: SampleRecord<MetricsSample>[]
  phases: PhaseSpan[]
  requests: RequestRow[] | null
  spanStart: number | null
  nowMs: number
  summary: GatewayMetricsSummary | null
}

/** Insert a null point where the monitor did not run, so lines break instead of bridging the gap. */
function withBreaks(points: SeriesPoint[], intervalMs: number): SeriesPoint[] {
  const out: SeriesPoint[] = []
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!
    const prev = points[i - 1]
    if (prev && intervalMs > 0 && p.t - prev.t > 2.5 * intervalMs) out.push({t: Math.round((p.t + prev.t) / 2), v: null})
    out.push(p)
  }
  return out
}

function sampleInterval(health: SampleRecord<HealthSampleMetrics>[], metrics: SampleRecord<MetricsSample>[]): number {
  const declared = health.map((h) => num(h.metrics.interval_ms)).filter((v): v is number => v !== null && v > 0)
  if (declared.length > 0) return Math.max(...declared)
  const diffs = metrics.slice(1).map((m, i) => m.ts - metrics[i]!.ts).sort((a, b) => a - b)
  return diffs[Math.floor(diffs.length / 2)] ?? 0
}

/** Most points a chart series keeps; weeks of 10 s samples are averaged into time buckets. */
export const MAX_SERIES_POINTS = 720

/**
 * At most `max` points: equal time buckets, each reduced to one point at the bucket's mean time.
 * Empty buckets stay empty (a gap stays a gap); null points (breaks) are kept as breaks.
 */
export function downsample(points: SeriesPoint[], max: number, reduce: (values: number[]) => number): SeriesPoint[] {
  if (points.length <= max) return points
  const first = points[0]!.t
  const size = Math.max(1, Math.ceil((points[points.length - 1]!.t - first + 1) / max))
  const buckets = new Map<number, {ts: number[]; values: number[]}>()
  for (const p of points) {
    const key = Math.floor((p.t - first) / size)
    let b = buckets.get(key)
    if (!b) buckets.set(key, (b = {ts: [], values: []}))
    b.ts.push(p.t)
    if (p.v !== null) b.values.push(p.v)
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, b]) => ({t: Math.round(b.ts.reduce((x, y) => x + y, 0) / b.ts.length), v: b.values.length > 0 ? reduce(b.values) : null}))
}

const meanOf = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length

function buildSeries(s: SeriesInputs): ReportSeries {
  const interval = sampleInterval(s.health, s.metricsSamples)
  const line = (f: (m: MetricsSample) => number | null | undefined) =>
    downsample(
      withBreaks(
        s.metricsSamples.map((m) => ({t: m.ts, v: num(f(m.metrics))})),
        interval,
      ),
      MAX_SERIES_POINTS,
      meanOf,
    )
  const cost = costSeries(s)
  return {
    latencyAvg: line((m) => m.avg_latency_ms),
    latencyP95: line((m) => m.p95_latency_ms),
    errorRate: line((m) => m.error_rate),
    // A bucket with any down sample is down: short outages must stay visible.
    health: downsample(
      s.health.map((h) => ({t: h.ts, v: UP_STATUSES.has(String(h.metrics.status)) ? 1 : 0})),
      MAX_SERIES_POINTS * 2,
      (values) => Math.min(...values),
    ),
    phaseMarkers: s.phases.map((p) => ({t: ms(p.start), phase: p.phase, label: `Phase ${p.phase}`})),
    cost: cost.series,
    costPerDay: cost.perDay,
  }
}

function bucketStart(t: number, bucket: 'day' | 'hour' | 'minute'): number {
  const size = bucket === 'day' ? DAY : bucket === 'hour' ? 3_600_000 : 60_000
  return Math.floor(t / size) * size
}

function bucketLabel(t: number, bucket: 'day' | 'hour' | 'minute'): string {
  const iso = new Date(t).toISOString()
  if (bucket === 'day') return fmtDay(t)
  if (bucket === 'hour') return `${iso.slice(5, 10)} ${iso.slice(11, 13)}:00`
  return iso.slice(11, 16)
}

function bucketize(rows: RequestRow[], bucket: 'day' | 'hour' | 'minute'): CostPoint[] {
  const map = new Map<number, CostPoint>()
  for (const q of rows) {
    const t = bucketStart(q.t, bucket)
    let p = map.get(t)
    if (!p) map.set(t, (p = {t, label: bucketLabel(t, bucket), costUsd: 0, requests: 0}))
    p.costUsd += q.costUsd ?? 0
    p.requests++
  }
  // Empty buckets between busy ones are real zeros: fill them so the bars keep their time order.
  const points = [...map.values()].sort((a, b) => a.t - b.t)
  if (points.length < 2) return points
  const size = bucket === 'day' ? DAY : bucket === 'hour' ? 3_600_000 : 60_000
  const filled: CostPoint[] = []
  for (let t = points[0]!.t; t <= points[points.length - 1]!.t && filled.length < 400; t += size) filled.push(map.get(t) ?? {t, label: bucketLabel(t, bucket), costUsd: 0, requests: 0})
  return filled.map((p) => ({...p, costUsd: Math.round(p.costUsd * 1e6) / 1e6}))
}

function costSeries(s: SeriesInputs): {series: ReportSeries['cost']; perDay: CostPoint[]} {
  if (!s.requests) {
    const note = s.summary
      ? `Cost over time needs the gateway's audit log, which was not read; total cost so far: ${fmtUsd(num(s.summary.total_cost_usd))}.`
      : 'Cost over time needs the gateway, which was not reachable.'
    return {series: {bucket: 'day', points: [], note}, perDay: []}
  }
  if (s.requests.length === 0) return {series: {bucket: 'day', points: []}, perDay: []}
  const first = Math.min(...s.requests.map((q) => q.t))
  const last = Math.max(...s.requests.map((q) => q.t))
  const span = last - first
  const bucket = span >= 2 * DAY ? 'day' : span >= 2 * 3_600_000 ? 'hour' : 'minute'
  return {series: {bucket, points: bucketize(s.requests, bucket)}, perDay: bucketize(s.requests, 'day')}
}
