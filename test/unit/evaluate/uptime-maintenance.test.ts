import {expect} from 'chai'

import {computeUptime, inPlannedSpan, mergeSpans} from '../../../src/lib/evaluate/index.js'

/** 100 samples at 1 s; `down` lists the indexes that are down. */
function samples(down: readonly number[], t0 = 1_000_000, interval = 1000): {ts: number; status: string}[] {
  return Array.from({length: 100}, (_, i) => ({ts: t0 + i * interval, status: down.includes(i) ? 'down' : 'healthy'}))
}

describe('computeUptime: planned maintenance', () => {
  const t0 = 1_000_000
  const interval = 1000
  const window = {intervalMs: interval, windowStart: t0, windowEnd: t0 + 99 * interval}

  it('leaves samples inside a planned window out of numerator and denominator', () => {
    // A journaled restart: samples 40-44 down, inside the window 40.0 s .. 44.5 s.
    const down = [40, 41, 42, 43, 44]
    const without = computeUptime(samples(down), window)
    expect(without).to.include({samples: 100, up: 95, down: 5, uptimePct: 95, excluded: 0, plannedDowntimeMs: 0, unplannedDownSamples: 5})
    const planned = computeUptime(samples(down), {...window, exclude: [{from: t0 + 40 * interval, to: t0 + 44.5 * interval}]})
    // Sample 39 (stamped 39.0 s, taken during its slot, which reaches 40.0 s) is not touched by [40.0, 44.5]: the slot end is exclusive.
    expect(planned).to.include({samples: 95, up: 95, down: 0, uptimePct: 100, excluded: 5, plannedDowntimeMs: 4500, unplannedDownSamples: 0})
  })

  it('counts unplanned downtime next to a planned window', () => {
    // Planned restart 10-12; a crash (kill -9) at 70-72 that no window covers.
    const r = computeUptime(samples([10, 11, 12, 70, 71, 72]), {...window, exclude: [{from: t0 + 10 * interval, to: t0 + 12 * interval}]})
    expect(r).to.include({samples: 97, up: 94, down: 3, excluded: 3, unplannedDownSamples: 3})
    expect(r.uptimePct).to.be.closeTo((94 * 100) / 97, 1e-9)
  })

  it('treats the sample of the slot in which a window began as planned (stamped at the slot start, taken during it)', () => {
    // The restart began 300 ms into slot 50; the sample stamped 50.0 s already saw the daemon down.
    const r = computeUptime(samples([50, 51]), {...window, exclude: [{from: t0 + 50_300, to: t0 + 51_900}]})
    expect(r).to.include({excluded: 2, down: 0, uptimePct: 100})
    expect(inPlannedSpan(t0 + 49_000, interval, [{from: t0 + 50_300, to: t0 + 51_900}])).to.equal(false)
    expect(inPlannedSpan(t0 + 50_000, interval, [{from: t0 + 50_300, to: t0 + 51_900}])).to.equal(true)
  })

  it('does not count missed slots inside a planned window, but does outside it', () => {
    // The monitor saw nothing from 20 s to 30 s (9 missed slots); a window covers 20..25.
    const points = samples([]).filter((_, i) => i <= 20 || i >= 30)
    const unplanned = computeUptime(points, window)
    expect(unplanned.missed).to.equal(9)
    const partly = computeUptime(points, {...window, exclude: [{from: t0 + 20 * interval, to: t0 + 25 * interval}]})
    // Slots 21..25 are planned, 26..29 are missed.
    expect(partly.missed).to.equal(4)
    expect(partly.unplannedDownSamples).to.equal(4)
  })

  it('a window capped after a crash only excludes up to its cap: later downtime counts', () => {
    // A restart began at 10 s and cutover was killed; the store caps the open window at start + 5 s.
    // The daemon stayed down until 30 s: 10..15 planned, 16..29 unplanned.
    const down = Array.from({length: 20}, (_, i) => 10 + i)
    const capped = computeUptime(samples(down), {...window, exclude: [{from: t0 + 10 * interval, to: t0 + 15 * interval}]})
    expect(capped).to.include({excluded: 6, down: 14, unplannedDownSamples: 14, samples: 94})
  })

  it('no counted sample (everything planned) gives no value rather than 100 %', () => {
    const r = computeUptime(samples([]), {...window, exclude: [{from: t0 - 1, to: t0 + 200 * interval}]})
    expect(r).to.include({samples: 0, excluded: 100, uptimePct: null})
    expect(r.coversWindowStart, 'the monitor did look').to.equal(true)
  })

  it('merges overlapping spans and clips them to the window', () => {
    expect(mergeSpans([{from: 5, to: 10}, {from: 0, to: 6}, {from: 20, to: 30}, {from: 8, to: 4}], 2, 25)).to.deep.equal([
      {from: 2, to: 10},
      {from: 20, to: 25},
    ])
  })
})
