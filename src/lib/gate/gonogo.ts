/**
 * `gonogo`: measure each criterion of a gate -> evaluate (pure) -> decide (pure) -> record.
 *
 * Approvals. A criterion with `requires_approval` is the gate's approval: it is not measured,
 * it makes decideGate require an approval whose hash equals this evaluation's evidence hash.
 * Measurements move with time (windows slide), so a re-run never reproduces the hash an approver
 * saw. The rule: if every key criterion's evidence (spec, outcome, value, hosts, baseline), and every
 * advisory criterion's outcome, is the same as in the approved evaluation, the approved evaluation's
 * measurements are reused (the verdict rests on exactly what was approved; sample counts, window
 * bounds and advisory values may have moved on). If
 * anything differs, the approval is for an older evaluation and the verdict is AWAITING_APPROVAL.
 *
 * Every evaluation is stored (state.recordEvaluation, which also appends to the audit trail) with
 * its full inputs: specs, measurements, baselines, approval status.
 */
import {decideGate} from '../evaluate/gate.js'
import {evaluateCriterion, formatNumber, withUnit} from '../evaluate/criterion.js'
import type {Approval, ApprovalStatus, Baseline, CriterionOutcome, GateVerdict, HostSample, Verdict} from '../evaluate/types.js'
import {canonicalJson} from '../util/hash.js'
import {ConfigError} from '../errors.js'
import type {Criterion, Gate, Playbook} from '../playbook/types.js'
import {redactUrl} from '../sources/http.js'
import {errorMeasurement} from '../sources/types.js'
import type {StateStore} from '../state/store.js'
import type {BaselineRecord, EvaluationRecord} from '../state/types.js'
import type {Target} from '../target/target.js'
import {type AnchorState, baselineKey, findGate, resolveWindow, type ResolvedWindow, toCriterionSpec} from './criteria.js'
import {measure, type MeasureContext} from './measure.js'
import {recordsInputFromState} from './records.js'
import {describeResolutionRule} from '../evaluate/evidence.js'
import {anchorWindow, applyAnchor, phaseEntryOf, phaseTimingRows} from './timing.js'

export interface GonogoOptions {
  playbook: Playbook
  /** Shown in results (e.g. 'playbooks/llm-gateway-cutover.yaml'). */
  playbookFile: string
  state: StateStore
  target: Target
  /** Default: the current phase in the state store, else 1. */
  from?: number
  /** Default: the gate leaving `from`. */
  to?: number
  prometheusUrl?: string
  prometheusHeaders?: Record<string, string>
  now?: Date
}

export interface CriterionReport {
  id: string
  title: string
  key: boolean
  source: string
  metric: string
  statistic: string
  /** As written in the playbook ('phase' or a duration). */
  window: string
  windowStart: string
  windowEnd: string
  windowElapsed: boolean
  samples: number
  minSamples: number
  value: number | null
  unit?: string
  operator: string
  threshold: number
  effectiveThreshold: number | null
  baseline?: number | null
  changePct?: number | null
  outcome: 'pass' | 'fail' | 'inconclusive' | 'error'
  reason: string
  /** Set for the team-approval row: it is decided by the approval, not measured. */
  approval?: boolean
  /** Set for phase-anchored windows and the phase's timing rows: how much of the phase has passed. */
  anchor?: AnchorState
  /** The minimum-evidence rule this criterion must meet, in words (null: none applies). */
  evidenceRule?: string | null
  /** Set when the playbook waives that rule: why (shown with the verdict). */
  evidenceWaiver?: string
  hosts?: HostSample[]
  failingHosts?: string[]
  error?: string
  detail?: Record<string, unknown>
}

export interface ApprovalReport {
  required: boolean
  status: ApprovalStatus
  by?: string
  at?: string
  reason?: string | null
  /** The evaluation the shown approval was given for. */
  evaluationId?: string
  message: string
}

export interface GonogoResult {
  gate: {id: string; from: number; to: number; title: string}
  playbook: {name: string; version: string; file: string}
  target: {name: string; home: string}
  evaluatedAt: string
  verdict: Verdict
  exitCode: GateVerdict['exitCode']
  summary: string
  blocking: string[]
  warnings: string[]
  /** Hash of the evidence (specs, measurements, baselines); what an approval is bound to. */
  evidenceHash: string
  /** The stored evaluation record (its hash covers verdict and all inputs). */
  evaluation: {id: string; ts: string; recordHash: string}
  criteria: CriterionReport[]
  approval: ApprovalReport
  /** Set when the measurements were identical to an approved evaluation and its measurements were reused. */
  reusedEvaluation?: {id: string; ts: string}
  baseline?: {id: number; phase: number; pinnedAt: string} | null
  prometheusUrl?: string
  next: string[]
}

