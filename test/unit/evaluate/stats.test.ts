import {expect} from 'chai'

import {computeUptime, fleetFailurePercent, mean, percentOf, percentile, summarize} from '../../../src/lib/evaluate/index.js'

describe('evaluate/stats', () => {
  describe('percentile (nearest rank)', () => {
    const oneToHundred = Array.from({length: 100}, (_, i) => i + 1)

    it('takes the value at rank ceil(p/100 * n) of the sorted data', () => {
      expect(percentile(oneToHundred, 50)).to.equal(50)
      expect(percentile(oneToHundred, 95)).to.equal(95)
      expect(percentile(oneToHundred, 99)).to.equal(99)
      expect(percentile(oneToHundred, 100)).to.equal(100)
      expect(percentile(oneToHundred, 0)).to.equal(1)
    })

    it('returns an observed value, not an interpolation', () => {
      // ranks: p50 of 4 -> ceil(2) = 2nd; p95 of 4 -> ceil(3.8) = 4th; p26 -> ceil(1.04) = 2nd
      expect(percentile([40, 10, 30, 20], 50)).to.equal(20)
      expect(percentile([40, 10, 30, 20], 95)).to.equal(40)
      expect(percentile([40, 10, 30, 20], 26)).to.equal(20)
      expect(percentile([40, 10, 30, 20], 25)).to.equal(10)
    })

    it('handles one value, ignores NaN and returns null for no data', () => {
      expect(percentile([7], 99)).to.equal(7)
      expect(percentile([Number.NaN, 3, 1], 50)).to.equal(1)
      expect(percentile([], 50)).to.equal(null)
    })

    it('rejects percentiles outside 0..100', () => {
      expect(() => percentile([1], 101)).to.throw(RangeError)
      expect(() => percentile([1], -1)).to.throw(RangeError)
    })

    it('does not reorder the caller array', () => {
      const data = [3, 1, 2]
      percentile(data, 50)
      expect(data).to.deep.equal([3, 1, 2])
    })
  })

  it('mean, summarize and percentOf', () => {
    expect(mean([1, 2, 3, 6])).to.equal(3)
    expect(mean([])).to.equal(null)
    expect(summarize([5, 1, 9], 'max')).to.equal(9)
    expect(summarize([5, 1, 9], 'min')).to.equal(1)
    expect(summarize([5, 1, 9], 'last')).to.equal(9)
    expect(summarize([5, 1, 9], 'count')).to.equal(3)
    expect(summarize([5, 1, 9], 'avg')).to.equal(5)
    expect(summarize(Array.from({length: 60}, () => 1), 'rate', 60_000)).to.equal(1)
    expect(summarize([], 'max')).to.equal(null)
    expect(percentOf(1, 20)).to.equal(5)
    expect(percentOf(7, 7)).to.equal(100)
    expect(percentOf(3, 0)).to.equal(null)
  })

  it('fleet failure share is exact at the boundary (1 of 20 is 5, not 5.000000001)', () => {
    const hosts = Array.from({length: 20}, (_, i) => ({name: `h${i}`, value: i === 0 ? 0 : 1, ok: i !== 0}))
    expect(fleetFailurePercent(hosts)).to.equal(5)
    expect(fleetFailurePercent([])).to.equal(null)
  })

  describe('uptime from health samples', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z')
    const interval = 60_000
    const every = (n: number, status: (i: number) => string) => Array.from({length: n}, (_, i) => ({ts: t0 + i * interval, status: status(i)}))

    it('counts healthy and degraded as up, anything else as down', () => {
      const samples = every(1000, (i) => (i === 10 ? 'unhealthy' : i === 20 ? 'degraded' : i === 30 ? 'unreachable' : 'healthy'))
      const r = computeUptime(samples, {intervalMs: interval, windowStart: t0, windowEnd: t0 + 999 * interval})
      expect(r.samples).to.equal(1000)
      expect(r.up).to.equal(998)
      expect(r.down).to.equal(2)
      expect(r.missed).to.equal(0)
      expect(r.uptimePct).to.equal(99.8)
      expect(r.coversWindowStart).to.equal(true)
    })

    it('counts a gap longer than twice the interval as missed (down) samples', () => {
      // 10 samples, then nothing for 10 minutes, then 10 more: 9 samples missed.
      const samples = [...every(10, () => 'healthy'), ...every(10, () => 'healthy').map((s) => ({...s, ts: s.ts + 19 * interval}))]
      const r = computeUptime(samples, {intervalMs: interval})
      expect(r.gaps).to.have.length(1)
      expect(r.gaps[0]!.to - r.gaps[0]!.from).to.equal(10 * interval)
      expect(r.missed).to.equal(9)
      expect(r.uptimePct).to.equal((20 * 100) / 29)
    })

    it('tolerates jitter up to twice the interval', () => {
      const samples = [0, 1, 2, 4, 5].map((i) => ({ts: t0 + i * interval, status: 'healthy'}))
      const r = computeUptime(samples, {intervalMs: interval})
      expect(r.missed).to.equal(0)
      expect(r.uptimePct).to.equal(100)
    })

    it('counts the silence between the last sample and the window end as down', () => {
      const r = computeUptime(every(10, () => 'healthy'), {intervalMs: interval, windowStart: t0, windowEnd: t0 + 19 * interval})
      expect(r.missed).to.equal(9)
      expect(r.uptimePct).to.be.closeTo(52.63, 0.01)
    })

    it('reports a window whose start the monitor did not see, without inventing down time', () => {
      const r = computeUptime(every(10, () => 'healthy'), {intervalMs: interval, windowStart: t0 - 60 * interval, windowEnd: t0 + 9 * interval})
      expect(r.coversWindowStart).to.equal(false)
      expect(r.missed).to.equal(0)
      expect(r.uptimePct).to.equal(100)
    })

    it('ignores samples outside the window and accepts ISO timestamps', () => {
      const samples = [
        {ts: new Date(t0 - interval).toISOString(), status: 'unhealthy'},
        {ts: new Date(t0).toISOString(), status: 'healthy'},
        {ts: new Date(t0 + interval).toISOString(), status: 'healthy'},
      ]
      const r = computeUptime(samples, {intervalMs: interval, windowStart: t0, windowEnd: t0 + interval})
      expect(r.samples).to.equal(2)
      expect(r.uptimePct).to.equal(100)
    })

    it('has no uptime without samples, and rejects a zero interval and bad timestamps', () => {
      expect(computeUptime([], {intervalMs: interval}).uptimePct).to.equal(null)
      expect(() => computeUptime([], {intervalMs: 0})).to.throw(RangeError)
      expect(() => computeUptime([{ts: 'yesterday', status: 'healthy'}], {intervalMs: interval})).to.throw(/invalid timestamp 'yesterday'/)
    })
  })
})
