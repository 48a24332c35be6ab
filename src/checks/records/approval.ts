import {defineCheck} from '../types.js'
import {inconclusive, pass, plural} from '../util.js'
import {phaseStart, requireState} from './common.js'

interface Params {
  phase?: number
  min_approvals: number
}

/** Go/No-Go "Team approval": recorded with `cutover approve`. Missing approval = awaiting (inconclusive, exit 3). */
export const recordsApproval = defineCheck<Params>({
  id: 'records.approval',
  title: 'Team approval recorded',
  verifies: 'Go/No-Go Criteria "Team approval"',
  params: {
    phase: {type: 'number', integer: true, min: 1, description: 'the phase the approval is for (default: the phase being validated)'},
    min_approvals: {type: 'number', integer: true, min: 1, default: 1, description: 'approvals needed'},
  },
  touches: ({params, phase}) => ({records: [`approvals (phase ${params.phase ?? phase})`]}),
  async run({state: maybeState, params, phase}) {
    const forPhase = params.phase ?? phase
    const expected = `at least ${plural(params.min_approvals, 'approval')} recorded for phase ${forPhase}`
    const s = requireState(maybeState, expected)
    if ('result' in s) return s.result
    const since = phaseStart(s.state, forPhase)
    const approvals = s.state.listApprovals({phase: forPhase}).filter((a) => since === null || a.ts >= since)
    const evidence = {phase: forPhase, since, approvals: approvals.map((a) => ({by: a.by, ts: a.ts, reason: a.reason, evaluation_hash: a.evaluationHash}))}
    if (approvals.length >= params.min_approvals) {
      return pass({detail: `approved by ${approvals.map((a) => a.by).join(', ')}`, expected, measured: plural(approvals.length, 'approval'), evidence})
    }
    return inconclusive({detail: `awaiting approval: ${approvals.length} of ${params.min_approvals}`, expected, measured: plural(approvals.length, 'approval'), evidence, remediation: `Record the team's decision: cutover approve --phase ${forPhase} --by NAME --reason TEXT`})
  },
})
