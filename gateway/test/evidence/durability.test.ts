import Database from 'better-sqlite3'
import {expect} from 'chai'
import {spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {removeHome, startEvidence, tempHome} from './harness.js'

const CHILD = fileURLToPath(new URL('./child-writer.ts', import.meta.url))

interface Child {
  proc: ChildProcess
  /** request id -> epoch ms at which the child reported the response complete */
  emitted: Map<string, number>
  closedCount: number | null
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>
  waitFor(pred: () => boolean, what: string, timeoutMs?: number): Promise<void>
}

function startChild(home: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, home], {stdio: ['ignore', 'pipe', 'pipe'], cwd: join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')})
  const emitted = new Map<string, number>()
  const child: Child = {
    proc,
    emitted,
    closedCount: null,
    exited: new Promise((resolve) => proc.on('exit', (code, signal) => resolve({code, signal}))),
    async waitFor(pred, what, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; child stderr: ${stderr}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
  }
  let stderr = ''
  let buffered = ''
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  proc.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) {
      const [a, b] = line.split(' ')
      if (a === 'closed') child.closedCount = Number(b)
      else if (a && b) emitted.set(a, Number(b))
    }
  })
  return child
}

function readDb(dbPath: string): {ids: Set<string>; integrity: string} {
  const db = new Database(dbPath)
  try {
    const integrity = db.pragma('integrity_check', {simple: true}) as string
    const ids = new Set((db.prepare('SELECT request_id FROM audit_log').all() as Array<{request_id: string}>).map((r) => r.request_id))
    return {ids, integrity}
  } finally {
    db.close()
  }
}

describe('evidence/durability: kill -9 and SIGTERM of a process writing through the sink', function () {
  this.timeout(60_000)
  let home: string

  beforeEach(() => {
    home = tempHome()
  })

  afterEach(() => removeHome(home))

  it('kill -9: every request completed more than 1 s before the kill is in the database, which passes integrity_check', async () => {
    const child = startChild(home)
    await child.waitFor(() => child.emitted.size > 0, 'the child to emit records')
    const firstAt = Math.min(...child.emitted.values())
    await child.waitFor(() => Date.now() - firstAt > 2500, 'load to run for 2.5 s')
    const killedAt = Date.now()
    child.proc.kill('SIGKILL')
    const exit = await child.exited
    expect(exit.signal).to.equal('SIGKILL')

    const dbPath = join(home, 'gateway', 'audit.db')
    const {ids, integrity} = readDb(dbPath)
    expect(integrity).to.equal('ok')
    const mustHave = [...child.emitted].filter(([, at]) => killedAt - at > 1000).map(([id]) => id)
    expect(mustHave.length).to.be.greaterThan(100)
    const missing = mustHave.filter((id) => !ids.has(id))
    expect(missing, `${missing.length} of ${mustHave.length} completed requests missing`).to.deep.equal([])

    // After restart the figures agree with the rows.
    const gw = await startEvidence({home})
    try {
      const m = (await gw.get('/gateway/metrics')).json() as {summary: {total_requests: number; audit_records: number}}
      expect(m.summary.total_requests).to.equal(ids.size)
      expect(m.summary.audit_records).to.equal(ids.size)
    } finally {
      await gw.stop()
    }
  })

  it('SIGTERM: the shutdown flush writes every request, including the last ones', async () => {
    const child = startChild(home)
    await child.waitFor(() => child.emitted.size > 200, 'the child to emit 200 records')
    child.proc.kill('SIGTERM')
    const exit = await child.exited
    expect(exit.code).to.equal(0)
    await child.waitFor(() => child.closedCount !== null, 'the close report')
    const {ids, integrity} = readDb(join(home, 'gateway', 'audit.db'))
    expect(integrity).to.equal('ok')
    expect(ids.size).to.equal(child.closedCount)
    for (const id of child.emitted.keys()) expect(ids.has(id), id).to.equal(true)
  })
})
