import {expect} from 'chai'
import path from 'node:path'

import {baselineKey, resolveWindow, toCriterionSpec} from '../../../src/lib/gate/criteria.js'
import {changedCriteria} from '../../../src/lib/gate/gonogo.js'
import {monitorHealth} from '../../../src/lib/gate/measure.js'
import {isRehearsal, measureRecords, recordsInputFromState, rollbackKindOf, VALIDATION_RUN_KIND} from '../../../src/lib/gate/records.js'
import {evaluateCriterion} from '../../../src/lib/evaluate/criterion.js'
import type {CriterionOutcome, CriterionSpec, Measurement} from '../../../src/lib/evaluate/types.js'
import {renderTable, visibleWidth} from '../../../src/lib/output/table.js'
import type {Criterion} from '../../../src/lib/playbook/types.js'
import {StateStore} from '../../../src/lib/state/store.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

const NOW = new Date('2026-11-20T12:00:00.000Z')

function criterion(over: Partial<Criterion> = {}): Criterion {
  return {
    id: 'error-rate',
    title: 'Error rate',
    source: 'gateway',
    metric: 'error_rate',
    statistic: 'ratio',
    window: '15m',
    operator: '<',
    threshold: 0.1,
    unit: 'percent',
    min_samples: 10,
    key: true,
    plan_ref: 't',
    ...over,
  }
}

function outcome(spec: CriterionSpec, m: Partial<Measurement>): CriterionOutcome {
  return evaluateCriterion(spec, {criterionId: spec.id, value: 0.05, samples: 100, windowStart: '2026-11-20T11:45:00.000Z', windowEnd: NOW.toISOString(), windowElapsed: true, ...m})
}

describe('gate: criteria, windows and evidence identity', () => {
  it('a playbook criterion becomes an evaluator spec: unit text, baseline bound, fleet minimum', () => {
    const spec = toCriterionSpec(criterion({relative_to_baseline: {max_increase_pct: 25}, unit: 'ms', operator: '<='}), {duration: '15m', asWritten: '15m'})
    expect(spec).to.deep.include({id: 'error-rate', source: 'gateway', window: '15m', unit: 'ms', min_samples: 10, relative_to_baseline: {max_increase_pct: 25}})
    const fleet = toCriterionSpec(criterion({source: 'prometheus', min_hosts: 3, unit: 'count'}), {duration: '5m', asWritten: '5m'})
    expect(fleet.min_hosts).to.equal(3)
    expect(fleet).to.not.have.property('unit')
    expect(baselineKey(criterion())).to.equal('gateway:error_rate:ratio')
  })

  it("window 'phase' runs from the phase start when the gate leaves the current phase, else covers everything with a note", () => {
    const inPhase = resolveWindow('phase', {from: 1}, {phase: 1, since: '2026-11-20T10:00:00.000Z', reason: null, actor: 'a'}, NOW)
    expect(inPhase).to.deep.include({duration: '2h', asWritten: 'phase', phaseStart: '2026-11-20T10:00:00.000Z'})
    const other = resolveWindow('phase', {from: 1}, {phase: 2, since: '2026-11-20T10:00:00.000Z', reason: null, actor: 'a'}, NOW)
    expect(other.note).to.contain('the current phase is 2, not 1')
    expect(other.phaseStart).to.equal(new Date(0).toISOString())
    expect(resolveWindow('phase', {from: 1}, null, NOW).note).to.contain('no phase is recorded')
    expect(resolveWindow('4d', {from: 1}, null, NOW)).to.deep.equal({duration: '4d', asWritten: '4d'})
  })

  it('evidence identity ignores sliding window bounds and sample counts, not values, outcomes or hosts', () => {
    const spec = toCriterionSpec(criterion(), {duration: '15m', asWritten: '15m'})
    const approved = [outcome(spec, {})]
    expect(changedCriteria([outcome(spec, {samples: 140, windowStart: '2026-11-20T11:46:00.000Z', windowEnd: '2026-11-20T12:01:00.000Z'})], approved)).to.deep.equal([])
    expect(changedCriteria([outcome(spec, {value: 0.06})], approved)).to.deep.equal(['error-rate'])
    expect(changedCriteria([outcome(spec, {samples: 5})], approved), 'too few samples changes the outcome').to.deep.equal(['error-rate'])
    expect(changedCriteria([], approved), 'a criterion that disappeared').to.deep.equal(['error-rate'])
    const fleetSpec = toCriterionSpec(criterion({id: 'fleet', source: 'prometheus', min_hosts: 2, operator: '<=', threshold: 5}), {duration: '5m', asWritten: '5m'})
    const hosts = [{name: 'a', value: 1, ok: true}, {name: 'b', value: 1, ok: true}]
    const before = [outcome(fleetSpec, {criterionId: 'fleet', hosts})]
    expect(changedCriteria([outcome(fleetSpec, {criterionId: 'fleet', hosts: [hosts[0]!, {name: 'c', value: 1, ok: true}]})], before)).to.deep.equal(['fleet'])
  })
})

