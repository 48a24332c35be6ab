import {expect} from 'chai'
import path from 'node:path'

import {changedCriteria, runGonogo, type StoredGateInputs} from '../../../src/lib/gate/gonogo.js'
import {HEALTH_SOURCE} from '../../../src/lib/gate/measure.js'
import {gonogoLines} from '../../../src/lib/gate/output.js'
import {formatIssue, parsePlaybook, type Playbook} from '../../../src/lib/playbook/index.js'
import {StateStore} from '../../../src/lib/state/store.js'
import type {Target} from '../../../src/lib/target/target.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

/**
 * #11 item 1: "Gateway uptime > 99.9% for 4+ days" may rest only on Phase 2. Before, the 4d window
 * trailed from now, so Phase 1 history made it pass seconds after entering Phase 2 with the daemon down.
 */
const FIXTURES = path.resolve('test/fixtures/playbooks')
const MIN = 60_000
const DAY = 86_400_000

function playbook(opts: {anchor?: boolean; minDuration?: string; baselineMin?: string} = {}): Playbook {
  const yaml = `name: anchored
version: "0.1"
target: {name: demo, cco: [cco]}
phases:
  - id: one
    number: 1
    title: One
    goal: Baseline.
    plan_ref: 'demo: "one"'
    ${opts.baselineMin ? `baseline_window: {min: ${opts.baselineMin}, max: 3d, plan_ref: 'demo: "baseline 2-3 days"'}` : ''}
    checks: [{id: gateway.health, plan_ref: 'demo: "health"'}]
  - id: two
    number: 2
    title: Two
    goal: Soak.
    plan_ref: 'demo: "two"'
    ${opts.minDuration ? `min_duration: ${opts.minDuration}` : ''}
    checks: [{id: gateway.health, plan_ref: 'demo: "health"'}]
  - id: three
    number: 3
    title: Three
    goal: Done.
    plan_ref: 'demo: "three"'
    checks: [{id: gateway.health, plan_ref: 'demo: "health"'}]
gates:
  - id: one-to-two
    from: 1
    to: 2
    title: One to two
    plan_ref: 'demo: "gate 1"'
    criteria:
      - {id: uptime, title: Uptime, source: gateway, metric: uptime, statistic: ratio, window: 2d, operator: '>', threshold: 99.9, unit: percent, min_samples: 1000, key: true, plan_ref: 'demo: "uptime"'${opts.anchor === false ? '' : ', anchor: phase_entry'}}
  - id: two-to-three
    from: 2
    to: 3
    title: Two to three
    plan_ref: 'demo: "gate 2"'
    criteria:
      - {id: uptime-4d, title: Uptime for 4+ days, source: gateway, metric: uptime, statistic: ratio, window: 4d, operator: '>', threshold: 99.9, unit: percent, min_samples: 1000, key: true, plan_ref: 'demo: "uptime for 4+ days"'${opts.anchor === false ? '' : ', anchor: phase_entry'}}
`
  const result = parsePlaybook(yaml, 'anchored.yaml', {baseDir: FIXTURES})
  expect(result.issues.map(formatIssue)).to.deep.equal([])
  return result.playbook!
}

