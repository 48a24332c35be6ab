/**
 * Criterion outcomes -> one gate verdict.
 *
 *   any key criterion failed                     -> NO-GO (1)
 *   else any key criterion errored               -> ERROR (4)  could not evaluate
 *   else any key criterion inconclusive          -> INCONCLUSIVE (3)
 *   else approval required and no approval whose
 *        evaluationHash equals this evidenceHash -> AWAITING_APPROVAL (3)
 *   else                                         -> GO (0)
 * A gate without key criteria is an ERROR: "GO" on nothing is no evidence.
 * Non-key criteria never block; those that did not pass are listed as warnings.
 */
import {canonicalJson, sha256Hex} from '../util/hash.js'
import type {Approval, ApprovalStatus, CriterionOutcome, GateVerdict, Verdict} from './types.js'

export interface DecideGateOptions {
  approvalRequired: boolean
  approval?: Approval
  /** Alternative to approval: all recorded approvals; any whose hash matches counts. */
  approvals?: readonly Approval[]
  /** Extra inputs that identify the evaluation (e.g. {gate: '1->2', playbook: 'name@version'}); hashed too. */
  context?: Record<string, unknown>
}

const EXIT_CODES: Record<Verdict, GateVerdict['exitCode']> = {
  GO: 0,
  'NO-GO': 1,
  INCONCLUSIVE: 3,
  AWAITING_APPROVAL: 3,
  ERROR: 4,
}

/**
 * The evidence an approver sees: each criterion's spec, measured value, sample count,
 * window bounds, hosts and pinned baseline, plus the optional context. Canonical JSON
 * (sorted keys; criteria sorted by id) -> sha256 hex. Approvals and free-form detail are
 * not part of it, so recording an approval never changes the hash it approved.
 */
export function evidenceHash(outcomes: readonly CriterionOutcome[], context?: Record<string, unknown>): string {
  const criteria = [...outcomes]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((o) => ({
      spec: o.spec,
      measured: {
        value: o.measurement.value,
        samples: o.measurement.samples,
        windowStart: o.measurement.windowStart,
        windowEnd: o.measurement.windowEnd,
        windowElapsed: o.measurement.windowElapsed,
        error: o.measurement.error,
        hosts: o.hosts?.map((h) => ({name: h.name, value: h.value, ok: h.ok})),
      },
      baseline: o.baseline ?? null,
    }))
  return sha256Hex(canonicalJson({v: 1, context: context ?? null, criteria}))
}

function describe(o: CriterionOutcome): string {
  return `${o.id} ${o.outcome}: ${o.reason}`
}

export function decideGate(outcomes: readonly CriterionOutcome[], opts: DecideGateOptions): GateVerdict {
  const hash = evidenceHash(outcomes, opts.context)
  const key = outcomes.filter((o) => o.key)
  const nonKey = outcomes.filter((o) => !o.key)
  const failed = key.filter((o) => o.outcome === 'fail')
  const errored = key.filter((o) => o.outcome === 'error')
  const inconclusive = key.filter((o) => o.outcome === 'inconclusive')
  const warnings = nonKey.filter((o) => o.outcome !== 'pass')

  const candidates = [...(opts.approval ? [opts.approval] : []), ...(opts.approvals ?? [])]
  const matching = candidates.find((a) => a.evaluationHash === hash)
  let approvalStatus: ApprovalStatus
  if (!opts.approvalRequired) approvalStatus = 'not_required'
  else if (matching) approvalStatus = 'valid'
  else if (candidates.length > 0) approvalStatus = 'stale'
  else approvalStatus = 'missing'
  const shown = matching ?? candidates[candidates.length - 1]
  const approval: GateVerdict['approval'] = {
    required: opts.approvalRequired,
    status: approvalStatus,
    ...(shown ? {by: shown.by, at: shown.at, evaluationHash: shown.evaluationHash} : {}),
  }

  let verdict: Verdict
  let blocking: CriterionOutcome[]
  let headline: string
  if (key.length === 0) {
    verdict = 'ERROR'
    blocking = []
    headline = 'the gate has no key criteria, so there is nothing a GO could rest on; mark the criteria that must hold as key'
  } else if (failed.length > 0) {
    verdict = 'NO-GO'
    blocking = failed
    headline = `${failed.length} key criterion(s) failed: ${failed.map((o) => o.id).join(', ')}`
  } else if (errored.length > 0) {
    verdict = 'ERROR'
    blocking = errored
    headline = `${errored.length} key criterion(s) could not be measured: ${errored.map((o) => o.id).join(', ')}`
  } else if (inconclusive.length > 0) {
    verdict = 'INCONCLUSIVE'
    blocking = inconclusive
    headline = `${inconclusive.length} key criterion(s) inconclusive: ${inconclusive.map((o) => o.id).join(', ')}`
  } else if (approvalStatus === 'missing' || approvalStatus === 'stale') {
    verdict = 'AWAITING_APPROVAL'
    blocking = []
    headline =
      approvalStatus === 'stale'
        ? `all ${key.length} key criteria pass, but the recorded approval (by ${shown!.by} at ${shown!.at}) is for evaluation ${shown!.evaluationHash.slice(0, 12)}, not this one (${hash.slice(0, 12)}); approve this evaluation`
        : `all ${key.length} key criteria pass; team approval of evaluation ${hash.slice(0, 12)} is required`
  } else {
    verdict = 'GO'
    blocking = []
    headline =
      approvalStatus === 'valid'
        ? `all ${key.length} key criteria pass; approved by ${matching!.by} at ${matching!.at}`
        : `all ${key.length} key criteria pass`
  }

  const lines = [`${verdict}: ${headline}`]
  for (const o of blocking) lines.push(`  - ${describe(o)}`)
  if (warnings.length > 0) {
    lines.push(`warnings (non-key, not blocking): ${warnings.length}`)
    for (const o of warnings) lines.push(`  - ${describe(o)}`)
  }
  const passed = outcomes.filter((o) => o.outcome === 'pass').length
  lines.push(`criteria: ${passed}/${outcomes.length} pass; evidence ${hash.slice(0, 12)}`)

  return {
    verdict,
    exitCode: EXIT_CODES[verdict],
    outcomes: [...outcomes],
    evidenceHash: hash,
    summary: lines.join('\n'),
    blocking: blocking.map((o) => o.id),
    warnings: warnings.map((o) => o.id),
    approval,
  }
}
