import Database from 'better-sqlite3'
import {expect} from 'chai'
import {createHash} from 'node:crypto'
import path from 'node:path'

import {CHAINED_TABLES, MAX_LISTED_ISSUES, UNCHAINED_TABLES} from '../../../src/lib/state/row-chain.js'
import {MIGRATIONS, ROW_CHAIN_VERSION, SCHEMA_VERSION} from '../../../src/lib/state/schema.js'
import {defaultStatePath, StateStore} from '../../../src/lib/state/store.js'
import type {RecordIssue, StateVerification} from '../../../src/lib/state/types.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

/**
 * The per-row chain: every record a gate or the report reads is tamper-evident. Each test edits
 * state.db the way someone with the file would (better-sqlite3, dropping the append-only trigger
 * in the way) and asserts verify names exactly that table and row.
 */

interface Ids {
  failedRun: string
  passedRun: string
  sample: number
  evaluation: string
  approval: number
  critical: number
  minor: number
  feedback: number
  baseline: number
  rollback: number
  maintenance: number
  operation: string
  journalFailed: number
}

/** One or more rows in every chained table, written through every write path of the store. */
function populate(store: StateStore): Ids {
  store.setPhase(1, {reason: 'start'})
  store.setPhase(2, {reason: 'advance'})
  const failedRun = store.startRun({kind: 'validation', phase: 2})
  store.finishRun(failedRun, {outcome: 'fail', results: {checks: [{id: 'gateway.health', status: 'fail'}]}})
  const passedRun = store.recordRun({kind: 'validation', phase: 1, outcome: 'pass', results: {checks: []}}).id
  store.addSample({source: 'gateway', ts: 1000, metrics: {error_rate: 0.01, latency_ms: {p99: 12}}})
  store.addSamples([
    {source: 'gateway', ts: 2000, metrics: {error_rate: 0.2, latency_ms: {p99: 900}}},
    {source: 'gateway', ts: 3000, metrics: {error_rate: 0.02, latency_ms: {p99: 15}}},
    {source: 'gateway', ts: 1000, metrics: {error_rate: 0.5}}, // duplicate (source, ts): not stored, not chained
  ])
  const evaluation = store.recordEvaluation({from: 2, to: 3, verdict: 'NO_GO', inputs: {criteria: [{id: 'errors', value: 0.2}]}}).id
  const approval = store.addApproval({phase: 2, by: 'alice', reason: 'reviewed', evaluationId: evaluation}).id
  const critical = store.addIncident({severity: 'critical', title: 'gateway drops streams'}).id
  const minor = store.addIncident({severity: 'minor', title: 'typo'}).id
  store.resolveIncident(minor, {by: 'bob', resolution: 'fixed'})
  store.addFeedback({user: 'u1', sentiment: 'positive'})
  const feedback = store.addFeedback({user: 'u2', sentiment: 'negative', comment: 'slow'}).id
  const baseline = store.pinBaseline({phase: 1, metrics: {error_rate: 0.01, latency_p99_ms: 12}, sampleCount: 3}).id
  const rollback = store.recordRollback({kind: 'flag', outcome: 'success', timings: {flags: 800, restart: 19_000}, objectiveMs: 30_000}).id
  const maintenance = store.beginMaintenance({kind: 'rollback', reason: 'emergency flag rollback'}).id
  store.endMaintenance(maintenance, {graceMs: 100, outcome: 'verified_up'})
  const op = store.beginOperation({kind: 'advance', params: {from: 2, to: 3}, steps: ['preflight', 'set-flags']})
  store.beginStep(op.operation.id, 0)
  store.markStep(op.operation.id, 0, 'done')
  store.beginStep(op.operation.id, 1)
  store.markStep(op.operation.id, 1, 'failed', {error: 'boom'})
  store.beginStep(op.operation.id, 2, 'late-step')
  store.markStep(op.operation.id, 2, 'done')
  store.finishOperation(op.operation.id, 'failed', {error: 'boom'})
  return {
    failedRun,
    passedRun,
    sample: store.listSamples().find((s) => s.ts === 2000)!.id,
    evaluation,
    approval,
    critical,
    minor,
    feedback,
    baseline,
    rollback,
    maintenance,
    operation: op.operation.id,
    journalFailed: journalId(store.file, op.operation.id, 1),
  }
}

function journalId(file: string, operationId: string, index: number): number {
  const raw = new Database(file, {readonly: true})
  try {
    return (raw.prepare('SELECT id FROM journal WHERE operation_id = ? AND step_index = ?').get(operationId, index) as {id: number}).id
  } finally {
    raw.close()
  }
}

