import Database from 'better-sqlite3'
import {expect} from 'chai'
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'

import type {AdvanceParams, AdvanceResult} from '../../src/lib/apply/index.js'
import {built, CCO, cliEnv, cutover, parseJson, readFlags, RUN, stopDaemon, withState} from './lib/cli.js'
import {type ProcessFaultFigure, RELIABILITY_DIR, results} from './lib/results.js'
import {type Answer, anthropicProvider, audit, E2eWorld, type GatewayDaemon, isAlive, makeTempHome, type MockProcess, plainHttp, prometheusSum, readPid, runCco, send, summary, waitFor} from './lib/world.js'

/*
 * Process faults: kill -9 of the daemon under load (audit durability, stale PID file cleaned);
 * kill -9 of `cutover phase advance` inside every journaled step (the next invocation resumes or
 * rolls back, and the target ends in a state the playbook names); two mutating cutover commands
 * at once (one refuses clearly, the state database stays intact); a full disk under the audit
 * database (requests still served, the failure surfaced in /gateway/health).
 */

const PLAYBOOK = path.join(RELIABILITY_DIR, 'fixtures', 'advance-every-step.yaml')

function integrity(dbFile: string): string {
  const db = new Database(dbFile, {fileMustExist: true})
  try {
    return (db.pragma('integrity_check') as Array<{integrity_check: string}>).map((r) => r.integrity_check).join('; ')
  } finally {
    db.close()
  }
}

