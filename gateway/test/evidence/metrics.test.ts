import {expect} from 'chai'
import fc from 'fast-check'
import {AuditStore, HOUR, MINUTE, toAuditRow} from '../../src/llm_gateway/audit.js'
import {computeCost} from '../../src/llm_gateway/cost.js'
import {buildMetrics, parseMetricsQuery, parseWindow, percentile, planSegments, QueryError, WINDOWS, type WindowName} from '../../src/llm_gateway/metrics.js'
import {PricingTable} from '../../src/llm_gateway/pricing.js'
import type {RequestRecord} from '../../src/llm_gateway/record.js'
import {KINDS, makeRecord, recordOfKind} from './records.js'
import {parseExposition, removeHome, startEvidence, tempHome, type Running} from './harness.js'

interface Summary {
  total_requests: number
  successful_requests: number
  streaming_failures: number
  total_cost_micros: number
  total_input_tokens: number
  avg_latency_ms: number
  p50_latency_ms: number
  p95_latency_ms: number
  p99_latency_ms: number
  avg_ttfb_ms: number
  audit_records: number
  since: string | null
  window: string
}

const NOW = Date.parse('2026-11-26T12:34:56.789Z')
const status = {records_received: 0, audit_pending: 0, audit_write_errors: 0, audit_dropped: 0}

