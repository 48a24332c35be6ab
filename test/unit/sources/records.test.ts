import {expect} from 'chai'

import type {MeasureSpec} from '../../../src/lib/evaluate/index.js'
import {RECORD_METRICS, type RecordsInput, RecordsSource} from '../../../src/lib/sources/index.js'

const NOW = new Date('2026-01-10T12:00:00.000Z')
const DAY = 86_400_000
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString()
const spec = (metric: string, window = '4d'): MeasureSpec => ({id: metric, source: 'records', metric, window})

const INPUT: RecordsInput = {
  incidents: [
    {id: 1, severity: 'critical', title: 'memory leak', opened_at: ago(3), resolved_at: ago(2)},
    {id: 2, severity: 'critical', title: 'crash on stream', opened_at: ago(1), resolved_at: null},
    {id: 3, severity: 'major', title: 'slow', opened_at: ago(10)},
    {id: 4, severity: 'minor', title: 'typo', opened_at: ago(1), resolved_at: ago(0.5)},
    {id: 5, severity: 'critical', title: 'future', opened_at: new Date(NOW.getTime() + DAY).toISOString()},
  ],
  feedback: [
    {user: 'u1', sentiment: 'negative', at: ago(3)},
    {user: 'u1', sentiment: 'positive', at: ago(1)}, // changed their mind: latest counts
    {user: 'u2', sentiment: 'negative', at: ago(1)},
    {user: 'u3', sentiment: 'positive', at: ago(2)},
    {user: 'u4', sentiment: 'negative', at: ago(30)}, // outside the window
  ],
  approvals: [{by: 'alice', at: ago(1)}, {by: 'bob', at: ago(9)}],
  rollbacks: [{at: ago(2), kind: 'flag'}, {at: ago(20), kind: 'git'}],
  rehearsals: [
    {at: ago(6), duration_ms: 900_000, objective_ms: 600_000, ok: true},
    {at: ago(1), duration_ms: 42_000, objective_ms: 600_000, ok: true},
  ],
  activeUsers: 20,
}

describe('sources/records', () => {
  const measure = (metric: string, input: RecordsInput = INPUT, window?: string) => new RecordsSource(input).measureSync(spec(metric, window), NOW)

  it('counts unresolved incidents by severity as of now', () => {
    expect(measure('open_critical_incidents')).to.include({value: 1, samples: 1, windowElapsed: true})
    expect(measure('open_critical_incidents').detail).to.deep.equal({open: [{id: 2, severity: 'critical', title: 'crash on stream'}]})
    expect(measure('open_major_incidents').value).to.equal(1)
    expect(measure('open_minor_incidents').value).to.equal(0)
    expect(measure('open_incidents').value).to.equal(2)
  })

  it('zero open incidents is a measurement (value 0, samples 1), not no data', () => {
    expect(measure('open_critical_incidents', {incidents: []})).to.include({value: 0, samples: 1})
  })

  it('critical_incidents counts those opened in the window, resolved or not', () => {
    expect(measure('critical_incidents').value).to.equal(2)
    expect(measure('critical_incidents', INPUT, '12h').value).to.equal(0)
    expect(measure('critical_incidents', INPUT, '1d').value).to.equal(1) // window bounds are inclusive
    expect(measure('critical_incidents', INPUT, '2d').value).to.equal(1)
  })

  it('complaint ratio = users whose latest feedback is negative / active users', () => {
    expect(measure('negative_feedback_ratio')).to.include({value: 5, samples: 20}) // u2 of 20
    expect(measure('complaint_ratio').value).to.equal(5)
  })

  it('without activeUsers the respondents are the active users', () => {
    const {activeUsers: _ignored, ...rest} = INPUT
    expect(measure('negative_feedback_ratio', rest)).to.include({value: 100 / 3, samples: 3})
  })

  it('positive ratio = positive respondents / respondents', () => {
    expect(measure('positive_feedback_ratio')).to.include({value: (2 * 100) / 3, samples: 3})
    expect(measure('feedback_responses').value).to.equal(3)
  })

  it('no feedback in the window is no data', () => {
    expect(measure('positive_feedback_ratio', {feedback: []})).to.include({value: null, samples: 0})
  })

  it('activeUsers smaller than the respondents is an error', () => {
    expect(measure('negative_feedback_ratio', {...INPUT, activeUsers: 1}).error).to.contain('activeUsers (1) is smaller than the 3 users')
  })

  it('rollbacks and approvals in the window', () => {
    expect(measure('rollbacks_in_phase').value).to.equal(1)
    expect(measure('rollbacks_in_phase', INPUT, '1d').value).to.equal(0)
    expect(measure('approvals').value).to.equal(1)
  })

  it('last rehearsal within objective: 1 when the latest in the window met it', () => {
    expect(measure('last_rehearsal_within_objective', INPUT, '7d')).to.include({value: 1, samples: 1})
  })

  it('last rehearsal over its objective, failed, or missing -> 0', () => {
    const slow = {rehearsals: [{at: ago(1), duration_ms: 700_000, objective_ms: 600_000, ok: true}]}
    const broken = {rehearsals: [{at: ago(1), duration_ms: 1000, objective_ms: 600_000, ok: false}]}
    expect(measure('last_rehearsal_within_objective', slow).value).to.equal(0)
    expect(measure('last_rehearsal_within_objective', broken).value).to.equal(0)
    expect(measure('last_rehearsal_within_objective', {rehearsals: []})).to.include({value: 0, samples: 1})
    expect(measure('last_rehearsal_within_objective', INPUT, '12h').value).to.equal(0)
  })

  it('missing record lists, unknown metrics and bad windows are errors, not zeros', async () => {
    expect(measure('open_critical_incidents', {}).error).to.contain('no incident records were provided')
    expect(measure('bug_count').error).to.contain("unknown records metric 'bug_count'").and.contain('open_critical_incidents')
    expect(measure('approvals', INPUT, 'forever').error).to.contain('"forever" is not a duration at "forever"')
    expect(measure('approvals', {approvals: [{by: 'x', at: 'last tuesday'}]}).error).to.contain("invalid timestamp 'last tuesday'")
    expect(RECORD_METRICS).to.include('last_rehearsal_within_objective')
    expect((await new RecordsSource(INPUT).measure(spec('approvals'), NOW)).value).to.equal(1)
  })
})
