import {expect} from 'chai'
import {execa} from 'execa'
import fs from 'node:fs'
import path from 'node:path'

import {isPidAlive} from '../../src/lib/target/files.js'
import type {DaemonActionResult, DaemonStatusResult} from '../../src/lib/target/daemon-ops.js'
import {bundledTargetSpec} from '../../src/lib/target/spec.js'
import {Target} from '../../src/lib/target/target.js'
import {REPO_ROOT} from '../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../helpers/tmp.js'

const RUN = path.join(REPO_ROOT, 'bin', 'run.js')

/** Run the built CLI as an operator would, without inheriting a CCO_HOME. */
async function cutover(args: string[]) {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && key !== 'CCO_HOME' && key !== 'NODE_ENV') env[key] = value
  return execa(process.execPath, [RUN, ...args], {env, extendEnv: false, reject: false, timeout: 90_000})
}

describe('e2e: cutover daemon against the bundled reference daemon (bin/run.js -> bin/cco)', function () {
  this.timeout(120_000)
  let home: string

  before(function () {
    if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'commands', 'daemon', 'start.js')) || !fs.existsSync(path.join(REPO_ROOT, 'gateway', 'dist', 'cli.js'))) {
      // Only when nothing is built (npm test always builds first).
      this.skip()
    }
    const manifest = path.join(REPO_ROOT, 'oclif.manifest.json')
    if (fs.existsSync(manifest)) {
      const commands = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as {commands: Record<string, unknown>}).commands
      if (!commands['daemon:start']) throw new Error(`${manifest} is stale (no daemon:start): run npm run build`)
    }
    home = makeTempDir('cutover-e2e-home-')
  })

  after(async () => {
    if (!home) return
    // Never leave a daemon behind, even when a test failed half-way.
    const pidFile = path.join(home, 'daemon.pid')
    if (fs.existsSync(pidFile)) {
      await cutover(['daemon', 'stop', '--home', home])
      try {
        const {pid} = JSON.parse(fs.readFileSync(pidFile, 'utf8')) as {pid: number}
        if (isPidAlive(pid)) process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    cleanupTempDirs()
  })

  it('start --json: exit 0, the PID file carries gateway_port', async () => {
    const run = await cutover(['daemon', 'start', '--home', home, '--json'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(0)
    const result = JSON.parse(run.stdout) as DaemonActionResult
    expect(result.ok).to.equal(true)
    expect(result.target.home).to.equal(home)
    expect(result.pidFile?.gateway_port).to.be.a('number')
    expect(fs.existsSync(path.join(home, 'cutover', 'state.db'))).to.equal(true)
  })

  it('status --json: running, gateway_port, gateway answering, control port answering', async () => {
    const run = await cutover(['daemon', 'status', '--home', home, '--json'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(0)
    const status = JSON.parse(run.stdout) as DaemonStatusResult
    expect(status.running).to.equal(true)
    expect(status.gateway_port).to.be.a('number')
    expect(status.proxy_port).to.equal(null)
    expect(status.control.reachable).to.equal(true)
    expect(['healthy', 'degraded', 'unhealthy']).to.include(status.gateway.state)
    expect(status.flags).to.deep.equal({gatewayEnabled: true, proxyEnabled: false, fromFile: false})
  })

  it('the Target library sees the same daemon: health, providers, launcher in gateway mode', async () => {
    const target = new Target(bundledTargetSpec(home))
    const pid = target.readPidFile()
    const health = await target.gateway.health()
    expect(['healthy', 'degraded', 'unhealthy']).to.include(health.body.status)
    expect((await target.gateway.providers()).body.providers).to.be.an('array')
    const probe = await target.launcherProbe()
    expect(probe.mode, probe.output).to.equal('gateway')
    expect(probe.url).to.equal(`http://127.0.0.1:${pid.gateway_port}`)
  })

  it('restart: a new daemon process', async () => {
    const before = new Target(bundledTargetSpec(home)).readPidFile()
    const run = await cutover(['daemon', 'restart', '--home', home, '--json'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(0)
    const result = JSON.parse(run.stdout) as DaemonActionResult
    expect(result.pidFile?.pid).to.be.a('number').and.not.equal(before.pid)
    expect(isPidAlive(before.pid)).to.equal(false)
  })

  it('stop: exit 0, then status exits 1 and no daemon process is left', async () => {
    const pid = new Target(bundledTargetSpec(home)).readPidFile().pid
    const stop = await cutover(['daemon', 'stop', '--home', home])
    expect(stop.exitCode, `${stop.stdout}\n${stop.stderr}`).to.equal(0)
    expect(isPidAlive(pid)).to.equal(false)
    const status = await cutover(['daemon', 'status', '--home', home, '--json'])
    expect(status.exitCode).to.equal(1)
    const doc = JSON.parse(status.stdout) as DaemonStatusResult
    expect(doc.running).to.equal(false)
    expect(doc.pid_file.problem).to.equal('missing')
  })
})
