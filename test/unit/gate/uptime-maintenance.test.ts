import {expect} from 'chai'
import path from 'node:path'

import {evaluateCriterion} from '../../../src/lib/evaluate/index.js'
import {HEALTH_SOURCE, measure} from '../../../src/lib/gate/measure.js'
import {recordsInputFromState} from '../../../src/lib/gate/records.js'
import {StateStore} from '../../../src/lib/state/store.js'
import type {Target} from '../../../src/lib/target/target.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

/**
 * The gate's uptime criterion reads the monitor's health samples and the planned maintenance
 * windows from the state store: cutover's own restarts are left out, a crash counts.
 */
describe('gate: uptime with planned maintenance windows', () => {
  const T = Date.parse('2026-03-01T12:00:00Z')
  const interval = 1000
  let clock: number
  let state: StateStore

  beforeEach(() => {
    clock = T
    state = StateStore.open(path.join(makeTempDir(), 'state.db'), {actor: 'ops', now: () => new Date(clock)})
  })
  afterEach(() => {
    state.close()
    cleanupTempDirs()
  })

  /** 120 samples over the last 2 minutes; `down` are their indexes. */
  function monitor(down: (i: number) => boolean): void {
    state.addSamples(Array.from({length: 120}, (_, i) => ({source: HEALTH_SOURCE, ts: T + i * interval, metrics: {status: down(i) ? 'down' : 'healthy', interval_ms: interval}})))
  }

  const spec = {id: 'gateway-uptime', title: 'Gateway uptime > 99.9%', source: 'gateway' as const, metric: 'uptime', statistic: 'ratio' as const, window: '2m', operator: '>' as const, threshold: 99.9, unit: '%', min_samples: 30, key: true}
  // The uptime path reads only the state store: no target is contacted.
  const ctx = () => ({state, target: null as unknown as Target, records: recordsInputFromState(state)})

  it('a journaled restart inside a planned window: excluded, the criterion passes, planned downtime is reported', async () => {
    clock = T + 50 * interval
    const w = state.beginMaintenance({kind: 'advance-step', reason: 'phase advance to phase 2'})
    clock = T + 53 * interval
    state.endMaintenance(w.id, {graceMs: 2 * interval})
    monitor((i) => i >= 50 && i <= 53)
    clock = T + 120 * interval
    const now = new Date(clock)
    const m = await measure(ctx(), spec, now)
    expect(m.error).to.equal(undefined)
    expect(m.value).to.equal(100)
    expect(m.detail).to.deep.include({down: 0, excluded_samples: 6, planned_downtime_s: 5, unplanned_down_samples: 0})
    expect((m.detail?.maintenance_windows as {kind: string}[]).map((x) => x.kind)).to.deep.equal(['advance-step'])
    expect(evaluateCriterion(spec, m).outcome).to.equal('pass')
  })

  it('a crash (no window) counts, and so does an emergency rollback (unplanned window)', async () => {
    clock = T + 80 * interval
    const w = state.beginMaintenance({kind: 'rollback', reason: 'flag rollback: fired by a trigger'})
    clock = T + 82 * interval
    state.endMaintenance(w.id)
    monitor((i) => (i >= 20 && i <= 21) || (i >= 80 && i <= 82))
    clock = T + 120 * interval
    const m = await measure(ctx(), spec, new Date(clock))
    expect(m.detail).to.deep.include({down: 5, excluded_samples: 0, planned_downtime_s: 0, unplanned_down_samples: 5})
    expect(m.value).to.be.closeTo((115 * 100) / 120, 1e-9)
    expect(evaluateCriterion(spec, m).outcome).to.equal('fail')
  })

  it('a window left open by a kill is capped: the downtime after the cap counts', async () => {
    state.close()
    state = StateStore.open(path.join(makeTempDir(), 'state.db'), {actor: 'ops', now: () => new Date(clock), maintenanceCapMs: 10 * interval})
    clock = T + 30 * interval
    state.beginMaintenance({kind: 'advance-step', reason: 'restart; cutover was killed in the middle'})
    // The daemon stayed down 30..69: 30..40 are inside the capped window, 41..69 count.
    monitor((i) => i >= 30 && i < 70)
    clock = T + 120 * interval
    const m = await measure(ctx(), spec, new Date(clock))
    expect(m.detail).to.deep.include({excluded_samples: 11, down: 29, planned_downtime_s: 10})
    expect((m.detail?.maintenance_windows as {unterminated?: boolean}[])[0]?.unterminated).to.equal(true)
    expect(evaluateCriterion(spec, m).outcome).to.equal('fail')
  })
})
