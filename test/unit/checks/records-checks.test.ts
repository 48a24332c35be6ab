/** The records checks (approvals, feedback, incidents, rollback rehearsals) against a real state store. */
import {expect} from 'chai'
import path from 'node:path'

import {StateStore} from '../../../src/lib/state/store.js'
import {bundledTargetSpec} from '../../../src/lib/target/spec.js'
import {Target} from '../../../src/lib/target/target.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'
import {runCheck, show} from '../../helpers/checks.js'

describe('records checks', () => {
  let state: StateStore
  let target: Target
  const run = (id: string, params: Record<string, unknown> = {}, phase = 1) => runCheck(id, params, {target, state, phase})

  beforeEach(() => {
    const home = makeTempDir()
    target = new Target(bundledTargetSpec(home))
    state = StateStore.open(path.join(home, 'cutover', 'state.db'))
  })
  afterEach(() => {
    state.close()
    cleanupTempDirs()
  })

  it('records.approval: inconclusive (awaiting) until an approval is recorded for the phase', async () => {
    state.setPhase(1)
    const waiting = await run('records.approval')
    expect(waiting.outcome, show(waiting)).to.equal('inconclusive')
    expect(waiting.remediation).to.contain('cutover approve --phase 1')
    state.addApproval({phase: 2, by: 'someone'})
    expect((await run('records.approval')).outcome).to.equal('inconclusive')
    state.addApproval({phase: 1, by: 'alice', reason: 'baseline good'})
    const approved = await run('records.approval')
    expect(approved.outcome, show(approved)).to.equal('pass')
    expect(approved.detail).to.contain('alice')
  })

  it('records.no_critical_incidents: fails on an open critical incident, passes once resolved', async () => {
    expect((await run('records.no_critical_incidents')).outcome).to.equal('pass')
    state.addIncident({severity: 'minor', title: 'typo'})
    const incident = state.addIncident({severity: 'critical', title: 'streams cut for all users'})
    const open = await run('records.no_critical_incidents')
    expect(open.outcome, show(open)).to.equal('fail')
    expect(open.detail).to.contain('streams cut for all users')
    expect(open.remediation).to.contain(`cutover incident resolve ${incident.id}`)
    state.resolveIncident(incident.id, {resolution: 'fixed'})
    expect((await run('records.no_critical_incidents')).outcome).to.equal('pass')
  })

  it('records.feedback_positive: inconclusive without feedback, fail at 50%, pass above', async () => {
    state.setPhase(2)
    expect((await run('records.feedback_positive', {}, 2)).outcome).to.equal('inconclusive')
    state.addFeedback({user: 'u1', sentiment: 'positive'})
    state.addFeedback({user: 'u2', sentiment: 'negative'})
    const half = await run('records.feedback_positive', {}, 2)
    expect(half.outcome, show(half)).to.equal('fail')
    expect(half.measured).to.equal('50% positive (1/2)')
    state.addFeedback({user: 'u3', sentiment: 'positive'})
    expect((await run('records.feedback_positive', {}, 2)).outcome).to.equal('pass')
  })

  it('rollback.rehearsed: inconclusive when never rehearsed; fail over the objective; pass within it', async () => {
    const none = await run('rollback.rehearsed', {kind: 'flag', objective: '30s'})
    expect(none.outcome, show(none)).to.equal('inconclusive')
    state.recordRollback({kind: 'flag-rehearsal', outcome: 'success', timings: {total: 45_000}, totalMs: 45_000, objectiveMs: 30_000})
    const slow = await run('rollback.rehearsed', {kind: 'flag', objective: '30s'})
    expect(slow.outcome, show(slow)).to.equal('fail')
    state.recordRollback({kind: 'flag-rehearsal', outcome: 'success', timings: {total: 1200}, totalMs: 1200, objectiveMs: 30_000})
    const fast = await run('rollback.rehearsed', {kind: 'flag', objective: '30s'})
    expect(fast.outcome, show(fast)).to.equal('pass')
    expect((await run('rollback.rehearsed', {kind: 'git', objective: '10m'})).outcome).to.equal('inconclusive')
  })

  it('rollback.rehearsed: a rehearsal that took exactly the objective missed it (objectives are strict)', async () => {
    state.recordRollback({kind: 'git-rehearsal', outcome: 'success', timings: {total: 600_000}, totalMs: 600_000})
    const exact = await run('rollback.rehearsed', {kind: 'git', objective: '10m'})
    expect(exact.outcome, show(exact)).to.equal('fail')
    state.recordRollback({kind: 'git-rehearsal', outcome: 'success', timings: {total: 599_999}, totalMs: 599_999})
    expect((await run('rollback.rehearsed', {kind: 'git', objective: '10m'})).outcome).to.equal('pass')
  })

  it('records checks report error without a state store', async () => {
    const r = await runCheck('records.approval', {}, {target, state: null})
    expect(r.outcome, show(r)).to.equal('error')
  })
})