/** Tamper with state.db directly, as someone holding the file would: a script (e.g. dropping a trigger), then statements. */
function tamper(file: string, script: string, ...statements: Array<[string, unknown[]]>): void {
  const raw = new Database(file)
  try {
    if (script) raw.exec(script)
    for (const [sql, params] of statements) raw.prepare(sql).run(...params)
  } finally {
    raw.close()
  }
}

function expectOnly(result: StateVerification, issue: Pick<RecordIssue, 'table' | 'rowKey' | 'problem'>): RecordIssue {
  expect(result.ok, 'verify ok').to.equal(false)
  expect(result.trail.ok, 'the trail itself was not touched').to.equal(true)
  expect(result.records.ok).to.equal(false)
  expect(result.records.issues.map((i) => ({table: i.table, rowKey: i.rowKey, problem: i.problem}))).to.deep.equal([issue])
  expect(result.records.issueCount).to.equal(1)
  expect(result.records.firstBad).to.deep.include(issue)
  return result.records.firstBad!
}

describe('StateStore: per-row chain (every record a gate or the report reads is tamper-evident)', () => {
  let file: string
  let store: StateStore
  let ids: Ids
  let clock: number

  beforeEach(() => {
    file = defaultStatePath(path.join(makeTempDir(), 'home'))
    clock = Date.parse('2026-02-01T10:00:00Z')
    store = StateStore.open(file, {actor: 'alice', now: () => new Date((clock += 1000))})
    ids = populate(store)
  })
  afterEach(() => {
    store.close()
    cleanupTempDirs()
  })

  it('an untouched store verifies: every chained table has rows, every row its chain entry', () => {
    const result = store.verify()
    expect(result.ok).to.equal(true)
    expect(result.trail.ok).to.equal(true)
    expect(result.records).to.deep.include({ok: true, issueCount: 0, firstBad: null, issues: [], sealed: 0})
    for (const table of CHAINED_TABLES) expect(result.records.tables[table], table).to.be.greaterThan(0)
    expect(result.records.tables.samples).to.equal(3)
    expect(result.records.rows).to.equal(Object.values(result.records.tables).reduce((a, b) => a + b, 0))
    // Inserts plus updates: more entries than rows, and the head is the last one.
    expect(result.records.entries).to.be.greaterThan(result.records.rows)
    expect(result.records.head?.seq).to.equal(result.records.entries)
    expect(store.verifyRecords()).to.deep.equal(result.records)
  })

  it('chains every table of the schema except the trail (its own chain), the lock and the chain itself', () => {
    const raw = new Database(file, {readonly: true})
    const tables = (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{name: string}>).map((t) => t.name)
    raw.close()
    expect([...tables].sort()).to.deep.equal([...CHAINED_TABLES, ...UNCHAINED_TABLES].sort())
  })

  // One tamper per chained table, each a change that can flip a gate or the report.
  const cases: Array<{table: string; what: string; run: (file: string, ids: Ids) => void; key: (ids: Ids) => string; problem: RecordIssue['problem']}> = [
    {table: 'phase_state', what: 'phase 2 -> 3', problem: 'edited', key: () => '1', run: (f) => tamper(f, 'UPDATE phase_state SET phase = 3')},
    {table: 'runs', what: 'a failed validation made to pass', problem: 'edited', key: (i) => i.failedRun, run: (f, i) => tamper(f, '', ["UPDATE runs SET outcome = 'pass' WHERE id = ?", [i.failedRun]])},
    {table: 'samples', what: "a sample's metrics", problem: 'edited', key: (i) => String(i.sample), run: (f, i) => tamper(f, '', ['UPDATE samples SET metrics = ? WHERE id = ?', [JSON.stringify({error_rate: 0.001, latency_ms: {p99: 10}}), i.sample]])},
    {
      table: 'evaluations',
      what: 'a forged GO evaluation',
      problem: 'inserted',
      key: () => 'forged-eval',
      run: (f) => tamper(f, '', ["INSERT INTO evaluations (id, ts, from_phase, to_phase, verdict, inputs, evidence_hash, actor) VALUES ('forged-eval', '2026-02-01T11:00:00.000Z', 2, 3, 'GO', '{}', ?, 'mallory')", ['e'.repeat(64)]]),
    },
    {table: 'approvals', what: 'approved_by rewritten', problem: 'edited', key: (i) => String(i.approval), run: (f, i) => tamper(f, 'DROP TRIGGER approvals_no_change', ["UPDATE approvals SET approved_by = 'cto' WHERE id = ?", [i.approval]])},
    {table: 'incidents', what: 'severity critical -> minor', problem: 'edited', key: (i) => String(i.critical), run: (f, i) => tamper(f, '', ["UPDATE incidents SET severity = 'minor' WHERE id = ?", [i.critical]])},
    {table: 'feedback', what: 'a negative feedback deleted', problem: 'deleted', key: (i) => String(i.feedback), run: (f, i) => tamper(f, 'DROP TRIGGER feedback_no_delete', ['DELETE FROM feedback WHERE id = ?', [i.feedback]])},
    {table: 'baselines', what: "a baseline's metrics", problem: 'edited', key: (i) => String(i.baseline), run: (f, i) => tamper(f, '', ['UPDATE baselines SET metrics = ? WHERE id = ?', [JSON.stringify({error_rate: 0.5, latency_p99_ms: 5000}), i.baseline]])},
    {table: 'rollbacks', what: "a rollback's total_ms", problem: 'edited', key: (i) => String(i.rollback), run: (f, i) => tamper(f, '', ['UPDATE rollbacks SET total_ms = 900 WHERE id = ?', [i.rollback]])},
    {table: 'maintenance_windows', what: 'an emergency made planned', problem: 'edited', key: (i) => String(i.maintenance), run: (f, i) => tamper(f, '', ['UPDATE maintenance_windows SET planned = 1 WHERE id = ?', [i.maintenance]])},
    {table: 'operations', what: 'a failed advance made done', problem: 'edited', key: (i) => i.operation, run: (f, i) => tamper(f, '', ["UPDATE operations SET state = 'done' WHERE id = ?", [i.operation]])},
    {table: 'journal', what: 'a failed step made done', problem: 'edited', key: (i) => String(i.journalFailed), run: (f, i) => tamper(f, '', ["UPDATE journal SET state = 'done' WHERE id = ?", [i.journalFailed]])},
  ]

  it('has a tamper case for every chained table', () => {
    expect([...new Set(cases.map((c) => c.table))].sort()).to.deep.equal([...CHAINED_TABLES].sort())
  })

  for (const c of cases) {
    it(`${c.table}: ${c.what} is named (${c.problem})`, () => {
      c.run(file, ids)
      const issue = expectOnly(store.verify(), {table: c.table, rowKey: c.key(ids), problem: c.problem})
      const label = {edited: 'edited', inserted: 'inserted outside cutover', deleted: 'deleted', relinked: 'chain re-linked'}[c.problem]
      expect(issue.reason.startsWith(`${c.table} row ${c.key(ids)} ${label} (`), issue.reason).to.equal(true)
      if (c.problem === 'inserted') expect(issue.seq).to.equal(null)
      else expect(issue.seq).to.be.a('number')
    })
  }

  it('evaluations: a verdict rewritten NO_GO -> GO is named', () => {
    tamper(file, 'DROP TRIGGER evaluations_no_change', ["UPDATE evaluations SET verdict = 'GO' WHERE id = ?", [ids.evaluation]])
    expectOnly(store.verify(), {table: 'evaluations', rowKey: ids.evaluation, problem: 'edited'})
  })

  it('approvals: a forged approval inserted outside cutover is named', () => {
    tamper(file, '', ["INSERT INTO approvals (ts, phase, approved_by, reason) VALUES ('2026-02-01T11:00:00.000Z', 2, 'cto', 'lgtm')", []])
    const forged = store.listApprovals()[0]!
    expect(forged.by).to.equal('cto')
    const issue = expectOnly(store.verify(), {table: 'approvals', rowKey: String(forged.id), problem: 'inserted'})
    expect(issue.reason).to.contain('inserted outside cutover')
  })

  it('incidents: an incident deleted is named', () => {
    tamper(file, 'DROP TRIGGER incidents_no_delete', ['DELETE FROM incidents WHERE id = ?', [ids.critical]])
    expectOnly(store.verify(), {table: 'incidents', rowKey: String(ids.critical), problem: 'deleted'})
  })

  it('a row changed and changed back verifies again (the content is what is checked)', () => {
    tamper(file, '', ["UPDATE incidents SET severity = 'minor' WHERE id = ?", [ids.critical]])
    expect(store.verify().ok).to.equal(false)
    tamper(file, '', ["UPDATE incidents SET severity = 'critical' WHERE id = ?", [ids.critical]])
    expect(store.verify().ok).to.equal(true)
  })

  it('editing the chain entry to match an edited row is named as a re-linked chain (entry hash)', () => {
    const raw = new Database(file)
    raw.prepare("UPDATE incidents SET severity = 'minor' WHERE id = ?").run(ids.critical)
    const entry = raw.prepare("SELECT seq FROM row_chain WHERE table_name = 'incidents' AND row_key = ? ORDER BY seq DESC LIMIT 1").get(String(ids.critical)) as {seq: number}
    const row = raw.prepare('SELECT * FROM incidents WHERE id = ?').get(ids.critical)
    raw.exec('DROP TRIGGER row_chain_no_update')
    // The forger knows the row hash definition: sha256 of the row's canonical JSON.
    raw.prepare('UPDATE row_chain SET row_hash = ? WHERE seq = ?').run(hashRow(row), entry.seq)
    raw.close()
    const result = store.verify()
    const issue = expectOnly(result, {table: 'incidents', rowKey: String(ids.critical), problem: 'relinked'})
    expect(issue.seq).to.equal(entry.seq)
    expect(issue.reason).to.contain(`incidents row ${ids.critical}: chain re-linked`).and.contain(`entry #${entry.seq} was changed after it was written`)
  })

  it('a chain entry whose hash is replaced is named, and so is the next entry, which no longer links to it', () => {
    const raw = new Database(file)
    const entry = raw.prepare("SELECT seq FROM row_chain WHERE table_name = 'incidents' AND row_key = ? ORDER BY seq DESC LIMIT 1").get(String(ids.critical)) as {seq: number}
    raw.exec('DROP TRIGGER row_chain_no_update')
    raw.prepare('UPDATE row_chain SET hash = ? WHERE seq = ?').run('f'.repeat(64), entry.seq)
    raw.close()
    const result = store.verify()
    expect(result.ok).to.equal(false)
    // The entry's own hash no longer matches; the next one no longer links to it.
    expect(result.records.issues.map((i) => [i.problem, i.seq])).to.deep.equal([
      ['relinked', entry.seq],
      ['relinked', entry.seq + 1],
    ])
    expect(result.records.issues[1]!.reason).to.contain('does not link')
  })

  it('a deleted chain entry is named by its seq; its row then has no entry', () => {
    const raw = new Database(file)
    const entry = raw.prepare("SELECT seq FROM row_chain WHERE table_name = 'feedback' AND row_key = ?").get(String(ids.feedback)) as {seq: number}
    raw.exec('DROP TRIGGER row_chain_no_delete')
    raw.prepare('DELETE FROM row_chain WHERE seq = ?').run(entry.seq)
    raw.close()
    const result = store.verify()
    expect(result.records.firstBad).to.deep.include({table: 'row_chain', rowKey: String(entry.seq), problem: 'relinked', seq: entry.seq})
    expect(result.records.firstBad!.reason).to.contain(`entry #${entry.seq} is missing`)
    expect(result.records.issues.map((i) => [i.table, i.rowKey, i.problem])).to.deep.equal([
      ['row_chain', String(entry.seq), 'relinked'],
      ['feedback', String(ids.feedback), 'inserted'],
    ])
  })

  it('a dropped row chain is reported, and every row as unchained', () => {
    tamper(file, 'DROP TABLE row_chain')
    const result = store.verifyRecords()
    expect(result.ok).to.equal(false)
    expect(result.firstBad).to.deep.include({table: 'row_chain', problem: 'relinked'})
    expect(result.issueCount).to.equal(result.rows + 1)
    expect(result.issues).to.have.length(Math.min(result.rows + 1, MAX_LISTED_ISSUES))
  })

  it('writes keep verifying after a tamper is reverted; new writes chain on', () => {
    store.addIncident({severity: 'major', title: 'later'})
    store.addSamples([{source: 'gateway', ts: 4000, metrics: {error_rate: 0}}])
    expect(store.verify().ok).to.equal(true)
  })

  it('a write whose chain entry cannot be written is not applied at all (one transaction)', () => {
    tamper(file, "CREATE TRIGGER row_chain_refuse BEFORE INSERT ON row_chain BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    const before = store.listIncidents().length
    expect(() => store.addIncident({severity: 'critical', title: 'half applied?'})).to.throw(/disk says no/)
    expect(() => store.addSamples([{source: 'gateway', ts: 5000, metrics: {}}, {source: 'gateway', ts: 6000, metrics: {}}])).to.throw(/disk says no/)
    expect(store.listIncidents()).to.have.length(before)
    expect(store.countSamples()).to.equal(3)
    tamper(file, 'DROP TRIGGER row_chain_refuse')
    expect(store.verify().ok).to.equal(true)
  })
})

describe('StateStore: migration to the row chain seals existing rows', () => {
  afterEach(() => cleanupTempDirs())

  /** A state file as cutover wrote it before the row chain: migrations 1 and 2, user_version 2, rows in several tables. */
  function v2File(): string {
    const file = path.join(makeTempDir(), 'state.db')
    const old = new Database(file)
    old.exec(MIGRATIONS[0]!)
    old.exec(MIGRATIONS[1]!)
    old.pragma('user_version = 2')
    old.prepare("INSERT INTO phase_state (id, phase, since, reason, actor) VALUES (1, 2, '2026-01-01T00:00:00.000Z', 'advance', 'bob')").run()
    old.prepare("INSERT INTO samples (ts, source, metrics) VALUES (1000, 'gateway', '{\"error_rate\":0.01}'), (2000, 'gateway', '{\"error_rate\":0.02}')").run()
    old.prepare("INSERT INTO incidents (ts, severity, title, author) VALUES ('2026-01-01T01:00:00.000Z', 'critical', 'outage', 'bob')").run()
    old.prepare("INSERT INTO approvals (ts, phase, approved_by) VALUES ('2026-01-01T02:00:00.000Z', 1, 'alice')").run()
    old.prepare("INSERT INTO maintenance_windows (started_at, reason, kind, actor) VALUES ('2026-01-01T03:00:00.000Z', 'restart', 'advance-step', 'bob')").run()
    old.prepare("INSERT INTO trail (seq, ts, kind, actor, payload, prev_hash, hash) VALUES (1, '2026-01-01T00:00:00.000Z', 'k', 'bob', '{}', ?, ?)").run('0'.repeat(64), trailHashOf())
    old.close()
    return file
  }

  it('opens a version 2 file, seals its rows (recorded in the trail) and verifies', () => {
    expect(ROW_CHAIN_VERSION).to.equal(3)
    expect(SCHEMA_VERSION).to.be.at.least(ROW_CHAIN_VERSION)
    const file = v2File()
    const store = StateStore.open(file, {actor: 'alice'})
    try {
      expect(store.schemaVersion).to.equal(SCHEMA_VERSION)
      const result = store.verify()
      expect(result.ok).to.equal(true)
      expect(result.records).to.deep.include({ok: true, rows: 6, entries: 6, sealed: 6})
      expect(result.records.tables).to.deep.include({phase_state: 1, samples: 2, incidents: 1, approvals: 1, maintenance_windows: 1})
      const sealed = store.listTrail({kind: 'state.sealed'})
      expect(sealed).to.have.length(1)
      expect(sealed[0]!.payload).to.deep.include({rows: 6, schema_version: ROW_CHAIN_VERSION, tables: {phase_state: 1, samples: 2, incidents: 1, approvals: 1, maintenance_windows: 1}})
      // Writes after the migration chain on.
      store.addIncident({severity: 'minor', title: 'after'})
      expect(store.verify().ok).to.equal(true)
    } finally {
      store.close()
    }
    // Reopening does not seal twice.
    const again = StateStore.open(file)
    try {
      expect(again.verifyRecords()).to.deep.include({ok: true, sealed: 6, entries: 7})
      expect(again.listTrail({kind: 'state.sealed'})).to.have.length(1)
    } finally {
      again.close()
    }
  })

  it('a sealed row tampered after the migration is named', () => {
    const file = v2File()
    StateStore.open(file).close()
    tamper(file, '', ["UPDATE incidents SET severity = 'minor' WHERE id = 1", []])
    const store = StateStore.open(file)
    try {
      const issue = expectOnly(store.verify(), {table: 'incidents', rowKey: '1', problem: 'edited'})
      expect(issue.seq).to.be.a('number')
    } finally {
      store.close()
    }
  })

  it('a fresh store writes no seal record', () => {
    const store = StateStore.open(path.join(makeTempDir(), 'fresh.db'))
    try {
      expect(store.listTrail()).to.deep.equal([])
      expect(store.verifyRecords()).to.deep.include({ok: true, rows: 0, entries: 0, sealed: 0, head: null})
    } finally {
      store.close()
    }
  })
})

// Recomputed here, independently of the store, as a forger would.
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v)).join(',')}]`
  const obj = value as Record<string, unknown>
  return `{${Object.keys(obj)
    .sort()
    .filter((k) => obj[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
    .join(',')}}`
}

function hashRow(row: unknown): string {
  return createHash('sha256').update(canonical(row)).digest('hex')
}

function trailHashOf(): string {
  return createHash('sha256')
    .update('0'.repeat(64) + canonical({actor: 'bob', kind: 'k', payload: {}, seq: 1, ts: '2026-01-01T00:00:00.000Z'}))
    .digest('hex')
}
