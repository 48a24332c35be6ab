import Database from 'better-sqlite3'
import {expect} from 'chai'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {isAlive, readLog, readPid, runCco, waitFor} from '../helpers/cco.js'
import {anthropicProvider, audit, daemonOf, E2eWorld, type GatewayDaemon, messageBody, postMessages, summary} from './harness.js'

/*
 * kill -9 of the live daemon under load: every request whose response completed more than
 * one second before the kill has its audit row, the database passes integrity_check, the
 * stale PID file is detected and cleaned by `cco daemon start`, and the restarted daemon's
 * metrics come from the database (nothing lost, nothing counted twice).
 */

interface Completed {
  requestId: string
  completedAt: number
}

function checkDb(path: string): {integrity: string; ids: Set<string>; rows: number} {
  // Read-write like the daemon's next start: opening recovers the WAL a killed writer left behind.
  const db = new Database(path, {fileMustExist: true})
  try {
    const integrity = (db.pragma('integrity_check') as Array<{integrity_check: string}>).map((r) => r.integrity_check).join('; ')
    const ids = new Set((db.prepare('SELECT request_id FROM audit_log').all() as Array<{request_id: string}>).map((r) => r.request_id))
    return {integrity, ids, rows: ids.size}
  } finally {
    db.close()
  }
}

describe('e2e: durability of the audit log across kill -9', function () {
  this.timeout(120_000)
  const world = new E2eWorld()
  after(() => world.cleanup())

  it('keeps every row completed > 1 s before the kill; integrity ok; stale PID file cleaned; metrics from the DB after restart', async () => {
    const mock = await world.mock(['--event-delay-ms', '5', '--stream-events', '6'])
    let daemon: GatewayDaemon = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}})
    const dbPath = join(daemon.home, 'gateway', 'audit.db')

    const completed: Completed[] = []
    let stop = false
    const worker = async (n: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await postMessages(daemon, messageBody({stream: (i + n) % 2 === 0}), undefined, 10_000)
          if (r.status === 200) completed.push({requestId: String(r.headers['x-gateway-request-id']), completedAt: r.completedAt})
        } catch {
          return // the daemon is gone
        }
      }
    }
    const workers = [0, 1, 2, 3].map(worker)

    // Let the load run until some responses are well over a second old.
    await waitFor(() => completed.length >= 40 && Date.now() - completed[0]!.completedAt > 1500, 'load to build up', 30_000, 20)
    const killedAt = Date.now()
    process.kill(daemon.pid, 'SIGKILL')
    await waitFor(() => !isAlive(daemon.pid), 'the daemon to die', 10_000)
    stop = true
    await Promise.all(workers)
    const mustHave = completed.filter((c) => c.completedAt < killedAt - 1000)
    expect(mustHave.length).to.be.greaterThan(0)

    // The database as the kill left it.
    expect(existsSync(dbPath)).to.equal(true)
    const afterKill = checkDb(dbPath)
    expect(afterKill.integrity).to.equal('ok')
    const missing = mustHave.filter((c) => !afterKill.ids.has(c.requestId))
    expect(missing, `${missing.length} of ${mustHave.length} rows completed > 1 s before the kill are missing`).to.deep.equal([])

    // The PID file is stale: status says so, start cleans it and starts a new daemon.
    expect(readPid(daemon.home).pid).to.equal(daemon.pid)
    const status = await runCco(['daemon', 'status'], {home: daemon.home})
    expect(status.code).to.equal(3)
    expect(status.stdout).to.contain('stale PID file')
    const start = await runCco(['daemon', 'start'], {home: daemon.home})
    expect(start.code, start.stderr).to.equal(0)
    expect(start.stdout).to.contain('Removed stale PID file')
    const oldPid = daemon.pid
    daemon = daemonOf(daemon.home)
    expect(daemon.pid).to.not.equal(oldPid)

    // Metrics after the restart are the database's: every row, counted once.
    const s = await summary(daemon)
    const {total} = await audit(daemon, 'limit=1')
    const now = checkDb(dbPath)
    expect(now.integrity).to.equal('ok')
    expect({metrics: s.total_requests, audit: total}).to.deep.equal({metrics: now.rows, audit: now.rows})
    expect(now.rows).to.be.at.least(mustHave.length)
  })

  it('SIGTERM (cco daemon stop) right after a burst: every answered request is in the database', async () => {
    const mock = await world.mock()
    const daemon = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}})
    const answered = await Promise.all([...Array(20)].map((_, i) => postMessages(daemon, messageBody({stream: i % 2 === 0}))))
    expect(answered.every((r) => r.status === 200)).to.equal(true)
    // Stop at once: rows still queued in the writer must be flushed before the daemon exits.
    const stop = await runCco(['daemon', 'stop'], {home: daemon.home})
    expect(stop.code, stop.stderr).to.equal(0)
    expect(readLog(daemon.home)).to.contain('Audit log flushed and closed')
    const db = checkDb(join(daemon.home, 'gateway', 'audit.db'))
    expect(db.integrity).to.equal('ok')
    for (const r of answered) expect(db.ids.has(String(r.headers['x-gateway-request-id']))).to.equal(true)
    expect(db.rows).to.equal(20)
  })
})
