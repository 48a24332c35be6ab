import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {findDaemonPids, http, isAlive, readLog, readPid, runCco, startDaemonIn, TempHomes, waitFor} from '../helpers/cco.js'

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}).version

/** A pid that certainly is not running: a child that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
  return Number(child.stdout)
}

describe('cco daemon lifecycle', function () {
  this.timeout(60_000)
  const homes = new TempHomes()
  afterEach(() => homes.cleanup())

  it('start / status / second start / stop, with a well-formed PID file', async () => {
    const home = homes.make()
    const {pid, result} = await startDaemonIn(home)
    expect(result.stdout).to.contain(`✅ Daemon started (pid ${pid})`)

    const pidText = readFileSync(join(home, 'daemon.pid'), 'utf8')
    expect(pidText).to.contain('\n  "pid"') // pretty JSON
    const content = JSON.parse(pidText) as Record<string, unknown>
    expect(Object.keys(content)).to.deep.equal(['pid', 'started_at', 'port', 'gateway_port', 'version'])
    expect(content.pid).to.be.a('number')
    expect(isAlive(pid)).to.equal(true)
    expect(content.started_at).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
    expect(content.port).to.be.a('number')
    expect(content.gateway_port).to.be.a('number')
    expect(content.version).to.equal(VERSION)
    expect(statSync(join(home, 'daemon.pid')).mode & 0o777).to.equal(0o600)
    expect(statSync(join(home, 'daemon.log')).mode & 0o777).to.equal(0o600)

    const status = await runCco(['daemon', 'status', '--json'], {home})
    expect(status.code).to.equal(0)
    const body = JSON.parse(status.stdout) as Record<string, unknown>
    expect(body).to.include({running: true, pid, port: content.port, gateway_port: content.gateway_port, state: 'running', version: VERSION})
    expect(body.flags).to.deep.equal({gatewayEnabled: true, proxyEnabled: false})
    expect(body.gateway).to.deep.equal({state: 'running'})

    const human = await runCco(['daemon', 'status'], {home})
    expect(human.code).to.equal(0)
    expect(human.stdout).to.contain('Daemon is running').and.contain(`PID:      ${pid}`)

    const again = await runCco(['daemon', 'start'], {home})
    expect(again.code).to.equal(0)
    expect(again.stdout).to.contain(`already running (pid ${pid})`)
    expect(findDaemonPids(home)).to.deep.equal([pid])

    const stop = await runCco(['daemon', 'stop'], {home})
    expect(stop.code).to.equal(0)
    expect(stop.stdout).to.contain(`✅ Daemon stopped (pid ${pid})`)
    expect(existsSync(join(home, 'daemon.pid'))).to.equal(false)
    expect(isAlive(pid)).to.equal(false)
    expect(findDaemonPids(home)).to.deep.equal([])
    expect(readLog(home)).to.match(/Daemon stopped \(pid \d+\)/)

    const after = await runCco(['daemon', 'status'], {home})
    expect(after.code).to.equal(3)
    expect(after.stdout).to.contain('not running').and.contain('PID file not found')

    const stopAgain = await runCco(['daemon', 'stop'], {home})
    expect(stopAgain.code).to.equal(0)
    expect(stopAgain.stdout).to.contain('not running')
  })

  it('the daemon control endpoint serves /daemon/status and 404s elsewhere', async () => {
    const home = homes.make()
    const {pid, port} = await startDaemonIn(home)
    const res = await http(`http://127.0.0.1:${port}/daemon/status`)
    expect(res.status).to.equal(200)
    expect(res.json).to.include({pid, port})
    expect((res.json as {uptime_seconds: number}).uptime_seconds).to.be.a('number')
    expect((await http(`http://127.0.0.1:${port}/nope`)).status).to.equal(404)
    expect((await http(`http://127.0.0.1:${port}/daemon/status`, {method: 'POST'})).status).to.equal(405)
  })

  it('restart replaces the daemon and keeps the previous PID file as daemon.pid.bak', async () => {
    const home = homes.make()
    const first = await startDaemonIn(home)
    const restart = await runCco(['daemon', 'restart'], {home})
    expect(restart.code, restart.stderr).to.equal(0)
    expect(restart.stdout).to.contain(`Daemon stopped (pid ${first.pid})`).and.contain('✅ Daemon started')
    const second = readPid(home)
    expect(second.pid).to.not.equal(first.pid)
    expect(isAlive(first.pid)).to.equal(false)
    expect(findDaemonPids(home)).to.deep.equal([second.pid])
    // The backup holds the previous write of the new daemon's file (before the gateway port was added).
    const backup = JSON.parse(readFileSync(join(home, 'daemon.pid.bak'), 'utf8')) as Record<string, unknown>
    expect(backup).to.include({pid: second.pid, gateway_port: null})
  })

  it('start cleans a stale PID file whose pid is dead', async () => {
    const home = homes.make()
    const pid = deadPid()
    writeFileSync(join(home, 'daemon.pid'), JSON.stringify({pid, started_at: '2025-12-02T10:00:00Z', port: 1, gateway_port: 2, version: 'old'}))
    const status = await runCco(['daemon', 'status'], {home})
    expect(status.code).to.equal(3)
    expect(status.stdout).to.contain(`pid ${pid}`).and.contain('stale')

    const start = await runCco(['daemon', 'start'], {home})
    expect(start.code, start.stderr).to.equal(0)
    expect(start.stdout).to.contain('Removed stale PID file')
    expect(readPid(home).pid).to.not.equal(pid)
    expect(findDaemonPids(home)).to.have.length(1)
  })

  it('a PID file naming a live process that is not the daemon is stale (pid reuse), and that process is left alone', async () => {
    const home = homes.make()
    writeFileSync(join(home, 'daemon.pid'), JSON.stringify({pid: process.pid, started_at: '2025-12-02T10:00:00Z', port: 1, gateway_port: null, version: 'old'}))
    const start = await runCco(['daemon', 'start'], {home})
    expect(start.code, start.stderr).to.equal(0)
    expect(start.stdout).to.contain('not this home').and.contain('Removed stale PID file')
    expect(readPid(home).pid).to.not.equal(process.pid)
  })

  it('a corrupted PID file gives a clear error and is never lost', async () => {
    const home = homes.make()
    const garbage = '{"pid": 12, "started_at": '
    writeFileSync(join(home, 'daemon.pid'), garbage)

    const status = await runCco(['daemon', 'status'], {home})
    expect(status.code).to.equal(3)
    expect(status.stdout).to.contain(`PID file ${join(home, 'daemon.pid')} is not valid JSON`).and.contain('Try: cco daemon restart')

    const stop = await runCco(['daemon', 'stop'], {home})
    expect(stop.code).to.equal(0)
    expect(readFileSync(join(home, 'daemon.pid'), 'utf8')).to.equal(garbage)

    const start = await runCco(['daemon', 'start'], {home})
    expect(start.code, start.stderr).to.equal(0)
    expect(start.stderr).to.contain('not valid JSON').and.contain('daemon.pid.corrupt')
    expect(readFileSync(join(home, 'daemon.pid.corrupt'), 'utf8')).to.equal(garbage)
    expect(findDaemonPids(home)).to.have.length(1)
  })

  it('a PID file with a wrong type names the field', async () => {
    const home = homes.make()
    writeFileSync(join(home, 'daemon.pid'), JSON.stringify({pid: 5, started_at: '2025-12-02T10:00:00Z', port: 1, gateway_port: 'abc', version: 'x'}))
    const status = await runCco(['daemon', 'status'], {home})
    expect(status.code).to.equal(3)
    expect(status.stdout).to.contain('field "gateway_port" must be a port number or null, got string "abc"').and.contain('Try: cco daemon restart')
  })

  it('concurrent starts leave exactly one daemon', async () => {
    const home = homes.make()
    const results = await Promise.all([1, 2, 3, 4].map(() => runCco(['daemon', 'start'], {home})))
    for (const r of results) expect(r.code, r.stderr).to.equal(0)
    expect(results.filter((r) => r.stdout.includes('✅ Daemon started'))).to.have.length(1)
    expect(results.filter((r) => r.stdout.includes('already running'))).to.have.length(3)
    const pids = findDaemonPids(home)
    expect(pids).to.have.length(1)
    expect(readPid(home).pid).to.equal(pids[0])
    expect(existsSync(join(home, 'daemon.pid.lock'))).to.equal(false)
  })

  it('a daemon killed with SIGKILL is replaced by the next start', async () => {
    const home = homes.make()
    const {pid} = await startDaemonIn(home)
    process.kill(pid, 'SIGKILL')
    await waitFor(() => !isAlive(pid), 'the killed daemon to die')
    const status = await runCco(['daemon', 'status'], {home})
    expect(status.code).to.equal(3)
    const second = await startDaemonIn(home)
    expect(second.pid).to.not.equal(pid)
    expect(second.result.stdout).to.contain('Removed stale PID file')
    const health = await http(`http://127.0.0.1:${second.gateway_port}/gateway/health`)
    expect(health.status).to.equal(200)
  })

  it('stop escalates to SIGKILL when the daemon does not exit after SIGTERM', async () => {
    const home = homes.make()
    const {pid} = await startDaemonIn(home)
    process.kill(pid, 'SIGSTOP') // a stopped process keeps SIGTERM pending and does not answer its control port
    const stop = await runCco(['daemon', 'stop'], {home, env: {CCO_DAEMON_STOP_GRACE_MS: '500'}})
    expect(stop.code, stop.stderr).to.equal(0)
    expect(stop.stderr).to.contain('does not answer').and.contain('sending SIGKILL')
    expect(stop.stdout).to.contain('after SIGKILL')
    expect(isAlive(pid)).to.equal(false)
    expect(existsSync(join(home, 'daemon.pid'))).to.equal(false)
  })

  it('a lock held by a live process makes start wait and then fail clearly; a stale lock is broken', async () => {
    const home = homes.make()
    writeFileSync(join(home, 'daemon.pid.lock'), `${process.pid}\n`)
    const blocked = await runCco(['daemon', 'start'], {home, env: {CCO_DAEMON_LOCK_TIMEOUT_MS: '700'}})
    expect(blocked.code).to.equal(1)
    expect(blocked.stderr).to.contain(`(pid ${process.pid}) holds the lock`)
    expect(findDaemonPids(home)).to.deep.equal([])

    writeFileSync(join(home, 'daemon.pid.lock'), `${deadPid()}\n`)
    const start = await runCco(['daemon', 'start'], {home})
    expect(start.code, start.stderr).to.equal(0)
    expect(existsSync(join(home, 'daemon.pid.lock'))).to.equal(false)
  })

  it('a daemon that dies during start-up makes start fail with the last log lines', async () => {
    const home = homes.make()
    mkdirSync(join(home, 'daemon.pid')) // the daemon cannot write its PID file
    const start = await runCco(['daemon', 'start'], {home})
    expect(start.code).to.equal(1)
    expect(start.stderr).to.contain('exited during start-up').and.contain('Last lines of').and.contain(`Cannot write the PID file ${join(home, 'daemon.pid')}`)
    expect(findDaemonPids(home)).to.deep.equal([])
  })

  it('a foreground `daemon run` refuses to start next to a running daemon', async () => {
    const home = homes.make()
    const {pid} = await startDaemonIn(home)
    const run = await runCco(['daemon', 'run'], {home})
    expect(run.code).to.equal(1)
    expect(run.stderr).to.contain(`Another cco daemon is already running (pid ${pid}`)
    expect(findDaemonPids(home)).to.deep.equal([pid])
    expect(readPid(home).pid).to.equal(pid)
  })

  it('CCO_HOME is created with mode 0700', async () => {
    const parent = homes.make()
    const home = join(parent, 'nested', 'home')
    await startDaemonIn(home)
    expect(statSync(home).mode & 0o777).to.equal(0o700)
    expect((await runCco(['daemon', 'stop'], {home})).code).to.equal(0)
  })
})

describe('cco command line', function () {
  this.timeout(30_000)
  const homes = new TempHomes()
  afterEach(() => homes.cleanup())

  it('prints the version and usage; unknown commands and flags are usage errors (exit 2)', async () => {
    const home = homes.make()
    const version = await runCco(['--version'], {home})
    expect(version.code).to.equal(0)
    expect(version.stdout.trim()).to.equal(`cco ${VERSION}`)
    const help = await runCco(['help'], {home})
    expect(help.code).to.equal(0)
    expect(help.stdout).to.contain('cco daemon start')
    for (const args of [['frobnicate'], ['--nope'], ['daemon'], ['daemon', 'explode'], ['daemon', 'start', '--force'], ['launch', '--weird']]) {
      const r = await runCco(args, {home})
      expect(r.code, args.join(' ')).to.equal(2)
      expect(r.stderr).to.contain('Usage:')
    }
  })
})