/** What recordEvaluation stores as inputs (also read back when an approval refers to it). */
export interface StoredGateInputs {
  v: 1
  gate: GonogoResult['gate']
  playbook: GonogoResult['playbook']
  context: Record<string, unknown>
  gate_evidence_hash: string
  outcomes: CriterionOutcome[]
  approval: ApprovalReport
  reused_evaluation_id?: string
  /** When reused: the measurements actually taken by this run. */
  current_outcomes?: CriterionOutcome[]
  baseline_id?: number | null
}

/** The gate to evaluate, or a ConfigError listing the gates there are. */
export function selectGate(playbook: Playbook, state: StateStore, from?: number, to?: number): Gate {
  const current = state.getPhase()?.phase
  const start = from ?? current ?? 1
  const gate = findGate(playbook, start, to)
  if (gate) return gate
  const known = playbook.gates.map((g) => `${g.from} -> ${g.to} (${g.id})`).join(', ') || 'none'
  throw new ConfigError(
    `the playbook "${playbook.name}" has no gate from phase ${start}${to === undefined ? '' : ` to phase ${to}`}${from === undefined ? ` (the current phase is ${current ?? 'not set; assuming 1'})` : ''}; its gates: ${known}`,
    playbook.gates[0] ? [`Run: cutover gonogo --from ${playbook.gates[0].from} --to ${playbook.gates[0].to}`] : ['Add a gate to the playbook.'],
    'GATE_NOT_FOUND',
  )
}

/** The evidence of one criterion that an approval vouches for (not window bounds or sample counts). */
function evidenceIdentity(o: CriterionOutcome): string {
  const {window: _window, ...spec} = o.spec
  // An advisory (non-key) criterion never decides the verdict, so only its outcome is vouched for:
  // an average that drifts with every request would otherwise make any approval stale at once.
  if (!o.key) return canonicalJson({id: o.id, spec, outcome: o.outcome, key: false})
  return canonicalJson({
    id: o.id,
    spec,
    outcome: o.outcome,
    value: o.value,
    hosts: o.hosts?.map((h) => ({name: h.name, value: h.value, ok: h.ok})) ?? null,
    baseline: o.baseline ?? null,
    error: o.measurement.error ?? null,
    windowElapsed: o.measurement.windowElapsed,
  })
}

/** Ids of criteria whose evidence differs (or that exist on one side only). */
export function changedCriteria(current: readonly CriterionOutcome[], approved: readonly CriterionOutcome[]): string[] {
  const before = new Map(approved.map((o) => [o.id, evidenceIdentity(o)]))
  const changed = current.filter((o) => before.get(o.id) !== evidenceIdentity(o)).map((o) => o.id)
  const gone = approved.filter((o) => !current.some((c) => c.id === o.id)).map((o) => o.id)
  return [...changed, ...gone]
}

interface ApprovalCandidate {
  approval: Approval
  evaluation: EvaluationRecord<StoredGateInputs>
  reason: string | null
}

/** Approvals of this gate whose evaluation still exists and still carries the hash that was approved. */
function approvalCandidates(state: StateStore, gate: Gate): ApprovalCandidate[] {
  const out: ApprovalCandidate[] = []
  for (const a of state.listApprovals({phase: gate.from})) {
    if (!a.evaluationId || !a.evaluationHash) continue
    const evaluation = state.getEvaluation<StoredGateInputs>(a.evaluationId)
    if (!evaluation || evaluation.evidenceHash !== a.evaluationHash || evaluation.to !== gate.to) continue
    const gateHash = evaluation.inputs?.gate_evidence_hash
    if (typeof gateHash !== 'string') continue
    out.push({approval: {evaluationHash: gateHash, by: a.by, at: a.ts, ...(a.reason ? {reason: a.reason} : {})}, evaluation, reason: a.reason})
  }
  return out
}

function toBaseline(record: BaselineRecord | null, criterion: Criterion): Baseline | null {
  if (!record) return null
  const value = record.metrics[baselineKey(criterion)]
  if (typeof value !== 'number') return null
  return {value, pinnedAt: record.pinnedAt, phase: record.phase, ...(record.windowStart ? {windowStart: record.windowStart} : {}), ...(record.windowEnd ? {windowEnd: record.windowEnd} : {})}
}