describe('evidence/metrics: JSON metrics over the audit database and Prometheus', () => {
  let home: string
  let gw: Running | undefined

  beforeEach(() => {
    home = tempHome()
  })

  afterEach(async () => {
    await gw?.stop()
    gw = undefined
    removeHome(home)
  })

  it('?window= counts only the trailing window; all-time counts everything', async () => {
    gw = await startEvidence({home, now: () => NOW})
    const ages = [5 * MINUTE, 30 * MINUTE, 2 * HOUR, 2 * 24 * HOUR, 5 * 24 * HOUR]
    for (const age of ages) gw.evidence.sink(makeRecord({received_at: NOW - age}))
    const total = async (q: string): Promise<Summary> => ((await gw!.get(`/gateway/metrics${q}`)).json() as {summary: Summary}).summary
    expect((await total('?window=15m')).total_requests).to.equal(1)
    expect((await total('?window=1h')).total_requests).to.equal(2)
    expect((await total('?window=24h')).total_requests).to.equal(3)
    expect((await total('?window=3d')).total_requests).to.equal(4)
    const all = await total('')
    expect(all.total_requests).to.equal(5)
    expect(all.since).to.equal(new Date(NOW - 5 * 24 * HOUR).toISOString())
    expect(all.window).to.equal('all')
    const w1h = await total('?window=1h')
    expect(w1h.since).to.equal(new Date(NOW - HOUR).toISOString())
    expect(w1h.audit_records).to.equal(2)
  })

  it('?window= takes any duration (30s, 20m, 1h30m, 2d, 4d, 1w) and rejects anything else with 400 naming the format', async () => {
    expect(parseWindow('30s')).to.equal(30_000)
    expect(parseWindow('20m')).to.equal(20 * MINUTE)
    expect(parseWindow('1h30m')).to.equal(90 * MINUTE)
    expect(parseWindow('2d')).to.equal(48 * HOUR)
    expect(parseWindow('4D')).to.equal(96 * HOUR)
    expect(parseWindow('1w')).to.equal(7 * 24 * HOUR)
    expect(parseWindow('1d2h3m4s')).to.equal(24 * HOUR + 2 * HOUR + 3 * MINUTE + 4000)
    for (const bad of ['abc', '1x', '-1h', '1.5h', '0m', 'h', '1h 30m', '15', 'P1D', '9999d']) expect(() => parseWindow(bad), bad).to.throw(QueryError)

    gw = await startEvidence({home, now: () => NOW})
    const ages = [10_000, 40_000, 10 * MINUTE, 50 * MINUTE, 2 * HOUR, 3 * 24 * HOUR + HOUR]
    for (const age of ages) gw.evidence.sink(makeRecord({received_at: NOW - age}))
    const total = async (q: string): Promise<Summary> => ((await gw!.get(`/gateway/metrics${q}`)).json() as {summary: Summary}).summary
    expect((await total('?window=30s')).total_requests).to.equal(1)
    expect((await total('?window=20m')).total_requests).to.equal(3)
    expect((await total('?window=1h30m')).total_requests).to.equal(4)
    expect((await total('?window=2d')).total_requests).to.equal(5)
    expect((await total('?window=4d')).total_requests).to.equal(6)
    expect((await total('?window=1h30m')).window).to.equal('1h30m')
    for (const bad of ['bogus', '1h-', '%20']) {
      const res = await gw.get(`/gateway/metrics?window=${bad}`)
      expect(res.status, bad).to.equal(400)
      const err = res.json() as {type: string; error: {type: string; message: string}}
      expect(err.error.type).to.equal('invalid_request_error')
      expect(err.error.message).to.contain('e.g. 30s, 20m, 1h30m, 2d, 4d')
    }
  })

  it('summary.since is the real start of the data: when the log started collecting (or its first record), or the window start, whichever is later', async () => {
    gw = await startEvidence({home, now: () => NOW})
    const since = async (q: string): Promise<string | null> => ((await gw!.get(`/gateway/metrics${q}`)).json() as {summary: Summary}).summary.since as string | null
    // A new log with no request yet has observed "no requests" since it started collecting.
    expect(await since('?window=1h')).to.equal(new Date(NOW).toISOString())
    expect(await since('')).to.equal(new Date(NOW).toISOString())
    // The gateway has only been serving for 10 minutes.
    gw.evidence.sink(makeRecord({received_at: NOW - 10 * MINUTE}))
    gw.evidence.sink(makeRecord({received_at: NOW - MINUTE}))
    expect(await since('?window=1h')).to.equal(new Date(NOW - 10 * MINUTE).toISOString())
    expect(await since('?window=3d')).to.equal(new Date(NOW - 10 * MINUTE).toISOString())
    expect(await since('')).to.equal(new Date(NOW - 10 * MINUTE).toISOString())
    // Data older than the window: the window start.
    expect(await since('?window=5m')).to.equal(new Date(NOW - 5 * MINUTE).toISOString())
    // Data before the window but none inside it still means the window was observed from its start.
    expect(await since('?window=30s')).to.equal(new Date(NOW - 30_000).toISOString())
  })

  it('summary.since: an idle stretch after the log started collecting is covered evidence, not missing data', async () => {
    let clock = NOW
    gw = await startEvidence({home, now: () => clock})
    clock += 30 * MINUTE // 30 minutes up, no request at all
    const summary = ((await gw.get('/gateway/metrics?window=20m')).json() as {summary: Summary}).summary
    expect(summary.total_requests).to.equal(0)
    expect(summary.since).to.equal(new Date(clock - 20 * MINUTE).toISOString())
    // ... but a window longer than the log's life is not covered.
    expect((((await gw.get('/gateway/metrics?window=1h')).json() as {summary: Summary}).summary).since).to.equal(new Date(NOW).toISOString())
  })

  it('latency percentiles: exact below 100 ms, within the bucket above', async () => {
    gw = await startEvidence({home, now: () => NOW})
    for (let ms = 1; ms <= 100; ms++) gw.evidence.sink(makeRecord({received_at: NOW - 1000, done_at: NOW - 1000 + ms, first_byte_at: NOW - 1000 + 1}))
    const s = ((await gw.get('/gateway/metrics')).json() as {summary: Summary}).summary
    expect(s.p50_latency_ms).to.equal(50)
    expect(s.p95_latency_ms).to.equal(95)
    expect(s.p99_latency_ms).to.equal(99)
    expect(s.avg_latency_ms).to.equal(50.5)
    expect(s.avg_ttfb_ms).to.equal(1)
    const hist = new Map([[12000, 1]])
    expect(percentile(hist, 0.5)).to.equal(12500) // 12000-12999 bucket midpoint
  })

  it('POST /gateway/metrics/reset: counts restart from the reset, audit rows stay, and it survives a restart', async () => {
    let clock = NOW
    gw = await startEvidence({home, now: () => clock})
    for (let i = 0; i < 3; i++) gw.evidence.sink(makeRecord({received_at: clock - 1000}))
    const reset = await gw.post('/gateway/metrics/reset')
    expect(reset.status).to.equal(200)
    expect(reset.json()).to.include({status: 'ok'})
    clock += 5000
    gw.evidence.sink(makeRecord({received_at: clock - 1000}))
    const s = ((await gw.get('/gateway/metrics')).json() as {summary: Summary}).summary
    expect(s.total_requests).to.equal(1)
    // Counting restarts at the reset: the window of evidence begins there.
    expect(s.since).to.equal(new Date(NOW).toISOString())
    expect(((await gw.get('/gateway/audit')).json() as {total: number}).total).to.equal(4)
    await gw.stop()
    gw = await startEvidence({home, now: () => clock})
    expect((((await gw.get('/gateway/metrics')).json() as {summary: Summary}).summary).total_requests).to.equal(1)
    expect((await gw.get('/gateway/metrics/reset')).status).to.equal(405)
  })

  it('aggregate queries agree with a brute-force computation over the raw rows (random data, any window)', () => {
    const table = new PricingTable()
    fc.assert(
      fc.property(
        fc.array(fc.record({age: fc.integer({min: -5000, max: 5 * 24 * HOUR}), kind: fc.constantFrom(...KINDS), latency: fc.integer({min: 0, max: 200_000}), agent: fc.constantFrom('main', 'reviewer')}), {maxLength: 120}),
        fc.constantFrom<string | null>(null, '15m', '1h', '24h', '3d', '30s', '20m', '1h30m', '4d', '1w'),
        fc.integer({min: 0, max: 3 * 24 * HOUR}),
        (specs, window, floorBack) => {
          const store = new AuditStore(':memory:')
          try {
            const records: RequestRecord[] = specs.map((s, i) => {
              const received = NOW - s.age
              return recordOfKind(s.kind, received, {done_at: received + s.latency, agent_type: s.agent, request_id: `r${i}`})
            })
            const policy = {logRequestBodies: false, logResponseBodies: false, maxBodyChars: 1000}
            // Insert in two batches so upserts accumulate across transactions.
            const rows = records.map((r) => toAuditRow(r, computeCost(r, table), policy))
            store.insert(rows.slice(0, rows.length / 2))
            store.insert(rows.slice(rows.length / 2))
            // Minute buckets before minuteFloor are treated as pruned: prune them for real.
            const minuteFloor = Math.floor((NOW - floorBack) / MINUTE) * MINUTE
            store.pruneMinuteBuckets(minuteFloor)
            const doc = buildMetrics(store.db, parseMetricsQuery(new URLSearchParams(window ? {window} : {})), {now: NOW, minuteFloor, resetAt: null, status}) as {summary: Summary}
            const from = window ? NOW - parseWindow(window) : Number.NEGATIVE_INFINITY
            const inWindow = rows.filter((r) => r.received_at >= from && (window ? r.received_at <= NOW : true))
            const s = doc.summary
            expect(s.total_requests).to.equal(inWindow.length)
            expect(s.audit_records).to.equal(inWindow.length)
            expect(s.successful_requests).to.equal(inWindow.filter((r) => r.success).length)
            expect(s.streaming_failures).to.equal(inWindow.filter((r) => r.stream && !r.success).length)
            expect(s.total_cost_micros).to.equal(inWindow.reduce((a, r) => a + (r.cost_micros ?? 0), 0))
            expect(s.total_input_tokens).to.equal(inWindow.reduce((a, r) => a + r.input_tokens, 0))
            const avg = inWindow.length ? Math.round((inWindow.reduce((a, r) => a + r.latency_ms, 0) / inWindow.length) * 100) / 100 : 0
            expect(s.avg_latency_ms).to.equal(avg)
            if (inWindow.length) {
              const sorted = inWindow.map((r) => r.latency_ms).sort((a, b) => a - b)
              const exact = sorted[Math.ceil(0.95 * sorted.length) - 1] as number
              expect(Math.abs(s.p95_latency_ms - exact)).to.be.at.most(Math.max(0, exact * 0.05 + 0.5))
            }
          } finally {
            store.close()
          }
        },
      ),
      {numRuns: 150},
    )
  })

  it('planSegments covers the range exactly once with aligned buckets', () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: 4 * 24 * HOUR}), fc.integer({min: 1, max: 4 * 24 * HOUR}), fc.integer({min: 0, max: 5 * 24 * HOUR}), (startBack, length, floorBack) => {
        const from = NOW - startBack - length
        const to = NOW - startBack
        const segs = planSegments(from, to, NOW - floorBack)
        let cursor = from
        for (const s of segs) {
          expect(s.from).to.equal(cursor)
          expect(s.to).to.be.greaterThan(s.from)
          if (s.kind === 'agg') {
            expect(s.from % s.grain).to.equal(0)
            expect(s.to % s.grain).to.equal(0)
            if (s.grain === MINUTE) expect(s.from).to.be.at.least(NOW - floorBack)
          }
          cursor = s.to
        }
        expect(cursor).to.equal(to)
      }),
      {numRuns: 500},
    )
  })

  it('many rows over several days: metrics equal the audit endpoint and SQL over the rows', async () => {
    gw = await startEvidence({home, now: () => NOW})
    const n = 5000
    for (let i = 0; i < n; i++) {
      const kind = KINDS[i % KINDS.length] ?? 'ok'
      gw.evidence.sink(recordOfKind(kind, NOW - Math.floor((i / n) * 4 * 24 * HOUR), {agent_type: `agent-${i % 5}`}))
    }
    for (const w of ['', '?window=15m', '?window=1h', '?window=24h', '?window=3d']) {
      const s = ((await gw.get(`/gateway/metrics${w}`)).json() as {summary: Summary}).summary
      const start = w ? NOW - WINDOWS[w.slice(8) as WindowName] : 0
      const audit = (await gw.get(`/gateway/audit?limit=1&start_time=${start}&end_time=${NOW}`)).json() as {total: number}
      expect(s.total_requests, w).to.equal(audit.total)
      expect(s.audit_records, w).to.equal(audit.total)
      const failures = (await gw.get(`/gateway/audit?limit=1&start_time=${start}&end_time=${NOW}&stream=true&success=false`)).json() as {total: number}
      expect(s.streaming_failures, w).to.equal(failures.total)
    }
  })

  describe('Prometheus /metrics', () => {
    it('has the issue\'s metric names, its own registry per instance, and sum(gateway_requests_total) equals the rows', async () => {
      gw = await startEvidence({home, processMetrics: true, providers: {anthropic: {providerType: 'anthropic'}, deepseek: {providerType: 'deepseek'}}})
      const second = await startEvidence({home: tempHome(), processMetrics: true})
      try {
        for (let i = 0; i < 21; i++) gw.evidence.sink(recordOfKind(KINDS[i % KINDS.length] ?? 'ok', Date.now() - 1000))
        gw.evidence.sink(makeRecord({provider: 'ollama', provider_type: 'ollama', model_served: 'qwen2.5-coder'}))
        gw.evidence.sink(makeRecord())
        const res = await fetch(`${gw.url}/metrics`)
        expect(res.headers.get('content-type')).to.contain('text/plain')
        const text = await res.text()
        for (const name of [
          'gateway_requests_total', 'gateway_request_duration_seconds', 'gateway_ttfb_seconds', 'gateway_overhead_seconds', 'gateway_tokens_total',
          'gateway_cost_usd_total', 'gateway_stream_failures_total', 'gateway_audit_records_total', 'gateway_audit_write_errors_total',
          'gateway_provider_up', 'gateway_build_info', 'process_cpu_seconds_total',
        ]) {
          expect(text, name).to.contain(`# TYPE ${name} `)
        }
        const samples = parseExposition(text)
        const sum = (name: string, pred: (l: Record<string, string>) => boolean = () => true): number =>
          samples.filter((x) => x.name === name && pred(x.labels)).reduce((a, x) => a + x.value, 0)
        const m = ((await gw.get('/gateway/metrics')).json() as {summary: Summary & {total_cost_usd: number}}).summary
        expect(sum('gateway_requests_total')).to.equal(23)
        expect(sum('gateway_requests_total')).to.equal(m.total_requests)
        expect(sum('gateway_requests_total', (l) => l.status_class === '4xx')).to.equal(3)
        expect(sum('gateway_request_duration_seconds_count')).to.equal(23)
        expect(sum('gateway_tokens_total', (l) => l.type === 'input')).to.equal(m.total_input_tokens)
        expect(Math.abs(sum('gateway_cost_usd_total') - m.total_cost_usd)).to.be.below(1e-9)
        expect(sum('gateway_stream_failures_total', (l) => l.provider === 'deepseek')).to.equal(0)
        expect(samples.find((x) => x.name === 'gateway_build_info')?.labels.version).to.match(/^\d+\.\d+\.\d+/)
        expect(samples.find((x) => x.name === 'gateway_provider_up' && x.labels.provider === 'anthropic')?.value).to.equal(1)
        gw.evidence.setProviderUp('anthropic', false)
        expect(parseExposition(await (await fetch(`${gw.url}/metrics`)).text()).find((x) => x.name === 'gateway_provider_up' && x.labels.provider === 'anthropic')?.value).to.equal(0)
        // The second instance has its own counters.
        expect(parseExposition((await second.get('/metrics')).text).filter((x) => x.name === 'gateway_requests_total')).to.deep.equal([])
      } finally {
        await second.stop()
      }
    })
  })

  it('costHeaderFor gives the x-gateway-cost-usd value, undefined when unpriced', async () => {
    gw = await startEvidence({home})
    expect(gw.evidence.costHeaderFor(makeRecord())).to.equal('0.011991')
    expect(gw.evidence.costHeaderFor(makeRecord({model_served: 'unknown-model'}))).to.equal(undefined)
    expect(gw.evidence.computeCost(makeRecord({model_served: 'unknown-model'})).status).to.equal('unpriced')
  })
})
