import {expect} from 'chai'

import {
  PLAN_DEGRADATION_BANDS,
  type RollbackTriggerSpec,
  classifyDegradation,
  degradationPct,
  evaluateCriterion,
  evaluateTrigger,
  evaluateTriggers,
  overallDecision,
} from '../../../src/lib/evaluate/index.js'
import {measurement} from './fixtures.js'

describe('evaluate/triggers', () => {
  describe('classifyDegradation with the plan bands (<25 none, [25,50] alert, >50 rollback)', () => {
    const cases: Array<[number, string]> = [
      [0, 'none'],
      [124.9, 'none'], // 24.9 %
      [125, 'alert'], // exactly 25 %: not "< 25 %", so a human looks
      [140, 'alert'],
      [150, 'alert'], // exactly 50 %: not "> 50 %"
      [150.1, 'rollback'], // 50.1 %
      [400, 'rollback'],
      [80, 'none'], // faster than the baseline
    ]
    for (const [current, band] of cases) {
      it(`baseline 100, current ${current} -> ${band}`, () => {
        expect(classifyDegradation(current, 100, PLAN_DEGRADATION_BANDS)).to.equal(band)
      })
    }

    it('uses the plan bands by default and supports "lower is worse" (throughput)', () => {
      expect(classifyDegradation(160, 100)).to.equal('rollback')
      expect(classifyDegradation(49.9, 100, PLAN_DEGRADATION_BANDS, 'lower')).to.equal('rollback') // -50.1 %
      expect(classifyDegradation(50, 100, PLAN_DEGRADATION_BANDS, 'lower')).to.equal('alert')
      expect(classifyDegradation(120, 100, PLAN_DEGRADATION_BANDS, 'lower')).to.equal('none')
      expect(degradationPct(75, 100, 'lower')).to.equal(25)
    })

    it('refuses a non-positive baseline', () => {
      expect(() => classifyDegradation(10, 0)).to.throw(RangeError, /baseline must be a positive number/)
    })
  })

  describe('evaluateTriggers', () => {
    const triggers: RollbackTriggerSpec[] = [
      {id: 'streaming_failures', title: 'Streaming fails > 10 % of the time', source: 'gateway', metric: 'streaming_failure_rate', operator: '>', threshold: 10, unit: '%', action: 'rollback'},
      {id: 'latency_degradation', title: 'Performance degradation > 50 %', source: 'gateway', metric: 'avg_latency_ms', operator: '>', threshold: 50, unit: 'ms', bands: PLAN_DEGRADATION_BANDS, action: 'rollback'},
      {id: 'error_rate_alert', title: 'Error rate > 1 %', source: 'gateway', metric: 'error_rate', operator: '>', threshold: 1, action: 'alert', min_samples: 50},
    ]
    const m = (id: string, value: number | null, extra = {}) => measurement({criterionId: id, value, ...extra})

    it('healthy: nothing to do', () => {
      const d = evaluateTriggers(triggers, [m('streaming_failures', 2), m('latency_degradation', 210), m('error_rate_alert', 0.2)], {latency_degradation: {value: 200}})
      expect(d.map((x) => x.decision)).to.deep.equal(['none', 'none', 'none'])
      expect(overallDecision(d)).to.equal('none')
      expect(d[1]!.degradationPct).to.equal(5)
    })

    it('streaming failures over 10 % -> rollback, with value and threshold in the reason', () => {
      const d = evaluateTriggers(triggers, [m('streaming_failures', 12.5)], {})
      expect(d[0]).to.include({decision: 'rollback', value: 12.5, threshold: 10, status: 'evaluated'})
      expect(d[0]!.reason).to.contain('12.5% > 10% -> rollback')
      expect(overallDecision(d)).to.equal('rollback')
    })

    it('exactly 10 % is not "> 10 %"', () => {
      expect(evaluateTriggers(triggers, [m('streaming_failures', 10)])[0]!.decision).to.equal('none')
    })

    it('30 % latency degradation -> alert, not rollback', () => {
      const [, d] = evaluateTriggers(triggers, [m('streaming_failures', 0), m('latency_degradation', 260)], {latency_degradation: 200})
      expect(d).to.include({decision: 'alert', band: 'alert', baseline: 200, degradationPct: 30})
      expect(d!.reason).to.contain('30% degradation -> alert')
    })

    it('60 % latency degradation -> rollback', () => {
      const [, d] = evaluateTriggers(triggers, [m('streaming_failures', 0), m('latency_degradation', 320)], {latency_degradation: {value: 200}})
      expect(d!.decision).to.equal('rollback')
      expect(d!.threshold).to.equal(50)
    })

    it('a non-banded alert trigger asks for an alert only', () => {
      const d = evaluateTriggers(triggers, [m('error_rate_alert', 3, {samples: 500})])
      expect(d[2]!.decision).to.equal('alert')
    })

    it('no baseline, too few samples, no data or no measurement: inconclusive, no action', () => {
      const d = evaluateTriggers(triggers, [m('latency_degradation', 900), m('error_rate_alert', 50, {samples: 10})])
      expect(d[0]).to.include({decision: 'none', status: 'inconclusive'})
      expect(d[0]!.reason).to.contain('no measurement')
      expect(d[1]).to.include({decision: 'none', status: 'inconclusive'})
      expect(d[1]!.reason).to.contain('no pinned baseline')
      expect(d[2]!.reason).to.contain('10 sample(s), at least 50 needed')
      expect(evaluateTriggers(triggers, [m('streaming_failures', null, {samples: 0})])[0]!.status).to.equal('inconclusive')
    })

    it('a fleet trigger obeys min_hosts exactly as a gate criterion: one failing host of one is inconclusive, not "100% > 5%"', () => {
      const fleet: RollbackTriggerSpec = {id: 'start_failures', title: 'Gateway fails to start on >5% of systems', source: 'prometheus', metric: 'up', statistic: 'last', window: '15m', operator: '>', threshold: 5, unit: '%', min_samples: 1, min_hosts: 3, action: 'rollback'}
      const oneHost = m('start_failures', 100, {samples: 1, hosts: [{name: 'host-a', value: 0, ok: false}]})
      const d = evaluateTrigger(fleet, oneHost)
      expect(d).to.include({decision: 'none', status: 'inconclusive'})
      expect(d.reason).to.contain('only 1 host(s) reported, at least 3 needed')
      // The same data as a gate criterion: inconclusive too (one evaluation path).
      const gate = evaluateCriterion({id: 'start_failures', title: 't', source: 'prometheus', metric: 'up', statistic: 'last', window: '15m', operator: '<=', threshold: 5, min_samples: 1, min_hosts: 3, key: true}, oneHost)
      expect(gate.outcome).to.equal('inconclusive')
      const three = evaluateTrigger(fleet, m('start_failures', null, {samples: 3, hosts: [{name: 'host-b', value: 1, ok: true}, {name: 'host-a', value: 0, ok: false}, {name: 'host-c', value: 1, ok: true}]}))
      expect(three).to.include({decision: 'rollback', status: 'evaluated', samples: 3})
      expect(three.value).to.be.closeTo(33.33, 0.01)
      expect(three.failingHosts).to.deep.equal(['host-a'])
    })

    it('too few samples keeps a trigger inconclusive even when the value is far over the threshold', () => {
      const d = evaluateTrigger({...triggers[0]!, min_samples: 20}, m('streaming_failures', 100, {samples: 3}))
      expect(d).to.include({decision: 'none', status: 'inconclusive'})
      expect(d.reason).to.contain('3 sample(s), at least 20 needed')
    })

    it('a banded trigger shows the measured values in their own unit and the degradation in percent', () => {
      const latency: RollbackTriggerSpec = {id: 'latency', title: 'Latency degradation', source: 'gateway', metric: 'latency_ms', statistic: 'avg', operator: '>', threshold: 50, unit: '%', value_unit: 'ms', bands: PLAN_DEGRADATION_BANDS, action: 'rollback'}
      const d = evaluateTrigger(latency, m('latency', 275), {value: 200})
      expect(d.decision).to.equal('alert')
      expect(d.reason).to.contain('latency: 275 ms vs baseline 200 ms = +37.5% degradation -> alert')
      expect(d.reason).to.not.match(/275%|200%/)
      const throughput: RollbackTriggerSpec = {...latency, id: 'throughput', metric: 'request_rate', statistic: 'rate', value_unit: 'req/s', worse_when: 'lower', action: 'alert'}
      expect(evaluateTrigger(throughput, m('throughput', 4), {value: 10}).reason).to.contain('throughput: 4 req/s vs baseline 10 req/s = +60% degradation -> rollback')
    })

    it('a source error alerts a human but never rolls back', () => {
      const d = evaluateTriggers(triggers, [m('streaming_failures', null, {error: 'gateway unreachable'})])
      expect(d[0]).to.include({decision: 'alert', status: 'error'})
      expect(d[0]!.reason).to.contain('gateway unreachable')
    })
  })
})
