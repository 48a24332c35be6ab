import {expect} from 'chai'

import {isRollbackDrill} from '../../../src/lib/apply/maintenance.js'

describe('isRollbackDrill: which rollbacks are planned maintenance', () => {
  it('the caller decides when it says so', () => {
    expect(isRollbackDrill({drill: true, reason: 'latency incident'})).to.equal(true)
    expect(isRollbackDrill({drill: false, reason: 'quarterly drill'})).to.equal(false)
  })

  it('a rollback fired by a trigger is never a drill, whatever its reason says', () => {
    expect(isRollbackDrill({reason: 'watch --auto-rollback: streaming-failures (drill week)', trigger: {criteria: []}})).to.equal(false)
  })

  it('otherwise the reason decides: drill or rehearsal is planned; anything else is an emergency and counts', () => {
    expect(isRollbackDrill({reason: 'Drill: quarterly flag rollback'})).to.equal(true)
    expect(isRollbackDrill({reason: 'rehearsal: Phase 2 flag-rollback drill'})).to.equal(true)
    expect(isRollbackDrill({reason: 'rehearsing the git rollback'})).to.equal(true)
    expect(isRollbackDrill({reason: 'p95 latency doubled, rolling back'})).to.equal(false)
    expect(isRollbackDrill({reason: 'undrilled path'})).to.equal(false)
    expect(isRollbackDrill({})).to.equal(false)
    expect(isRollbackDrill({reason: null})).to.equal(false)
  })
})
