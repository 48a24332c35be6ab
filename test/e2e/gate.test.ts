import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import type {GonogoCommandResult} from '../../src/commands/gonogo.js'
import type {MonitorResult} from '../../src/commands/monitor.js'
import {pinBaseline} from '../../src/lib/gate/baseline.js'
import {loadPlaybook} from '../../src/lib/playbook/index.js'
import {StateStore} from '../../src/lib/state/store.js'
import {bundledTargetSpec} from '../../src/lib/target/spec.js'
import {Target} from '../../src/lib/target/target.js'
import {
  built,
  cutover,
  cutoverBackground,
  readPid,
  type RunningMock,
  startDaemon,
  startMock,
  stopDaemon,
  tempHome,
  traffic,
  waitFor,
  writeGatePlaybook,
  writeOrchestraConfig,
} from '../commands/gate/env.js'
import {cleanupTempDirs} from '../helpers/tmp.js'

/**
 * gonogo / monitor / approve end to end: the built CLI (bin/run.js) against the reference daemon
 * (bin/cco) with the real mock provider upstream. Windows are 20 s so the suite stays short while
 * every criterion is judged on real samples and real audit rows.
 */
const WINDOW_S = 20
const INTERVAL = '1s'

describe('e2e: gonogo against the reference daemon and the mock provider', function () {
  this.timeout(180_000)
  let dir: string
  let home: string
  let playbook: string
  let mock: RunningMock
  let stateFile: string
  let monitor: ReturnType<typeof cutoverBackground> | undefined
  let lastTrafficAt = Date.now()

  const gonogo = async (extra: string[] = []) => {
    const run = await cutover(['gonogo', '--home', home, '--playbook', playbook, '--json', ...extra])
    let doc: GonogoCommandResult
    try {
      doc = JSON.parse(run.stdout) as GonogoCommandResult
    } catch {
      throw new Error(`gonogo printed no JSON (exit ${run.exitCode}):\n${run.stdout}\n${run.stderr}`)
    }
    return {code: run.exitCode, doc, run}
  }
  const criterion = (doc: GonogoCommandResult, id: string) => {
    const found = doc.criteria.find((c) => c.id === id)
    if (!found) throw new Error(`no criterion ${id} in ${JSON.stringify(doc.criteria.map((c) => c.id))}`)
    return found
  }
  const withStore = <T>(fn: (s: StateStore) => T): T => {
    const store = StateStore.open(stateFile)
    try {
      return fn(store)
    } finally {
      store.close()
    }
  }

  before(async function () {
    if (!built()) this.skip()
    ;({dir, home} = tempHome())
    stateFile = path.join(home, 'cutover', 'state.db')
    playbook = writeGatePlaybook(dir, {window: `${WINDOW_S}s`, minSamples: 3, latencyMs: 300})
    mock = await startMock()
    writeOrchestraConfig(home, mock.url)
    const pid = await startDaemon(home)
    expect(pid.gateway_port).to.be.a('number')
    // Is the request path wired into the daemon? Everything below needs it.
    const statuses = await traffic(home, 1)
    if (statuses[0] === 404) throw new Error('POST /v1/messages answers 404: the request path is not wired into the reference daemon yet (gateway/src/daemon/modules.ts)')
  })

  after(async () => {
    if (monitor && monitor.exitCode === null) monitor.kill('SIGKILL')
    if (home) await stopDaemon(home)
    await mock?.close()
    cleanupTempDirs()
  })

  it('monitor --once --json: one health sample, a streaming probe tagged cutover-probe, and a re-run in the same slot is not counted twice', async () => {
    const other = path.join(dir, 'once.db')
    const first = await cutover(['monitor', '--home', home, '--state', other, '--once', '--interval', '1h', '--probe-every', '1', '--json'])
    expect(first.exitCode, first.stderr).to.equal(0)
    const doc = JSON.parse(first.stdout) as MonitorResult
    expect(doc.ticks).to.equal(1)
    expect(doc.stored.health).to.equal(1)
    expect(doc.lastHealth?.status).to.be.oneOf(['healthy', 'degraded'])
    expect(doc.probes, JSON.stringify(doc.probes)).to.deep.equal({ok: 1, failed: 0})
    expect(first.stderr).to.equal('') // --json: the summary document only

    const second = JSON.parse((await cutover(['monitor', '--home', home, '--state', other, '--once', '--interval', '1h', '--probe-every', '0', '--json'])).stdout) as MonitorResult
    expect(second.stored.health).to.equal(0)
    expect(second.duplicates).to.equal(1)

    const {gateway_port} = readPid(home)
    const audit = (await (await fetch(`http://127.0.0.1:${gateway_port}/gateway/audit?agent_type=cutover-probe&limit=10`)).json()) as {entries: Array<{stream: unknown}>; total: number}
    expect(audit.total).to.be.at.least(1)
  })

  it('INCONCLUSIVE (exit 3) with too few samples and a window the monitor has not covered yet', async () => {
    expect(await traffic(home, 2)).to.deep.equal([200, 200])
    const once = await cutover(['monitor', '--home', home, '--once', '--interval', INTERVAL, '--probe-every', '0'])
    expect(once.exitCode, once.stderr).to.equal(0)
    const {code, doc} = await gonogo()
    expect(code, JSON.stringify(doc.criteria, null, 2)).to.equal(3)
    expect(doc.verdict).to.equal('INCONCLUSIVE')
    const uptime = criterion(doc, 'uptime')
    expect(uptime.outcome).to.equal('inconclusive')
    expect(uptime.reason).to.contain(`does not cover the ${WINDOW_S}s window`)
    expect(doc.next.join('\n')).to.contain('cutover monitor')
    lastTrafficAt = Date.now()
  })

  it('GO path: a covered window of healthy samples -> AWAITING_APPROVAL -> approve -> GO (--json, --junit); new traffic makes the approval stale', async () => {
    monitor = cutoverBackground(['monitor', '--home', home, '--interval', INTERVAL, '--probe-every', '0', '--duration', '10m', '--json'])
    // Wait until the monitor's samples cover the whole window.
    await waitFor(
      () => withStore((s) => {
        const first = s.listSamples({source: 'health', from: Date.now() - WINDOW_S * 1000 - 1000, limit: 1})[0]
        return first !== undefined && first.ts <= Date.now() - WINDOW_S * 1000 + 500
      }),
      'the monitor to cover the window',
      WINDOW_S * 1000 + 30_000,
      250,
    )
    // The requests of the earlier tests must have left the window, or they leave it between
    // the evaluation and its approval and the evidence changes under the approver.
    await waitFor(() => Date.now() > lastTrafficAt + (WINDOW_S + 2) * 1000, 'earlier traffic to leave the window', WINDOW_S * 1000 + 10_000, 250)
    expect(await traffic(home, 3)).to.deep.equal([200, 200, 200])

    const awaiting = await gonogo()
    expect(awaiting.code, JSON.stringify(awaiting.doc.criteria, null, 2)).to.equal(3)
    expect(awaiting.doc.verdict).to.equal('AWAITING_APPROVAL')
    for (const id of ['zero-critical-bugs', 'uptime', 'error-rate', 'latency', 'traffic']) expect(criterion(awaiting.doc, id).outcome, id).to.equal('pass')
    const uptime = criterion(awaiting.doc, 'uptime')
    expect(uptime.value).to.equal(100)
    expect(uptime.samples).to.be.at.least(WINDOW_S - 2)
    expect(criterion(awaiting.doc, 'error-rate')).to.include({value: 0, statistic: 'ratio', window: `${WINDOW_S}s`, threshold: 5, operator: '<'})
    expect(criterion(awaiting.doc, 'latency').value).to.be.a('number').and.below(300)

    const approve = await cutover(['approve', '--home', home, '--playbook', playbook, '--phase', '1', '--by', 'alice', '--reason', 'clean window'])
    expect(approve.exitCode, approve.stderr).to.equal(0)
    expect(approve.stdout).to.contain('alice approved gate 1 -> 2')

    const junit = path.join(dir, 'reports', 'gonogo.xml')
    const go = await gonogo(['--junit', junit])
    expect(go.code, JSON.stringify(go.doc, null, 2)).to.equal(0)
    expect(go.doc.verdict).to.equal('GO')
    expect(go.doc.approval).to.include({status: 'valid', by: 'alice'})
    expect(go.doc.reusedEvaluation?.id).to.equal(awaiting.doc.evaluation.id)
    for (const c of go.doc.criteria) {
      expect(c.outcome, c.id).to.equal('pass')
      if (!c.approval) expect(c).to.include.keys('value', 'statistic', 'window', 'samples', 'threshold', 'operator', 'windowStart', 'windowEnd')
    }
    const xml = fs.readFileSync(junit, 'utf8')
    expect(xml).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?>/)
    const suite = /<testsuite name="gonogo one-to-two" tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"/.exec(xml)
    expect(suite?.slice(1).map(Number)).to.deep.equal([go.doc.criteria.length, 0, 0, 0])
    const names = [...xml.matchAll(/<testcase name="([^"]+)" classname="gate 1-&gt;2"/g)].map((m) => m[1])
    expect(names).to.deep.equal(go.doc.criteria.map((c) => c.id))
    expect(xml).to.contain('<property name="verdict" value="GO"/>')
    expect(xml).to.contain(`<property name="evidence_hash" value="${go.doc.evidenceHash}"/>`)

    // The measured evidence changes: the approval no longer counts.
    await traffic(home, 1)
    const stale = await gonogo()
    expect(stale.code).to.equal(3)
    expect(stale.doc.verdict).to.equal('AWAITING_APPROVAL')
    expect(stale.doc.approval.status).to.equal('stale')
    expect(stale.doc.approval.message).to.contain('approval is for an older evaluation').and.contain('traffic')

    withStore((s) => {
      const stored = s.listEvaluations({from: 1, to: 2})
      expect(stored.map((e) => e.verdict).slice(0, 3)).to.deep.equal(['AWAITING_APPROVAL', 'GO', 'AWAITING_APPROVAL'])
      expect(s.listTrail({kind: 'gate.evaluation'}).length).to.equal(stored.length)
      expect(s.verifyTrail().ok).to.equal(true)
    })
  })

  it('pinBaseline + a baseline-relative criterion; NO-GO on latency (mock latency fault) against that baseline', async () => {
    const state = StateStore.open(stateFile)
    try {
      const pinned = await pinBaseline({state, target: new Target(bundledTargetSpec(home)), playbook: await loadPlaybook(playbook), phase: 1})
      expect(pinned.skipped).to.deep.equal([])
      expect(pinned.baseline?.metrics['gateway:latency_ms:avg']).to.be.a('number').and.above(0)
    } finally {
      state.close()
    }
    mock.setFaults({latencyMs: 1500})
    try {
      expect(await traffic(home, 3)).to.deep.equal([200, 200, 200])
    } finally {
      mock.setFaults({})
    }
    const {code, doc} = await gonogo()
    expect(code).to.equal(1)
    expect(doc.verdict).to.equal('NO-GO')
    const latency = criterion(doc, 'latency')
    expect(latency.outcome).to.equal('fail')
    expect(latency.value).to.be.above(300)
    expect(doc.blocking).to.include('latency')

    const relative = await gonogo(['--from', '2', '--to', '3'])
    const latency2 = criterion(relative.doc, 'latency-2')
    expect(latency2.outcome).to.equal('fail')
    expect(latency2.baseline).to.be.a('number')
    expect(latency2.changePct).to.be.above(25)
    expect(latency2.effectiveThreshold).to.be.below(300)
    expect(latency2.reason).to.contain('baseline')
  })

  it('NO-GO on the error rate (mock returns 500) and on an open critical incident', async () => {
    mock.setFaults({errorStatus: 500})
    try {
      expect(await traffic(home, 4)).to.deep.equal([500, 500, 500, 500])
    } finally {
      mock.setFaults({})
    }
    let {code, doc} = await gonogo()
    expect(code).to.equal(1)
    const errors = criterion(doc, 'error-rate')
    expect(errors.outcome).to.equal('fail')
    expect(errors.value).to.be.above(5)
    expect(doc.blocking).to.include('error-rate')

    const added = await cutover(['incident', 'add', '--home', home, '--severity', 'critical', '--title', 'gateway drops streams'])
    expect(added.exitCode).to.equal(0)
    ;({code, doc} = await gonogo())
    expect(code).to.equal(1)
    expect(criterion(doc, 'zero-critical-bugs')).to.include({outcome: 'fail', value: 1})
    expect(doc.next.join('\n')).to.contain('cutover incident resolve 1')
  })

  it('NO-GO on uptime when the daemon stops during monitoring; ERROR (exit 4) when the gateway is down; the monitor ends with exit 1', async () => {
    await stopDaemon(home)
    const stoppedAt = Date.now()
    await waitFor(() => withStore((s) => s.countSamples({source: 'health', from: stoppedAt}) >= 4), 'down samples', 30_000, 250)
    const {code, doc} = await gonogo()
    expect(code).to.equal(1)
    const uptime = criterion(doc, 'uptime')
    expect(uptime.outcome).to.equal('fail')
    expect(uptime.value).to.be.below(99.9)
    expect(criterion(doc, 'error-rate').outcome).to.equal('error')

    const junit = path.join(dir, 'down.xml')
    const down = await gonogo(['--from', '2', '--to', '3', '--junit', junit])
    expect(down.code).to.equal(4)
    expect(down.doc.verdict).to.equal('ERROR')
    for (const id of ['error-rate-2', 'latency-2']) {
      const c = criterion(down.doc, id)
      expect(c.outcome).to.equal('error')
      expect(c.error).to.match(/PID file|not running|cannot reach|daemon\.pid/i)
    }
    expect(down.doc.next.join('\n')).to.contain('cutover daemon status')
    const xml = fs.readFileSync(junit, 'utf8')
    expect(/<testsuite [^>]*errors="(\d+)"/.exec(xml)?.[1]).to.equal('2')
    expect(xml).to.contain('<error message=')

    monitor!.kill('SIGINT')
    const ended = await monitor!
    expect(ended.exitCode, ended.stderr).to.equal(1)
    const summary = JSON.parse(ended.stdout) as MonitorResult
    expect(summary.stoppedBy).to.equal('signal')
    expect(summary.down).to.be.at.least(4)
    expect(summary.lastHealth?.status).to.equal('down')
  })
})
