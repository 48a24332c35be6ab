import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'
import {simpleGit} from 'simple-git'

import type {AdvanceResult} from '../../src/lib/apply/index.js'
import type {FlagRollbackResult, GitRollbackResult, RehearseResult} from '../../src/lib/rollback/index.js'
import {createSandbox, type Sandbox, writeSandboxTarget} from '../../src/lib/sandbox/index.js'
import {loadTargetFile} from '../../src/lib/target/spec.js'
import {Target} from '../../src/lib/target/target.js'
import {bundledTargetSpec} from '../../src/lib/target/spec.js'
import {built, cutover, FIXTURES, makeHome, type Mock, parseJson, readFlags, readPid, startMock, stopDaemon, withState} from '../fixtures/apply/harness.js'
import {cleanupTempDirs} from '../helpers/tmp.js'

const playbook = (name: string) => path.join(FIXTURES, name)
/** A quick part of the reference daemon's own test suite (the full suite is exercised by the gateway's tests). */
const SANDBOX_TESTS = ['npx', 'mocha', '--no-config', '--extension', 'ts', '--node-option', 'import=tsx', '--timeout', '60000', 'test/mock_provider/faults.test.ts', 'test/daemon/log.test.ts', 'test/proxy/proxy.test.ts']

function cmdline(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
}

