import Database from 'better-sqlite3'
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import {ExitCode} from '../../../src/lib/errors.js'
import {SCHEMA_VERSION} from '../../../src/lib/state/schema.js'
import {defaultStatePath, OperationLockedError, StateConflictError, StateFileError, StateStore} from '../../../src/lib/state/store.js'
import {deadPid} from '../../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

describe('StateStore', () => {
  let dir: string
  let file: string
  let store: StateStore
  let clock: number
  const now = () => new Date(clock)

  beforeEach(() => {
    dir = makeTempDir()
    file = defaultStatePath(path.join(dir, 'home'))
    clock = Date.parse('2026-01-10T12:00:00Z')
    store = StateStore.open(file, {actor: 'alice', now})
  })
  afterEach(() => {
    store.close()
    cleanupTempDirs()
  })

  describe('file and schema', () => {
    it('creates <home>/cutover/state.db: dir 0700, file 0600, WAL, current schema', () => {
      expect(file).to.equal(path.join(dir, 'home', 'cutover', 'state.db'))
      expect(fs.statSync(path.dirname(file)).mode & 0o777).to.equal(0o700)
      expect(fs.statSync(file).mode & 0o777).to.equal(0o600)
      expect(store.schemaVersion).to.equal(SCHEMA_VERSION)
      const raw = new Database(file, {readonly: true})
      expect(raw.pragma('journal_mode', {simple: true})).to.equal('wal')
      raw.close()
    })

    it('reopening keeps the data and does not re-run migrations', () => {
      store.setPhase(2)
      store.close()
      store = StateStore.open(file, {actor: 'alice', now})
      expect(store.getPhase()?.phase).to.equal(2)
      expect(store.schemaVersion).to.equal(SCHEMA_VERSION)
    })

    it('migrates a version-0 (empty) database', () => {
      store.close()
      const other = path.join(dir, 'empty.db')
      new Database(other).close()
      store = StateStore.open(other, {now})
      expect(store.schemaVersion).to.equal(SCHEMA_VERSION)
    })

    it('refuses a newer schema', () => {
      store.close()
      const raw = new Database(file)
      raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
      raw.close()
      expect(() => StateStore.open(file)).to.throw(StateFileError, /newer than this cutover understands/)
      store = StateStore.open(defaultStatePath(makeTempDir()), {now})
    })

    it('a non-SQLite file is refused with a clear error (exit 2) and never overwritten', () => {
      const bogus = path.join(dir, 'bogus.db')
      const content = 'this is not a database\n'.repeat(200)
      fs.writeFileSync(bogus, content)
      try {
        StateStore.open(bogus)
        expect.fail('should have thrown')
      } catch (error) {
        expect(error).to.be.instanceOf(StateFileError)
        expect((error as StateFileError).exit).to.equal(ExitCode.Usage)
        expect((error as StateFileError).message).to.contain(bogus)
        expect((error as StateFileError).message).to.contain('not a SQLite database')
      }
      expect(fs.readFileSync(bogus, 'utf8')).to.equal(content)
    })

    it('a database with a valid header but corrupted pages is refused, not overwritten', () => {
      store.close()
      const bytes = fs.readFileSync(file)
      // keep the 16-byte magic, trash the rest of the header (page size etc.)
      const corrupted = Buffer.concat([bytes.subarray(0, 16), Buffer.alloc(Math.max(bytes.length, 8192) - 16, 0xff)])
      const broken = path.join(dir, 'broken.db')
      fs.writeFileSync(broken, corrupted)
      expect(() => StateStore.open(broken)).to.throw(StateFileError, new RegExp(`${broken}.*(corrupted|cannot be opened)`))
      expect(fs.readFileSync(broken).equals(corrupted)).to.equal(true)
      store = StateStore.open(file, {now})
    })
  })

  describe('records', () => {
    it('phase: null until set, then current phase with since; each change is in the trail', () => {
      expect(store.getPhase()).to.equal(null)
      store.setPhase(1, {reason: 'baseline'})
      clock += 1000
      const state = store.setPhase(2)
      expect(state).to.deep.include({phase: 2, since: '2026-01-10T12:00:01.000Z', actor: 'alice'})
      expect(store.listTrail({kind: 'phase.set'}).map((r) => r.payload)).to.deep.equal([
        {from: null, reason: 'baseline', to: 1},
        {from: 1, reason: null, to: 2},
      ])
    })

    it('runs: start/finish, one-shot record, last run per phase', () => {
      const id = store.startRun({kind: 'phase-validate', phase: 1})
      expect(store.getRun(id)?.finishedAt).to.equal(null)
      clock += 500
      const run = store.finishRun(id, {outcome: 'pass', results: {checks: [{id: 'daemon-running', outcome: 'pass'}]}})
      expect(run).to.deep.include({outcome: 'pass', phase: 1, kind: 'phase-validate'})
      expect(() => store.finishRun(id, {outcome: 'fail', results: null})).to.throw(StateConflictError)
      clock += 500
      store.recordRun({kind: 'phase-validate', phase: 1, outcome: 'fail', results: []})
      store.recordRun({kind: 'phase-validate', phase: 2, outcome: 'pass', results: []})
      const last = store.lastRunPerPhase('phase-validate')
      expect(last.map((r) => [r.phase, r.outcome])).to.deep.equal([
        [1, 'fail'],
        [2, 'pass'],
      ])
    })

    it('samples: UNIQUE (source, ts) so a restarted monitor never double counts', () => {
      const t = Date.parse('2026-01-10T12:00:00Z')
      expect(store.addSample({source: 'gateway', ts: t, metrics: {error_rate: 0}})).to.equal(true)
      expect(store.addSample({source: 'gateway', ts: t, metrics: {error_rate: 0.5}})).to.equal(false)
      expect(store.addSample({source: 'prometheus', ts: t, metrics: {up: 1}})).to.equal(true)
      expect(store.addSamples([0, 1, 2, 3].map((i) => ({source: 'gateway', ts: t + i * 1000, metrics: {i}})))).to.equal(3)
      expect(store.countSamples({source: 'gateway'})).to.equal(4)
      expect(store.listSamples({source: 'gateway', from: t + 1000, to: t + 2000}).map((s) => s.metrics)).to.deep.equal([{i: 1}, {i: 2}])
      expect(store.listSamples({source: 'gateway'})[0]?.metrics).to.deep.equal({error_rate: 0})
      expect(store.latestSample('gateway')?.ts).to.equal(t + 3000)
    })

    it('evaluations carry an evidence hash; approvals bind to it', () => {
      const evaluation = store.recordEvaluation({from: 1, to: 2, verdict: 'GO', inputs: {criteria: [{id: 'error-rate', value: 0.0001}]}})
      expect(evaluation.evidenceHash).to.match(/^[0-9a-f]{64}$/)
      const again = store.recordEvaluation({from: 1, to: 2, verdict: 'GO', inputs: {criteria: [{id: 'error-rate', value: 0.0001}]}})
      expect(again.evidenceHash).to.equal(evaluation.evidenceHash)
      const other = store.recordEvaluation({from: 1, to: 2, verdict: 'NO-GO', inputs: {criteria: []}})
      expect(other.evidenceHash).to.not.equal(evaluation.evidenceHash)
      expect(store.latestEvaluation({from: 1, to: 2})?.id).to.equal(other.id)

      const approval = store.addApproval({phase: 2, by: 'bob', reason: 'looks good', evaluationId: evaluation.id})
      expect(approval).to.deep.include({by: 'bob', evaluationHash: evaluation.evidenceHash})
      expect(store.listApprovals({evaluationHash: other.evidenceHash})).to.deep.equal([])
      expect(() => store.addApproval({phase: 2, by: 'bob', evaluationId: 'nope'})).to.throw(StateConflictError, /does not exist/)
    })

    it('incidents: add, resolve once, filter open', () => {
      const a = store.addIncident({severity: 'critical', title: 'gateway 500s'})
      store.addIncident({severity: 'minor', title: 'slow dashboard', by: 'carol'})
      expect(store.listIncidents({open: true, severity: 'critical'}).map((i) => i.id)).to.deep.equal([a.id])
      const resolved = store.resolveIncident(a.id, {by: 'bob', resolution: 'provider recovered'})
      expect(resolved).to.deep.include({resolvedBy: 'bob', resolution: 'provider recovered'})
      expect(() => store.resolveIncident(a.id)).to.throw(StateConflictError, /already resolved/)
      expect(() => store.resolveIncident(999)).to.throw(StateConflictError, /does not exist/)
      expect(() => store.addIncident({severity: 'huge' as 'minor', title: 'x'})).to.throw(StateConflictError, /severity/)
      expect(store.listIncidents({open: true}).map((i) => i.title)).to.deep.equal(['slow dashboard'])
    })

    it('feedback, baselines and rollbacks', () => {
      store.addFeedback({user: 'u1', sentiment: 'positive'})
      store.addFeedback({user: 'u2', sentiment: 'negative', comment: 'slower'})
      expect(store.listFeedback().map((f) => f.sentiment)).to.deep.equal(['positive', 'negative'])
      expect(() => store.addFeedback({user: 'u3', sentiment: 'meh' as 'positive'})).to.throw(StateConflictError)

      store.pinBaseline({phase: 1, metrics: {avg_latency_ms: 120, error_rate: 0.0002}, sampleCount: 300})
      clock += 1
      store.pinBaseline({phase: 1, metrics: {avg_latency_ms: 110}})
      expect(store.latestBaseline(1)?.metrics).to.deep.equal({avg_latency_ms: 110})
      expect(store.latestBaseline(2)).to.equal(null)
      expect(() => store.pinBaseline({phase: 1, metrics: {x: Number.NaN}})).to.throw(StateConflictError)

      const fast = store.recordRollback({kind: 'flag', outcome: 'success', timings: {flag_written: 5, daemon_up: 800, verified: 100}, objectiveMs: 30_000})
      expect(fast).to.deep.include({totalMs: 905, withinObjective: true})
      const slow = store.recordRollback({kind: 'rehearse', outcome: 'success', timings: {build: 700_000}, objectiveMs: 600_000})
      expect(slow.withinObjective).to.equal(false)
      const failed = store.recordRollback({kind: 'flag', outcome: 'failed', timings: {flag_written: 5}, objectiveMs: 30_000})
      expect(failed.withinObjective).to.equal(false)
      expect(store.latestRollback('rehearse')?.id).to.equal(slow.id)
    })

    it('recovery objectives are strict ("< 1 minute"): exactly the objective is a miss, a millisecond less is met', () => {
      const exact = store.recordRollback({kind: 'fastest', outcome: 'success', timings: {total: 60_000}, totalMs: 60_000, objectiveMs: 60_000})
      expect(exact.withinObjective).to.equal(false)
      const under = store.recordRollback({kind: 'fastest', outcome: 'success', timings: {total: 59_999}, totalMs: 59_999, objectiveMs: 60_000})
      expect(under.withinObjective).to.equal(true)
      // As recorded (whole ms): 59 999.6 ms is shown and stored as 60 000 ms, a miss.
      expect(store.recordRollback({kind: 'git', outcome: 'success', timings: {total: 599_999.6}, totalMs: 599_999.6, objectiveMs: 600_000}).withinObjective).to.equal(false)
      expect(store.listTrail({kind: 'rollback'}).map((t) => (t.payload as {within_objective: boolean}).within_objective)).to.deep.equal([false, true, false])
    })

    it('secrets are redacted before they reach the database', () => {
      store.recordRun({kind: 'k', outcome: 'pass', results: {headers: {authorization: 'Bearer abcdefghijklmnop'}, note: 'key sk-ant-api03-abcdefghijklmnopqrstuv'}})
      const text = fs.readFileSync(file + '-wal').toString('latin1') + fs.readFileSync(file).toString('latin1')
      expect(text).to.not.contain('abcdefghijklmnop')
      expect(text).to.not.contain('sk-ant-api03')
    })

    it('human evidence is append-only at the SQL level', () => {
      store.addFeedback({user: 'u1', sentiment: 'positive'})
      const raw = new Database(file)
      expect(() => raw.prepare('DELETE FROM feedback').run()).to.throw(/append-only/)
      expect(() => raw.prepare('UPDATE trail SET kind = ?').run('x')).to.throw(/append-only/)
      raw.close()
    })
  })

  describe('journal', () => {
    it('plans every step before running, resumes from the interrupted step', () => {
      const op = store.beginOperation({kind: 'advance', params: {from: 1, to: 2}, steps: ['write flags', 'restart daemon', 'validate']})
      const id = op.operation.id
      expect(op.steps.map((s) => s.state)).to.deep.equal(['planned', 'planned', 'planned'])
      store.beginStep(id, 0)
      store.markStep(id, 0, 'done', {flags: {gatewayEnabled: true, proxyEnabled: false}})
      store.beginStep(id, 1)
      // (crash here: the next invocation asks what is pending)
      const pending = store.pendingOperation<{from: number; to: number}>()
      expect(pending?.operation.params).to.deep.equal({from: 1, to: 2})
      expect(pending?.interruptedStep?.name).to.equal('restart daemon')
      expect(pending?.nextStep?.index).to.equal(1)
      expect(() => store.beginOperation({kind: 'advance', params: {}, steps: []})).to.throw(StateConflictError, /still pending/)
      expect(() => store.beginStep(id, 0)).to.throw(StateConflictError, /already done/)

      store.beginStep(id, 1)
      store.markStep(id, 1, 'done')
      expect(store.pendingOperation()?.nextStep?.name).to.equal('validate')
      store.beginStep(id, 2)
      store.markStep(id, 2, 'failed', {reason: 'launcher in proxy mode'})
      store.beginStep(id, 3, 'rollback: restore flags')
      store.markStep(id, 3, 'done')
      store.markStep(id, 0, 'rolled_back')
      store.finishOperation(id, 'rolled_back', {reason: 'validation failed'})
      expect(store.pendingOperation()).to.equal(null)
      expect(store.operationSteps(id).map((s) => `${s.index}:${s.state}`)).to.deep.equal(['0:rolled_back', '1:done', '2:failed', '3:done'])
      expect(() => store.beginStep(id, 4, 'late')).to.throw(StateConflictError, /already finished/)
      const kinds = store.listTrail().map((r) => r.kind)
      expect(kinds).to.include.members(['operation.begin', 'step.begin', 'step.done', 'step.failed', 'step.rolled_back', 'operation.rolled_back'])
    })
  })

  describe('audit trail', () => {
    it('chains records and verifies', () => {
      for (let i = 0; i < 5; i++) store.appendTrail({kind: 'test', payload: {i, nested: {b: 1, a: [1, 2]}}})
      const records = store.listTrail()
      expect(records.map((r) => r.seq)).to.deep.equal([1, 2, 3, 4, 5])
      expect(records[1]?.prevHash).to.equal(records[0]?.hash)
      const result = store.verifyTrail()
      expect(result).to.deep.include({ok: true, count: 5})
    })

    it('an edited record is detected and named by its seq', () => {
      for (let i = 0; i < 5; i++) store.appendTrail({kind: 'approval', payload: {by: `user${i}`}})
      const raw = new Database(file)
      raw.exec('DROP TRIGGER trail_no_update')
      raw.prepare('UPDATE trail SET payload = ? WHERE seq = 3').run(JSON.stringify({by: 'mallory'}))
      raw.close()
      const result = store.verifyTrail()
      expect(result.ok).to.equal(false)
      if (!result.ok) {
        expect(result.firstBadSeq).to.equal(3)
        expect(result.reason).to.contain('record 3 was changed')
      }
    })

    it('a recomputed hash still breaks the link to the next record; a deleted record is named', () => {
      for (let i = 0; i < 4; i++) store.appendTrail({kind: 'k', payload: {i}})
      const raw = new Database(file)
      raw.exec('DROP TRIGGER trail_no_update; DROP TRIGGER trail_no_delete')
      raw.prepare('UPDATE trail SET hash = ? WHERE seq = 2').run('f'.repeat(64))
      raw.close()
      let result = store.verifyTrail()
      expect(result.ok === false && result.firstBadSeq).to.equal(2)

      const raw2 = new Database(file)
      raw2.prepare('DELETE FROM trail WHERE seq = 2').run()
      raw2.close()
      result = store.verifyTrail()
      expect(result.ok === false && result.firstBadSeq).to.equal(2)
      expect(result.ok === false && result.reason).to.contain('missing')
    })
  })

  describe('operation lock', () => {
    it('a second holder is refused (exit 4) naming the holder; released locks can be taken again', async () => {
      const lock = await store.acquireOperationLock('phase advance')
      const other = StateStore.open(file, {now})
      try {
        const err = await other.acquireOperationLock('rollback --flag').then(
          () => null,
          (error: unknown) => error,
        )
        expect(err).to.be.instanceOf(OperationLockedError)
        expect((err as OperationLockedError).exit).to.equal(ExitCode.CouldNotEvaluate)
        expect((err as OperationLockedError).message).to.contain('"phase advance"').and.contain(`pid ${process.pid}`)
        lock.release()
        const second = await other.acquireOperationLock('rollback --flag')
        expect(store.lockHolder()?.name).to.equal('rollback --flag')
        second.release()
        expect(store.lockHolder()).to.equal(null)
      } finally {
        other.close()
      }
    })

    it('waits for the holder to release', async () => {
      const lock = await store.acquireOperationLock('daemon restart')
      const other = StateStore.open(file, {now})
      try {
        const waiting = other.acquireOperationLock('daemon stop', {waitMs: 20_000, pollMs: 20})
        setTimeout(() => lock.release(), 100)
        const taken = await waiting
        expect(other.lockHolder()?.name).to.equal('daemon stop')
        taken.release()
      } finally {
        other.close()
      }
    })

    it('a lock left by a dead process on this host is taken over (and recorded)', async () => {
      const raw = new Database(file)
      raw.prepare('INSERT INTO operation_lock (id, name, pid, host, token, acquired_at) VALUES (1, ?, ?, ?, ?, ?)').run('phase advance', deadPid(), (await import('node:os')).hostname(), 't', '2026-01-01T00:00:00Z')
      raw.close()
      const lock = await store.acquireOperationLock('rollback --flag')
      expect(store.lockHolder()?.pid).to.equal(process.pid)
      expect(store.listTrail({kind: 'lock.stale'})).to.have.length(1)
      lock.release()
    })

    it('a lock held by another live process refuses', async () => {
      const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {stdio: 'ignore'})
      try {
        const raw = new Database(file)
        raw.prepare('INSERT INTO operation_lock (id, name, pid, host, token, acquired_at) VALUES (1, ?, ?, ?, ?, ?)').run('phase advance', child.pid, (await import('node:os')).hostname(), 't', '2026-01-01T00:00:00Z')
        raw.close()
        const err = await store.acquireOperationLock('daemon start').then(() => null, (error: unknown) => error)
        expect(err).to.be.instanceOf(OperationLockedError)
      } finally {
        child.kill()
      }
    })
  })
})
