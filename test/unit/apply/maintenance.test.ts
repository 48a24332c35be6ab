import {expect} from 'chai'

import {isRollbackDrill} from '../../../src/lib/apply/maintenance.js'

describe('isRollbackDrill: which rollbacks are planned maintenance', () => {
  it('a declared drill (rollback --drill) is planned', () => {
    expect(isRollbackDrill({drill: true, reason: 'latency incident'})).to.equal(true)
    expect(isRollbackDrill({drill: false, reason: 'quarterly drill'})).to.equal(false)
  })

  it('a rollback fired by a trigger is never a drill, whatever it or its reason says', () => {
    expect(isRollbackDrill({reason: 'watch --auto-rollback: streaming-failures (drill week)', trigger: {criteria: []}})).to.equal(false)
    expect(isRollbackDrill({drill: true, reason: 'x', trigger: {criteria: []}})).to.equal(false)
  })

  it('#11.7: words never decide: a reason that says drill or rehearsal is an emergency unless declared', () => {
    expect(isRollbackDrill({reason: 'Drill: quarterly flag rollback'})).to.equal(false)
    expect(isRollbackDrill({reason: 'rehearsal: Phase 2 flag-rollback drill'})).to.equal(false)
    expect(isRollbackDrill({reason: 'p95 latency doubled, rolling back'})).to.equal(false)
    expect(isRollbackDrill({})).to.equal(false)
    expect(isRollbackDrill({reason: null})).to.equal(false)
  })
})
