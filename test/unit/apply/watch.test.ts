import {expect} from 'chai'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'

import type {Playbook, RollbackTrigger} from '../../../src/lib/playbook/types.js'
import {evaluateTriggersOnce, triggerLabel, watchTriggers} from '../../../src/lib/rollback/watch.js'
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

  it('every trigger is evaluated: a fleet trigger without --prometheus-url and a check that cannot measure are errors (exit 4), never skipped', async () => {
    const opts = {
      target,
      state,
      intervalMs: 1000,
      once: true,
      playbook: playbook([
        trigger({id: 'fleet', source: 'prometheus', metric: 'up', statistic: 'last', window: '15m', unit: 'percent', min_hosts: 1}),
        trigger({id: 'cost', source: 'check', check: 'cost.records_request', metric: 'check.failed', statistic: 'last', operator: '==', threshold: 1, window: '1h', min_samples: 1}),
        trigger({id: 'no-such', source: 'check', check: 'no.such_check', metric: 'check.failed', statistic: 'last', operator: '==', threshold: 1, window: '1h', min_samples: 1}),
      ]),
    }
    const tick = await evaluateTriggersOnce(opts)
    expect(tick.triggers.map((t) => [t.id, t.status, t.decision])).to.deep.equal([['fleet', 'error', 'alert'], ['cost', 'error', 'alert'], ['no-such', 'error', 'alert']])
    expect(tick.triggers[0]!.reason).to.contain('--prometheus-url')
    // The cost trigger ran the library check the playbook names (no daemon here: it could not measure).
    expect(tick.triggers[1]!.check).to.deep.include({id: 'cost.records_request', outcome: 'error'})
    expect(tick.triggers[2]!.reason).to.contain('no check "no.such_check"')
    const result = await watchTriggers(opts)
    expect(result.exitCode).to.equal(4)
    expect(result.unevaluated.map((u) => u.id)).to.deep.equal(['fleet', 'cost', 'no-such'])
    expect(result.message).to.match(/could not evaluate 3 of 3 trigger\(s\)/)
  })

  it('a source "check" trigger runs the named library check as phase validate does: a failing check trips it', async () => {
    const opts = {target, state, intervalMs: 1000, once: true, playbook: playbook([trigger({id: 'bugs-check', source: 'check', check: 'records.no_critical_incidents', metric: 'check.failed', statistic: 'last', operator: '==', threshold: 1, window: '1h', min_samples: 1})])}
    const clean = await evaluateTriggersOnce(opts)
    expect(clean.triggers[0]).to.deep.include({status: 'evaluated', decision: 'none', value: 0})
    expect(clean.triggers[0]!.check).to.deep.include({id: 'records.no_critical_incidents', outcome: 'pass'})
    state.addIncident({severity: 'critical', title: 'data loss'})
    const tripped = await watchTriggers(opts)
    expect(tripped.ticks[0]!.triggers[0]).to.deep.include({status: 'evaluated', decision: 'rollback', value: 1})
    expect(tripped.exitCode).to.equal(1)
  })

  it('a gateway trigger whose daemon is down alerts a human (error), never rolls back', async () => {
    const tick = await evaluateTriggersOnce({target, state, intervalMs: 1000, playbook: playbook([trigger({id: 'streaming', source: 'gateway', metric: 'streaming_failure_rate', statistic: 'ratio', window: '15m', threshold: 10, unit: 'percent', min_samples: 5})])})
    expect(tick.triggers[0]!.status).to.equal('error')
    expect(tick.triggers[0]!.decision).to.equal('alert')
  })

  it('watch --once with the daemon down is "could not evaluate" (exit 4), never "no rollback needed" (exit 0)', async () => {
    const lines: string[] = []
    const result = await watchTriggers({target, state, intervalMs: 1000, once: true, log: (l) => lines.push(l), playbook: playbook([trigger({}), trigger({id: 'streaming', source: 'gateway', metric: 'streaming_failure_rate', statistic: 'ratio', window: '15m', threshold: 10, unit: 'percent', min_samples: 5})])})
    expect(result.exitCode).to.equal(4)
    expect(result.message).to.not.contain('no rollback needed')
    expect(result.message).to.contain('streaming')
    expect(result.unevaluated.map((u) => u.id)).to.deep.equal(['streaming'])
    expect(lines.some((l) => l.startsWith('✖ CANNOT EVALUATE streaming'))).to.equal(true)
    expect(result.notifications.map((n) => [n.criterion, n.decision])).to.deep.equal([['streaming', 'could_not_evaluate']])
  })

  describe('fleet triggers (a Prometheus on loopback): the gates\' min_hosts rule', () => {
    let server: http.Server
    let prometheusUrl: string
    let hosts: Array<[string, number]> = []
    before(async () => {
      server = http.createServer((req, res) => {
        res.writeHead(200, {'content-type': 'application/json'})
        res.end(JSON.stringify({status: 'success', data: {resultType: 'vector', result: hosts.map(([instance, v]) => ({metric: {instance}, value: [Date.now() / 1000, String(v)]}))}}))
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      prometheusUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    after(() => new Promise<void>((resolve) => server.close(() => resolve())))

    const fleet = trigger({id: 'gateway-start-failures', source: 'prometheus', metric: 'min by (instance) (min_over_time(up[$window]))', host_label: 'instance', min_hosts: 3, statistic: 'last', window: '15m', operator: '>', threshold: 5, unit: 'percent', min_samples: 1, rollback_kind: 'flag'})

    it('one failing host of one reporting is inconclusive (fewer than min_hosts 3), not "100% > 5%" and a rollback', async () => {
      hosts = [['host-a', 0]]
      const result = await watchTriggers({target, state, intervalMs: 1000, once: true, prometheusUrl, playbook: playbook([fleet])})
      const t = result.ticks[0]!.triggers[0]!
      expect(t).to.deep.include({status: 'inconclusive', decision: 'none'})
      expect(t.reason).to.match(/only 1 host\(s\) reported, at least 3 needed/)
      expect(triggerLabel(t)).to.equal('inconclusive')
      expect(result.exitCode).to.equal(0)
      expect(result.rollbackRecommended).to.equal(false)
    })

    it('one failing host of three is 33% > 5%: the rollback is recommended, the failing host named', async () => {
      hosts = [['host-a', 0], ['host-b', 1], ['host-c', 1]]
      const result = await watchTriggers({target, state, intervalMs: 1000, once: true, prometheusUrl, playbook: playbook([fleet])})
      const t = result.ticks[0]!.triggers[0]!
      expect(t).to.deep.include({status: 'evaluated', decision: 'rollback', samples: 3})
      expect(t.reason).to.match(/1 of 3 host\(s\) failing \(33.3333%\) > 5% -> rollback; failing: host-a/)
      expect(result.exitCode).to.equal(1)
    })
  })
})
