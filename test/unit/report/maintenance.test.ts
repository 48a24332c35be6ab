import {expect} from 'chai'
import path from 'node:path'

import {defaultPlaybookPath, loadPlaybook} from '../../../src/lib/playbook/index.js'
import {availabilityEvidence, buildReport, renderHtml, renderMarkdown} from '../../../src/lib/report/index.js'
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

  it('availabilityEvidence is the gate uptime measurement: planned samples left out, the crash counted', () => {
    const a = availabilityEvidence(state, new Date(clock), T)
    expect(a.measurement).to.deep.include({value: (95 * 100) / 97, samples: 97, windowElapsed: true})
    expect(a).to.include({excluded: 3, unplannedDownSamples: 2, missed: 0, intervalMs: interval})
  })

  it('the availability KPI excludes the planned restart but counts the crash and the emergency rollback; the windows are listed and shaded', async () => {
    const playbook = await loadPlaybook(defaultPlaybookPath())
    const report = buildReport({state, playbook, gatewayMetrics: null, now: new Date(clock)})
    const availability = report.kpis.find((k) => k.id === 'availability')!
    // 97 samples are fewer than the 1000 "> 99.9 %" needs, and 2 down among them already rule it out
    // (even 903 more up samples give 99.8 %): missed.
    expect(availability).to.include({samples: 97, status: 'missed', measured: (95 * 100) / 97})
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
