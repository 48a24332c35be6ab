import {defineCheck} from '../types.js'
import {fail, inconclusive, pass} from '../util.js'
import {requireState} from './common.js'
import {withinObjective} from '../../lib/util/objective.js'

interface Params {
  kind: 'flag' | 'git' | 'fastest'
  objective?: number
  max_age?: number
}

/**
 * A rollback of this kind was rehearsed (or really done) successfully within its recovery-time
 * objective. Records of kind `<kind>` (real rollbacks) and `<kind>-rehearsal` both count.
 */
export const rollbackRehearsed = defineCheck<Params>({
  id: 'rollback.rehearsed',
  title: 'Rollback rehearsed within its objective',
  verifies: '§2.4 / §3.5 recovery objectives (flag 30 s, git 10 min); Pre-Deployment template "Rollback plan: Fully tested"',
  params: {
    kind: {type: 'enum', values: ['flag', 'git', 'fastest'], default: 'flag', description: 'which rollback procedure'},
    objective: {type: 'duration', description: 'recovery-time objective (default: the one recorded with the rehearsal)'},
    max_age: {type: 'duration', description: 'ignore rehearsals older than this (e.g. 7d)'},
  },
  touches: ({params}) => ({records: [`rollbacks (kind ${params.kind}, ${params.kind}-rehearsal)`]}),
  async run({state: maybeState, params, now}) {
    const expected = `the last ${params.kind} rollback or rehearsal succeeded${params.objective ? ` within ${params.objective} ms` : ' within its objective'}`
    const s = requireState(maybeState, expected)
    if ('result' in s) return s.result
    const cutoff = params.max_age ? now().getTime() - params.max_age : null
    const records = s.state
      .listRollbacks({limit: 1000})
      .filter((r) => r.kind === params.kind || r.kind === `${params.kind}-rehearsal`)
      .filter((r) => cutoff === null || Date.parse(r.ts) >= cutoff)
    const last = records[0] ?? null
    const evidence = {kind: params.kind, objective_ms: params.objective ?? null, considered: records.length, last: last ? {ts: last.ts, kind: last.kind, outcome: last.outcome, total_ms: last.totalMs, objective_ms: last.objectiveMs, within_objective: last.withinObjective, timings: last.timings} : null}
    if (!last) {
      return inconclusive({detail: `no ${params.kind} rollback rehearsal recorded${params.max_age ? ' recently' : ''}`, expected, measured: 'not rehearsed', evidence, remediation: `Rehearse it: cutover rollback --rehearse (${params.kind}); the measured time is recorded.`})
    }
    const objective = params.objective ?? last.objectiveMs
    const within = last.totalMs !== null && (objective === null ? last.withinObjective : withinObjective(last.outcome, last.totalMs, objective))
    const measured = `${last.kind} ${last.outcome} in ${last.totalMs ?? '?'} ms${objective !== null ? ` (objective ${objective} ms)` : ''}`
    if (last.outcome === 'success' && within) return pass({detail: `last ${measured} at ${last.ts}`, expected, measured, evidence})
    return fail({
      detail: last.outcome !== 'success' ? `the last ${params.kind} rollback ended ${last.outcome}` : `the last ${params.kind} rollback took ${last.totalMs} ms, over the objective`,
      expected,
      measured,
      evidence,
      remediation: `See its timings in the evidence, fix the slow or failing step, and rehearse again (cutover rollback --rehearse).`,
    })
  },
})
