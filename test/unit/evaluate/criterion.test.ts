import {expect} from 'chai'

import {evaluateCriterion} from '../../../src/lib/evaluate/index.js'
import {measurement, spec} from './fixtures.js'

describe('evaluate/evaluateCriterion', () => {
  it('passes when the value satisfies the operator, and says so with the numbers', () => {
    const o = evaluateCriterion(spec(), measurement({value: 0.05}))
    expect(o.outcome).to.equal('pass')
    expect(o).to.include({id: 'error_rate', value: 0.05, threshold: 0.1, effectiveThreshold: 0.1, operator: '<', samples: 2000, key: true})
    expect(o.reason).to.equal('error_rate (ratio over 15m) = 0.05%, needs < 0.1% (2000 sample(s))')
  })

  it('fails when the value violates the operator', () => {
    const o = evaluateCriterion(spec(), measurement({value: 0.2}))
    expect(o.outcome).to.equal('fail')
    expect(o.reason).to.contain('= 0.2%, needs < 0.1%')
  })

  const cases: Array<[string, number, number, string]> = [
    ['>', 99.9, 99.9, 'fail'],
    ['>', 99.95, 99.9, 'pass'],
    ['>=', 99.9, 99.9, 'pass'],
    ['<', 500, 500, 'fail'],
    ['<=', 500, 500, 'pass'],
    ['==', 100, 100, 'pass'],
    ['==', 99.99, 100, 'fail'],
  ]
  for (const [operator, value, threshold, expected] of cases) {
    it(`${value} ${operator} ${threshold} -> ${expected}`, () => {
      const o = evaluateCriterion(spec({operator: operator as '<', threshold}), measurement({value}))
      expect(o.outcome).to.equal(expected)
    })
  }

  it('is an error, never a pass or a fail, when the source failed', () => {
    const o = evaluateCriterion(spec(), measurement({value: null, samples: 0, error: 'the gateway is unreachable at http://gw.example/: ECONNREFUSED'}))
    expect(o.outcome).to.equal('error')
    expect(o.reason).to.contain('the gateway source could not measure it').and.contain('ECONNREFUSED')
  })

  it('an error wins even if the measurement also carries a value', () => {
    expect(evaluateCriterion(spec(), measurement({value: 0.01, error: 'partial answer'})).outcome).to.equal('error')
  })

  it('is inconclusive with fewer samples than min_samples, and shows the current value', () => {
    const o = evaluateCriterion(spec({min_samples: 100}), measurement({value: 0.05, samples: 99}))
    expect(o.outcome).to.equal('inconclusive')
    expect(o.reason).to.contain('99 sample(s), at least 100 needed').and.contain('currently 0.05%')
  })

  it('exactly min_samples is enough', () => {
    expect(evaluateCriterion(spec({min_samples: 100}), measurement({samples: 100})).outcome).to.equal('pass')
  })

  it('with no min_samples, zero samples is inconclusive (no data never passes)', () => {
    const o = evaluateCriterion(spec({min_samples: undefined}), measurement({value: null, samples: 0}))
    expect(o.outcome).to.equal('inconclusive')
    expect(o.reason).to.contain('0 sample(s), at least 1 needed')
  })

  it('is inconclusive when the value is missing despite samples', () => {
    const o = evaluateCriterion(spec(), measurement({value: null, samples: 500}))
    expect(o.outcome).to.equal('inconclusive')
    expect(o.reason).to.contain('no data')
  })

  it('is inconclusive while the window has not elapsed, even if the value already fails', () => {
    const o = evaluateCriterion(spec({window: '4d'}), measurement({value: 3, windowElapsed: false}))
    expect(o.outcome).to.equal('inconclusive')
    expect(o.reason).to.contain('does not cover the 4d window yet').and.contain('currently 3%')
  })

  it('is an error for a measurement of another criterion, or a NaN value', () => {
    expect(evaluateCriterion(spec(), measurement({criterionId: 'latency'})).reason).to.contain("received the measurement of 'latency'")
    expect(evaluateCriterion(spec(), measurement({value: Number.NaN})).outcome).to.equal('error')
  })

  it('is an error (not a throw) for an unusable spec', () => {
    const bad = evaluateCriterion(spec({window: 'soon'}), measurement())
    expect(bad.outcome).to.equal('error')
    expect(bad.reason).to.contain('"soon" is not a duration at "soon"')
    expect(evaluateCriterion(spec({operator: '!=' as '<'}), measurement()).reason).to.contain("unknown operator '!='")
  })

  describe('relative to the pinned baseline', () => {
    const latency = spec({
      id: 'latency',
      title: 'Latency no worse than +25 % of the Phase 1 baseline',
      metric: 'avg_latency_ms',
      statistic: 'avg',
      operator: '<=',
      threshold: 500,
      unit: 'ms',
      min_samples: 10,
      relative_to_baseline: {max_increase_pct: 25},
    })
    const m = (value: number) => measurement({criterionId: 'latency', value})

    it('passes up to baseline +25 % and reports the effective threshold and the change', () => {
      const o = evaluateCriterion(latency, m(250), {value: 200, pinnedAt: '2025-12-30T00:00:00Z'})
      expect(o.outcome).to.equal('pass')
      expect(o.effectiveThreshold).to.equal(250)
      expect(o.baseline).to.equal(200)
      expect(o.changePct).to.equal(25)
      expect(o.reason).to.contain('baseline 200 ms +25% = 250 ms').and.contain('change +25%')
    })

    it('fails above baseline +25 % even though the absolute limit holds', () => {
      const o = evaluateCriterion(latency, m(251), {value: 200})
      expect(o.outcome).to.equal('fail')
      expect(o.threshold).to.equal(500)
      expect(o.effectiveThreshold).to.equal(250)
    })

    it('still enforces the absolute limit when the baseline is generous', () => {
      const o = evaluateCriterion(latency, m(520), {value: 480})
      expect(o.effectiveThreshold).to.equal(500)
      expect(o.outcome).to.equal('fail')
    })

    it('is inconclusive without a baseline, saying how to get one', () => {
      const o = evaluateCriterion(latency, m(100))
      expect(o.outcome).to.equal('inconclusive')
      expect(o.reason).to.contain('no baseline is pinned')
      expect(o.baseline).to.equal(null)
    })

    it('is inconclusive with a zero baseline (a relative change is undefined)', () => {
      expect(evaluateCriterion(latency, m(100), {value: 0}).outcome).to.equal('inconclusive')
    })

    it("rejects relative criteria whose operator is not '<' or '<='", () => {
      const o = evaluateCriterion({...latency, operator: '>='}, m(100), {value: 100})
      expect(o.outcome).to.equal('error')
      expect(o.reason).to.contain("needs operator '<' or '<='")
    })
  })

  describe('fleet criteria (min_hosts)', () => {
    const fleet = spec({
      id: 'fleet_start',
      title: 'Gateway fails to start on > 5 % of systems -> no-go',
      source: 'prometheus',
      metric: 'min_over_time(cco_gateway_up[$window])',
      statistic: 'last',
      operator: '<=',
      threshold: 5,
      unit: undefined,
      min_samples: undefined,
      min_hosts: 3,
    })
    const hosts = (failing: number, total: number) =>
      Array.from({length: total}, (_, i) => ({name: `host-${String(i).padStart(2, '0')}`, value: i < failing ? 0 : 1, ok: i >= failing}))
    const fm = (h: ReturnType<typeof hosts>) => measurement({criterionId: 'fleet_start', value: null, samples: h.length, hosts: h})

    it('exactly 5 % failing is not "> 5 %": pass (strict comparison, exact arithmetic)', () => {
      const o = evaluateCriterion(fleet, fm(hosts(1, 20)))
      expect(o.value).to.equal(5)
      expect(o.outcome).to.equal('pass')
      expect(o.failingHosts).to.deep.equal(['host-00'])
    })

    it('fails above 5 % and names the failing hosts', () => {
      const o = evaluateCriterion(fleet, fm(hosts(1, 3)))
      expect(o.outcome).to.equal('fail')
      expect(o.reason).to.contain('1 of 3 host(s) failing (33.3333%)').and.contain('failing: host-00')
      expect(o.unit).to.equal('%')
    })

    it('is inconclusive below min_hosts', () => {
      const o = evaluateCriterion(fleet, fm(hosts(0, 2)))
      expect(o.outcome).to.equal('inconclusive')
      expect(o.reason).to.contain('only 2 host(s) reported, at least 3 needed')
    })

    it('computes the share from the hosts, not from what the source put in value', () => {
      const o = evaluateCriterion(fleet, {...fm(hosts(2, 4)), value: 0})
      expect(o.value).to.equal(50)
      expect(o.outcome).to.equal('fail')
    })

    it('lists hosts sorted by name regardless of the order the source returned', () => {
      const o = evaluateCriterion(fleet, fm(hosts(0, 3).reverse()))
      expect(o.hosts!.map((h) => h.name)).to.deep.equal(['host-00', 'host-01', 'host-02'])
    })
  })
})
