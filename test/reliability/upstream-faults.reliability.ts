import {expect} from 'chai'

import {results, type UpstreamFaultFigure} from './lib/results.js'
import {type Answer, anthropicProvider, audit, type AuditEntry, E2eWorld, type GatewayDaemon, type MockProcess, plainHttp, send, summary, type SummaryMetrics, waitFor} from './lib/world.js'

/*
 * Upstream faults through the real daemon, injected with the mock provider's knobs
 * (POST /_mock/faults), one at a time and combined, against two daemons sharing the faulty mock:
 *   - "no retries": one provider, maxRetries 0, short timeouts: the client must get an error in
 *     Anthropic's envelope (or an SSE `event: error` once the stream had started);
 *   - "retries + fallback": the same provider with maxRetries 2, then a healthy backup: the
 *     client must get a complete answer whenever no byte had been sent yet.
 * For each: the audit row of that request, the counters, and the gateway healthy afterwards.
 */

const TIMEOUTS = {connectTimeoutMs: 1000, firstByteTimeoutMs: 1500, idleTimeoutMs: 1500}

interface Envelope {
  type: string
  error: {type: string; message: string}
}

function envelopeOf(a: Answer): Envelope | null {
  try {
    const parsed = JSON.parse(a.body) as Envelope
    return parsed.type === 'error' && typeof parsed.error?.type === 'string' && typeof parsed.error.message === 'string' ? parsed : null
  } catch {
    return null
  }
}

/** The SSE error event's type, if the stream ended in one (and nothing after it). */
function streamErrorType(a: Answer): string | null {
  const m = /event: error\ndata: (.*)\n\n$/.exec(a.body)
  if (!m) return null
  return (JSON.parse(m[1]!) as Envelope).error.type
}

async function auditRow(d: GatewayDaemon, requestId: string): Promise<AuditEntry> {
  return waitFor(async () => (await audit(d, 'limit=200')).entries.find((e) => e.request_id === requestId), `audit row ${requestId}`, 15_000, 100)
}

function delta(before: SummaryMetrics, after: SummaryMetrics, key: 'total_requests' | 'failed_requests' | 'streaming_failures' | 'fallback_requests' | 'successful_requests'): number {
  return (after[key] as number) - (before[key] as number)
}

