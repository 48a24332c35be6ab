import {defineCheck} from '../types.js'
import {fail, pass} from '../util.js'
import {requireState} from './common.js'

/** Go/No-Go "Zero critical bugs discovered": no open critical incident. */
export const recordsNoCriticalIncidents = defineCheck({
  id: 'records.no_critical_incidents',
  title: 'No open critical incident',
  verifies: 'Go/No-Go Criteria "Zero critical bugs discovered"; Rollback Decision Criteria "Critical bugs affecting users"',
  params: {},
  touches: () => ({records: ['incidents (open, severity critical)']}),
  async run({state: maybeState}) {
    const expected = 'no open incident of severity critical'
    const s = requireState(maybeState, expected)
    if ('result' in s) return s.result
    const open = s.state.listIncidents({open: true, severity: 'critical'})
    const evidence = {open_critical: open.map((i) => ({id: i.id, title: i.title, ts: i.ts, author: i.author}))}
    if (open.length === 0) return pass({detail: 'no open critical incident', expected, measured: '0 open critical', evidence})
    return fail({
      detail: `${open.length} open critical incident(s): ${open.map((i) => `#${i.id} ${i.title}`).join('; ')}`,
      expected,
      measured: `${open.length} open critical`,
      evidence,
      remediation: `Fix and resolve them (cutover incident resolve ${open[0]?.id ?? 'ID'} --resolution TEXT); a critical bug affecting users is a rollback trigger.`,
    })
  },
})
