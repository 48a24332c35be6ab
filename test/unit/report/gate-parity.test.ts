/*
 * #11 item 6: the report never disagrees with the gates and never claims more than the evidence.
 * The KPIs are judged with the gate's code (uptime with gaps as down, evaluateCriterion with the
 * evidence rule's minimum), the error rate also on the clients' figure, and a verdict line heads
 * every format.
 */
import {expect} from 'chai'
import path from 'node:path'

import {computeUptime} from '../../../src/lib/evaluate/stats.js'
import {defaultPlaybookPath, loadPlaybook} from '../../../src/lib/playbook/index.js'
import type {Playbook} from '../../../src/lib/playbook/types.js'
import {buildReport, renderHtml, renderMarkdown, type BuildReportInput, type KpiResult, type ReportData} from '../../../src/lib/report/index.js'
import type {GatewayMetricsSummary} from '../../../src/lib/target/gateway-client.js'
import {StateStore} from '../../../src/lib/state/store.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

const T = Date.parse('2026-03-02T00:00:00Z')
const SEC = 1000

/** /gateway/metrics' summary: `requests`, `failed` of them failed, every one logged. */
function summary(requests: number, failed: number): GatewayMetricsSummary {
  return {
    total_requests: requests,
    successful_requests: requests - failed,
    failed_requests: failed,
    streaming_requests: 0,
    streaming_failures: 0,
    avg_latency_ms: 300,
    p95_latency_ms: 600,
    total_cost_usd: 0,
    audit_records: requests,
    since: new Date(T).toISOString(),
  } as GatewayMetricsSummary
}

const kpi = (r: ReportData, id: string): KpiResult => r.kpis.find((k) => k.id === id)!

