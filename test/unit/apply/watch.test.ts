import {expect} from 'chai'
import path from 'node:path'

import type {Playbook, RollbackTrigger} from '../../../src/lib/playbook/types.js'
import {evaluateTriggersOnce} from '../../../src/lib/rollback/watch.js'
import {StateStore} from '../../../src/lib/state/store.js'
import {bundledTargetSpec} from '../../../src/lib/target/spec.js'
import {Target} from '../../../src/lib/target/target.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

const trigger = (over: Partial<RollbackTrigger>): RollbackTrigger => ({
  id: 'critical-bugs',
  title: 'Critical bugs',
  source: 'records',
  metric: 'open_critical_incidents',
  statistic: 'count',
  window: 'phase',
  operator: '>',
  threshold: 0,
  unit: 'count',
  min_samples: 0,
  action: 'rollback',
  plan_ref: 'r',
  ...over,
})

function playbook(triggers: RollbackTrigger[]): Playbook {
  return {name: 'unit', version: '1', target: {name: 'unit'}, phases: [], gates: [], rollback_triggers: triggers, do_not_rollback_for: [], emergency_rollback: [], kpis: [], risks: []}
}

describe('rollback/watch: one evaluation of the triggers (records source, no daemon)', () => {
  let state: StateStore
  let target: Target
  beforeEach(() => {
    const dir = makeTempDir('cutover-watch-unit-')
    state = StateStore.open(path.join(dir, 'state.db'))
    target = new Target(bundledTargetSpec(path.join(dir, 'home')))
  })
  afterEach(() => {
    state.close()
    cleanupTempDirs()
  })

  it('an open critical incident trips a rollback trigger; a trigger whose action is alert only alerts', async () => {
    const opts = {target, state, intervalMs: 1000, playbook: playbook([trigger({}), trigger({id: 'alert-only', action: 'alert'})])}
    expect((await evaluateTriggersOnce(opts)).decision).to.equal('none')
    state.addIncident({severity: 'critical', title: 'data loss'})
    const tick = await evaluateTriggersOnce(opts)
    expect(tick.decision).to.equal('rollback')
    expect(tick.triggers.map((t) => [t.id, t.decision])).to.deep.equal([['critical-bugs', 'rollback'], ['alert-only', 'alert']])
  })

  it('a fleet trigger without --prometheus-url and a check watch cannot run are skipped, not alerts', async () => {
    const tick = await evaluateTriggersOnce({
      target,
      state,
      intervalMs: 1000,
      playbook: playbook([
        trigger({id: 'fleet', source: 'prometheus', metric: 'up', statistic: 'last', window: '15m', unit: 'percent'}),
        trigger({id: 'cost', source: 'check', check: 'cost.records_request', metric: 'check.failed', operator: '==', threshold: 1, window: '1h'}),
      ]),
    })
    expect(tick.triggers.map((t) => t.decision)).to.deep.equal(['skipped', 'skipped'])
    expect(tick.triggers[0]!.skipped).to.contain('--prometheus-url')
    expect(tick.decision).to.equal('none')
  })

  it('a gateway trigger whose daemon is down alerts a human (error), never rolls back', async () => {
    const tick = await evaluateTriggersOnce({target, state, intervalMs: 1000, playbook: playbook([trigger({id: 'streaming', source: 'gateway', metric: 'streaming_failure_rate', statistic: 'ratio', window: '15m', threshold: 10, unit: 'percent', min_samples: 5})])})
    expect(tick.triggers[0]!.status).to.equal('error')
    expect(tick.triggers[0]!.decision).to.equal('alert')
  })
})
