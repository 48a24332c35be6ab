/**
 * `approve`: bind a named approval to the latest evaluation of the gate leaving a phase.
 * The approval records who, when, why and the stored evaluation's hash (state.addApproval, which
 * also appends it to the audit trail). Only an evaluation whose key criteria all pass
 * (AWAITING_APPROVAL, or GO) can be approved: approving a NO-GO would be a signature on a failure.
 */
import {CutoverError, ExitCode} from '../errors.js'
import type {Playbook} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import type {ApprovalRecord} from '../state/types.js'
import {findGate} from './criteria.js'
import type {StoredGateInputs} from './gonogo.js'

export interface ApproveOptions {
  state: StateStore
  playbook: Playbook
  phase: number
  by: string
  reason?: string
}

export interface ApproveResult {
  approval: ApprovalRecord
  gate: {id: string; from: number; to: number}
  evaluation: {id: string; ts: string; verdict: string; recordHash: string; evidenceHash: string | null}
  next: string[]
}

const APPROVABLE = new Set(['AWAITING_APPROVAL', 'GO'])

export function approveGate(opts: ApproveOptions): ApproveResult {
  const {state, playbook, phase} = opts
  const by = opts.by.trim()
  if (by.length === 0) throw new CutoverError('an approval needs the approver\'s name: --by NAME', {code: 'APPROVER_MISSING', exit: ExitCode.Usage})
  const gate = findGate(playbook, phase)
  if (!gate) {
    const known = playbook.gates.map((g) => g.from).join(', ') || 'none'
    throw new CutoverError(`the playbook "${playbook.name}" has no gate leaving phase ${phase} (gates leave phases: ${known})`, {
      code: 'GATE_NOT_FOUND',
      exit: ExitCode.Usage,
      suggestions: ['Pass the phase the gate leaves: cutover approve --phase N --by NAME'],
    })
  }
  if (!gate.criteria.some((c) => c.requires_approval)) {
    throw new CutoverError(`gate ${gate.from} -> ${gate.to} (${gate.id}) has no approval criterion, so there is nothing to approve`, {code: 'APPROVAL_NOT_REQUIRED', exit: ExitCode.Usage})
  }
  const evaluation = state.latestEvaluation<StoredGateInputs>({from: gate.from, to: gate.to})
  if (!evaluation) {
    throw new CutoverError(`gate ${gate.from} -> ${gate.to} has not been evaluated yet; an approval binds to an evaluation`, {
      code: 'NO_EVALUATION',
      exit: ExitCode.Usage,
      suggestions: [`Run: cutover gonogo --from ${gate.from} --to ${gate.to}`],
    })
  }
  if (!APPROVABLE.has(evaluation.verdict)) {
    throw new CutoverError(
      `the latest evaluation of gate ${gate.from} -> ${gate.to} (${evaluation.id}, ${evaluation.ts}) is ${evaluation.verdict}; only an evaluation whose key criteria all pass can be approved`,
      {code: 'EVALUATION_NOT_APPROVABLE', exit: ExitCode.Fail, suggestions: [`Fix what blocks the gate, then run: cutover gonogo --from ${gate.from} --to ${gate.to}`]},
    )
  }
  const approval = state.addApproval({phase: gate.from, by, ...(opts.reason ? {reason: opts.reason} : {}), evaluationId: evaluation.id})
  return {
    approval,
    gate: {id: gate.id, from: gate.from, to: gate.to},
    evaluation: {
      id: evaluation.id,
      ts: evaluation.ts,
      verdict: evaluation.verdict,
      recordHash: evaluation.evidenceHash,
      evidenceHash: typeof evaluation.inputs?.gate_evidence_hash === 'string' ? evaluation.inputs.gate_evidence_hash : null,
    },
    next: [`cutover gonogo --from ${gate.from} --to ${gate.to}   (GO while the measurements stay as approved)`],
  }
}