/** Reasons name the resolved duration; for `window: phase` say "the phase" instead of '2969w6h37m'. */
function phaseWording(reason: string, window: ResolvedWindow): string {
  if (window.asWritten !== 'phase') return reason
  const label = window.note ? 'everything recorded' : `the phase (since ${window.phaseStart})`
  return reason.split(`over ${window.duration}`).join(`over ${label}`).split(`the ${window.duration} window`).join(`${label}`)
}

function report(criterion: Criterion, window: ResolvedWindow, o: CriterionOutcome): CriterionReport {
  return {
    id: o.id,
    title: o.title,
    key: o.key,
    source: criterion.source,
    metric: criterion.metric,
    statistic: o.statistic,
    window: window.asWritten,
    windowStart: o.windowStart,
    windowEnd: o.windowEnd,
    windowElapsed: o.measurement.windowElapsed,
    samples: o.samples,
    minSamples: criterion.min_samples,
    value: o.value,
    ...(o.unit ? {unit: o.unit} : {}),
    operator: o.operator,
    threshold: o.threshold,
    effectiveThreshold: o.effectiveThreshold,
    ...(o.baseline === undefined ? {} : {baseline: o.baseline}),
    ...(o.changePct === undefined ? {} : {changePct: o.changePct}),
    outcome: o.outcome,
    reason: phaseWording(o.reason, window),
    ...(window.anchor ? {anchor: window.anchor} : {}),
    evidenceRule: describeResolutionRule(criterion),
    ...(criterion.evidence_waiver === undefined ? {} : {evidenceWaiver: criterion.evidence_waiver}),
    ...(o.hosts ? {hosts: o.hosts, failingHosts: o.failingHosts ?? []} : {}),
    ...(o.measurement.error === undefined ? {} : {error: o.measurement.error}),
    ...(o.measurement.detail || window.note ? {detail: {...o.measurement.detail, ...(window.note ? {window_note: window.note} : {})}} : {}),
  }
}

function approvalRow(criterion: Criterion, approval: ApprovalReport, now: Date): CriterionReport {
  const valid = approval.status === 'valid'
  return {
    id: criterion.id,
    title: criterion.title,
    key: criterion.key,
    source: criterion.source,
    metric: criterion.metric,
    statistic: criterion.statistic,
    window: criterion.window,
    windowStart: now.toISOString(),
    windowEnd: now.toISOString(),
    windowElapsed: true,
    samples: valid ? 1 : 0,
    minSamples: criterion.min_samples,
    value: valid ? 1 : 0,
    operator: criterion.operator,
    threshold: criterion.threshold,
    effectiveThreshold: criterion.threshold,
    outcome: valid ? 'pass' : 'inconclusive',
    reason: approval.message,
    approval: true,
  }
}

function nextSteps(verdict: Verdict, gate: Gate, criteria: CriterionReport[], state: StateStore): string[] {
  switch (verdict) {
    case 'GO':
      return [`cutover phase advance --to ${gate.to}`]
    case 'AWAITING_APPROVAL':
      return [`cutover approve --phase ${gate.from} --by NAME --reason TEXT   (binds to this evaluation)`, `cutover gonogo --from ${gate.from} --to ${gate.to}`]
    case 'INCONCLUSIVE': {
      const waiting = criteria.filter((c) => c.anchor && !c.anchor.met && c.outcome === 'inconclusive').map((c) => `wait: ${c.id} (${c.anchor!.why})`)
      return [...waiting, 'keep `cutover monitor` running until every window is covered and has enough samples', `cutover gonogo --from ${gate.from} --to ${gate.to}`]
    }
    case 'ERROR': {
      const steps = ['cutover daemon status   (is the target up?)']
      if (criteria.some((c) => c.outcome === 'error' && c.source === 'prometheus')) steps.push('pass --prometheus-url URL (or set CUTOVER_PROMETHEUS_URL) for the fleet criteria')
      if (criteria.some((c) => c.outcome === 'error' && c.metric === 'uptime')) steps.push('cutover monitor   (uptime is measured from its samples)')
      steps.push(`cutover gonogo --from ${gate.from} --to ${gate.to}`)
      return steps
    }
    case 'NO-GO': {
      const steps: string[] = []
      const failed = criteria.filter((c) => c.outcome === 'fail')
      if (failed.some((c) => c.source === 'records' && c.metric.includes('incident'))) {
        const open = state.listIncidents({open: true, severity: 'critical'})
        for (const i of open) steps.push(`cutover incident resolve ${i.id} --by NAME   (when "${i.title}" is fixed)`)
      }
      if (failed.some((c) => c.source === 'records' && c.metric === 'critical_incidents')) {
        // Resolving does not undo "discovered": the phase's clock restarts with its next entry.
        steps.push(`a critical bug was discovered during phase ${gate.from}: resolved or not, it counts until the phase is entered again (roll back, fix, advance again), or accept it with: cutover phase advance --to ${gate.to} --force --reason TEXT`)
      }
      if (failed.some((c) => c.metric === 'last_rehearsal_within_objective')) steps.push('cutover rollback --rehearse')
      if (failed.some((c) => c.metric === 'last_validation_passed')) steps.push(`cutover phase validate --phase ${gate.from}`)
      steps.push(`fix what failed (${failed.map((c) => c.id).join(', ')}), then: cutover gonogo --from ${gate.from} --to ${gate.to}`)
      return steps
    }
  }
}

