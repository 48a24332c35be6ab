import {expect} from 'chai'
import {http, runCco} from '../helpers/cco.js'
import {
  abortAfterFirstChunk,
  allAuditEntries,
  anthropicProvider,
  audit,
  type ClientResult,
  daemonOf,
  E2eWorld,
  type GatewayDaemon,
  MESSAGE_HEADERS,
  messageBody,
  type MockProcess,
  postMessages,
  prometheusSum,
  summary,
  waitForTotal,
} from './harness.js'

/*
 * "100% of requests logged": N mixed requests through the live daemon (streamed, non-streamed,
 * upstream errors, client aborts, mid-stream cuts, retries with fallback to a second provider)
 * give exactly N in /gateway/metrics, N audit rows and N in Prometheus, with the right
 * per-status, per-stream and fallback counts; a restart keeps the JSON metrics (all-time from the DB).
 */

describe('e2e: completeness of the evidence (N requests -> N everywhere)', function () {
  this.timeout(120_000)
  const world = new E2eWorld()
  let primary: MockProcess
  let backup: MockProcess
  let daemon: GatewayDaemon

  before(async () => {
    primary = await world.mock(['--seed', '3', '--stream-events', '8'])
    backup = await world.mock(['--seed', '4'])
    daemon = await world.startDaemon({
      providers: {primary: anthropicProvider(primary.url, {maxRetries: 1}), backup: anthropicProvider(backup.url)},
      routing: {defaultProvider: 'primary', fallbackChain: ['backup']},
      audit: {logRequestBodies: false, logResponseBodies: false},
    })
  })
  after(() => world.cleanup())

  it('counts every request once, whatever happened to it, and keeps the JSON metrics across a restart', async () => {
    const streamBody = messageBody({stream: true})
    const ids: Record<string, string[]> = {}
    const note = (group: string, results: Array<ClientResult | {requestId: string}>) => {
      ids[group] = results.map((r) => ('requestId' in r ? r.requestId : String(r.headers['x-gateway-request-id'])))
    }

    // 1. Served by the primary: 3 JSON + 3 streams.
    const ok = await Promise.all([...Array(3)].map(() => postMessages(daemon, messageBody())).concat([...Array(3)].map(() => postMessages(daemon, streamBody))))
    expect(ok.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200, 200])
    expect(ok.slice(3).every((r) => r.body.includes('event: message_stop'))).to.equal(true)
    note('ok', ok)

    // 2. A client mistake upstream (400): answered as is, neither retried nor sent to the fallback.
    await primary.setFaults({errorStatus: 400})
    const backupSeenBefore = (await backup.requests()).length
    const bad = await Promise.all([postMessages(daemon, messageBody()), postMessages(daemon, messageBody())])
    expect(bad.map((r) => r.status)).to.deep.equal([400, 400])
    expect((await backup.requests()).length).to.equal(backupSeenBefore)
    note('bad', bad)

    // 3. The primary fails (500): one retry, then the backup serves (JSON and streams).
    await primary.setFaults({errorStatus: 500})
    const fallback = await Promise.all([postMessages(daemon, messageBody()), postMessages(daemon, messageBody()), postMessages(daemon, streamBody), postMessages(daemon, streamBody)])
    expect(fallback.map((r) => r.status)).to.deep.equal([200, 200, 200, 200])
    expect(fallback.map((r) => [r.headers['x-gateway-provider'], r.headers['x-gateway-fallback'], r.headers['x-gateway-attempts']])).to.deep.equal(
      Array(4).fill(['backup', 'true', '3']),
    )
    note('fallback', fallback)

    // 4. Both overloaded (529): retries and fallback exhausted, the upstream status is kept.
    await backup.setFaults({errorStatus: 529})
    await primary.setFaults({errorStatus: 529})
    const exhausted = await Promise.all([postMessages(daemon, messageBody()), postMessages(daemon, messageBody())])
    expect(exhausted.map((r) => r.status)).to.deep.equal([529, 529])
    expect(JSON.parse(exhausted[0]!.body)).to.deep.nested.include({'error.type': 'overloaded_error'})
    note('exhausted', exhausted)
    await backup.setFaults({})

    // 5. Clients that walk away from a stream after its first bytes.
    await primary.setFaults({eventDelayMs: 300})
    note('aborted', await Promise.all([abortAfterFirstChunk(daemon, streamBody), abortAfterFirstChunk(daemon, streamBody)]))

    // 6. A stream the upstream cuts mid-way: the client gets an error event.
    await primary.setFaults({cutStreamAfterEvents: 3})
    const cut = await postMessages(daemon, streamBody)
    expect(cut.status).to.equal(200)
    expect(cut.body).to.contain('event: error')
    note('cut', [cut])
    await primary.setFaults({})

    // 7. A malformed body (gateway-side 400) and a count_tokens call.
    const malformed = await postMessages(daemon, '{"model": "claude-sonnet-4-6", "messages": [')
    expect(malformed.status).to.equal(400)
    note('malformed', [malformed])
    const count = await http(`${daemon.url}/v1/messages/count_tokens`, {method: 'POST', headers: MESSAGE_HEADERS, body: messageBody()})
    expect(count.status).to.equal(200)
    note('count', [{requestId: String(count.headers['x-gateway-request-id'])}])

    const N = Object.values(ids).reduce((n, list) => n + list.length, 0)
    expect(N).to.equal(19)

    // The records of aborted streams arrive after the client has gone: poll, never sleep.
    const s = await waitForTotal(daemon, N)
    const auditTotal = (await audit(daemon, 'limit=1')).total
    const promTotal = await prometheusSum(daemon, 'gateway_requests_total')
    expect({metrics: s.total_requests, audit: auditTotal, prometheus: promTotal, audit_records: s.audit_records}).to.deep.equal({metrics: N, audit: N, prometheus: N, audit_records: N})

    const rows = await allAuditEntries(daemon)
    expect(rows).to.have.length(N)
    const byId = new Map(rows.map((r) => [r.request_id, r]))
    const group = (name: string) => ids[name]!.map((id) => byId.get(id)!)
    for (const [name, list] of Object.entries(ids)) for (const id of list) expect(byId.has(id), `${name} request ${id} has an audit row`).to.equal(true)

    expect(group('ok').every((r) => r.success && r.status === 200 && r.provider === 'primary' && r.attempts === 1)).to.equal(true)
    expect(group('bad').map((r) => [r.status, r.error_type, r.attempts, r.fallback_used])).to.deep.equal(Array(2).fill([400, 'invalid_request_error', 1, false]))
    expect(group('fallback').map((r) => [r.success, r.provider, r.attempts, r.fallback_used])).to.deep.equal(Array(4).fill([true, 'backup', 3, true]))
    expect(group('exhausted').map((r) => [r.status, r.error_type, r.attempts, r.fallback_used])).to.deep.equal(Array(2).fill([529, 'overloaded_error', 3, true]))
    expect(group('aborted').map((r) => [r.status, r.stream, r.success, r.error_type])).to.deep.equal(Array(2).fill([200, true, false, 'client_aborted']))
    expect(group('cut').map((r) => [r.status, r.stream, r.success])).to.deep.equal([[200, true, false]])
    expect(group('malformed').map((r) => [r.status, r.provider, r.error_type])).to.deep.equal([[400, null, 'invalid_request_error']])
    expect(group('count').map((r) => [r.path, r.status, r.cost_micros])).to.deep.equal([['/v1/messages/count_tokens', 200, 0]])

    // The cut stream carried no final usage: its cost is an estimate even though bodies are not logged.
    const [cutRow] = group('cut')
    expect(cutRow).to.deep.include({usage_missing: true, usage_estimated: true, cost_status: 'estimated'})
    expect(cutRow!.output_tokens).to.be.greaterThan(0)
    expect(cutRow!.cost_micros).to.be.greaterThan(0)
    const withBodies = await allAuditEntries(daemon, 'include_bodies=true')
    expect(withBodies.find((r) => r.request_id === cutRow!.request_id)).to.deep.include({request_body: null, response_body: null})

    expect(s.status_counts).to.deep.equal({200: 14, 400: 3, 529: 2})
    expect({ok: s.successful_requests, failed: s.failed_requests}).to.deep.equal({ok: 11, failed: 8})
    expect({streams: s.streaming_requests, failures: s.streaming_failures}).to.deep.equal({streams: 8, failures: 3})
    expect(s.fallback_requests).to.equal(6)
    expect(s.total_cost_micros).to.equal(rows.reduce((sum, r) => sum + (r.cost_micros ?? 0), 0))

    // A restart keeps the JSON metrics (all-time from the audit database).
    const restart = await runCco(['daemon', 'restart'], {home: daemon.home})
    expect(restart.code, restart.stderr).to.equal(0)
    daemon = daemonOf(daemon.home)
    const after = await summary(daemon)
    for (const key of ['total_requests', 'successful_requests', 'failed_requests', 'streaming_requests', 'streaming_failures', 'fallback_requests', 'total_cost_micros'] as const) {
      expect(after[key], key).to.equal(s[key])
    }
    expect(after.status_counts).to.deep.equal(s.status_counts)
    expect((await audit(daemon, 'limit=1')).total).to.equal(N)
  })
})