describe('report: KPIs judged as the gates judge them', () => {
  let playbook: Playbook
  let state: StateStore
  let clock: number

  before(async () => {
    playbook = await loadPlaybook(defaultPlaybookPath())
  })
  beforeEach(() => {
    clock = T
    state = StateStore.open(path.join(makeTempDir('cutover-report-parity-'), 'state.db'), {actor: 'ops', now: () => new Date(clock)})
    state.setPhase(1, {reason: 'start'})
  })
  afterEach(() => {
    state.close()
    cleanupTempDirs()
  })

  /** Health samples every second from T; `status(i)` per slot, undefined: the monitor took none. */
  function health(slots: number, status: (i: number) => string | undefined): {ts: number; status: string}[] {
    const out: {ts: number; status: string}[] = []
    for (let i = 0; i < slots; i++) {
      const s = status(i)
      if (s !== undefined) out.push({ts: T + i * SEC, status: s})
    }
    state.addSamples(out.map((h) => ({source: 'health', ts: h.ts, metrics: {status: h.status, interval_ms: SEC}})))
    return out
  }

  const build = (extra: Partial<BuildReportInput> = {}) => buildReport({state, playbook, gatewayMetrics: {summary: summary(5000, 0)}, now: new Date(clock), ...extra})

  it('a monitoring gap of 10 missed intervals counts as down: the report equals the gate figure exactly', () => {
    // 1500 slots, the monitor saw nothing for slots 700-709: 1490 samples, all healthy.
    const samples = health(1500, (i) => (i >= 700 && i < 710 ? undefined : 'healthy'))
    clock = T + 1500 * SEC
    const gate = computeUptime(samples, {intervalMs: SEC, windowStart: T, windowEnd: clock})
    expect(gate).to.include({samples: 1490, up: 1490, missed: 10})
    const availability = kpi(build(), 'availability')
    // Counting only the samples taken would say 100 % and met.
    expect(availability.measured).to.equal(gate.uptimePct)
    expect(availability.measured).to.equal((1490 * 100) / 1500)
    expect(availability).to.include({status: 'missed', samples: 1490, display: '99.333%'})
  })

  it('degraded is up and unhealthy is down, as UP_STATUSES says', () => {
    // 1000 samples, one degraded (up): 100 %, met (as down it would be 99.9 %, not > 99.9 %).
    health(1000, (i) => (i === 10 ? 'degraded' : 'healthy'))
    clock = T + 1000 * SEC
    expect(kpi(build(), 'availability')).to.include({measured: 100, status: 'met', samples: 1000})
    // Two unhealthy samples more: 1000 of 1002.
    state.addSamples([0, 1].map((i) => ({source: 'health', ts: T + (1000 + i) * SEC, metrics: {status: 'unhealthy', interval_ms: SEC}})))
    clock = T + 1002 * SEC
    expect(kpi(build(), 'availability')).to.include({measured: (1000 * 100) / 1002, status: 'missed', samples: 1002})
  })

  it('a planned maintenance window is left out the way the gate leaves it out', () => {
    health(1200, (i) => (i >= 100 && i < 105 ? 'unhealthy' : 'healthy'))
    clock = T + 100 * SEC
    const w = state.beginMaintenance({kind: 'advance-step', reason: 'phase advance to phase 2'})
    clock = T + 104 * SEC
    state.endMaintenance(w.id, {graceMs: 500})
    clock = T + 1200 * SEC
    const gate = computeUptime(
      state.listSamples<{status: string}>({source: 'health'}).map((s) => ({ts: s.ts, status: s.metrics.status})),
      {intervalMs: SEC, windowStart: T, windowEnd: clock, exclude: [{from: T + 100 * SEC, to: T + 104.5 * SEC}]},
    )
    expect(gate).to.include({samples: 1195, up: 1195, excluded: 5})
    const r = build()
    expect(kpi(r, 'availability')).to.include({measured: gate.uptimePct, status: 'met'})
    expect(r.maintenance).to.include({excludedSamples: 5, unplannedDownSamples: 0})
  })

  it('too few samples is unknown, never met, and the verdict never says every KPI was met', () => {
    // 30 healthy samples "prove" 99.9 % as well as 97 %.
    health(30, () => 'healthy')
    clock = T + 30 * SEC
    const r = build()
    expect(kpi(r, 'availability')).to.include({measured: 100, status: 'unknown', samples: 30})
    expect(kpi(r, 'reliability')).to.include({measured: 0, status: 'met', samples: 5000})
    expect(r.overall).to.equal('unknown')
    expect(r.verdict).to.equal('KPIs: 3 met, 1 unknown (availability: 30 samples, 1,000 needed, currently 100%)')
    expect(renderHtml(r)).to.not.contain('All KPIs met')
    expect(renderMarkdown(r)).to.not.contain('every KPI met')
  })

  it('with enough evidence everywhere the verdict says so', () => {
    health(1000, () => 'healthy')
    clock = T + 1000 * SEC
    const r = build()
    expect(r.overall).to.equal('met')
    expect(r.verdict).to.equal('KPIs: all 4 met')
  })
})

