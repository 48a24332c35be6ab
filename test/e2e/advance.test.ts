import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import type {AdvanceParams, AdvanceResult} from '../../src/lib/apply/index.js'
import {tcpConnects} from '../../src/lib/apply/wait.js'
import {isPidAlive} from '../../src/lib/target/files.js'
import {built, cutover, FIXTURES, makeHome, type Mock, parseJson, readFlags, readPid, spawnCutover, startMock, stopDaemon, waitUntil, withState} from '../fixtures/apply/harness.js'
import {cleanupTempDirs, makeTempDir} from '../helpers/tmp.js'

const playbook = (name: string) => path.join(FIXTURES, name)

describe('e2e: cutover phase advance (bin/run.js, reference daemon, mock provider)', function () {
  this.timeout(180_000)
  let mock: Mock
  const homes: string[] = []

  before(async function () {
    if (!built()) this.skip()
    mock = await startMock()
  })

  after(async () => {
    for (const home of homes) await stopDaemon(home)
    await mock?.stop()
    cleanupTempDirs()
  })

  async function phase1Home(): Promise<string> {
    const home = makeHome(mock.url)
    homes.push(home)
    const start = await cutover(['daemon', 'start', '--home', home])
    expect(start.exitCode, start.stderr).to.equal(0)
    expect(readPid(home).proxy_port, 'phase 1 runs the proxy').to.be.a('number')
    return home
  }

  it('--dry-run shows every step, the flag change and the validation, and changes nothing', async () => {
    const home = await phase1Home()
    const pidBefore = readPid(home)
    const run = await cutover(['phase', 'advance', '--dry-run', '--playbook', playbook('advance.yaml'), '--home', home, '--json'])
    expect(run.exitCode, run.stderr).to.equal(0)
    const result = parseJson<AdvanceResult>(run)
    expect(result.action).to.equal('dry_run')
    expect(result.plan!.map((s) => s.id)).to.deep.equal(['set-flags', 'restart-daemon', 'validate'])
    expect(result.plan![0]!.diff).to.deep.equal(['proxyEnabled: true -> false'])
    expect(result.plan![2]!.summary).to.contain('proxy.not_listening')
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})
    expect(readPid(home)).to.deep.equal(pidBefore)
    withState(home, (state) => {
      expect(state.listOperations()).to.have.length(0)
      expect(state.getPhase()).to.equal(null)
    })
  })

  it('1 -> 2: GO, flags written, daemon restarted without the proxy, validation passes, phase 2 recorded', async () => {
    const home = await phase1Home()
    const before = readPid(home)
    const run = await cutover(['phase', 'advance', '--playbook', playbook('advance.yaml'), '--home', home, '--json'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(0)
    const result = parseJson<AdvanceResult>(run)
    expect(result.action).to.equal('advanced')
    expect(result.gate?.verdict).to.equal('GO')
    expect(result.steps.map((s) => [s.id, s.state])).to.deep.equal([['set-flags', 'done'], ['restart-daemon', 'done'], ['validate', 'done']])
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: true, proxyEnabled: false})
    const after = readPid(home)
    expect(after.pid).to.not.equal(before.pid)
    expect(isPidAlive(before.pid)).to.equal(false)
    expect(after.proxy_port).to.equal(undefined)
    expect(after.gateway_port).to.be.a('number')
    withState(home, (state) => {
      expect(state.getPhase()?.phase).to.equal(2)
      const op = state.listOperations({kind: 'advance'})[0]!
      expect(op.state).to.equal('done')
      // Each step was journaled before it ran and marked after: begin precedes done in the trail.
      const trail = state.listTrail().filter((t) => (t.payload as {operation_id?: string}).operation_id === op.id).map((t) => `${t.kind}:${(t.payload as {step?: number}).step ?? ''}`)
      // The restart ran inside a planned maintenance window, closed once the daemon answered (plus the grace).
      expect(trail).to.deep.equal(['operation.begin:', 'step.begin:0', 'step.done:0', 'step.begin:1', 'maintenance.begin:', 'maintenance.end:', 'step.done:1', 'step.begin:2', 'step.done:2', 'operation.done:'])
      const windows = state.listMaintenance()
      expect(windows.map((w) => [w.kind, w.planned, w.operationId, w.unterminated])).to.deep.equal([['advance-step', true, op.id, false]])
      expect(windows[0]!.detail).to.deep.include({outcome: 'verified_up'})
      expect(state.verifyTrail().ok).to.equal(true)
    })
    // The next advance has no gate 2 -> 3 in this playbook: a usage error, nothing changes.
    const again = await cutover(['phase', 'advance', '--playbook', playbook('advance.yaml'), '--home', home])
    expect(again.exitCode).to.equal(2)
    expect(again.stderr).to.match(/no phase 3/)
  })

  it('a validation failure after the restart rolls back automatically: flags restored, proxy back, phase unchanged, exit 1 with the reason', async () => {
    const home = await phase1Home()
    const run = await cutover(['phase', 'advance', '--playbook', playbook('advance-failing.yaml'), '--home', home, '--json'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(1)
    const result = parseJson<AdvanceResult>(run)
    expect(result.action).to.equal('rolled_back')
    expect(result.failure?.step).to.equal('validate')
    expect(result.failure?.error).to.match(/proxy\.listening/)
    expect(result.message).to.match(/rolled back automatically/)
    expect(result.compensation?.ok).to.equal(true)
    expect(result.compensation?.actions.map((a) => a.action)).to.include.members(['undo set_flags', 'daemon restart'])
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})
    const pid = readPid(home)
    expect(isPidAlive(pid.pid)).to.equal(true)
    expect(pid.proxy_port).to.be.a('number')
    expect(await tcpConnects(pid.proxy_port!)).to.equal(true)
    withState(home, (state) => {
      expect(state.getPhase()).to.equal(null)
      expect(state.pendingOperation()).to.equal(null)
      const op = state.listOperations({kind: 'advance'})[0]!
      expect(op.state).to.equal('rolled_back')
      expect(state.operationSteps(op.id).map((s) => s.state)).to.deep.equal(['rolled_back', 'rolled_back', 'rolled_back'])
    })
  })

  it('an advance killed in the middle of a step is resumed by the next invocation and completes consistently', async () => {
    const home = await phase1Home()
    const dir = makeTempDir('cutover-apply-kill-')
    const marker = path.join(dir, 'ran-once')
    const targetFile = path.join(dir, 'target.yaml')
    // The test command blocks the first time only, so the resumed step finishes.
    const blocking = `test -f '${marker}' || { touch '${marker}'; exec sleep 30; }`
    fs.writeFileSync(targetFile, `name: kill-test\nhome: ${JSON.stringify(home)}\ncco: [${JSON.stringify(process.execPath)}, ${JSON.stringify(path.join(FIXTURES, '..', '..', '..', 'bin', 'cco'))}]\nrepo: ${JSON.stringify(dir)}\ntest: [sh, -c, ${JSON.stringify(blocking)}]\n`)
    const args = ['phase', 'advance', '--playbook', playbook('advance-blocking.yaml'), '--target', targetFile, '--json']
    const child = spawnCutover(args)
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    await waitUntil(() => fs.existsSync(marker) && withState(home, (s) => s.pendingOperation()?.interruptedStep?.name.startsWith('smoke-test')), 'the journal to show smoke-test running', 60_000)
    child.kill('SIGKILL')
    await exited

    const pending = withState(home, (s) => s.pendingOperation<AdvanceParams>())
    expect(pending?.interruptedStep?.name).to.match(/^smoke-test/)
    expect(pending?.steps.map((s) => s.state)).to.deep.equal(['done', 'done', 'running', 'planned'])
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: true, proxyEnabled: false})

    const resumed = await cutover(args)
    expect(resumed.exitCode, `${resumed.stdout}\n${resumed.stderr}`).to.equal(0)
    const result = parseJson<AdvanceResult>(resumed)
    expect(result.action).to.equal('advanced')
    expect(result.resumed).to.equal(true)
    expect(result.operationId).to.equal(pending!.operation.id)
    expect(result.steps.map((s) => s.state)).to.deep.equal(['done', 'done', 'done', 'done'])
    withState(home, (state) => {
      expect(state.pendingOperation()).to.equal(null)
      expect(state.getPhase()?.phase).to.equal(2)
      expect(state.getOperation(pending!.operation.id)?.state).to.equal('done')
      expect(state.listTrail({kind: 'advance.resume'})).to.have.length(1)
      expect(state.listTrail({kind: 'lock.stale'}).length).to.be.greaterThan(0)
    })
    const pid = readPid(home)
    expect(isPidAlive(pid.pid)).to.equal(true)
    expect(pid.proxy_port).to.equal(undefined)
  })

  it('--abort rolls an interrupted advance back instead of resuming it', async () => {
    const home = await phase1Home()
    const dir = makeTempDir('cutover-apply-abort-')
    const targetFile = path.join(dir, 'target.yaml')
    const started = path.join(dir, 'started')
    fs.writeFileSync(targetFile, `name: abort-test\nhome: ${JSON.stringify(home)}\ncco: [${JSON.stringify(process.execPath)}, ${JSON.stringify(path.join(FIXTURES, '..', '..', '..', 'bin', 'cco'))}]\nrepo: ${JSON.stringify(dir)}\ntest: [sh, -c, ${JSON.stringify(`touch '${started}'; exec sleep 30`)}]\n`)
    const args = ['phase', 'advance', '--playbook', playbook('advance-blocking.yaml'), '--target', targetFile, '--json']
    const child = spawnCutover(args)
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    await waitUntil(() => fs.existsSync(started), 'the blocking step to start', 60_000)
    child.kill('SIGKILL')
    await exited
    const run = await cutover([...args, '--abort'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(1)
    const result = parseJson<AdvanceResult>(run)
    expect(result.action).to.equal('rolled_back')
    expect(result.resumed).to.equal(true)
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})
    const pid = readPid(home)
    expect(pid.proxy_port).to.be.a('number')
    withState(home, (state) => {
      expect(state.pendingOperation()).to.equal(null)
      expect(state.getPhase()).to.equal(null)
      expect(state.listOperations({kind: 'advance'})[0]!.state).to.equal('rolled_back')
    })
  })
})