describe('reliability: upstream faults through the daemon', function () {
  this.timeout(180_000)
  const world = new E2eWorld()
  let faulty: MockProcess
  let plain: GatewayDaemon
  let resilient: GatewayDaemon

  before(async () => {
    faulty = await world.mock(['--stream-events', '8'])
    const backup = await world.mock(['--stream-events', '8'])
    plain = await world.startDaemon({providers: {primary: anthropicProvider(faulty.url, {maxRetries: 0, ...TIMEOUTS})}, routing: {defaultProvider: 'primary'}})
    resilient = await world.startDaemon({
      providers: {primary: anthropicProvider(faulty.url, {maxRetries: 2, ...TIMEOUTS}), backup: anthropicProvider(backup.url, {maxRetries: 0, ...TIMEOUTS})},
      routing: {defaultProvider: 'primary', fallbackChain: ['primary', 'backup']},
    })
  })
  after(() => world.cleanup())

  /** Clears the faults and proves the daemon serves and reports healthy again. */
  async function healthyAfter(d: GatewayDaemon): Promise<boolean> {
    await faulty.setFaults({})
    for (const stream of [false, true]) {
      const a = await send(d, {stream})
      expect(a.complete, `after clearing the faults: ${a.status} ${a.body.slice(0, 200)}`).to.equal(true)
    }
    const health = await plainHttp(`${d.url}/gateway/health`)
    const report = health.json as {status: string; providers: Record<string, {healthy: boolean}>}
    expect(health.status).to.equal(200)
    expect(report.status, JSON.stringify(report)).to.equal('healthy')
    expect(report.providers.primary!.healthy).to.equal(true)
    return true
  }

  interface ErrorCase {
    fault: string
    knobs: Record<string, unknown>
    stream: boolean
    status: number
    errorType: string
    /** Also expect this response header (e.g. retry-after). */
    header?: string
  }

  const errorCases: ErrorCase[] = [
    {fault: '429 with retry-after', knobs: {errorStatus: 429, retryAfterSecs: 1}, stream: false, status: 429, errorType: 'rate_limit_error', header: 'retry-after'},
    {fault: '429 with retry-after (streamed request)', knobs: {errorStatus: 429, retryAfterSecs: 1}, stream: true, status: 429, errorType: 'rate_limit_error', header: 'retry-after'},
    {fault: '500', knobs: {errorStatus: 500}, stream: false, status: 500, errorType: 'api_error'},
    {fault: '529 overloaded', knobs: {errorStatus: 529}, stream: true, status: 529, errorType: 'overloaded_error'},
    {fault: 'connection reset before headers', knobs: {resetBeforeHeaders: true}, stream: false, status: 502, errorType: 'api_error'},
    {fault: 'connection reset before headers (streamed request)', knobs: {resetBeforeHeaders: true}, stream: true, status: 502, errorType: 'api_error'},
    {fault: 'slow first byte (4 s > 1.5 s limit)', knobs: {ttfbMs: 4000}, stream: true, status: 504, errorType: 'timeout_error'},
    {fault: 'upstream never answers', knobs: {neverRespond: true}, stream: false, status: 504, errorType: 'timeout_error'},
    {fault: 'malformed SSE in the first chunk', knobs: {malformedSse: true}, stream: true, status: 502, errorType: 'api_error'},
  ]

  for (const c of errorCases) {
    it(`${c.fault}: no retries -> ${c.status} ${c.errorType} in Anthropic's envelope; with retries + fallback -> a complete answer`, async () => {
      await faulty.setFaults(c.knobs)
      const before = await summary(plain)
      const a = await send(plain, {stream: c.stream})
      const envelope = envelopeOf(a)
      expect(a.status, a.body).to.equal(c.status)
      expect(envelope, `not an Anthropic error envelope: ${a.body}`).to.not.equal(null)
      expect(envelope!.error.type).to.equal(c.errorType)
      const row = await auditRow(plain, a.requestId)
      expect([row.status, row.success, row.error_type, row.stream]).to.deep.equal([c.status, false, c.errorType, c.stream])
      const after = await summary(plain)
      expect(delta(before, after, 'total_requests')).to.equal(1)
      expect(delta(before, after, 'failed_requests')).to.equal(1)
      if (c.header) expect(await headerOf(plain, c), `${c.header} header`).to.be.a('string')

      // The same fault behind retries and a fallback provider: a whole answer.
      await faulty.setFaults(c.knobs)
      const beforeR = await summary(resilient)
      const r = await send(resilient, {stream: c.stream})
      expect(r.complete, `${r.status} ${r.body.slice(0, 300)}`).to.equal(true)
      const rowR = await auditRow(resilient, r.requestId)
      expect([rowR.status, rowR.success, rowR.provider, rowR.fallback_used]).to.deep.equal([200, true, 'backup', true])
      expect(rowR.attempts).to.be.at.least(2)
      const afterR = await summary(resilient)
      expect(delta(beforeR, afterR, 'successful_requests')).to.equal(1)
      expect(delta(beforeR, afterR, 'fallback_requests')).to.equal(1)

      const figure: UpstreamFaultFigure = {
        fault: c.fault,
        daemon: 'no retries',
        requests: 1,
        clientSaw: `HTTP ${c.status} ${c.errorType}${c.header ? ` + ${c.header}` : ''}`,
        auditRow: `status ${row.status}, ${row.error_type}`,
        counters: 'failed_requests +1',
        healthyAfter: await healthyAfter(plain),
      }
      results.upstreamFaults.push(figure, {
        fault: c.fault,
        daemon: 'retries + fallback',
        requests: 1,
        clientSaw: `HTTP 200, complete ${c.stream ? 'stream' : 'message'} from backup`,
        auditRow: `status 200, provider backup, ${rowR.attempts} attempts, fallback_used`,
        counters: 'successful_requests +1, fallback_requests +1',
        healthyAfter: await healthyAfter(resilient),
      })
    })
  }

  async function headerOf(d: GatewayDaemon, c: ErrorCase): Promise<string | undefined> {
    // A second request just for the headers (send() keeps only the body).
    await faulty.setFaults(c.knobs)
    const r = await plainHttp(`${d.url}/v1/messages`, {method: 'POST', headers: {'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-e2e-client-key-000000'}, body: JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 16, stream: c.stream, messages: [{role: 'user', content: 'hi'}]})})
    const value = r.headers[c.header!]
    return Array.isArray(value) ? value[0] : value
  }

  it('transient 429/500/529 (first 2 attempts fail) are retried on the same provider: a complete answer, attempts = 3, no fallback', async () => {
    for (const errorStatus of [429, 500, 529]) {
      for (const stream of [false, true]) {
        await faulty.setFaults({failFirstN: 2, errorStatus, retryAfterSecs: 0.05})
        const a = await send(resilient, {stream})
        expect(a.complete, `${errorStatus}: ${a.status} ${a.body.slice(0, 200)}`).to.equal(true)
        const row = await auditRow(resilient, a.requestId)
        expect([row.status, row.provider, row.attempts, row.fallback_used]).to.deep.equal([200, 'primary', 3, false])
      }
    }
    results.upstreamFaults.push({fault: 'transient 429 / 500 / 529 (first 2 attempts)', daemon: 'retries + fallback', requests: 6, clientSaw: 'HTTP 200, complete answer', auditRow: 'status 200, provider primary, 3 attempts', counters: 'successful_requests +6', healthyAfter: await healthyAfter(resilient)})
  })

  interface StreamCase {
    fault: string
    knobs: Record<string, unknown>
    errorType: string
    auditErrorType: string
  }
  const streamCases: StreamCase[] = [
    {fault: 'stream cut mid-way (after 3 events)', knobs: {cutStreamAfterEvents: 3}, errorType: 'api_error', auditErrorType: 'stream_cut'},
    {fault: 'stalled stream (after 3 events, 1.5 s idle limit)', knobs: {stallAfterEvents: 3}, errorType: 'timeout_error', auditErrorType: 'timeout_error'},
    {fault: 'malformed SSE mid-stream (events 10 ms apart)', knobs: {malformedSse: true, eventDelayMs: 10}, errorType: 'api_error', auditErrorType: 'stream_cut'},
  ]
  for (const c of streamCases) {
    it(`${c.fault}: the stream had started, so both daemons end it with an SSE error event (${c.errorType}); audit ${c.auditErrorType}; streaming_failures +1`, async () => {
      for (const d of [plain, resilient]) {
        await faulty.setFaults(c.knobs)
        const before = await summary(d)
        const a = await send(d, {stream: true})
        expect(a.status).to.equal(200)
        expect(a.body.startsWith('event: message_start'), a.body.slice(0, 200)).to.equal(true)
        expect(streamErrorType(a), `stream did not end in an error event: ${a.body.slice(-300)}`).to.equal(c.errorType)
        expect(a.body).to.not.contain('event: message_stop')
        const row = await auditRow(d, a.requestId)
        expect([row.stream, row.success, row.error_type]).to.deep.equal([true, false, c.auditErrorType])
        const after = await summary(d)
        expect(delta(before, after, 'streaming_failures')).to.equal(1)
        expect(delta(before, after, 'failed_requests')).to.equal(1)
        // A non-streamed request under the same knobs is unaffected (the knobs shape streams only).
        await faulty.setFaults(c.knobs)
        expect((await send(d, {stream: false})).complete).to.equal(true)
        results.upstreamFaults.push({
          fault: c.fault,
          daemon: d === plain ? 'no retries' : 'retries + fallback',
          requests: 2,
          clientSaw: `HTTP 200 stream ending in event: error (${c.errorType}); non-streamed answer complete`,
          auditRow: `success false, ${row.error_type}`,
          counters: 'streaming_failures +1, failed_requests +1',
          healthyAfter: await healthyAfter(d),
        })
      }
    })
  }

  it('combined: 30% 529s + 20 ms latency + 5 ms between events, 40 mixed requests: every answer complete behind retries/fallback; without, each answer is complete or a 529 envelope and the audit agrees', async () => {
    const knobs = {errorRate: 0.3, errorStatus: 529, latencyMs: 20, eventDelayMs: 5}
    await faulty.setFaults(knobs)
    const r = await Promise.all(Array.from({length: 40}, (_, i) => send(resilient, {stream: i % 2 === 0})))
    expect(r.filter((a) => !a.complete).map((a) => a.body.slice(0, 100))).to.deep.equal([])

    await faulty.setFaults(knobs)
    const before = await summary(plain)
    const p = await Promise.all(Array.from({length: 40}, (_, i) => send(plain, {stream: i % 2 === 0})))
    const overloaded = p.filter((a) => a.status === 529)
    for (const a of p) expect(a.complete || (a.status === 529 && envelopeOf(a)?.error.type === 'overloaded_error'), `${a.status} ${a.body.slice(0, 200)}`).to.equal(true)
    expect(overloaded.length, 'the fault fired').to.be.greaterThan(0)
    const after = await waitFor(async () => {
      const s = await summary(plain)
      return s.total_requests - before.total_requests >= 40 ? s : null
    }, 'all 40 audited')
    expect(delta(before, after, 'failed_requests')).to.equal(overloaded.length)
    expect((after.status_counts['529'] ?? 0) - (before.status_counts['529'] ?? 0)).to.equal(overloaded.length)
    results.upstreamFaults.push(
      {fault: 'combined: 30% 529 + latency + slow events', daemon: 'retries + fallback', requests: 40, clientSaw: '40/40 complete answers', auditRow: '40 rows, success', counters: 'successful_requests +40', healthyAfter: await healthyAfter(resilient)},
      {fault: 'combined: 30% 529 + latency + slow events', daemon: 'no retries', requests: 40, clientSaw: `${40 - overloaded.length} complete, ${overloaded.length} HTTP 529 overloaded_error envelopes`, auditRow: `${overloaded.length} rows status 529`, counters: `failed_requests +${overloaded.length} = status_counts[529]`, healthyAfter: await healthyAfter(plain)},
    )
  })

  it('combined: first 2 attempts reset, then 500s, with a slow first byte: retries, then the fallback, give a complete answer', async () => {
    await faulty.setFaults({failFirstN: 2, resetBeforeHeaders: true, ttfbMs: 300})
    const a = await send(resilient, {stream: true})
    expect(a.complete, a.body.slice(0, 200)).to.equal(true)
    await faulty.setFaults({errorStatus: 500, ttfbMs: 300})
    const b = await send(resilient, {stream: false})
    expect(b.complete, b.body.slice(0, 200)).to.equal(true)
    const rowB = await auditRow(resilient, b.requestId)
    expect([rowB.provider, rowB.fallback_used, rowB.attempts]).to.deep.equal(['backup', true, 4])
    results.upstreamFaults.push({fault: 'combined: resets then 500s, slow first byte', daemon: 'retries + fallback', requests: 2, clientSaw: 'complete answers (retry, then fallback)', auditRow: 'status 200; fallback row: 4 attempts, provider backup', counters: 'successful_requests +2', healthyAfter: await healthyAfter(resilient)})
  })
})