describe('e2e: cutover rollback (bin/run.js, reference daemon, mock provider)', function () {
  this.timeout(300_000)
  let mock: Mock
  const cleanups: Array<() => Promise<void>> = []

  before(async function () {
    if (!built()) this.skip()
    mock = await startMock()
  })

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
    await mock?.stop()
    cleanupTempDirs()
  })

  it('--flag from phase 2: recovery measured per stage and judged against the 30 s objective; launcher in proxy mode afterwards; recorded', async () => {
    const home = makeHome(mock.url)
    cleanups.push(() => stopDaemon(home))
    expect((await cutover(['daemon', 'start', '--home', home])).exitCode).to.equal(0)
    const advance = await cutover(['phase', 'advance', '--playbook', playbook('advance.yaml'), '--home', home, '--json'])
    expect(advance.exitCode, advance.stderr).to.equal(0)
    expect(readPid(home).proxy_port).to.equal(undefined)

    const run = await cutover(['rollback', '--flag', '--home', home, '--drill', '--reason', 'quarterly drill', '--json'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(0)
    const result = parseJson<FlagRollbackResult>(run)
    expect(result.outcome).to.equal('success')
    expect(result.stages.map((s) => s.stage)).to.deep.equal(['decision_to_flags_written', 'flags_written_to_daemon_up', 'daemon_up_to_verified'])
    expect(result.totalMs).to.be.greaterThan(0)
    // The stages partition the recovery time exactly, whatever the machine's load (CI saw a 6 ms gap before).
    expect(result.stages.reduce((sum, s) => sum + s.ms, 0)).to.equal(result.totalMs)
    // Met or not is the product's evaluation of the recorded time against the plan's objective (no test timer).
    expect(result.objectiveMs).to.equal(30_000)
    expect(result.withinObjective).to.equal(result.totalMs < result.objectiveMs)
    expect(result.launcher?.mode).to.equal('proxy')
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: false, proxyEnabled: true})
    expect(readPid(home).proxy_port).to.be.a('number').and.equal(result.daemon.proxy_port)
    // Independently of the command: the launcher now selects the proxy.
    const probe = await new Target(bundledTargetSpec(home)).launcherProbe()
    expect(probe.mode, probe.output).to.equal('proxy')
    withState(home, (state) => {
      const rec = state.latestRollback('flag')!
      expect(rec.outcome).to.equal('success')
      expect(rec.withinObjective).to.equal(result.withinObjective)
      expect(rec.totalMs).to.equal(result.totalMs)
      expect(Object.keys(rec.timings)).to.have.length(3)
      expect(state.getPhase()?.phase).to.equal(1)
      expect(state.listTrail({kind: 'rollback'})).to.have.length(1)
      expect(state.pendingOperation()).to.equal(null)
      // Declared with --drill: planned maintenance (the words of --reason alone would not make it so).
      expect(state.listMaintenance().filter((w) => w.operationId === rec.operationId).map((w) => [w.kind, w.planned])).to.deep.equal([['rollback-drill', true]])
    })
  })

  it('--flag on a target already rolled back: "already rolled back", exit 0, no restart, no record; --force restarts and records', async () => {
    const home = makeHome(mock.url, {gatewayEnabled: false, proxyEnabled: true})
    cleanups.push(() => stopDaemon(home))
    expect((await cutover(['daemon', 'start', '--home', home])).exitCode).to.equal(0)
    const pidBefore = readPid(home).pid
    expect(readPid(home).gateway_port).to.equal(null)

    const again = await cutover(['rollback', '--flag', '--home', home, '--json'])
    expect(again.exitCode, `${again.stdout}\n${again.stderr}`).to.equal(0)
    const result = parseJson<FlagRollbackResult>(again)
    expect(result.outcome).to.equal('already_rolled_back')
    expect(result.message).to.match(/^already rolled back: .*nothing was changed \(no restart, no record\).*--force/)
    expect(result.rollback).to.equal(null)
    expect(result.launcher?.mode).to.equal('proxy')
    expect(readPid(home).pid).to.equal(pidBefore)
    const human = await cutover(['rollback', '--flag', '--home', home])
    expect(human.exitCode, human.stderr).to.equal(0)
    expect(human.stdout).to.contain('already rolled back')
    expect(readPid(home).pid).to.equal(pidBefore)
    withState(home, (state) => {
      expect(state.listRollbacks()).to.have.length(0)
      expect(state.listTrail({kind: 'rollback'})).to.have.length(0)
      expect(state.pendingOperation()).to.equal(null)
    })

    const forced = await cutover(['rollback', '--flag', '--force', '--drill', '--reason', 'forced drill', '--home', home, '--json'])
    expect(forced.exitCode, `${forced.stdout}\n${forced.stderr}`).to.equal(0)
    expect(parseJson<FlagRollbackResult>(forced).outcome).to.equal('success')
    expect(readPid(home).pid).to.not.equal(pidBefore)
    withState(home, (state) => expect(state.listRollbacks()).to.have.length(1))
  })

  describe('Phase 3 on a sandbox copy of gateway/', () => {
    let sandbox: Sandbox
    let home: string
    let targetFile: string
    let git: ReturnType<typeof simpleGit>

    before(async () => {
      sandbox = await createSandbox()
      cleanups.push(async () => sandbox.remove())
      home = makeHome(mock.url)
      targetFile = writeSandboxTarget(sandbox, {home, test: SANDBOX_TESTS})
      cleanups.push(() => stopDaemon(home, sandbox.cco))
      git = simpleGit({baseDir: sandbox.repo})
      const start = await cutover(['daemon', 'start', '--target', targetFile])
      expect(start.exitCode, start.stderr).to.equal(0)
      expect(cmdline(readPid(home).pid)).to.contain(sandbox.repo)
    })

    it('advance 1 -> 2 -> 3: the proxy module is removed on a branch, built, tested, committed; the daemon runs from that build without proxy_port', async () => {
      const a12 = await cutover(['phase', 'advance', '--playbook', playbook('phase3.yaml'), '--target', targetFile, '--json'])
      expect(a12.exitCode, `${a12.stdout}\n${a12.stderr}`).to.equal(0)
      const dry = parseJson<AdvanceResult>(await cutover(['phase', 'advance', '--dry-run', '--playbook', playbook('phase3.yaml'), '--target', targetFile, '--json']))
      const lines = dry.plan!.find((s) => s.id === 'remove-proxy-registration')!
      expect(lines.diff!.filter((l) => l.startsWith('-') && !l.startsWith('---'))).to.have.length(1)
      expect(dry.plan!.find((s) => s.id === 'remove-proxy-module')!.diff!.some((l) => l.includes('src/proxy/'))).to.equal(true)

      const run = await cutover(['phase', 'advance', '--playbook', playbook('phase3.yaml'), '--target', targetFile, '--json'])
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(0)
      const result = parseJson<AdvanceResult>(run)
      expect(result.action).to.equal('advanced')
      expect(result.to).to.equal(3)
      expect(result.commits).to.have.length(1)
      expect(fs.existsSync(path.join(sandbox.repo, 'src', 'proxy'))).to.equal(false)
      expect(fs.readFileSync(path.join(sandbox.repo, 'src', 'daemon', 'modules.ts'), 'utf8')).to.not.match(/import\(['"]\.\.\/proxy\//)
      expect((await git.revparse(['--abbrev-ref', 'HEAD'])).trim()).to.equal('cutover/phase-3-remove-proxy')
      expect((await git.raw(['log', '-1', '--format=%s'])).trim()).to.equal('cutover: phase 3 - remove the legacy proxy module')
      expect((await git.raw(['status', '--porcelain', '--untracked-files=no'])).trim()).to.equal('')
      const pid = readPid(home)
      expect(pid.proxy_port).to.equal(undefined)
      expect(cmdline(pid.pid)).to.contain(sandbox.repo)
      withState(home, (state) => expect(state.getPhase()?.phase).to.equal(3))
    })

    it('rollback --flag cannot bring the removed proxy back and says to use --git', async () => {
      const run = await cutover(['rollback', '--flag', '--objective', '3s', '--target', targetFile, '--json'])
      expect(run.exitCode).to.equal(1)
      const result = parseJson<FlagRollbackResult>(run)
      expect(result.outcome).to.equal('failed')
      expect(result.error).to.contain('rollback --git')
      withState(home, (state) => {
        expect(state.getPhase()?.phase).to.equal(3)
        expect(state.latestRollback('flag')?.outcome).to.equal('failed')
      })
    })

    it('rollback --git reverts the Phase 3 commit, rebuilds, tests, restarts: the proxy module is back and serves', async () => {
      const headBefore = (await git.revparse(['HEAD'])).trim()
      const run = await cutover(['rollback', '--git', '--target', targetFile, '--playbook', playbook('phase3.yaml'), '--json'])
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(0)
      const result = parseJson<GitRollbackResult>(run)
      expect(result.outcome).to.equal('success')
      expect(result.mode).to.equal('revert')
      expect(result.headBefore).to.equal(headBefore)
      expect(result.steps.map((s) => [s.id, s.state])).to.deep.equal([['revert', 'done'], ['build', 'done'], ['test', 'done'], ['restart-daemon', 'done'], ['verify', 'done']])
      expect(result.withinObjective).to.equal(true)
      expect(fs.existsSync(path.join(sandbox.repo, 'src', 'proxy', 'index.ts'))).to.equal(true)
      expect(fs.readFileSync(path.join(sandbox.repo, 'src', 'daemon', 'modules.ts'), 'utf8')).to.match(/import\(['"]\.\.\/proxy\//)
      expect((await git.raw(['log', '-1', '--format=%s'])).trim()).to.match(/^Revert "cutover: phase 3/)
      // The flags still ask for the proxy (the failed flag rollback wrote them): the restored build starts it.
      expect(readFlags(home)).to.deep.equal({gatewayEnabled: false, proxyEnabled: true})
      expect(readPid(home).proxy_port).to.be.a('number')
      const probe = await new Target(loadTargetFile(targetFile, {defaultHome: home})).launcherProbe()
      expect(probe.mode, probe.output).to.equal('proxy')
      withState(home, (state) => {
        expect(state.getPhase()?.phase).to.equal(2)
        expect(state.latestRollback('git')?.outcome).to.equal('success')
      })
    })

    it('--rehearse builds and tests the last stable commit in a temporary worktree; git status, HEAD and the daemon are untouched', async () => {
      fs.writeFileSync(path.join(sandbox.repo, 'operator-notes.txt'), 'work in progress\n')
      const statusBefore = await git.raw(['status', '--porcelain'])
      const headBefore = (await git.revparse(['HEAD'])).trim()
      const pidBefore = readPid(home).pid
      const run = await cutover(['rollback', '--rehearse', '--target', targetFile, '--json'])
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(0)
      const result = parseJson<RehearseResult>(run)
      expect(result.outcome).to.equal('success')
      expect(result.stableCommit?.sha).to.equal(sandbox.stableCommit)
      expect(result.build?.ok).to.equal(true)
      expect(result.test?.ok).to.equal(true)
      expect(result.workingTreeUntouched).to.equal(true)
      expect(result.daemonUntouched).to.equal(true)
      expect(await git.raw(['status', '--porcelain'])).to.equal(statusBefore)
      expect((await git.revparse(['HEAD'])).trim()).to.equal(headBefore)
      expect(readPid(home).pid).to.equal(pidBefore)
      expect((await git.raw(['worktree', 'list'])).trim().split('\n')).to.have.length(1)
      withState(home, (state) => {
        const rec = state.latestRollback('git-rehearsal')!
        expect(rec.outcome).to.equal('success')
        expect(rec.withinObjective).to.equal(true)
        expect(rec.timings).to.have.keys('find_stable_commit', 'worktree', 'build', 'test', 'cleanup')
      })
    })
  })
})
