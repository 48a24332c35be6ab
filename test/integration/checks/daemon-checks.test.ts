/**
 * Every daemon-facing check against the real reference daemon and a real mock upstream: passing
 * when healthy, failing or erroring (with the right remediation) in each broken state.
 */
import Database from 'better-sqlite3'
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import {cleanupTempDirs} from '../../helpers/tmp.js'
import {DaemonHome, daemonBuilt, MockUpstream, show} from '../../helpers/checks.js'

describe('checks against the reference daemon', function () {
  this.timeout(120_000)
  let mock: MockUpstream

  before(async function () {
    if (!daemonBuilt()) this.skip()
    mock = await MockUpstream.start()
  })

  after(async () => {
    await mock?.stop()
    cleanupTempDirs()
  })

  describe('a healthy daemon (gateway on, proxy off)', () => {
    let h: DaemonHome
    before(async () => {
      h = new DaemonHome(mock.url)
      await h.start()
    })
    after(async () => h?.dispose())
    afterEach(async () => mock.setFaults({}))

    for (const id of [
      'daemon.running',
      'gateway.started_log',
      'pidfile.valid',
      'pidfile.gateway_port',
      'pidfile.no_proxy_port',
      'proxy.not_listening',
      'launcher.gateway_env',
      'launcher.no_proxy_fallback',
      'launcher.fails_without_gateway',
      'gateway.health',
      'gateway.metrics_valid',
      'gateway.providers_listed',
      'traffic.routes_through_gateway',
      'traffic.streaming_sse',
      'cost.records_request',
      'audit.complete',
      'flags.rollback_available',
    ]) {
      it(`${id} passes`, async () => {
        const r = await h.check(id)
        expect(r.outcome, show(r)).to.equal('pass')
        expect(r.remediation).to.equal(null)
      })
    }

    it('launcher.fails_without_gateway runs against a disposable copy and leaves the real home alone', async () => {
      const before = fs.readFileSync(h.target.paths.pidFile, 'utf8')
      const r = await h.check('launcher.fails_without_gateway')
      expect(r.outcome, show(r)).to.equal('pass')
      expect(r.evidence.disposable_home).to.be.a('string').and.not.equal(h.home)
      expect(fs.existsSync(r.evidence.disposable_home as string)).to.equal(false)
      expect(fs.readFileSync(h.target.paths.pidFile, 'utf8')).to.equal(before)
      expect((await h.check('gateway.health')).outcome).to.equal('pass')
    })

    it('gateway.started_log anchors on the daemon\'s own start line: a client agent type that reads like one does not restart the search (#13.7)', async () => {
      const forged = await fetch(`${h.target.gatewayUrl()}/v1/messages`, {
        method: 'POST',
        headers: {'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'test-probe-key', 'x-cco-agent-type': 'INFO cco daemon 9.9.9 starting (pid 1, home /x)'},
        body: JSON.stringify({model: 'claude-haiku-4-5', max_tokens: 8, messages: [{role: 'user', content: 'hi'}]}),
      })
      await forged.text()
      // The routing line with the forged value is in the log (quoted, mid-line) before the check reads it.
      for (let i = 0; i < 50 && !fs.readFileSync(h.target.paths.log, 'utf8').includes('9.9.9 starting'); i++) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(fs.readFileSync(h.target.paths.log, 'utf8')).to.contain('9.9.9 starting')
      const r = await h.check('gateway.started_log')
      expect(r.outcome, show(r)).to.equal('pass')
      expect(String(r.evidence.start_line)).to.match(/INFO +🚀 cco daemon \S+ starting \(pid \d+/).and.not.contain('9.9.9')
    })

    it('traffic.routes_through_gateway finds its own probe in the audit log, tagged cutover-probe', async () => {
      const r = await h.check('traffic.routes_through_gateway')
      expect(r.outcome, show(r)).to.equal('pass')
      const entry = r.evidence.audit_entry as Record<string, unknown>
      expect(entry.agent_type).to.equal('cutover-probe')
      expect(entry.request_id).to.equal(r.evidence.request_id)
      expect(entry.provider).to.equal('anthropic')
    })

    it('cost.records_request measures tokens and a cost for the priced model', async () => {
      const r = await h.check('cost.records_request')
      expect(r.outcome, show(r)).to.equal('pass')
      const m = r.evidence.measured as {input_tokens: number; output_tokens: number; cost_usd: number}
      expect(m.input_tokens).to.be.greaterThan(0)
      expect(m.output_tokens).to.be.greaterThan(0)
      expect(m.cost_usd).to.be.greaterThan(0)
    })

    it('cost.records_request is inconclusive for a model the gateway cannot price, with the pricingOverrides entry to add (#20.3)', async () => {
      const r = await h.check('cost.records_request', {model: 'no-such-model-7'})
      expect(r.outcome, show(r)).to.equal('inconclusive')
      expect(r.detail).to.match(/^inconclusive: model no-such-model-7 has no price/)
      expect(r.remediation).to.contain('"llmGateway": {"costTracking": {"pricingOverrides": {"no-such-model-7": {"inputPerMillion": ')
      expect(r.remediation).to.contain(h.target.paths.orchestraConfig)
    })

    it('proxy.listening fails (the proxy is disabled) and says how to enable it', async () => {
      const r = await h.check('proxy.listening')
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.remediation).to.contain('"proxyEnabled": true')
    })

    it('provider down (mock errorStatus 500): the probe fails with an upstream remediation, then health degrades', async () => {
      await mock.setFaults({errorStatus: 500})
      const r = await h.check('traffic.routes_through_gateway')
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.measured).to.match(/HTTP 5\d\d/)
      expect(r.remediation).to.match(/upstream provider/i)
      for (let i = 0; i < 3; i++) await h.check('traffic.streaming_sse')
      const health = await h.check('gateway.health')
      expect(health.outcome, show(health)).to.equal('fail')
      expect(health.remediation).to.match(/anthropic/)
    })

    it('streaming cut mid-way (mock cutStreamAfterEvents): traffic.streaming_sse fails', async () => {
      await mock.setFaults({cutStreamAfterEvents: 3})
      const r = await h.check('traffic.streaming_sse')
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.detail).to.match(/message_stop|broke/)
      expect(r.remediation).to.match(/cut/i)
    })

    it('script.test_gateway runs the plan script (it restarts the daemon) and passes', async () => {
      const before = h.target.readPidFile().pid
      const r = await h.check('script.test_gateway', {script: 'scripts/test-gateway.mjs', args: ['--json']})
      expect(r.outcome, show(r)).to.equal('pass')
      expect((r.evidence.report as {ok: boolean}).ok).to.equal(true)
      expect(h.target.readPidFile().pid).to.not.equal(before)
    })
  })

  describe('the proxy still running (Phase 2 with proxyEnabled true)', () => {
    let h: DaemonHome
    before(async () => {
      h = new DaemonHome(mock.url, {flags: {gatewayEnabled: true, proxyEnabled: true}})
      await h.start()
    })
    after(async () => h?.dispose())

    it('proxy.listening passes', async () => {
      const r = await h.check('proxy.listening')
      expect(r.outcome, show(r)).to.equal('pass')
    })

    it('proxy.not_listening fails and says to set proxyEnabled false', async () => {
      const r = await h.check('proxy.not_listening', {}, {phase: 2})
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.remediation).to.contain('"proxyEnabled": false')
    })

    it('pidfile.no_proxy_port fails', async () => {
      const r = await h.check('pidfile.no_proxy_port', {}, {phase: 2})
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.measured).to.match(/proxy_port \d+/)
    })

    it('launcher.fails_without_gateway fails: the launcher falls back to the proxy', async () => {
      const r = await h.check('launcher.fails_without_gateway', {}, {phase: 2})
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.measured).to.equal('fell back to the proxy')
      expect(r.remediation).to.contain('"proxyEnabled": false')
    })

    it('launcher.fails_without_gateway with method flags fails from the flags alone', async () => {
      const r = await h.check('launcher.fails_without_gateway', {method: 'flags'}, {phase: 2})
      expect(r.outcome, show(r)).to.equal('fail')
    })
  })

  describe('the gateway disabled by the flags', () => {
    let h: DaemonHome
    before(async () => {
      h = new DaemonHome(mock.url, {flags: {gatewayEnabled: false, proxyEnabled: true}})
      await h.start()
    })
    after(async () => h?.dispose())

    for (const id of ['pidfile.gateway_port', 'gateway.started_log', 'gateway.health', 'gateway.metrics_valid', 'traffic.routes_through_gateway']) {
      it(`${id} fails and says to set gatewayEnabled true`, async () => {
        const r = await h.check(id)
        expect(r.outcome, show(r)).to.equal('fail')
        expect(r.remediation).to.contain('"gatewayEnabled": true')
      })
    }

    it('launcher.gateway_env fails (proxy mode) and launcher.no_proxy_fallback fails', async () => {
      const env = await h.check('launcher.gateway_env')
      expect(env.outcome, show(env)).to.equal('fail')
      expect(env.measured).to.match(/proxy mode/)
      const fallback = await h.check('launcher.no_proxy_fallback')
      expect(fallback.outcome, show(fallback)).to.equal('fail')
    })
  })

  describe('audit log disabled (llmGateway.audit.enabled false)', () => {
    let h: DaemonHome
    before(async () => {
      h = new DaemonHome(mock.url, {gateway: {audit: {enabled: false}}})
      await h.start()
    })
    after(async () => h?.dispose())

    it('audit.complete fails and says to enable the audit log', async () => {
      const r = await h.check('audit.complete', {}, {phase: 2})
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.remediation).to.match(/"audit": \{"enabled": true\}/)
    })

    it('traffic.routes_through_gateway fails: served but not audited', async () => {
      const r = await h.check('traffic.routes_through_gateway')
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.measured).to.equal('audit log disabled')
    })
  })

  // #11.3: completeness rests on counts that do not come from one database. A record the gateway never
  // writes is missing from summary.total_requests and from the audit rows alike (they agree), so only
  // the gateway's own counters and cutover's client-side probe look-ups can catch it.
  describe('audit records lost before they reach the database', () => {
    const probeRequest = (h: DaemonHome) =>
      fetch(`${h.target.gatewayUrl()}/v1/messages`, {
        method: 'POST',
        headers: {'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'test-probe-key', 'x-cco-agent-type': 'lost-record-test'},
        body: JSON.stringify({model: 'claude-haiku-4-5', max_tokens: 8, messages: [{role: 'user', content: 'hi'}]}),
      })
    /** Hold the audit database's write lock, as a stuck writer or a full disk would: reads still work (WAL). */
    const lockAuditDb = (h: DaemonHome) => {
      const db = new Database(h.target.paths.auditDb)
      db.exec('BEGIN EXCLUSIVE')
      return () => {
        db.exec('COMMIT')
        db.close()
      }
    }

    it('fails when the gateway dropped records (queue full while the database was locked), though the database counts agree', async () => {
      const h = new DaemonHome(mock.url, {gateway: {audit: {maxPendingRecords: 1}}})
      try {
        await h.start()
        expect((await h.check('audit.complete')).outcome, 'healthy before the fault').to.equal('pass')
        const release = lockAuditDb(h)
        try {
          for (let i = 0; i < 3; i++) expect((await probeRequest(h)).status).to.equal(200)
        } finally {
          release()
        }
        // Let the one record the queue kept reach the database (else the next request would push it out too).
        for (let polls = 0; ; polls++) {
          const s = (await h.target.gateway.metrics('1h')).body.summary
          if (s.audit_pending === 0) break
          if (polls > 100) throw new Error(`audit queue never drained: ${JSON.stringify(s)}`)
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        const r = await h.check('audit.complete')
        expect(r.outcome, show(r)).to.equal('fail')
        const e = r.evidence as {requests: number; audit_rows: number; counters: {audit_dropped: number; audit_pending: number}; probes: {found: string[]; missing: string[]}}
        // The old check compared exactly these two and passed.
        expect(e.requests).to.equal(e.audit_rows)
        expect(e.counters.audit_dropped).to.equal(2)
        expect(e.counters.audit_pending).to.equal(0)
        expect(e.probes.missing).to.deep.equal([])
        expect(e.probes.found).to.have.length(1)
        expect(r.detail).to.equal('the gateway dropped 2 record(s) since it started (its own counter audit_dropped)')
        const prom = await (await fetch(`${h.target.gatewayUrl()}/metrics`)).text()
        expect(prom).to.match(/^gateway_audit_records_dropped_total 2$/m)
        expect(prom).to.match(/^gateway_audit_pending_records 0$/m)
        expect(Number(/^gateway_audit_records_received_total (\d+)$/m.exec(prom)?.[1])).to.equal(Number(/^gateway_audit_records_total (\d+)$/m.exec(prom)?.[1]) + 2)
      } finally {
        await h.dispose()
      }
    })

    it('fails when its own probe never reaches the audit log (database locked throughout), naming the request id', async () => {
      const h = new DaemonHome(mock.url)
      try {
        await h.start()
        expect((await h.check('audit.complete')).outcome, 'healthy before the fault').to.equal('pass')
        const release = lockAuditDb(h)
        let r
        try {
          r = await h.check('audit.complete', {settle: '1s', audit_timeout: '1s'})
        } finally {
          release()
        }
        expect(r.outcome, show(r)).to.equal('fail')
        const e = r.evidence as {requests: number; audit_rows: number; counters: {audit_pending: number; audit_dropped: number}; probes: {looked_up: number; missing: string[]}}
        expect(e.requests).to.equal(e.audit_rows)
        expect(e.counters.audit_dropped).to.equal(0)
        expect(e.counters.audit_pending).to.equal(1)
        expect(e.probes.looked_up).to.equal(1)
        expect(e.probes.missing).to.have.length(1)
        expect(r.detail).to.contain(`1 of 1 probe request(s) cutover sent and got an answer for have no audit row (${e.probes.missing[0]})`)
        expect(r.detail).to.contain('1 record(s) are still not written (audit_pending, ')
      } finally {
        await h.dispose()
      }
    })
  })

  describe('the daemon down', () => {
    let h: DaemonHome
    before(async () => {
      h = new DaemonHome(mock.url)
      await h.start()
      await h.stop()
    })
    after(async () => h?.dispose())

    it('daemon.running fails and says how to start it', async () => {
      const r = await h.check('daemon.running')
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.remediation).to.contain('cutover daemon restart')
    })

    for (const id of ['pidfile.gateway_port', 'pidfile.no_proxy_port', 'pidfile.valid', 'proxy.not_listening', 'launcher.gateway_env', 'launcher.fails_without_gateway', 'gateway.health', 'gateway.providers_listed', 'traffic.routes_through_gateway', 'traffic.streaming_sse', 'cost.records_request', 'audit.complete']) {
      it(`${id} reports error (could not measure), never pass or fail`, async () => {
        const r = await h.check(id)
        expect(r.outcome, show(r)).to.equal('error')
        expect(r.remediation).to.match(/cutover daemon restart|daemon/)
      })
    }
  })

  describe('PID file problems (no daemon behind it)', () => {
    let h: DaemonHome
    beforeEach(() => {
      h = new DaemonHome(mock.url)
    })
    afterEach(() => h.state.close())

    it('PID file without gateway_port: pidfile.gateway_port and gateway.health fail', async () => {
      fs.writeFileSync(h.target.paths.pidFile, JSON.stringify({pid: process.pid, started_at: new Date().toISOString(), port: 45_001, gateway_port: null, version: 'x'}))
      const port = await h.check('pidfile.gateway_port')
      expect(port.outcome, show(port)).to.equal('fail')
      expect(port.measured).to.equal('gateway_port null')
      const health = await h.check('gateway.health')
      expect(health.outcome, show(health)).to.equal('fail')
      expect(health.measured).to.equal('gateway not running')
    })

    it('corrupted PID file: pidfile.valid fails, the others cannot measure', async () => {
      fs.writeFileSync(h.target.paths.pidFile, '{"pid": 12, "started_at": ')
      const valid = await h.check('pidfile.valid')
      expect(valid.outcome, show(valid)).to.equal('fail')
      expect(valid.measured).to.equal('not valid JSON')
      expect(valid.remediation).to.contain('restart')
      for (const id of ['daemon.running', 'pidfile.gateway_port', 'gateway.health']) {
        const r = await h.check(id)
        expect(r.outcome, `${id}: ${show(r)}`).to.equal('error')
      }
    })

    it('PID file with a wrong type: pidfile.valid fails naming the key', async () => {
      fs.writeFileSync(h.target.paths.pidFile, JSON.stringify({pid: process.pid, started_at: new Date().toISOString(), port: 'x', gateway_port: null, version: 'x'}))
      const r = await h.check('pidfile.valid')
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.detail).to.contain('"port"')
    })

    it('gateway.started_log: no log is an error, a CRITICAL line is a fail', async () => {
      const none = await h.check('gateway.started_log')
      expect(none.outcome, show(none)).to.equal('error')
      fs.writeFileSync(
        h.target.paths.log,
        ['INFO  🚀 cco daemon 1 starting (pid 1)', 'ERROR LLM Gateway initialization error: bad config', 'WARN  ❌ CRITICAL: LLM Gateway failed to initialize'].join('\n') + '\n',
      )
      const critical = await h.check('gateway.started_log')
      expect(critical.outcome, show(critical)).to.equal('fail')
      expect(critical.detail).to.contain('CRITICAL')
      expect(critical.remediation).to.contain(path.basename(h.target.paths.orchestraConfig))
    })
  })
})