export async function runGonogo(opts: GonogoOptions): Promise<GonogoResult> {
  const now = opts.now ?? new Date()
  const {state, playbook, target} = opts
  const gate = selectGate(playbook, state, opts.from, opts.to)
  const phase = state.getPhase()
  const baselineRecord = state.latestBaseline()
  const ctx: MeasureContext = {
    state,
    target,
    records: recordsInputFromState(state),
    ...(opts.prometheusUrl ? {prometheusUrl: opts.prometheusUrl} : {}),
    ...(opts.prometheusHeaders ? {prometheusHeaders: opts.prometheusHeaders} : {}),
  }

  const measured = gate.criteria.filter((c) => !c.requires_approval)
  const approvalCriteria = gate.criteria.filter((c) => c.requires_approval)
  const entry = phaseEntryOf(state, gate)
  const windows = new Map(measured.map((c) => [c.id, anchorWindow(c, resolveWindow(c.window, gate, phase, now), state, gate, entry, now)]))
  const timing = phaseTimingRows(playbook, state, gate, entry, now)

  const outcomes: CriterionOutcome[] = await Promise.all(
    measured.map(async (criterion) => {
      const spec = toCriterionSpec(criterion, windows.get(criterion.id)!)
      const baselinePhase = Number(criterion.params?.baseline_phase)
      const baseline = toBaseline(Number.isInteger(baselinePhase) ? state.latestBaseline(baselinePhase) : baselineRecord, criterion)
      const m =
        criterion.relative_to_baseline?.max_decrease_pct !== undefined
          ? errorMeasurement(spec, now, 'relative_to_baseline.max_decrease_pct is not supported in gate criteria (only max_increase_pct); use a rollback trigger with bands for drops')
          : await measure(ctx, spec, now, {...(criterion.params ? {params: criterion.params} : {}), ...(criterion.host_label ? {hostLabel: criterion.host_label} : {}), ...(criterion.evidence_waiver === undefined ? {minSamples: criterion.min_samples} : {})})
      return applyAnchor(evaluateCriterion(spec, m, baseline), windows.get(criterion.id)!, gate)
    }),
  )
  for (const row of timing) {
    measured.push(row.criterion)
    windows.set(row.criterion.id, row.window)
    outcomes.push(row.outcome)
  }

  const context = {gate: gate.id, from: gate.from, to: gate.to, playbook: `${playbook.name}@${playbook.version}`}
  const approvalRequired = approvalCriteria.length > 0
  const candidates = approvalRequired ? approvalCandidates(state, gate) : []
  let decided = decideGate(outcomes, {approvalRequired, approvals: candidates.map((c) => c.approval), context})
  let used = outcomes
  let reused: ApprovalCandidate | undefined
  let changed: string[] = []
  const latest = candidates[0]
  if (approvalRequired && decided.approval.status === 'stale' && latest) {
    const approvedOutcomes = latest.evaluation.inputs.outcomes
    changed = changedCriteria(outcomes, approvedOutcomes)
    if (changed.length === 0) {
      const again = decideGate(approvedOutcomes, {approvalRequired, approvals: candidates.map((c) => c.approval), context})
      // Only if the stored evidence still hashes to what was approved.
      if (again.approval.status === 'valid') {
        decided = again
        used = approvedOutcomes
        reused = latest
      }
    }
  }

  let approval: ApprovalReport
  const shown = reused ?? candidates.find((c) => c.approval.evaluationHash === decided.evidenceHash) ?? latest
  const who = shown ? {by: shown.approval.by, at: shown.approval.at, reason: shown.reason, evaluationId: shown.evaluation.id} : {}
  switch (decided.approval.status) {
    case 'not_required':
      approval = {required: false, status: 'not_required', message: 'this gate needs no approval'}
      break
    case 'valid':
      approval = {required: true, status: 'valid', ...who, message: `approved by ${shown?.approval.by} at ${shown?.approval.at}${reused ? ' (the measurements are identical to the approved evaluation)' : ''}`}
      break
    case 'stale':
      approval = {
        required: true,
        status: 'stale',
        ...who,
        message: `approval is for an older evaluation (${shown?.evaluation.id}, approved by ${shown?.approval.by} at ${shown?.approval.at}); changed since: ${changed.length > 0 ? changed.join(', ') : 'the evidence'}; approve this evaluation`,
      }
      break
    default:
      approval = {required: true, status: 'missing', message: `no approval recorded for gate ${gate.from} -> ${gate.to}; approve this evaluation`}
  }

  let summary = decided.summary
  if (decided.verdict === 'AWAITING_APPROVAL') {
    const lines = summary.split('\n')
    lines[0] = `AWAITING_APPROVAL: all key criteria pass; ${approval.message}`
    summary = lines.join('\n')
  }

  const criteriaReports: CriterionReport[] = used.map((o) => {
    const criterion = measured.find((c) => c.id === o.id)!
    return report(criterion, windows.get(o.id)!, o)
  })
  for (const c of approvalCriteria) criteriaReports.push(approvalRow(c, approval, now))

  const gateInfo = {id: gate.id, from: gate.from, to: gate.to, title: gate.title}
  const playbookInfo = {name: playbook.name, version: playbook.version, file: opts.playbookFile}
  const inputs: StoredGateInputs = {
    v: 1,
    gate: gateInfo,
    playbook: playbookInfo,
    context,
    gate_evidence_hash: decided.evidenceHash,
    outcomes: used,
    approval,
    ...(reused ? {reused_evaluation_id: reused.evaluation.id, current_outcomes: outcomes} : {}),
    baseline_id: baselineRecord?.id ?? null,
  }
  const record = state.recordEvaluation({from: gate.from, to: gate.to, verdict: decided.verdict, inputs})

  return {
    gate: gateInfo,
    playbook: playbookInfo,
    target: {name: target.name, home: target.home},
    evaluatedAt: now.toISOString(),
    verdict: decided.verdict,
    exitCode: decided.exitCode,
    summary,
    blocking: decided.blocking,
    warnings: decided.warnings,
    evidenceHash: decided.evidenceHash,
    evaluation: {id: record.id, ts: record.ts, recordHash: record.evidenceHash},
    criteria: criteriaReports,
    approval,
    ...(reused ? {reusedEvaluation: {id: reused.evaluation.id, ts: reused.evaluation.ts}} : {}),
    baseline: baselineRecord ? {id: baselineRecord.id, phase: baselineRecord.phase, pinnedAt: baselineRecord.pinnedAt} : null,
    ...(opts.prometheusUrl ? {prometheusUrl: redactUrl(opts.prometheusUrl)} : {}),
    next: nextSteps(decided.verdict, gate, criteriaReports, state),
  }
}

/** One line per criterion value for humans: '99.95% (n=120, needs > 99.9%)'. */
export function describeValue(c: CriterionReport): string {
  if (c.approval) return c.outcome === 'pass' ? 'approved' : 'awaiting'
  if (c.error) return 'error'
  const v = withUnit(c.value, c.unit)
  return c.hosts ? `${v} (${c.failingHosts?.length ?? 0}/${c.hosts.length} hosts)` : v
}

export function describeThreshold(c: CriterionReport): string {
  if (c.approval) return 'approval of this evaluation'
  const bound = c.effectiveThreshold !== null && c.effectiveThreshold !== c.threshold ? c.effectiveThreshold : c.threshold
  const text = `${c.operator} ${withUnit(bound, c.unit)}`
  return c.baseline !== undefined && c.baseline !== null ? `${text} (baseline ${formatNumber(c.baseline)})` : text
}
