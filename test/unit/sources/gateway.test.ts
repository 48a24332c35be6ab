import {expect} from 'chai'
import nock from 'nock'

import {type CriterionSpec, decideGate, evaluateCriterion} from '../../../src/lib/evaluate/index.js'
import type {MeasureSpec} from '../../../src/lib/evaluate/index.js'
import {GATEWAY_METRICS, GatewaySource} from '../../../src/lib/sources/index.js'
import {auditCoverage} from '../../../src/lib/sources/gateway.js'

const GW = 'http://gw.example'
const NOW = new Date('2026-01-05T12:00:00.000Z')

function metrics(overrides: Record<string, unknown> = {}) {
  return {
    summary: {
      total_requests: 2000,
      successful_requests: 1998,
      failed_requests: 2,
      success_rate: 0.999,
      error_rate: 0.001,
      streaming_requests: 400,
      streaming_failures: 8,
      avg_latency_ms: 312.5,
      p50_latency_ms: 280,
      p95_latency_ms: 610,
      p99_latency_ms: 900,
      avg_ttfb_ms: 120,
      total_cost_usd: 4.25,
      total_input_tokens: 100000,
      total_output_tokens: 20000,
      total_cache_write_tokens: 0,
      total_cache_read_tokens: 0,
      audit_records: 2000,
      since: '2026-01-01T00:00:00.000Z',
      ...overrides,
    },
    by_agent: {},
    by_provider: {},
    by_model: {},
    recent: [],
  }
}

const spec = (metric: string, extra: Partial<MeasureSpec> = {}): MeasureSpec => ({id: metric, source: 'gateway', metric, window: '15m', ...extra})