describe('gate: records from the state store', () => {
  let store: StateStore
  let clock: Date
  beforeEach(() => {
    clock = new Date('2026-11-20T10:00:00.000Z')
    store = StateStore.open(path.join(makeTempDir(), 'state.db'), {actor: 'tester', now: () => clock})
  })
  afterEach(() => {
    store.close()
    cleanupTempDirs()
  })
  const spec = (metric: string, window = '7d'): CriterionSpec => ({id: metric, title: metric, source: 'records', metric, statistic: 'last', window, operator: '==', threshold: 1, key: true, min_samples: 1})

  it('rehearsal kinds: <kind>-rehearsal is a rehearsal of <kind>; only real rollbacks count as rollbacks in the phase', () => {
    expect(isRehearsal('git-rehearsal')).to.equal(true)
    expect(isRehearsal('git')).to.equal(false)
    expect(rollbackKindOf('flag-rehearsal')).to.equal('flag')
    store.recordRollback({kind: 'flag-rehearsal', outcome: 'success', timings: {total: 900}, objectiveMs: 30_000})
    store.recordRollback({kind: 'git', outcome: 'success', timings: {total: 120_000}, objectiveMs: 600_000})
    const input = recordsInputFromState(store)
    expect(input.rollbacks?.map((r) => r.kind)).to.deep.equal(['git'])
    expect(input.rehearsals).to.have.length(2)
  })

  it('last_rehearsal_within_objective with {kind, objective}: the latest of that kind, judged against the gate objective', () => {
    store.recordRollback({kind: 'flag-rehearsal', outcome: 'success', timings: {total: 900}, objectiveMs: 30_000})
    clock = new Date('2026-11-20T10:05:00.000Z')
    store.recordRollback({kind: 'git-rehearsal', outcome: 'success', timings: {total: 700_000}}) // 11m40s, no objective of its own
    const now = new Date('2026-11-20T11:00:00.000Z')
    const input = recordsInputFromState(store)
    const flag = measureRecords(store, input, spec('last_rehearsal_within_objective'), now, {params: {kind: 'flag', objective: '30s'}})
    expect(flag).to.deep.include({value: 1, samples: 1})
    const git = measureRecords(store, input, spec('last_rehearsal_within_objective'), now, {params: {kind: 'git', objective: '10m'}})
    expect(git.value, JSON.stringify(git.detail)).to.equal(0)
    expect(git.detail).to.deep.include({kind: 'git', objective_ms: 600_000, duration_ms: 700_000})
    const none = measureRecords(store, input, spec('last_rehearsal_within_objective'), now, {params: {kind: 'fastest'}})
    expect(none.value).to.equal(0)
    const bad = measureRecords(store, input, spec('last_rehearsal_within_objective'), now, {params: {kind: 'git', objective: 'soon'}})
    expect(bad.error).to.contain('objective')
  })

  it('last_validation_passed: no run -> no data; the last finished complete run of the phase decides; params.phase is required', () => {
    const now = new Date('2026-11-20T11:00:00.000Z')
    const s = spec('last_validation_passed')
    const whole = {scope: {complete: true, phase_checks: 3, run_checks: 3, left_out: []}}
    expect(measureRecords(store, {}, s, now, {params: {phase: 1}})).to.deep.include({value: null, samples: 0})
    store.recordRun({kind: VALIDATION_RUN_KIND, phase: 1, outcome: 'pass', results: whole})
    clock = new Date('2026-11-20T10:10:00.000Z')
    store.recordRun({kind: VALIDATION_RUN_KIND, phase: 1, outcome: 'fail', results: whole})
    store.recordRun({kind: VALIDATION_RUN_KIND, phase: 2, outcome: 'pass', results: whole})
    expect(measureRecords(store, {}, s, now, {params: {phase: 1}})).to.deep.include({value: 0, samples: 1})
    expect(measureRecords(store, {}, s, now, {params: {phase: 2}})).to.deep.include({value: 1, samples: 1})
    expect(measureRecords(store, {}, s, now, {params: {}}).error).to.contain('params.phase')
    // A run older than the window does not count.
    expect(measureRecords(store, {}, spec('last_validation_passed', '10m'), now, {params: {phase: 2}})).to.deep.include({value: null})
  })

  it('last_validation_passed (#11.2): a passing subset run (--check) never counts; a later complete run does', () => {
    const now = new Date('2026-11-20T11:00:00.000Z')
    const s = spec('last_validation_passed')
    const partial = {scope: {complete: false, phase_checks: 9, run_checks: 1, left_out: ['a', 'b']}}
    store.recordRun({kind: VALIDATION_RUN_KIND, phase: 1, outcome: 'fail', results: {scope: {complete: true}}})
    clock = new Date('2026-11-20T10:05:00.000Z')
    store.recordRun({kind: VALIDATION_RUN_KIND, phase: 1, outcome: 'pass', results: partial})
    // The failing complete run still decides: the passing subset after it does not hide it.
    const m = measureRecords(store, {}, s, now, {params: {phase: 1}})
    expect(m).to.deep.include({value: 0, samples: 1})
    expect(m.detail).to.deep.include({partial_runs_since: 1})
    // Only partial runs (and a run recorded before runs carried their scope): no data at all.
    const fresh = StateStore.open(path.join(makeTempDir(), 'state.db'), {actor: 'tester', now: () => clock})
    try {
      fresh.recordRun({kind: VALIDATION_RUN_KIND, phase: 1, outcome: 'pass', results: partial})
      fresh.recordRun({kind: VALIDATION_RUN_KIND, phase: 1, outcome: 'pass', results: {}})
      const none = measureRecords(fresh, {}, s, now, {params: {phase: 1}})
      expect(none).to.deep.include({value: null, samples: 0})
      expect(String(none.detail?.reason)).to.contain('2 partial run(s) (--check) do not count')
    } finally {
      fresh.close()
    }
    clock = new Date('2026-11-20T10:20:00.000Z')
    store.recordRun({kind: VALIDATION_RUN_KIND, phase: 1, outcome: 'pass', results: {scope: {complete: true}}})
    expect(measureRecords(store, {}, s, now, {params: {phase: 1}})).to.deep.include({value: 1, samples: 1})
  })

  it('monitor health samples: statuses and the longest sampling interval in the range', () => {
    store.addSamples([
      {source: 'health', ts: 1000, metrics: {status: 'healthy', interval_ms: 1000}},
      {source: 'health', ts: 2000, metrics: {status: 'down', interval_ms: 5000}},
      {source: 'metrics', ts: 2000, metrics: {total_requests: 1}},
    ])
    expect(store.addSample({source: 'health', ts: 2000, metrics: {status: 'healthy', interval_ms: 1000}}), 'same slot twice').to.equal(false)
    expect(monitorHealth(store, 0, 3000)).to.deep.equal({samples: [{ts: 1000, status: 'healthy'}, {ts: 2000, status: 'down'}], intervalMs: 5000})
    expect(monitorHealth(store, 0, 1500).intervalMs).to.equal(1000)
    expect(monitorHealth(store, 5000, 6000)).to.deep.equal({samples: [], intervalMs: undefined})
  })
})

describe('output: plain-text table', () => {
  it('pads to the widest cell, right-aligns numbers, cuts long cells, ignores colour codes when measuring', () => {
    const rows = [{name: 'uptime', value: '99.95%'}, {name: 'a-very-long-criterion-name', value: '7'}]
    const lines = renderTable(rows, [
      {header: 'NAME', get: (r) => r.name, maxWidth: 12},
      {header: 'VALUE', get: (r) => r.value, align: 'right', color: (t) => `\u001B[32m${t}\u001B[39m`},
    ])
    expect(lines[0]).to.equal(`NAME${' '.repeat(11)}VALUE`)
    expect(lines[2]).to.equal(`uptime${' '.repeat(8)}\u001B[32m99.95%\u001B[39m`)
    expect(lines[3]).to.equal('a-very-long…  \u001B[32m     7\u001B[39m')
    expect(visibleWidth(lines[2]!)).to.equal(visibleWidth(lines[3]!))
  })
})
