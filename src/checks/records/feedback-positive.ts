import {defineCheck} from '../types.js'
import {fail, inconclusive, pass} from '../util.js'
import {phaseStart, requireState} from './common.js'

interface Params {
  min_positive_pct: number
  min_feedback: number
}

/** Go/No-Go Phase 2 -> 3 "User feedback positive". */
export const recordsFeedbackPositive = defineCheck<Params>({
  id: 'records.feedback_positive',
  title: 'User feedback positive',
  verifies: 'Go/No-Go Criteria, Phase 2 → Phase 3 "User feedback positive"',
  params: {
    min_positive_pct: {type: 'number', min: 0, max: 100, default: 50, description: 'share of positive feedback that must be exceeded, in percent'},
    min_feedback: {type: 'number', integer: true, min: 1, default: 1, description: 'fewer feedback records than this gives inconclusive'},
  },
  touches: () => ({records: ['feedback (since the current phase began)']}),
  async run({state: maybeState, params, phase}) {
    const expected = `more than ${params.min_positive_pct}% of the feedback recorded in phase ${phase} is positive (at least ${params.min_feedback})`
    const s = requireState(maybeState, expected)
    if ('result' in s) return s.result
    const since = phaseStart(s.state, phase)
    const feedback = s.state.listFeedback(since ? {from: since} : {})
    const positive = feedback.filter((f) => f.sentiment === 'positive').length
    const pct = feedback.length === 0 ? 0 : Math.round((positive / feedback.length) * 1000) / 10
    const evidence = {since, total: feedback.length, positive, negative: feedback.length - positive, positive_pct: pct}
    const measured = `${pct}% positive (${positive}/${feedback.length})`
    if (feedback.length < params.min_feedback) {
      return inconclusive({detail: `only ${feedback.length} feedback record(s)`, expected, measured, evidence, remediation: 'Collect user feedback and record it: cutover feedback add --user ID --sentiment positive|negative'})
    }
    if (pct > params.min_positive_pct) return pass({detail: measured, expected, measured, evidence})
    return fail({detail: `feedback is not positive enough: ${measured}`, expected, measured, evidence, remediation: 'Read the negative feedback (cutover feedback list), fix the causes, and stay in this phase until users are satisfied.'})
  },
})
