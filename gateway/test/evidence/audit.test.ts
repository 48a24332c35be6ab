import Database from 'better-sqlite3'
import {expect} from 'chai'
import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {computeCost} from '../../src/llm_gateway/cost.js'
import {redactSecrets} from '../../src/llm_gateway/audit.js'
import {PricingTable} from '../../src/llm_gateway/pricing.js'
import {KINDS, makeRecord, recordOfKind} from './records.js'
import {parseExposition, removeHome, startEvidence, tempHome, type Running} from './harness.js'

interface MetricsDoc {
  summary: Record<string, unknown> & {total_requests: number; status_counts: Record<string, number>; error_types: Record<string, number>}
  by_agent: Record<string, number>
  by_provider: Record<string, number>
  by_model: Record<string, number>
  breakdown: {provider: Record<string, {requests: number; streaming_failures: number}>}
  recent: Array<Record<string, unknown>>
}

interface AuditDoc {
  entries: Array<Record<string, unknown>>
  total: number
}

function countRows(dbPath: string, where = ''): number {
  const db = new Database(dbPath, {readonly: true})
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM audit_log ${where}`).get() as {n: number}).n
  } finally {
    db.close()
  }
}

describe('evidence/audit: SQLite audit log, /gateway/audit and /gateway/metrics', () => {
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

  describe('completeness: N mixed requests -> N rows, and every figure agrees', () => {
    const perKind = 9
    const N = perKind * KINDS.length

    it('summary.total_requests == N == audit rows == sum(gateway_requests_total), per-status counts right', async () => {
      gw = await startEvidence({home, audit: {logRequestBodies: true, logResponseBodies: true}})
      const base = Date.now() - 60_000
      const records = []
      for (let i = 0; i < perKind; i++) for (const kind of KINDS) records.push(recordOfKind(kind, base + records.length * 10, {agent_type: i % 2 ? 'code-reviewer' : 'main'}))
      for (const r of records) gw.evidence.sink(r)

      const m = (await gw.get('/gateway/metrics')).json() as MetricsDoc
      const s = m.summary
      expect(s.total_requests).to.equal(N)
      expect(countRows(gw.evidence.dbPath)).to.equal(N)
      expect(s.audit_records).to.equal(N)
      expect(s.successful_requests).to.equal(perKind * 3) // ok, stream-ok, fallback
      expect(s.failed_requests).to.equal(perKind * 4)
      expect(s.success_rate).to.equal(Number((3 / 7).toFixed(6)))
      expect(s.streaming_requests).to.equal(perKind * 3) // stream-ok, stream-cut, client-abort
      expect(s.streaming_failures).to.equal(perKind * 2)
      expect(s.status_counts).to.deep.equal({'200': perKind * 5, '429': perKind, '529': perKind})
      expect(s.error_types).to.deep.equal({rate_limit_error: perKind, overloaded_error: perKind, stream_cut: perKind, client_aborted: perKind})
      expect(s.fallback_requests).to.equal(perKind)
      expect(s.records_received).to.equal(N)
      expect(s.audit_pending).to.equal(0)
      expect(s.audit_write_errors).to.equal(0)

      const table = new PricingTable()
      const costs = records.map((r) => computeCost(r, table))
      const totalMicros = costs.reduce((sum, c) => sum + (c.micros ?? 0), 0)
      expect(s.total_cost_micros).to.equal(totalMicros)
      expect(s.total_cost_usd).to.equal(totalMicros / 1e6)
      expect(s.total_input_tokens).to.equal(costs.reduce((sum, c) => sum + c.usage.input_tokens, 0))
      const latencies = records.map((r) => r.done_at - r.received_at)
      expect(s.avg_latency_ms).to.equal(Math.round((latencies.reduce((a, b) => a + b, 0) / N) * 100) / 100)
      expect(m.breakdown.provider.deepseek?.requests).to.equal(perKind)
      expect(m.breakdown.provider.anthropic?.streaming_failures).to.equal(perKind * 2)
      expect(Object.keys(m.by_agent).sort()).to.deep.equal(['code-reviewer', 'main'])
      expect(m.recent).to.have.length(20)
      expect(m.recent[0]?.request_id).to.equal(records[records.length - 1]?.request_id)

      const audit = (await gw.get('/gateway/audit?limit=1')).json() as AuditDoc
      expect(audit.total).to.equal(N)

      const samples = parseExposition((await gw.get('/metrics')).text)
      const requestsTotal = samples.filter((x) => x.name === 'gateway_requests_total').reduce((a, x) => a + x.value, 0)
      expect(requestsTotal).to.equal(N)
      expect(samples.find((x) => x.name === 'gateway_audit_records_total')?.value).to.equal(N)
      expect(samples.find((x) => x.name === 'gateway_stream_failures_total' && x.labels.provider === 'anthropic')?.value).to.equal(perKind * 2)
    })

    it('figures survive a restart (all-time from the database, not memory)', async () => {
      gw = await startEvidence({home})
      for (let i = 0; i < 5; i++) gw.evidence.sink(makeRecord())
      await gw.stop()
      gw = await startEvidence({home})
      gw.evidence.sink(makeRecord())
      const m = (await gw.get('/gateway/metrics')).json() as MetricsDoc
      expect(m.summary.total_requests).to.equal(6)
      expect(m.summary.records_received).to.equal(1)
    })
  })

  describe('/gateway/audit', () => {
    const base = Date.parse('2026-11-20T10:00:00Z')

    beforeEach(async () => {
      gw = await startEvidence({home, now: () => base + 3_600_000, audit: {logRequestBodies: true}})
      for (let i = 0; i < 40; i++) {
        const kind = KINDS[i % KINDS.length] ?? 'ok'
        gw.evidence.sink(recordOfKind(kind, base + i * 1000, {agent_type: i < 10 ? 'test-engineer' : 'main', request_body: Buffer.from(`{"i":${i}}`)}))
      }
    })

    it('total counts every matching row; limit/offset page through them newest first', async () => {
      const all = (await gw!.get('/gateway/audit?limit=1000')).json() as AuditDoc
      expect(all.total).to.equal(40)
      expect(all.entries).to.have.length(40)
      const seen: string[] = []
      for (let offset = 0; offset < 40; offset += 7) {
        const page = (await gw!.get(`/gateway/audit?limit=7&offset=${offset}`)).json() as AuditDoc
        expect(page.total).to.equal(40)
        seen.push(...page.entries.map((e) => e.request_id as string))
      }
      expect(seen).to.deep.equal(all.entries.map((e) => e.request_id))
      expect(new Set(seen).size).to.equal(40)
      const times = all.entries.map((e) => Date.parse(e.timestamp as string))
      expect(times).to.deep.equal([...times].sort((a, b) => b - a))
      const past = (await gw!.get('/gateway/audit?limit=5&offset=38')).json() as AuditDoc
      expect(past.entries).to.have.length(2)
      expect(past.total).to.equal(40)
    })

    it('filters: provider, agent_type, success, stream, model, status, time range', async () => {
      const total = async (q: string): Promise<number> => ((await gw!.get(`/gateway/audit?${q}`)).json() as AuditDoc).total
      expect(await total('provider=deepseek')).to.equal([...Array(40).keys()].filter((i) => i % 7 === 6).length)
      expect(await total('agent_type=test-engineer')).to.equal(10)
      const successes = [...Array(40).keys()].filter((i) => ['ok', 'stream-ok', 'fallback'].includes(KINDS[i % 7] as string)).length
      expect(await total('success=true')).to.equal(successes)
      expect(await total('success=false')).to.equal(40 - successes)
      expect(await total('stream=true&success=false')).to.equal([...Array(40).keys()].filter((i) => ['stream-cut', 'client-abort'].includes(KINDS[i % 7] as string)).length)
      expect(await total('model=deepseek-flash')).to.equal(await total('provider=deepseek'))
      expect(await total('status=429')).to.equal([...Array(40).keys()].filter((i) => i % 7 === 2).length)
      expect(await total(`start_time=${new Date(base + 10_000).toISOString()}&end_time=${new Date(base + 19_000).toISOString()}`)).to.equal(10)
      expect(await total(`start_time=${base + 30_000}`)).to.equal(10)
      const withBodies = (await gw!.get('/gateway/audit?limit=1&include_bodies=true')).json() as AuditDoc
      expect(withBodies.entries[0]?.request_body).to.equal('{"i":39}')
      const without = (await gw!.get('/gateway/audit?limit=1')).json() as AuditDoc
      expect(without.entries[0]).to.not.have.property('request_body')
    })

    it('bad parameters -> 400 with a message saying what is wrong', async () => {
      for (const [q, text] of [
        ['limit=0', 'limit must be a whole number from 1 to 1000'],
        ['limit=abc', 'limit must be a whole number'],
        ['success=maybe', 'success must be true or false'],
        ['start_time=yesterday', 'start_time must be an RFC 3339 timestamp'],
        [`start_time=${base + 10}&end_time=${base}`, 'end_time is before start_time'],
      ]) {
        const res = await gw!.get(`/gateway/audit?${q}`)
        expect(res.status, q).to.equal(400)
        expect((res.json() as {error: {message: string}}).error.message, q).to.contain(text)
      }
      const bad = await gw!.get('/gateway/metrics?window=2x')
      expect(bad.status).to.equal(400)
      expect(bad.text).to.contain('window must be a duration')
      expect((await gw!.post('/gateway/audit')).status).to.equal(405)
    })
  })

  describe('redaction', () => {
    it('a planted key in bodies and error text is found nowhere in the database files or endpoint outputs', async () => {
      const planted = `PLANTED${Date.now()}x${Math.random().toString(36).slice(2)}`
      const antKey = `sk-ant-api03-${planted}`
      const openAiKey = `sk-proj-${planted}`
      gw = await startEvidence({home, audit: {logRequestBodies: true, logResponseBodies: true}})
      const requestBody = JSON.stringify({
        model: 'claude-sonnet-4-6',
        metadata: {api_key: planted, 'x-api-key': planted, ANTHROPIC_API_KEY: planted, authorization: `Bearer ${planted}`},
        messages: [{role: 'user', content: `my key is ${antKey}, header Authorization: Bearer ${planted} and OPENAI_API_KEY=${openAiKey}; also api_key="${planted}"`}],
        max_tokens: 1024,
      })
      const responseBody = JSON.stringify({type: 'message', content: [{type: 'text', text: `echo: x-api-key: ${planted} and ${antKey}`}], usage: {input_tokens: 10, output_tokens: 5}})
      gw.evidence.sink(
        makeRecord({request_body: Buffer.from(requestBody), response_body: responseBody, error_message: `upstream said: invalid x-api-key ${antKey}`, routing_reason: `token=${planted}`}),
      )
      gw.evidence.sink(makeRecord({stream: true, request_body: Buffer.from(requestBody), response_body: responseBody}))

      const outputs = [
        (await gw.get('/gateway/audit?include_bodies=true')).text,
        (await gw.get('/gateway/metrics')).text,
        (await gw.get('/metrics')).text,
      ]
      for (const out of outputs) expect(out).to.not.contain(planted)
      const stored = ((await gw.get('/gateway/audit?include_bodies=true')).json() as AuditDoc).entries[1] as {request_body: string; response_body: string}
      // The rest of the client's body is kept byte for byte and still parses.
      const parsed = JSON.parse(stored.request_body) as {max_tokens: number; metadata: Record<string, string>}
      expect(parsed.max_tokens).to.equal(1024)
      expect(parsed.metadata.api_key).to.equal('[REDACTED]')
      expect(stored.request_body).to.contain('my key is sk-ant-[REDACTED]')
      JSON.parse(stored.response_body)

      const dbPath = gw.evidence.dbPath
      const before = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter(existsSync)
      expect(before).to.include(`${dbPath}-wal`)
      for (const file of before) expect(readFileSync(file).includes(planted), file).to.equal(false)
      await gw.stop()
      gw = undefined
      for (const file of [dbPath, `${dbPath}-wal`].filter(existsSync)) expect(readFileSync(file).includes(planted), file).to.equal(false)
    })

    it('redactSecrets keeps ordinary text and token counts', () => {
      const text = '{"max_tokens": 1024, "usage": {"input_tokens": 5}, "text": "commit 0123456789abcdef0123456789abcdef01234567"}'
      expect(redactSecrets(text)).to.equal(text)
      expect(redactSecrets('x-api-key: abc123def456')).to.equal('x-api-key: [REDACTED]')
      expect(redactSecrets('"password": "hunter2-long"')).to.equal('"password": "[REDACTED]"')
    })
  })

  describe('files, retention, failures', () => {
    it('creates $CCO_HOME/gateway/audit.db 0600 (WAL sidecars too) in a 0700 directory', async () => {
      gw = await startEvidence({home})
      gw.evidence.sink(makeRecord())
      await gw.evidence.flush()
      const dbPath = join(home, 'gateway', 'audit.db')
      expect(gw.evidence.dbPath).to.equal(dbPath)
      expect(statSync(join(home, 'gateway')).mode & 0o777).to.equal(0o700)
      expect(statSync(dbPath).mode & 0o777).to.equal(0o600)
      expect(statSync(`${dbPath}-wal`).mode & 0o777).to.equal(0o600)
      const db = new Database(dbPath, {readonly: true})
      expect(db.pragma('journal_mode', {simple: true})).to.equal('wal')
      db.close()
    })

    it('retention: rows older than retentionDays vanish at start, newer stay, and the metrics follow', async () => {
      const day = 24 * 3_600_000
      const now = Date.parse('2026-11-26T12:00:00Z')
      gw = await startEvidence({home, now: () => now, audit: {retentionDays: 7}})
      const ages = [10 * day, 8 * day, 7 * day + 60_000, 6 * day, day, 60_000]
      for (const age of ages) gw.evidence.sink(makeRecord({received_at: now - age, request_id: `age-${age}`}))
      await gw.stop()
      gw = await startEvidence({home, now: () => now, audit: {retentionDays: 7}})
      const audit = (await gw.get('/gateway/audit')).json() as AuditDoc
      expect(audit.entries.map((e) => e.request_id).sort()).to.deep.equal([`age-${6 * day}`, `age-${day}`, `age-${60_000}`].sort())
      const m = (await gw.get('/gateway/metrics')).json() as MetricsDoc
      expect(m.summary.total_requests).to.equal(3)
      expect(m.summary.audit_records).to.equal(3)
      const w3d = (await gw.get('/gateway/metrics?window=3d')).json() as MetricsDoc
      expect(w3d.summary.total_requests).to.equal(2)
      expect(gw.lines.some((l) => l.message.includes('deleted 3 rows older than 7 days'))).to.equal(true)
    })

    it('a locked database: the sink does not throw, errors are counted, health is degraded, rows arrive after the lock is gone', async () => {
      let clock = Date.now()
      gw = await startEvidence({home, now: () => clock})
      gw.evidence.sink(makeRecord())
      await gw.evidence.flush()
      const locker = new Database(gw.evidence.dbPath)
      locker.exec('BEGIN EXCLUSIVE')
      for (let i = 0; i < 5; i++) expect(() => gw!.evidence.sink(makeRecord())).to.not.throw()
      await gw.evidence.flush()
      const health = gw.evidence.healthStatus()
      expect(health.degraded).to.equal(true)
      expect(health.reason).to.match(/SQLITE_BUSY/)
      const prom = parseExposition((await gw.get('/metrics')).text)
      expect(prom.find((x) => x.name === 'gateway_audit_write_errors_total')?.value).to.be.greaterThan(0)
      expect(gw.lines.filter((l) => l.level === 'error')).to.have.length(1)
      locker.exec('COMMIT')
      locker.close()
      await gw.evidence.flush()
      expect(countRows(gw.evidence.dbPath)).to.equal(6)
      clock += 61_000
      expect(gw.evidence.healthStatus()).to.deep.equal({degraded: false})
      const m = (await gw.get('/gateway/metrics')).json() as MetricsDoc
      expect(m.summary.total_requests).to.equal(6)
      expect(m.summary.audit_write_errors).to.be.greaterThan(0)
    })

    it('a failing statement (injected trigger): not thrown, counted, degraded; other rows still written', async () => {
      gw = await startEvidence({home})
      const other = new Database(join(home, 'gateway', 'audit.db'))
      other.exec(`CREATE TRIGGER fail_poison BEFORE INSERT ON audit_log WHEN NEW.request_id LIKE 'poison%' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`)
      other.close()
      gw.evidence.sink(makeRecord({request_id: 'good-1'}))
      gw.evidence.sink(makeRecord({request_id: 'poison-1'}))
      gw.evidence.sink(makeRecord({request_id: 'good-2'}))
      await gw.evidence.flush()
      expect(gw.evidence.healthStatus().degraded).to.equal(true)
      const m = (await gw.get('/gateway/metrics')).json() as MetricsDoc
      expect(m.summary.total_requests).to.equal(2)
      expect(m.summary.audit_dropped).to.equal(1)
      expect(m.summary.records_received).to.equal(3)
      expect(m.summary.audit_write_errors).to.be.greaterThan(0)
    })

    it('an unusable database path: the gateway still starts, health is degraded, metrics answer 503', async () => {
      writeFileSync(join(home, 'not-a-dir'), 'x')
      gw = await startEvidence({home, audit: {dbPath: join(home, 'not-a-dir', 'audit.db')}})
      expect(() => gw!.evidence.sink(makeRecord())).to.not.throw()
      await gw.evidence.flush()
      const h = gw.evidence.healthStatus()
      expect(h.degraded).to.equal(true)
      expect(h.reason).to.contain('cannot open audit database')
      const res = await gw.get('/gateway/metrics')
      expect(res.status).to.equal(503)
      expect(res.text).to.contain('audit database is unavailable')
    })

    it('audit disabled: nothing on disk, metrics still work from memory, /gateway/audit says it is disabled', async () => {
      gw = await startEvidence({home, audit: {enabled: false}})
      gw.evidence.sink(makeRecord())
      expect(((await gw.get('/gateway/metrics')).json() as MetricsDoc).summary.total_requests).to.equal(1)
      const audit = await gw.get('/gateway/audit')
      expect(audit.status).to.equal(404)
      expect(audit.text).to.contain('audit log is disabled')
      expect(existsSync(join(home, 'gateway'))).to.equal(false)
    })
  })
})