describe('sources/gateway', () => {
  before(() => nock.disableNetConnect())
  afterEach(() => {
    const pending = nock.pendingMocks()
    nock.cleanAll()
    expect(pending, 'every mocked gateway call was made').to.deep.equal([])
  })
  after(() => nock.enableNetConnect())

  const source = (opts = {}) => new GatewaySource(GW, {timeoutMs: 2000, ...opts})

  const expected: Array<[string, number | null, number]> = [
    ['total_requests', 2000, 2000],
    ['error_rate', 0.1, 2000], // 2 / 2000 * 100
    ['success_rate', 99.9, 2000],
    ['streaming_failure_rate', 2, 400], // 8 / 400 * 100, samples = streams
    ['audit_coverage', 100, 2000],
    ['avg_latency_ms', 312.5, 2000],
    ['p50_latency_ms', 280, 2000],
    ['p95_latency_ms', 610, 2000],
    ['p99_latency_ms', 900, 2000],
    ['avg_ttfb_ms', 120, 2000],
    ['total_cost_usd', 4.25, 2000],
    ['request_rate', 2000 / 900, 2000],
  ]
  for (const [metric, value, samples] of expected) {
    it(`maps ${metric} -> ${value} (${samples} samples)`, async () => {
      nock(GW).get('/gateway/metrics').query({window: '15m'}).reply(200, metrics())
      const m = await source().measure(spec(metric), NOW)
      expect(m.error).to.equal(undefined)
      expect(m).to.include({criterionId: metric, value, samples, windowElapsed: true, windowStart: '2026-01-05T11:45:00.000Z', windowEnd: '2026-01-05T12:00:00.000Z'})
    })
  }

  it('latency_ms picks the field by statistic', async () => {
    nock(GW).get('/gateway/metrics').query(true).times(2).reply(200, metrics())
    expect((await source().measure(spec('latency_ms', {statistic: 'p95'}), NOW)).value).to.equal(610)
    expect((await source().measure(spec('latency_ms', {statistic: 'max'}), NOW)).error).to.contain('supports statistic avg, p50, p95 or p99')
  })

  it('passes the window in the query string', async () => {
    nock(GW).get('/gateway/metrics').query({window: '1h30m'}).reply(200, metrics())
    expect((await source().measure(spec('error_rate', {window: '90m'}), NOW)).error).to.equal(undefined)
  })

  it('a quiet gateway (zero requests) is no data, not a perfect score', async () => {
    nock(GW).get('/gateway/metrics').query(true).times(2).reply(200, metrics({total_requests: 0, successful_requests: 0, failed_requests: 0, audit_records: 0, avg_latency_ms: 0}))
    expect(await source().measure(spec('error_rate'), NOW)).to.include({value: null, samples: 0})
    expect(await source().measure(spec('avg_latency_ms'), NOW)).to.include({value: null, samples: 0})
  })

  it('audit coverage below 100 % when records are missing', async () => {
    nock(GW).get('/gateway/metrics').query(true).reply(200, metrics({audit_records: 1999}))
    expect((await source().measure(spec('audit_coverage'), NOW)).value).to.equal(99.95)
  })

  it('audit coverage counts records the gateway dropped before the database (its own counters), though the database counts agree', async () => {
    nock(GW).get('/gateway/metrics').query(true).reply(200, metrics({audit_records: 2000, records_received: 2004, audit_dropped: 3, audit_pending: 1}))
    // 2000 of 2004 received records reached the database: 99.8 %, not the database's own 100 %.
    expect((await source().measure(spec('audit_coverage'), NOW)).value).to.be.closeTo(99.800399, 1e-6)
  })

  it('audit coverage is the lower of the two figures, and the database figure alone without counters', () => {
    expect(auditCoverage({total_requests: 100, audit_records: 99, records_received: 100, audit_dropped: 0, audit_pending: 0})).to.equal(99)
    expect(auditCoverage({total_requests: 100, audit_records: 100, records_received: 100, audit_dropped: 0, audit_pending: 0})).to.equal(100)
    expect(auditCoverage({total_requests: 100, audit_records: 100, records_received: 50, audit_dropped: 1, audit_pending: 0})).to.equal(98)
    expect(auditCoverage({total_requests: 100, audit_records: 100, records_received: 50, audit_dropped: 0, audit_pending: 1})).to.equal(98)
    expect(auditCoverage({total_requests: 100, audit_records: 100})).to.equal(100)
    expect(auditCoverage({total_requests: 0, audit_records: 0, records_received: 5, audit_dropped: 5, audit_pending: 0})).to.equal(null)
    expect(auditCoverage({total_requests: 10, audit_records: 10, records_received: 0, audit_dropped: 0, audit_pending: 0})).to.equal(100)
  })

  it('a gateway whose data starts inside the window has not covered it', async () => {
    nock(GW).get('/gateway/metrics').query(true).reply(200, metrics({since: '2026-01-05T11:50:00.000Z'}))
    const m = await source().measure(spec('error_rate'), NOW)
    expect(m.windowElapsed).to.equal(false)
    expect(m.detail).to.deep.include({since: '2026-01-05T11:50:00.000Z'})
  })

  it('the gateway computing its window start a moment after ours still covers the window; a real gap does not', async () => {
    // Window 11:45..12:00 (15m): slack is 1% of it, capped at 2 s.
    nock(GW).get('/gateway/metrics').query(true).reply(200, metrics({since: '2026-01-05T11:45:00.040Z'}))
    expect((await source().measure(spec('error_rate'), NOW)).windowElapsed).to.equal(true)
    nock(GW).get('/gateway/metrics').query(true).reply(200, metrics({since: '2026-01-05T11:45:30.000Z'}))
    expect((await source().measure(spec('error_rate'), NOW)).windowElapsed).to.equal(false)
  })

  it('accepts since as epoch milliseconds', async () => {
    nock(GW).get('/gateway/metrics').query(true).reply(200, metrics({since: Date.parse('2026-01-05T11:00:00Z')}))
    expect((await source().measure(spec('error_rate'), NOW)).windowElapsed).to.equal(true)
  })

  it('unknown metric names list the known ones (no request made)', async () => {
    const m = await source().measure(spec('errors_per_hour'), NOW)
    expect(m.error).to.contain("unknown gateway metric 'errors_per_hour'").and.contain('streaming_failure_rate')
    expect(GATEWAY_METRICS).to.include('uptime')
  })

  it('never throws: unreachable, HTTP errors and malformed answers become errors', async () => {
    nock(GW).get('/gateway/metrics').query(true).replyWithError(Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}))
    const down = await source().measure(spec('error_rate'), NOW)
    expect(down.error).to.contain('the gateway is unreachable at http://gw.example/gateway/metrics?window=15m')
    expect(down.detail).to.deep.include({kind: 'unreachable'})

    nock(GW).get('/gateway/metrics').query(true).reply(400, {error: {type: 'invalid_request_error', message: "window must be one of 15m, 1h, 24h, 3d"}})
    const rejected = await source().measure(spec('error_rate'), NOW)
    expect(rejected.error).to.contain('HTTP 400').and.contain('window must be one of')

    nock(GW).get('/gateway/metrics').query(true).reply(200, {summary: {total_requests: 'many'}})
    const malformed = await source().measure(spec('error_rate'), NOW)
    expect(malformed.error).to.contain('lacks a numeric "total_requests"')

    nock(GW).get('/gateway/metrics').query(true).reply(200, {status: 'ok'})
    expect((await source().measure(spec('error_rate'), NOW)).error).to.contain('no "summary" object')
  })

  it('times out a gateway that hangs', async () => {
    nock(GW).get('/gateway/metrics').query(true).delay(1500).reply(200, metrics())
    const m = await source({timeoutMs: 100}).measure(spec('error_rate'), NOW)
    expect(m.error).to.contain('did not answer within 100 ms')
  })

  describe('uptime from monitor samples', () => {
    const interval = 30_000
    const start = NOW.getTime() - 3_600_000
    const samples = Array.from({length: 121}, (_, i) => ({ts: start + i * interval, status: i === 50 ? 'unhealthy' : 'healthy'}))

    it('computes uptime over the window without calling the gateway', async () => {
      const m = await source({monitorSamples: samples, monitorIntervalMs: interval}).measure(spec('uptime', {window: '1h'}), NOW)
      expect(m).to.include({samples: 121, windowElapsed: true})
      expect(m.value).to.equal((120 * 100) / 121)
      expect(m.detail).to.deep.include({up: 120, down: 1, missed: 0})
    })

    it('a monitor that started inside the window leaves it not elapsed', async () => {
      const m = await source({monitorSamples: samples, monitorIntervalMs: interval}).measure(spec('uptime', {window: '4d'}), NOW)
      expect(m.windowElapsed).to.equal(false)
    })

    it('without monitor samples it is an error saying to run the monitor', async () => {
      const m = await source().measure(spec('uptime', {window: '1h'}), NOW)
      expect(m.error).to.contain('cutover monitor')
    })
  })

  it('end to end with the evaluator: a gateway error rate over 0.1 % is a NO-GO', async () => {
    nock(GW).get('/gateway/metrics').query(true).reply(200, metrics({failed_requests: 5, successful_requests: 1995}))
    const criterion: CriterionSpec = {id: 'error_rate', title: 'Error rate < 0.1 %', source: 'gateway', metric: 'error_rate', statistic: 'ratio', window: '15m', operator: '<', threshold: 0.1, unit: '%', min_samples: 100, key: true}
    const outcome = evaluateCriterion(criterion, await source().measure(criterion, NOW))
    expect(outcome.outcome).to.equal('fail')
    expect(outcome.value).to.equal(0.25)
    expect(decideGate([outcome], {approvalRequired: false}).verdict).to.equal('NO-GO')
  })
})
