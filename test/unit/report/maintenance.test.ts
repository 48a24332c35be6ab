import {expect} from 'chai'
import path from 'node:path'

import {defaultPlaybookPath, loadPlaybook} from '../../../src/lib/playbook/index.js'
import {availabilityOf, buildReport, renderHtml, renderMarkdown} from '../../../src/lib/report/index.js'
import {StateStore} from '../../../src/lib/state/store.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

describe('report: availability with planned maintenance', () => {
  const T = Date.parse('2026-04-01T08:00:00Z')
  const interval = 1000
  let clock: number
  let state: StateStore

  beforeEach(() => {
    clock = T
    state = StateStore.open(path.join(makeTempDir('cutover-report-'), 'state.db'), {actor: 'ops', now: () => new Date(clock)})
    state.setPhase(1, {reason: 'start'})
    // 100 samples: a planned restart (10-12, in a window) and a crash (60-61, no window).
    state.addSamples(Array.from({length: 100}, (_, i) => ({source: 'health', ts: T + i * interval, metrics: {status: (i >= 10 && i <= 12) || i === 60 || i === 61 ? 'down' : 'healthy', interval_ms: interval}})))
    clock = T + 10 * interval
    const w = state.beginMaintenance({kind: 'advance-step', reason: 'phase advance to phase 2'})
    clock = T + 12 * interval
    state.endMaintenance(w.id, {graceMs: 500})
    clock = T + 60 * interval
    const r = state.beginMaintenance({kind: 'rollback', reason: 'flag rollback: fired by a trigger'})
    clock = T + 61 * interval
    state.endMaintenance(r.id)
    clock = T + 100 * interval
  })
  afterEach(() => {
    state.close()
    cleanupTempDirs()
  })

  it('availabilityOf leaves out samples in planned spans', () => {
    const health = state.listSamples<{status?: string; interval_ms?: number}>({source: 'health'})
    expect(availabilityOf(health)).to.include({observed: 100, up: 95})
    expect(availabilityOf(health, [{from: T + 10 * interval, to: T + 12.5 * interval}])).to.include({observed: 97, up: 95, excluded: 3, plannedDowntimeMs: 2500})
  })

  it('the availability KPI excludes the planned restart but counts the crash and the emergency rollback; the windows are listed and shaded', async () => {
    const playbook = await loadPlaybook(defaultPlaybookPath())
    const report = buildReport({state, playbook, gatewayMetrics: null, now: new Date(clock)})
    const availability = report.kpis.find((k) => k.id === 'availability')!
    expect(availability).to.include({samples: 97, status: 'missed'})
    expect(availability.measured).to.be.closeTo((95 * 100) / 97, 1e-9)
    expect(availability.note).to.match(/3 sample\(s\) in planned maintenance/)
    expect(report.maintenance).to.include({excludedSamples: 3, plannedDowntimeMs: 2500, unplannedDownSamples: 2})
    expect(report.maintenance.items.map((w) => [w.kind, w.planned, w.durationMs])).to.deep.equal([
      ['advance-step', true, 2500],
      ['rollback', false, 1000],
    ])
    expect(report.series.maintenance).to.deep.equal([{from: T + 10 * interval, to: T + 12.5 * interval}])
    expect(report.notes.join('\n')).to.match(/leaves out 3 health sample\(s\) taken during 1 planned maintenance window/)
    const md = renderMarkdown(report)
    expect(md).to.contain('## Maintenance windows').and.contain('phase advance to phase 2').and.contain('no (counted)')
    expect(renderHtml(report)).to.contain('id="maintenance"').and.contain('unplanned')
  })
})