describe('reliability: process faults', function () {
  this.timeout(300_000)
  const world = new E2eWorld()
  let mock: MockProcess
  const homes: string[] = []

  before(async function () {
    if (!built()) this.skip()
    mock = await world.mock(['--event-delay-ms', '2', '--stream-events', '6'])
  })
  after(async () => {
    for (const home of homes) await stopDaemon(home)
    await world.cleanup()
    for (const home of homes) fs.rmSync(home, {recursive: true, force: true})
  })

  it('kill -9 of the daemon under 50 concurrent clients: rows of responses completed > 1 s earlier all kept, integrity ok, stale PID file detected and cleaned, counts consistent after restart', async () => {
    const daemon = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}})
    const agent = new http.Agent({keepAlive: true, maxSockets: 50})
    const completed: Answer[] = []
    let dead = false
    const worker = async (n: number) => {
      for (let i = 0; !dead; i++) {
        const a = await send(daemon, {stream: (i + n) % 2 === 0, agent, timeoutMs: 10_000})
        if (a.complete) completed.push({...a, ms: Date.now()})
      }
    }
    const workers = Array.from({length: 50}, (_, n) => worker(n))
    await waitFor(() => completed.length > 500 && Date.now() - completed[0]!.ms > 1500, 'load to build up', 60_000, 20)
    const killedAt = Date.now()
    process.kill(daemon.pid, 'SIGKILL')
    await waitFor(() => !isAlive(daemon.pid), 'the daemon to die')
    dead = true
    await Promise.all(workers)
    agent.destroy()

    const dbFile = path.join(daemon.home, 'gateway', 'audit.db')
    const mustHave = completed.filter((a) => a.ms < killedAt - 1000)
    const db = new Database(dbFile, {fileMustExist: true})
    const ids = new Set((db.prepare('SELECT request_id FROM audit_log').all() as Array<{request_id: string}>).map((r) => r.request_id))
    const integrityAfterKill = (db.pragma('integrity_check') as Array<{integrity_check: string}>)[0]!.integrity_check
    db.close()
    const lost = mustHave.filter((a) => !ids.has(a.requestId))
    expect(integrityAfterKill).to.equal('ok')
    expect(lost.length, `${lost.length} of ${mustHave.length} completed rows lost`).to.equal(0)

    const status = await runCco(['daemon', 'status'], {home: daemon.home})
    expect(status.code).to.equal(3)
    expect(status.stdout).to.contain('stale PID file')
    const start = await runCco(['daemon', 'start'], {home: daemon.home})
    expect(start.code, start.stderr).to.equal(0)
    expect(start.stdout).to.contain('Removed stale PID file')
    const restarted = {...daemon, pid: (readPid(daemon.home) as {pid: number}).pid, gatewayPort: (readPid(daemon.home) as {gateway_port: number}).gateway_port}
    const d2: GatewayDaemon = {...restarted, url: `http://127.0.0.1:${restarted.gatewayPort}`}
    const s = await summary(d2)
    expect(s.total_requests).to.equal(s.audit_records)
    expect(s.total_requests).to.be.at.least(mustHave.length)
    expect((await audit(d2, 'limit=1')).total).to.equal(s.total_requests)
    results.processFaults.push({
      fault: 'kill -9 of the daemon under load (50 clients, mixed)',
      detail: `${completed.length} answers before the kill, ${mustHave.length} completed > 1 s before it: all ${mustHave.length} in audit.db (${ids.size} rows); integrity_check ok; status exit 3 "stale PID file"; start removed it; metrics = audit rows = ${s.total_requests} after restart`,
      recordsLost: lost.length,
      held: true,
    })
  })

  describe('kill -9 of `cutover phase advance` inside every journaled step', () => {
    interface KillPoint {
      step: number
      name: string
      /** Hold file names to create before the advance starts. */
      holds: string[]
      /** Waits until the advance is inside the step; may act on the target meanwhile; returns a cleanup. */
      reach(ctx: Scenario): Promise<() => void>
    }

    interface Scenario {
      home: string
      dir: string
      child: ChildProcess
      pending(): {steps: Array<{state: string}>} | null
    }

    const at = (s: Scenario, name: string) => waitFor(() => fs.existsSync(path.join(s.dir, `at-${name}`)), `hold point ${name}`, 60_000, 10)
    const release = (s: Scenario, name: string) => fs.rmSync(path.join(s.dir, `hold-${name}`), {force: true})
    const stepState = (s: Scenario, i: number) => s.pending()?.steps[i]?.state

    const points: KillPoint[] = [
      {step: 0, name: 'preflight (run test)', holds: ['preflight'], reach: async (s) => (await at(s, 'preflight'), () => undefined)},
      {
        step: 1,
        name: 'set-flags (one atomic write: killed at the first sight of its journal entry)',
        holds: ['preflight'],
        async reach(s) {
          await at(s, 'preflight')
          release(s, 'preflight')
          await waitFor(() => ['running', 'done'].includes(stepState(s, 1) ?? ''), 'set-flags journaled', 60_000, 1)
          return () => undefined
        },
      },
      {step: 2, name: 'restart-daemon (killed after stop, before start: the daemon is down)', holds: ['restart'], reach: async (s) => (await at(s, 'restart'), () => undefined)},
      {step: 3, name: 'smoke (run build)', holds: ['smoke'], reach: async (s) => (await at(s, 'smoke'), () => undefined)},
      {
        step: 4,
        name: 'validate (the new daemon frozen with SIGSTOP, so the checks hang)',
        holds: ['smoke'],
        async reach(s) {
          await at(s, 'smoke')
          const pid = (readPid(s.home) as {pid: number}).pid
          process.kill(pid, 'SIGSTOP')
          release(s, 'smoke')
          await waitFor(() => stepState(s, 4) === 'running', 'validate running', 60_000, 10)
          return () => process.kill(pid, 'SIGCONT')
        },
      },
    ]

    async function phase1Home(): Promise<{home: string; dir: string; target: string}> {
      const home = makeTempHome('cco-rel-advance-')
      homes.push(home)
      fs.writeFileSync(path.join(home, 'orchestra-config.json'), JSON.stringify({llmGateway: {providers: {anthropic: {providerType: 'anthropic', baseUrl: mock.url}}, routing: {defaultProvider: 'anthropic'}}}))
      fs.mkdirSync(path.join(home, 'config'), {recursive: true})
      fs.writeFileSync(path.join(home, 'config', 'daemon-config.json'), JSON.stringify({gatewayEnabled: true, proxyEnabled: true}))
      const start = await cutover(['daemon', 'start', '--home', home])
      expect(start.exitCode, start.stderr).to.equal(0)
      const dir = fs.mkdtempSync(path.join(home, '..', 'cco-rel-holds-'))
      homes.push(dir)
      // hold.sh NAME: while hold-NAME exists, mark at-NAME and wait (a step that blocks until the test releases it).
      fs.writeFileSync(path.join(dir, 'hold.sh'), `#!/bin/sh\nD='${dir}'\nif [ -f "$D/hold-$1" ]; then touch "$D/at-$1"; while [ -f "$D/hold-$1" ]; do sleep 0.02; done; fi\nexit 0\n`)
      // The target's cco: "daemon restart" is stop, hold point "restart", start.
      fs.writeFileSync(path.join(dir, 'cco.sh'), `#!/bin/sh\nif [ "$1" = daemon ] && [ "$2" = restart ]; then\n  shift 2\n  '${process.execPath}' '${CCO}' daemon stop "$@" || exit $?\n  sh '${dir}/hold.sh' restart\n  exec '${process.execPath}' '${CCO}' daemon start "$@"\nfi\nexec '${process.execPath}' '${CCO}' "$@"\n`)
      const target = path.join(dir, 'target.yaml')
      fs.writeFileSync(target, `name: kill-every-step\nhome: ${JSON.stringify(home)}\ncco: [sh, ${JSON.stringify(path.join(dir, 'cco.sh'))}]\nrepo: ${JSON.stringify(dir)}\ntest: [sh, ${JSON.stringify(path.join(dir, 'hold.sh'))}, preflight]\nbuild: [sh, ${JSON.stringify(path.join(dir, 'hold.sh'))}, smoke]\n`)
      return {home, dir, target}
    }

    /** The target is in a state the playbook names: phase 1 (gateway + proxy) or phase 2 (gateway only), matching the state store. */
    async function assertNamedState(home: string, expectedPhase: 1 | 2): Promise<string> {
      const flags = readFlags(home)
      const pid = readPid(home) as {pid: number; port: number; gateway_port: number | null; proxy_port?: number}
      expect(isAlive(pid.pid), 'daemon alive').to.equal(true)
      const status = (await plainHttp(`http://127.0.0.1:${pid.port}/daemon/status`)).json as {state: string; gateway: {state: string}; pid: number}
      expect(status.pid).to.equal(pid.pid)
      expect([status.state, status.gateway.state]).to.deep.equal(['running', 'running'])
      expect((await plainHttp(`http://127.0.0.1:${pid.gateway_port}/gateway/health`)).status).to.equal(200)
      const cco = await runCco(['daemon', 'status'], {home})
      expect(cco.code, cco.stdout + cco.stderr).to.equal(0)
      const phase = withState(home, (s) => s.getPhase()?.phase ?? 1)
      expect(withState(home, (s) => s.pendingOperation()), 'no interrupted operation left').to.equal(null)
      expect(integrity(path.join(home, 'cutover', 'state.db'))).to.equal('ok')
      expect(phase).to.equal(expectedPhase)
      if (expectedPhase === 2) {
        expect(flags).to.deep.equal({gatewayEnabled: true, proxyEnabled: false})
        expect(pid.proxy_port).to.equal(undefined)
      } else {
        expect(flags).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})
        expect(pid.proxy_port).to.be.a('number')
      }
      return `phase ${expectedPhase}: flags ${JSON.stringify(flags)}, daemon ${pid.pid} running, proxy_port ${pid.proxy_port ?? 'absent'}`
    }

    for (const point of points) {
      for (const next of ['resume', 'abort'] as const) {
        it(`step ${point.step} ${point.name}: killed; the next invocation (${next}) ${next === 'resume' ? 'completes phase 2' : 'rolls back to phase 1'}; the target is in a named state`, async () => {
          const {home, dir, target} = await phase1Home()
          for (const h of point.holds) fs.writeFileSync(path.join(dir, `hold-${h}`), '')
          const args = ['phase', 'advance', '--playbook', PLAYBOOK, '--target', target, '--json']
          // Its own process group: the kill takes the advance and whatever it started (a crashed session).
          const child = spawn(process.execPath, [RUN, ...args], {env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true})
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
          const scenario: Scenario = {home, dir, child, pending: () => withState(home, (s) => s.pendingOperation<AdvanceParams>())}
          const cleanup = await point.reach(scenario)
          const journalAtKill = scenario.pending()?.steps.map((s) => s.state) ?? []
          process.kill(-child.pid!, 'SIGKILL')
          await exited
          cleanup()
          for (const h of ['preflight', 'restart', 'smoke']) release(scenario, h)
          expect(journalAtKill[point.step], `journal at the kill: ${journalAtKill.join(', ')}`).to.be.oneOf(point.step === 1 ? ['running', 'done'] : ['running'])
          const flagsAtKill = readFlags(home)

          // The interruption is visible, not silent.
          const status = parseJson<{interrupted: {step: string | null} | null; next: string}>(await cutover(['phase', 'status', '--home', home, '--json']))
          expect(status.interrupted, 'phase status shows the interrupted advance').to.not.equal(null)
          expect(status.next).to.match(/interrupted phase advance is pending/)

          const run = await cutover([...args, ...(next === 'abort' ? ['--abort'] : [])], {timeoutMs: 180_000})
          const result = parseJson<AdvanceResult>(run)
          expect(result.resumed, run.stderr).to.equal(true)
          if (next === 'resume') {
            expect([run.exitCode, result.action], `${run.stdout}\n${run.stderr}`).to.deep.equal([0, 'advanced'])
          } else {
            expect([run.exitCode, result.action], `${run.stdout}\n${run.stderr}`).to.deep.equal([1, 'rolled_back'])
          }
          const state = await assertNamedState(home, next === 'resume' ? 2 : 1)
          const trail = await cutover(['audit', 'verify', '--home', home, '--json'])
          expect(trail.exitCode, trail.stdout + trail.stderr).to.equal(0)
          results.processFaults.push({
            fault: `kill -9 of phase advance in step ${point.step} (${point.name.split(' (')[0]}), then ${next}`,
            detail: `journal at the kill: [${journalAtKill.join(', ')}]; flags at the kill ${JSON.stringify(flagsAtKill)}; after ${next}: ${state}; audit trail verified`,
            recordsLost: 0,
            held: true,
          } satisfies ProcessFaultFigure)
          await stopDaemon(home)
        })
      }
    }
  })

  it('two mutating cutover commands at once: the second refuses clearly (exit 4, naming the holder) or waits; the target and state.db stay intact', async () => {
    const home = makeTempHome('cco-rel-concurrent-')
    homes.push(home)
    fs.writeFileSync(path.join(home, 'orchestra-config.json'), JSON.stringify({llmGateway: {providers: {anthropic: {providerType: 'anthropic', baseUrl: mock.url}}, routing: {defaultProvider: 'anthropic'}}}))
    fs.mkdirSync(path.join(home, 'config'), {recursive: true})
    fs.writeFileSync(path.join(home, 'config', 'daemon-config.json'), JSON.stringify({gatewayEnabled: true, proxyEnabled: true}))
    expect((await cutover(['daemon', 'start', '--home', home])).exitCode).to.equal(0)
    const dir = fs.mkdtempSync(path.join(home, '..', 'cco-rel-concurrent-holds-'))
    homes.push(dir)
    fs.writeFileSync(path.join(dir, 'hold.sh'), `#!/bin/sh\nD='${dir}'\nif [ -f "$D/hold-$1" ]; then touch "$D/at-$1"; while [ -f "$D/hold-$1" ]; do sleep 0.02; done; fi\nexit 0\n`)
    const target = path.join(dir, 'target.yaml')
    fs.writeFileSync(target, `name: concurrent\nhome: ${JSON.stringify(home)}\ncco: [${JSON.stringify(process.execPath)}, ${JSON.stringify(CCO)}]\nrepo: ${JSON.stringify(dir)}\ntest: [sh, ${JSON.stringify(path.join(dir, 'hold.sh'))}, preflight]\nbuild: [sh, ${JSON.stringify(path.join(dir, 'hold.sh'))}, smoke]\n`)
    fs.writeFileSync(path.join(dir, 'hold-preflight'), '')
    const first = spawn(process.execPath, [RUN, 'phase', 'advance', '--playbook', PLAYBOOK, '--target', target, '--json'], {env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe']})
    let firstOut = ''
    first.stdout!.on('data', (c: Buffer) => (firstOut += c.toString()))
    const firstExit = new Promise<number>((resolve) => first.once('exit', (code) => resolve(code ?? -1)))
    await waitFor(() => fs.existsSync(path.join(dir, 'at-preflight')), 'the first advance to hold', 60_000)
    const pidBefore = (readPid(home) as {pid: number}).pid

    const contenders = [
      ['phase', 'advance', '--playbook', PLAYBOOK, '--target', target],
      // --wait 0s: refuse at once instead of the default 30 s wait (the waiting case follows).
      ['rollback', '--flag', '--home', home, '--wait', '0s'],
      ['daemon', 'restart', '--home', home, '--wait', '0s'],
      ['rollback', '--git', '--target', target, '--wait', '0s'],
    ]
    const refusals: string[] = []
    for (const args of contenders) {
      const run = await cutover(args)
      expect(run.exitCode, `${args.join(' ')}: ${run.stdout}\n${run.stderr}`).to.equal(4)
      expect(run.stderr.replace(/\s+/g, ' '), args.join(' ')).to.match(/another cutover command is changing the target: "phase advance" \(pid \d+/)
      refusals.push(`cutover ${args.slice(0, 2).join(' ')}: exit 4`)
    }
    expect((readPid(home) as {pid: number}).pid, 'nobody touched the daemon').to.equal(pidBefore)
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})

    // One that waits: it gets the lock once the first is done, and acts on the result.
    const waiting = cutover(['rollback', '--flag', '--home', home, '--wait', '2m', '--json'], {timeoutMs: 180_000})
    fs.rmSync(path.join(dir, 'hold-preflight'))
    expect(await firstExit, firstOut).to.equal(0)
    const waited = await waiting
    expect(waited.exitCode, waited.stdout + waited.stderr).to.equal(0)
    expect(readFlags(home)).to.deep.equal({gatewayEnabled: false, proxyEnabled: true})
    expect(integrity(path.join(home, 'cutover', 'state.db'))).to.equal('ok')
    const trail = await cutover(['audit', 'verify', '--home', home])
    expect(trail.exitCode, trail.stdout + trail.stderr).to.equal(0)
    results.processFaults.push({
      fault: 'two mutating cutover commands at once',
      detail: `while phase advance held the lock: ${refusals.join('; ')} ("another cutover command is changing the target"), daemon and flags untouched; rollback --flag --wait 2m waited and then ran; state.db integrity_check ok; audit trail verified`,
      recordsLost: 0,
      held: true,
    })
    await stopDaemon(home)
  })

  it('full disk under the audit database (a tiny tmpfs): requests still served, the failure counted and shown as degraded; once space returns nothing is lost', async function () {
    const home = world.home()
    const gatewayDir = path.join(home, 'gateway')
    fs.mkdirSync(gatewayDir, {mode: 0o700})
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', gatewayDir], {stdio: 'pipe'})
    } catch (error) {
      results.processFaults.push({fault: 'full disk under the audit database', detail: `not run: cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]})`, recordsLost: 0, held: false})
      this.skip()
    }
    try {
      const daemon = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}, audit: {logRequestBodies: true, logResponseBodies: true}}, {home})
      const big = JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{role: 'user', content: `fill the disk ${'x'.repeat(16_000)}`}]})
      let served = 0
      let sent = 0
      type Health = {status: string; checks: Record<string, {ok: boolean; reason?: string}>}
      let degraded: Health | null = null
      for (let round = 0; round < 200 && !degraded; round++) {
        const answers = await Promise.all(Array.from({length: 10}, (_, i) => send(daemon, {stream: i % 2 === 0, body: i % 2 === 0 ? big.replace('"max_tokens":16', '"max_tokens":16,"stream":true') : big})))
        sent += answers.length
        served += answers.filter((a) => a.complete).length
        const h = (await plainHttp(`${daemon.url}/gateway/health`)).json as Health | undefined
        if (h?.status === 'degraded') degraded = h
      }
      expect(served, 'every request served while the disk was full').to.equal(sent)
      expect(degraded, 'health turned degraded').to.not.equal(null)
      expect(degraded!.checks.audit!.ok).to.equal(false)
      expect(degraded!.checks.audit!.reason).to.match(/audit/i)
      const errors = await prometheusSum(daemon, 'gateway_audit_write_errors_total')
      expect(errors).to.be.greaterThan(0)
      // More requests while full: still served.
      const more = await Promise.all(Array.from({length: 10}, (_, i) => send(daemon, {stream: i % 2 === 0})))
      expect(more.every((a) => a.complete)).to.equal(true)
      sent += more.length
      // Space comes back: the queued rows are written, health recovers.
      execFileSync('mount', ['-o', 'remount,size=64m', gatewayDir])
      const s = await waitFor(async () => {
        const m = await summary(daemon)
        return m.total_requests >= sent ? m : null
      }, 'the queued rows to be written', 30_000, 200)
      expect(s.total_requests).to.equal(sent)
      // Writes work again: health says so (it stays degraded for a minute after the last error, naming it as past).
      const recovered = await waitFor(async () => {
        const h = (await plainHttp(`${daemon.url}/gateway/health`)).json as {status: string; checks: Record<string, {ok: boolean; reason?: string}>}
        return h.status === 'healthy' || /in the last minute/.test(h.checks.audit?.reason ?? '') ? h : null
      }, 'audit writes to recover', 30_000, 200)
      expect(recovered.checks.audit?.reason ?? '').to.not.match(/failing/)
      expect(integrity(path.join(gatewayDir, 'audit.db'))).to.equal('ok')
      results.processFaults.push({
        fault: 'full disk under the audit database (256 KiB tmpfs)',
        detail: `${sent} requests, all served; /gateway/health degraded (audit: ${degraded!.checks.audit!.reason}); gateway_audit_write_errors_total ${errors}; after growing the file system: ${s.total_requests} rows = ${sent} requests, healthy again, integrity ok`,
        recordsLost: sent - s.total_requests,
        held: true,
      })
    } finally {
      await runCco(['daemon', 'stop'], {home}).catch(() => undefined)
      try {
        execFileSync('umount', ['-l', gatewayDir])
      } catch {
        // already unmounted
      }
    }
  })
})
