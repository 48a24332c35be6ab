import {expect} from 'chai'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import fs from 'node:fs'
import path from 'node:path'

import {pinBaseline} from '../../src/lib/gate/baseline.js'
import {loadPlaybook} from '../../src/lib/playbook/index.js'
import type {WatchResult} from '../../src/lib/rollback/index.js'
import {defaultStatePath, StateStore} from '../../src/lib/state/store.js'
import {bundledTargetSpec} from '../../src/lib/target/spec.js'
import {Target} from '../../src/lib/target/target.js'
import {built, cutover, FIXTURES, makeHome, type Mock, parseJson, readFlags, readPid, sendMessages, startMock, stopDaemon, waitUntil, withState} from '../fixtures/apply/harness.js'
import {cleanupTempDirs} from '../helpers/tmp.js'

const PLAYBOOK = path.join(FIXTURES, 'watch.yaml')

/** A webhook receiver on loopback that keeps every JSON body. */
async function startWebhook(): Promise<{url: string; bodies: Record<string, unknown>[]; close(): Promise<void>}> {
  const bodies: Record<string, unknown>[] = []
  const server = http.createServer((req, res) => {
    let text = ''
    req.on('data', (c: Buffer) => (text += c.toString('utf8')))
    req.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>)
      res.writeHead(204)
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, close: () => new Promise((resolve) => server.close(() => resolve()))}
}

async function gatewayTotals(gatewayUrl: string): Promise<{total: number; streaming: number}> {
  const res = await fetch(`${gatewayUrl}/gateway/metrics?window=15m`)
  const body = (await res.json()) as {summary: {total_requests: number; streaming_requests: number}}
  return {total: body.summary.total_requests, streaming: body.summary.streaming_requests}
}