describe('report: client-side evidence and the verdict line', () => {
  let playbook: Playbook
  let state: StateStore
  let clock: number

  before(async () => {
    playbook = await loadPlaybook(defaultPlaybookPath())
  })
  beforeEach(() => {
    clock = T
    state = StateStore.open(path.join(makeTempDir('cutover-report-client-'), 'state.db'), {actor: 'ops', now: () => new Date(clock)})
    state.setPhase(1, {reason: 'start'})
    state.addSamples(Array.from({length: 1000}, (_, i) => ({source: 'health', ts: T + i * SEC, metrics: {status: 'healthy', interval_ms: SEC}})))
    clock = T + 1000 * SEC
  })
  afterEach(() => {
    state.close()
    cleanupTempDirs()
  })

  const clients = {source: 'rehearsal traffic generator', sent: 1500, ok: 1480, failed: 20, errors: {'HTTP 502': 12, connection: 8}}
  const build = (extra: Partial<BuildReportInput> = {}) => buildReport({state, playbook, gatewayMetrics: {summary: summary(2000, 0)}, now: new Date(clock), ...extra})

  it('the error rate is judged on the worse of the gateway (0 of 2000) and the clients (20 of 1500); both are shown', () => {
    expect(kpi(build(), 'reliability')).to.include({measured: 0, status: 'met'})
    const r = build({clientTraffic: clients})
    const reliability = kpi(r, 'reliability')
    expect(reliability).to.include({measured: (20 * 100) / 1500, status: 'missed', samples: 1500, source: 'client side: rehearsal traffic generator'})
    expect(reliability.figures).to.deep.equal([
      {source: '/gateway/metrics (all time)', measured: 0, display: '0%', samples: 2000, failed: 0, status: 'met', judged: false},
      {source: 'client side: rehearsal traffic generator', measured: (20 * 100) / 1500, display: '1.33%', samples: 1500, failed: 20, status: 'missed', judged: true},
    ])
    expect(r.overall).to.equal('missed')
    expect(r.clientTraffic).to.deep.equal(clients)
    expect(r.verdict).to.equal('KPIs: 3 met, 1 missed (reliability) — failed requests seen by clients: 20 of 1,500 (rehearsal traffic generator)')
    const md = renderMarkdown(r)
    expect(md).to.contain('**Failed requests seen by clients: 20 of 1,500 (rehearsal traffic generator): HTTP 502 ×12, connection ×8**')
    expect(md).to.contain('| Reliability (error rate) | < 0.1% | 1.33% | ❌ missed | client side: rehearsal traffic generator | worse of: /gateway/metrics (all time): 0% (0 of 2,000 failed); client side: rehearsal traffic generator: 1.33% (20 of 1,500 failed) ← judged |')
    expect(renderHtml(r)).to.contain('Failed requests seen by clients: 20 of 1,500 (rehearsal traffic generator): HTTP 502 ×12, connection ×8')
  })

  it('requests sent but not finished (stopped) count neither way; a better client figure does not hide the gateway one', () => {
    // 1500 sent, 1470 ok, 20 failed, 10 aborted when the generator stopped: 20 of 1490.
    const unfinished = build({clientTraffic: {...clients, ok: 1470}})
    expect(kpi(unfinished, 'reliability')).to.include({measured: (20 * 100) / 1490, samples: 1490, status: 'missed'})
    expect(unfinished.verdict).to.contain('failed requests seen by clients: 20 of 1,490 (rehearsal traffic generator)')
    expect(renderMarkdown(unfinished)).to.contain('; 10 more sent but not finished (in flight or stopped), not counted**')
    // Gateway 2 of 2000 (0.1 %, not < 0.1 %) is worse than the clients' 0 of 1500.
    const r = build({gatewayMetrics: {summary: summary(2000, 2)}, clientTraffic: {...clients, ok: 1500, failed: 0, errors: {}}})
    const reliability = kpi(r, 'reliability')
    expect(reliability).to.include({measured: 0.1, status: 'missed', source: '/gateway/metrics (all time)'})
    expect(reliability.figures!.map((f) => f.judged)).to.deep.equal([true, false])
  })

  it('the verdict names forced advances from the trail and the declared provenance, at the top of every format', () => {
    state.appendTrail({kind: 'advance.force', payload: {from: 1, to: 2, reason: 'approved in the change meeting', verdict: 'INCONCLUSIVE', evaluation_id: null, blocking: ['phase-min-duration']}})
    const r = build({clientTraffic: {...clients, failed: 0, ok: 1500, errors: {}}, provenance: {forced: [{what: 'gate 2->3', why: 'rehearsal: compressed windows'}], synthetic: ['feedback from 6 rehearsal users'], skipped: ['script.test_gateway'], waived: ['uptime min_samples 1000 -> 30']}})
    const line =
      'KPIs: all 4 met — failed requests seen by clients: 0 of 1,500 (rehearsal traffic generator) — forced: gate 1->2 (approved in the change meeting; the gate said INCONCLUSIVE), gate 2->3 (rehearsal: compressed windows); synthetic: feedback from 6 rehearsal users; skipped: script.test_gateway; waived: uptime min_samples 1000 -> 30'
    expect(r.verdict).to.equal(line)
    expect(r.provenance.forced).to.have.length(2)
    const md = renderMarkdown(r).split('\n')
    expect(md[0]).to.match(/^# /)
    expect(md[2]).to.equal(`**Verdict:** ${line}`)
    const html = renderHtml(r)
    const at = html.indexOf('id="verdict"')
    expect(at).to.be.greaterThan(0).and.lessThan(html.indexOf('<h2'))
    expect(html).to.contain('approved in the change meeting; the gate said INCONCLUSIVE')
    expect(Object.keys(JSON.parse(JSON.stringify(r)) as object).slice(0, 3)).to.deep.equal(['v', 'title', 'verdict'])
  })
})
