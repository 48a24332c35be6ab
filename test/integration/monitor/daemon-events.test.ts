/**
 * #11.4 against the real reference daemon: the monitor records a kill -9 as a critical incident
 * (once, not again when the daemon comes back), a restart outside cutover as a major one, and
 * nothing for a restart cutover itself performed.
 */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'

import {runMonitor} from '../../../src/lib/monitor/monitor.js'
import {performDaemonAction} from '../../../src/lib/target/daemon-ops.js'
import {cleanupTempDirs} from '../../helpers/tmp.js'
import {CCO, DaemonHome, daemonBuilt, MockUpstream} from '../../helpers/checks.js'

const INTERVAL = 200

/** Run the monitor until `until` resolves, plus two more intervals so it sees the end state. */
async function monitorWhile(h: DaemonHome, action: () => Promise<void>) {
  const controller = new AbortController()
  const running = runMonitor(h.target, h.state, {intervalMs: INTERVAL, probeEvery: 0, signal: controller.signal})
  await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL))
  await action()
  await new Promise((resolve) => setTimeout(resolve, 4 * INTERVAL))
  controller.abort()
  return running
}

describe('monitor records crashes and unplanned restarts as incidents (real daemon)', function () {
  this.timeout(60_000)
  let mock: MockUpstream
  let h: DaemonHome

  before(async function () {
    if (!daemonBuilt()) this.skip()
    mock = await MockUpstream.start()
    h = new DaemonHome(mock.url)
    await h.start()
  })

  after(async () => {
    await h?.dispose()
    await mock?.stop()
    cleanupTempDirs()
  })

  it('a restart through cutover (daemon restart, trail-recorded) is no incident', async () => {
    const summary = await monitorWhile(h, async () => {
      expect((await performDaemonAction(h.target, h.state, 'restart')).ok).to.equal(true)
    })
    expect(summary.incidents).to.deep.equal([])
    expect(h.state.listIncidents()).to.deep.equal([])
  })

  it('kill -9 is one critical incident, though the daemon is started again (by cutover) while the monitor runs', async () => {
    const pid = h.target.readPidFile().pid
    const summary = await monitorWhile(h, async () => {
      process.kill(pid, 'SIGKILL')
      await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL))
      expect((await performDaemonAction(h.target, h.state, 'start')).ok).to.equal(true)
    })
    expect(summary.incidents.map((i) => [i.severity, i.title])).to.deep.equal([['critical', `cco daemon crashed: pid ${pid} died without shutting down`]])
    const [incident] = h.state.listIncidents({severity: 'critical'})
    expect(incident!.author).to.equal('cutover monitor')
    expect(incident!.detail).to.contain(`pid ${pid}`)
  })

  it('a restart outside cutover (cco daemon restart by hand) is a major incident; a later monitor run does not record it again', async () => {
    const pid = h.target.readPidFile().pid
    const before = h.state.listIncidents().length
    const summary = await monitorWhile(h, async () => {
      execFileSync(CCO, ['daemon', 'restart'], {env: {...process.env, CCO_HOME: h.home}, stdio: 'ignore'})
    })
    expect(summary.incidents.map((i) => [i.severity, i.title])).to.deep.equal([['major', `cco daemon restarted outside cutover (pid ${pid})`]])
    const again = await runMonitor(h.target, h.state, {intervalMs: INTERVAL, probeEvery: 0, once: true})
    expect(again.incidents).to.deep.equal([])
    expect(h.state.listIncidents()).to.have.length(before + 1)
  })
})