describe('e2e: cutover watch (rollback triggers against the reference daemon and the mock provider)', function () {
  this.timeout(180_000)
  let mock: Mock
  let hook: Awaited<ReturnType<typeof startWebhook>>
  const homes: string[] = []

  before(async function () {
    if (!built()) this.skip()
    mock = await startMock()
    hook = await startWebhook()
  })

  afterEach(async () => {
    await mock?.setFaults({})
    hook.bodies.length = 0
  })

  after(async () => {
    for (const home of homes) await stopDaemon(home)
    await mock?.stop()
    await hook?.close()
    cleanupTempDirs()
  })

  async function phase2Home(edit?: (config: {llmGateway: Record<string, unknown>}) => void): Promise<{home: string; gatewayUrl: string}> {
    const home = makeHome(mock.url, {gatewayEnabled: true, proxyEnabled: false})
    homes.push(home)
    if (edit) {
      const file = path.join(home, 'orchestra-config.json')
      const config = JSON.parse(fs.readFileSync(file, 'utf8')) as {llmGateway: Record<string, unknown>}
      edit(config)
      fs.writeFileSync(file, JSON.stringify(config))
    }
    const start = await cutover(['daemon', 'start', '--home', home])
    expect(start.exitCode, start.stderr).to.equal(0)
    return {home, gatewayUrl: `http://127.0.0.1:${readPid(home).gateway_port}`}
  }

  it('streaming failures over 10% (mock cuts streams after 2 events): the rollback fires with --auto-rollback, notified and recorded', async () => {
    const {home, gatewayUrl} = await phase2Home()
    await sendMessages(gatewayUrl, 4, true)
    await mock.setFaults({cutStreamAfterEvents: 2})
    await sendMessages(gatewayUrl, 6, true)
    await waitUntil(async () => (await gatewayTotals(gatewayUrl)).streaming >= 10, 'the gateway to count 10 streamed requests')

    const run = await cutover(['watch', '--once', '--auto-rollback', '--notify', hook.url, '--playbook', PLAYBOOK, '--home', home, '--json'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(1)
    const result = parseJson<WatchResult>(run)
    const streaming = result.ticks[0]!.triggers.find((t) => t.id === 'streaming-failures')!
    expect(streaming.decision).to.equal('rollback')
    expect(streaming.value).to.be.greaterThan(10)
    expect(result.ticks[0]!.triggers.find((t) => t.id === 'latency-degradation')!.decision).to.equal('none')
    expect(result.stoppedBecause).to.equal('rollback')
    expect(result.rollback?.outcome).to.equal('success')
    expect(result.rollback?.withinObjective).to.equal(true)
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: false, proxyEnabled: true})
    expect(readPid(home).proxy_port).to.be.a('number')
    expect((await new Target(bundledTargetSpec(home)).launcherProbe()).mode).to.equal('proxy')

    const alert = hook.bodies.find((b) => b.criterion === 'streaming-failures')!
    expect(alert).to.include({decision: 'rollback', band: 'rollback', threshold: 10})
    expect(alert.value).to.equal(streaming.value)
    expect(hook.bodies.find((b) => b.decision === 'rollback_performed')).to.include({band: 'rollback'})
    withState(home, (state) => {
      const rec = state.latestRollback('flag')!
      expect(rec.outcome).to.equal('success')
      expect(JSON.stringify(rec.detail)).to.contain('streaming-failures')
      expect(state.listTrail({kind: 'trigger'}).map((t) => (t.payload as {criterion: string}).criterion)).to.deep.equal(['streaming-failures'])
    })
  })

  it('latency about 37% above the pinned baseline: an alert (terminal and webhook), no rollback, exit 0', async () => {
    const {home, gatewayUrl} = await phase2Home()
    await mock.setFaults({latencyMs: 200})
    await sendMessages(gatewayUrl, 8, false)
    await waitUntil(async () => (await gatewayTotals(gatewayUrl)).total >= 8, 'the gateway to count the baseline requests')
    const state = StateStore.open(defaultStatePath(home))
    try {
      const pinned = await pinBaseline({state, target: new Target(bundledTargetSpec(home)), playbook: await loadPlaybook(PLAYBOOK), phase: 1})
      expect(pinned.pinned.map((p) => p.key)).to.deep.equal(['gateway:latency_ms:avg'])
      expect(pinned.pinned[0]!.value).to.be.within(200, 275)
    } finally {
      state.close()
    }
    // From here on the gateway's metrics count only the degraded traffic.
    expect((await fetch(`${gatewayUrl}/gateway/metrics/reset`, {method: 'POST'})).status).to.equal(200)
    // 275 ms is the middle of the alert band (25-50% above 200 ms): overheads a loaded machine adds to both sides keep it there.
    await mock.setFaults({latencyMs: 275})
    await sendMessages(gatewayUrl, 8, false)
    await waitUntil(async () => (await gatewayTotals(gatewayUrl)).total >= 8, 'the gateway to count the degraded requests')

    const pidBefore = readPid(home).pid
    const run = await cutover(['watch', '--once', '--auto-rollback', '--notify', hook.url, '--playbook', PLAYBOOK, '--home', home, '--json'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(0)
    const result = parseJson<WatchResult>(run)
    const latency = result.ticks[0]!.triggers.find((t) => t.id === 'latency-degradation')!
    expect(latency.decision).to.equal('alert')
    expect(latency.degradationPct).to.be.within(25, 50)
    expect(result.rollback).to.equal(null)
    expect(result.rollbackRecommended).to.equal(false)
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: true, proxyEnabled: false})
    expect(readPid(home).pid).to.equal(pidBefore)
    expect(hook.bodies).to.have.length(1)
    expect(hook.bodies[0]).to.include({criterion: 'latency-degradation', decision: 'alert', band: 'alert', threshold: 50})
    withState(home, (s) => expect(s.listRollbacks()).to.have.length(0))

    const human = await cutover(['watch', '--once', '--playbook', PLAYBOOK, '--home', home])
    expect(human.exitCode).to.equal(0)
    expect(human.stdout).to.match(/ALERT latency-degradation: .*degradation -> alert/)
    // The measured values in their own unit (ms), the degradation in percent after them.
    expect(human.stdout, human.stdout).to.match(/ALERT latency-degradation: \d+(\.\d+)? ms vs baseline \d+(\.\d+)? ms = \+\d+(\.\d+)?% degradation -> alert/)
    expect(latency.reason).to.not.match(/\d%? vs baseline \d+(\.\d+)?%/)
  })

  it('the daemon down and Prometheus unreachable: watch --once with the bundled playbook exits 4 (could not evaluate), never 0', async () => {
    const home = makeHome(mock.url)
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const run = await cutover(['watch', '--once', '--home', home, '--prometheus-url', `http://127.0.0.1:${port}`, '--json'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(4)
    const result = parseJson<WatchResult>(run)
    expect(result.unevaluated.map((u) => u.id)).to.include.members(['gateway-start-failures', 'streaming-failures', 'cost-tracking-incorrect', 'latency-degradation', 'throughput-degradation'])
    expect(result.message).to.match(/^could not evaluate/)
    const human = await cutover(['watch', '--once', '--home', home])
    expect(human.exitCode).to.equal(4)
    expect(human.stderr).to.match(/CANNOT EVALUATE gateway-start-failures: .*--prometheus-url/)
    expect(human.stdout).to.match(/^ {2}error +streaming-failures/m)
    expect(`${human.stdout}${human.stderr}`).to.not.contain('no rollback needed')
  })

  it('cost tracking shows incorrect data (a model priced at $0 by a wrong override): the source "check" trigger runs cost.records_request and recommends the rollback', async () => {
    const {home} = await phase2Home((config) => {
      config.llmGateway.costTracking = {pricingOverrides: {'claude-zero-rated-7': {inputPerMillion: 0, outputPerMillion: 0}}}
    })
    // The mock provider wants a key, as the probe of phase validate sends it (params.api_key_env).
    const run = await cutover(['watch', '--once', '--playbook', path.join(FIXTURES, 'watch-cost.yaml'), '--home', home, '--json'], {env: {ANTHROPIC_API_KEY: 'test-probe-key'}})
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(1)
    const result = parseJson<WatchResult>(run)
    const [ok, incorrect] = result.ticks[0]!.triggers
    expect(ok).to.deep.include({id: 'cost-tracking-priced', status: 'evaluated', decision: 'none', value: 0})
    expect(ok!.check).to.deep.include({id: 'cost.records_request', outcome: 'pass'})
    expect(incorrect).to.deep.include({id: 'cost-tracking-incorrect', status: 'evaluated', decision: 'rollback', value: 1})
    expect(incorrect!.check).to.deep.include({id: 'cost.records_request', outcome: 'fail'})
    expect(result.rollbackRecommended).to.equal(true)
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: true, proxyEnabled: false})
  })

  it('without --auto-rollback a rollback decision is only recommended (exit 1, nothing changed)', async () => {
    const {home, gatewayUrl} = await phase2Home()
    await mock.setFaults({cutStreamAfterEvents: 2})
    await sendMessages(gatewayUrl, 6, true)
    await waitUntil(async () => (await gatewayTotals(gatewayUrl)).streaming >= 6, 'the gateway to count the streamed requests')
    const run = await cutover(['watch', '--once', '--playbook', PLAYBOOK, '--home', home])
    expect(run.exitCode).to.equal(1)
    expect(run.stderr).to.match(/ROLLBACK streaming-failures: .*rollback recommended: run cutover rollback --flag/)
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: true, proxyEnabled: false})
  })
})