describe('gate: evidence anchored to the phase (#11.1)', () => {
  const T0 = Date.parse('2026-11-01T00:00:00Z')
  let clock: number
  let state: StateStore
  const target = {name: 'demo', home: '/nonexistent'} as unknown as Target

  beforeEach(() => {
    clock = T0
    state = StateStore.open(path.join(makeTempDir(), 'state.db'), {actor: 'ops', now: () => new Date(clock)})
  })
  afterEach(() => {
    state.close()
    cleanupTempDirs()
  })

  /** One health sample a minute over [from, to). */
  function monitor(from: number, to: number, status: (ts: number) => string = () => 'healthy'): void {
    const samples = []
    for (let ts = from; ts < to; ts += MIN) samples.push({source: HEALTH_SOURCE, ts, metrics: {status: status(ts), interval_ms: MIN}})
    state.addSamples(samples)
  }

  const gonogo = (pb: Playbook, from?: number) => runGonogo({playbook: pb, playbookFile: 'anchored.yaml', state, target, now: new Date(clock), ...(from === undefined ? {} : {from})})
  const row = (r: Awaited<ReturnType<typeof gonogo>>, id: string) => r.criteria.find((c) => c.id === id)!

  it('the reproduction: 5 healthy days of Phase 1, enter Phase 2, daemon down -> not GO, INCONCLUSIVE until 4 days of Phase 2', async () => {
    state.setPhase(1)
    monitor(T0, T0 + 5 * DAY)
    clock = T0 + 5 * DAY
    state.setPhase(2, {reason: 'advance'})
    const entered = clock
    // The daemon is down right after the entry.
    monitor(entered, entered + 2 * MIN, () => 'down')
    clock = entered + 2 * MIN

    // What the old trailing window said (anchor off): 4 days of mostly Phase 1 samples, a pass.
    const trailing = await gonogo(playbook({anchor: false}))
    expect(row(trailing, 'uptime-4d').outcome).to.equal('pass')
    expect(trailing.verdict).to.equal('GO')

    const early = await gonogo(playbook())
    expect(early.verdict).to.equal('INCONCLUSIVE')
    expect(early.exitCode).to.equal(3)
    const uptime = row(early, 'uptime-4d')
    expect(uptime.outcome).to.equal('inconclusive')
    expect(uptime.reason).to.contain('needs 4d wholly inside phase 2').and.contain(new Date(entered).toISOString()).and.contain('2m00s ago')
    // Measured over the phase so far (2 down samples), shown, not decisive.
    expect(uptime.value).to.equal(0)
    expect(uptime.windowStart).to.equal(new Date(entered).toISOString())
    expect(uptime.anchor).to.deep.include({requiredMs: 4 * DAY, elapsedMs: 2 * MIN, met: false, entry: new Date(entered).toISOString(), entrySource: 'recorded'})
    expect(early.next.join('\n')).to.contain('wait: uptime-4d')

    // Four healthy days of Phase 2 later: the window lies inside the phase and passes.
    monitor(entered + 2 * MIN, entered + 4 * DAY + 20 * MIN)
    clock = entered + 4 * DAY + 20 * MIN
    const later = await gonogo(playbook())
    expect(row(later, 'uptime-4d').outcome, row(later, 'uptime-4d').reason).to.equal('pass')
    expect(row(later, 'uptime-4d').anchor?.met).to.equal(true)
    expect(later.verdict).to.equal('GO')
  })

  it('exactly at the boundary: one millisecond short is inconclusive, the full window counts', async () => {
    state.setPhase(2)
    monitor(T0, T0 + 4 * DAY + MIN)
    clock = T0 + 4 * DAY - 1
    expect(row(await gonogo(playbook()), 'uptime-4d').outcome).to.equal('inconclusive')
    clock = T0 + 4 * DAY
    expect(row(await gonogo(playbook()), 'uptime-4d').outcome).to.equal('pass')
  })

  it('a re-entry restarts the clock: the latest entry counts', async () => {
    state.setPhase(2)
    monitor(T0, T0 + 6 * DAY)
    clock = T0 + 5 * DAY
    state.setPhase(1, {reason: 'rollback --flag'})
    clock = T0 + 5 * DAY + MIN
    state.setPhase(2, {reason: 'advance again'})
    clock = T0 + 6 * DAY
    const r = await gonogo(playbook())
    expect(row(r, 'uptime-4d').outcome).to.equal('inconclusive')
    expect(row(r, 'uptime-4d').anchor?.entry).to.equal(new Date(T0 + 5 * DAY + MIN).toISOString())
  })

  it('a gate of another phase than the current one has no evidence: inconclusive, saying where the target is', async () => {
    state.setPhase(1)
    monitor(T0, T0 + 5 * DAY)
    clock = T0 + 5 * DAY
    const r = await gonogo(playbook(), 2)
    expect(r.verdict).to.equal('INCONCLUSIVE')
    expect(row(r, 'uptime-4d').reason).to.contain('the target is in phase 1, not 2')
  })

  it('min_duration is a key row of its own: INCONCLUSIVE until it has passed since the entry; its value is stable for approvals', async () => {
    state.setPhase(2)
    monitor(T0, T0 + 6 * DAY)
    const pb = playbook({anchor: false, minDuration: '5d'})
    clock = T0 + 4 * DAY + MIN
    const early = await gonogo(pb)
    expect(early.verdict).to.equal('INCONCLUSIVE')
    expect(row(early, 'phase-min-duration')).to.deep.include({outcome: 'inconclusive', key: true, value: 0})
    expect(row(early, 'phase-min-duration').reason).to.contain('needs 5d of phase 2').and.contain('23h59m to go')
    clock = T0 + 5 * DAY
    const done = await gonogo(pb)
    expect(row(done, 'phase-min-duration')).to.deep.include({outcome: 'pass', value: 1})
    expect(done.verdict).to.equal('GO')
    clock = T0 + 6 * DAY - MIN
    const again = await gonogo(pb)
    const timingRow = (id: string) => state.getEvaluation<StoredGateInputs>(id)!.inputs.outcomes.filter((o) => o.id === 'phase-min-duration')
    expect(changedCriteria(timingRow(again.evaluation.id), timingRow(done.evaluation.id)), 'an approval of the earlier evaluation still holds for this row').to.deep.equal([])
  })

  it('the baseline window minimum holds gate 1 -> 2; phase 1 with nothing recorded began at the first record', async () => {
    const pb = playbook({baselineMin: '2d'})
    monitor(T0, T0 + 3 * DAY)
    clock = T0 + DAY
    const early = await gonogo(pb)
    expect(row(early, 'baseline-window-min').outcome).to.equal('inconclusive')
    expect(row(early, 'baseline-window-min').anchor).to.deep.include({entrySource: 'first_record', entry: new Date(T0).toISOString()})
    expect(row(early, 'uptime').reason).to.contain('began (first record)')
    clock = T0 + 2 * DAY
    const done = await gonogo(pb)
    expect(row(done, 'baseline-window-min').outcome).to.equal('pass')
    expect(row(done, 'uptime').outcome).to.equal('pass')
    expect(done.verdict).to.equal('GO')
  })

  it('lint: anchor needs a duration window', () => {
    const bad = parsePlaybook(
      `name: x\nversion: "1"\ntarget: {name: demo, cco: [cco]}\nphases:\n  - {id: a, number: 1, title: A, goal: G, plan_ref: 'p', checks: [{id: gateway.health, plan_ref: 'p'}]}\n  - {id: b, number: 2, title: B, goal: G, plan_ref: 'p', checks: [{id: gateway.health, plan_ref: 'p'}]}\ngates:\n  - id: g\n    from: 1\n    to: 2\n    title: G\n    plan_ref: 'p'\n    criteria:\n      - {id: c, title: C, source: records, metric: approvals, statistic: count, window: phase, operator: '>=', threshold: 1, unit: count, min_samples: 0, key: true, plan_ref: 'p', anchor: phase_entry}\n`,
      'x.yaml',
      {baseDir: FIXTURES},
    )
    expect(bad.issues.map(formatIssue).join('\n')).to.contain('anchor: phase_entry needs a duration window')
  })

  // #11.5: the evidence must be able to support "> 99.9 %" over 4 days.
  it('a monitor that declares a long interval is not trusted; a sparse one has too few samples (evidence rule)', async () => {
    state.setPhase(2)
    // Every minute, but each sample claims the monitor looks only hourly: gaps of < 2 h would go unseen.
    const samples = []
    for (let ts = T0; ts < T0 + 4 * DAY + 20 * MIN; ts += MIN) samples.push({source: HEALTH_SOURCE, ts, metrics: {status: 'healthy', interval_ms: 60 * MIN}})
    state.addSamples(samples)
    clock = T0 + 4 * DAY + 20 * MIN
    const untrusted = row(await gonogo(playbook()), 'uptime-4d')
    expect(untrusted.outcome).to.equal('inconclusive')
    expect(untrusted.reason, untrusted.reason).to.contain('the monitor declares a sampling interval of 1h, longer than the 5m45s the evidence rule allows (window 4d / min_samples 1000): gaps shorter than two intervals would go unseen')
    expect(untrusted.evidenceRule).to.equal('>= 1000 samples: one sample (100 / n %) must be at most the 0.1 % margin of "> 99.9 %"')
  })

  it('a sparse monitor (every 10 minutes: 577 samples in 4 days) cannot prove 99.9 %, and gonogo says the rule', async () => {
    state.setPhase(2)
    monitor(T0, T0 + 4 * DAY + 20 * MIN)
    clock = T0 + 4 * DAY + 20 * MIN
    // Replace with a sparse monitor in a fresh store.
    state.close()
    state = StateStore.open(path.join(makeTempDir(), 'state.db'), {actor: 'ops', now: () => new Date(clock)})
    clock = T0
    state.setPhase(2)
    const sparse = []
    for (let ts = T0; ts < T0 + 4 * DAY + 20 * MIN; ts += 10 * MIN) sparse.push({source: HEALTH_SOURCE, ts, metrics: {status: 'healthy', interval_ms: 10 * MIN}})
    state.addSamples(sparse)
    clock = T0 + 4 * DAY + 20 * MIN
    const result = await gonogo(playbook())
    const r = row(result, 'uptime-4d')
    expect(r.outcome).to.equal('inconclusive')
    expect(r.reason).to.match(/57\d sample\(s\), at least 1000 needed \(evidence rule: >= 1000 samples: one sample/)
    const lines = gonogoLines(result).join('\n')
    expect(lines).to.contain('Evidence rules:\n  uptime-4d: >= 1000 samples')
  })
})
