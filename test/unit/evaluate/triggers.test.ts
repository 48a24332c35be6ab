import {expect} from 'chai'

import {
  PLAN_DEGRADATION_BANDS,
  type RollbackTriggerSpec,
  classifyDegradation,
  degradationPct,
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

    it('a source error alerts a human but never rolls back', () => {
      const d = evaluateTriggers(triggers, [m('streaming_failures', null, {error: 'gateway unreachable'})])
      expect(d[0]).to.include({decision: 'alert', status: 'error'})
      expect(d[0]!.reason).to.contain('gateway unreachable')
    })
  })
})
