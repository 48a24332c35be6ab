import Database from 'better-sqlite3'
import {randomUUID} from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {ConfigError, CutoverError, ExitCode} from '../errors.js'
import {canonicalJson, hashJson, sha256Hex} from '../util/hash.js'
import {withinObjective as isWithinObjective} from '../util/objective.js'
import {isPidAlive} from '../util/process.js'
import {redactValue} from '../util/redact.js'
import {type ChainedTable, RowChain} from './row-chain.js'
import {MIGRATIONS, ROW_CHAIN_VERSION, SCHEMA_VERSION} from './schema.js'
import {
  type ApprovalRecord,
  type BaselineRecord,
  type EvaluationRecord,
  type FeedbackRecord,
  INCIDENT_SEVERITIES,
  type IncidentRecord,
  type IncidentSeverity,
  type JournalStep,
  DEFAULT_MAINTENANCE_CAP_MS,
  MAINTENANCE_KINDS,
  type MaintenanceKind,
  type MaintenanceWindow,
  type OperationLockHolder,
  type OperationRecord,
  type OperationState,
  type PendingOperation,
  type PhaseState,
  type RollbackRecord,
  type RunRecord,
  type RecordVerification,
  type RowChainOp,
  type SampleRecord,
  type Sentiment,
  SENTIMENTS,
  type StateVerification,
  type StepState,
  type TrailRecord,
  type TrailVerification,
} from './types.js'

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1')
export const GENESIS_HASH = '0'.repeat(64)

/** The state file is not a usable SQLite database. Exit 2; the file is left untouched. */
export class StateFileError extends ConfigError {
  readonly file: string
  constructor(file: string, message: string, suggestions: string[], code = 'STATE_FILE_INVALID') {
    super(message, suggestions, code)
    this.name = 'StateFileError'
    this.file = file
  }
}

/** Another mutating cutover command holds the operation lock. Exit 4: nothing was done, try again later. */
export class OperationLockedError extends CutoverError {
  readonly holder: OperationLockHolder
  constructor(wanted: string, holder: OperationLockHolder, waitedMs: number) {
    super(
      `cannot run "${wanted}": another cutover command is changing the target: "${holder.name}" (pid ${holder.pid} on ${holder.host}, since ${holder.acquiredAt})` +
        (waitedMs > 0 ? `; waited ${Math.round(waitedMs / 1000)} s` : ''),
      {
        code: 'OPERATION_LOCKED',
        exit: ExitCode.CouldNotEvaluate,
        suggestions: ['Wait for it to finish and run the command again.', 'A lock left by a crashed process on this host is released automatically.'],
      },
    )
    this.name = 'OperationLockedError'
    this.holder = holder
  }
}

/** A journal or record operation that does not fit the current state (unknown id, step already done, ...). Exit 2. */
export class StateConflictError extends CutoverError {
  constructor(message: string, suggestions: string[] = [], code = 'STATE_CONFLICT') {
    super(message, {code, exit: ExitCode.Usage, suggestions})
    this.name = 'StateConflictError'
  }
}

export interface OperationLock {
  readonly name: string
  /** Release the lock (idempotent). */
  release(): void
}

export interface StateStoreOptions {
  /** Who is acting (recorded with every record); default $CUTOVER_ACTOR, else the OS user. */
  actor?: string
  /** Injected clock for tests. */
  now?: () => Date
  /** SQLite busy timeout in ms (default 5000). */
  busyTimeoutMs?: number
  /**
   * A maintenance window left open (its process crashed or was killed) ends at most this long after
   * its start when read. Default $CUTOVER_MAINTENANCE_CAP_S seconds, else 60 s.
   */
  maintenanceCapMs?: number
}

function maintenanceCapFromEnv(): number {
  const seconds = Number(process.env.CUTOVER_MAINTENANCE_CAP_S)
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_MAINTENANCE_CAP_MS
}

/** The state store's default location for a target home. */
export function defaultStatePath(home: string): string {
  return path.join(home, 'cutover', 'state.db')
}

export function defaultActor(): string {
  if (process.env.CUTOVER_ACTOR) return process.env.CUTOVER_ACTOR
  try {
    return os.userInfo().username
  } catch {
    return 'unknown'
  }
}

type Row = Record<string, unknown>
const json = (value: unknown): string => JSON.stringify(redactValue(value ?? null))
const parse = <T>(text: unknown): T => (typeof text === 'string' ? (JSON.parse(text) as T) : (null as T))
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))

/**
 * cutover's own state: phase, validation runs, monitor samples, gate evaluations, human evidence,
 * the advance/rollback journal, rollback timings, and a hash-chained audit trail.
 * Every mutation is one SQLite transaction; decisions also append to the trail in that same transaction.
 */
/**
 * A SQLite file with tables but no cutover schema version belongs to something else: opening it
 * as the state store would convert it to WAL and add our tables. Found by the reliability suite.
 */
function refuseForeignDatabase(file: string, db: Database.Database): void {
  if ((db.pragma('user_version', {simple: true}) as number) > 0) return
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{name: string}>).map((t) => t.name)
  if (tables.length === 0) return
  throw new StateFileError(
    file,
    `state file ${file} is a SQLite database of another program (tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''}; no cutover schema version); cutover will not modify it`,
    [`Point --state at cutover's state file, or move this one aside (mv ${file} ${file}.other) to start a fresh state.`],
    'STATE_FILE_FOREIGN',
  )
}

export class StateStore {
  readonly file: string
  readonly actor: string
  private readonly db: Database.Database
  private readonly chain: RowChain
  private readonly now: () => Date
  private readonly heldLocks = new Map<string, () => void>()
  /** See StateStoreOptions.maintenanceCapMs. */
  readonly maintenanceCapMs: number

  private constructor(file: string, db: Database.Database, opts: StateStoreOptions) {
    this.file = file
    this.db = db
    this.chain = new RowChain(db)
    this.actor = opts.actor ?? defaultActor()
    this.now = opts.now ?? (() => new Date())
    const cap = opts.maintenanceCapMs ?? maintenanceCapFromEnv()
    if (!(Number.isFinite(cap) && cap > 0)) throw new StateConflictError(`the maintenance window cap must be a positive number of ms, got ${cap}`)
    this.maintenanceCapMs = cap
  }

  /** Open (creating if needed) the state file. A file that is not SQLite is refused, never overwritten. */
  static open(file: string, opts: StateStoreOptions = {}): StateStore {
    const abs = path.resolve(file)
    const dir = path.dirname(abs)
    const exists = fs.existsSync(abs)
    if (exists) checkHeader(abs)
    else {
      fs.mkdirSync(dir, {recursive: true, mode: 0o700})
      // Create it 0600 before SQLite does (SQLite would use the umask).
      fs.closeSync(fs.openSync(abs, 'a', 0o600))
    }
    try {
      fs.chmodSync(abs, 0o600)
    } catch {
      // not ours to change (e.g. owned by another user): leave as is
    }
    let db: Database.Database | undefined
    try {
      db = new Database(abs, {fileMustExist: true})
      db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`)
      // Before anything writes (journal_mode = WAL rewrites the header): refuse another program's database.
      if (exists) refuseForeignDatabase(abs, db)
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.pragma('foreign_keys = ON')
      const store = new StateStore(abs, db, opts)
      store.migrate()
      return store
    } catch (error) {
      db?.close()
      if (error instanceof CutoverError) throw error
      throw mapOpenError(abs, error)
    }
  }

  close(): void {
    for (const release of [...this.heldLocks.values()]) release()
    if (this.db.open) this.db.close()
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', {simple: true}) as number
  }

  private migrate(): void {
    const current = this.schemaVersion
    if (current > SCHEMA_VERSION) {
      throw new StateFileError(this.file, `state file ${this.file} has schema version ${current}, newer than this cutover understands (${SCHEMA_VERSION})`, [
        'Use the cutover version that wrote it, or point --state at another file.',
      ], 'STATE_SCHEMA_NEWER')
    }
    for (let version = current; version < SCHEMA_VERSION; version++) {
      this.db.transaction(() => {
        // Another process may have applied it while this one waited for the write lock.
        if (this.schemaVersion !== version) return
        this.db.exec(MIGRATIONS[version] as string)
        if (version + 1 === ROW_CHAIN_VERSION) this.sealAtMigration()
        this.db.pragma(`user_version = ${version + 1}`)
      }).immediate()
    }
  }

  /** Rows written before the row chain existed are sealed as they are, and the seal goes into the trail. */
  private sealAtMigration(): void {
    const tables = this.chain.seal()
    const rows = Object.values(tables).reduce((a, b) => a + b, 0)
    if (rows > 0) this.appendTrailInTx('state.sealed', {schema_version: ROW_CHAIN_VERSION, rows, tables, row_chain_head: this.chain.head()}, 'cutover')
  }

  /** Chain a row this transaction just inserted or updated (every write path of a chained table calls it; addSamples hands the returned row to chain.recordReturned). */
  private chained(table: ChainedTable, key: string | number, op: Exclude<RowChainOp, 'seal'>): void {
    this.chain.record(table, key, op)
  }

  private iso(): string {
    return this.now().toISOString()
  }

  /** Run fn in an IMMEDIATE transaction (takes the write lock up front, so concurrent writers queue on busy_timeout). */
  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }

  // ---------------------------------------------------------------- phase

  getPhase(): PhaseState | null {
    const row = this.db.prepare('SELECT phase, since, reason, actor FROM phase_state WHERE id = 1').get() as Row | undefined
    return row ? {phase: Number(row.phase), since: String(row.since), reason: str(row.reason), actor: String(row.actor)} : null
  }

  setPhase(phase: number, opts: {reason?: string; actor?: string} = {}): PhaseState {
    if (!Number.isInteger(phase) || phase < 0) throw new StateConflictError(`phase must be a non-negative integer, got ${phase}`)
    return this.tx(() => {
      const previous = this.getPhase()
      const state: PhaseState = {phase, since: this.iso(), reason: opts.reason ?? null, actor: opts.actor ?? this.actor}
      this.db
        .prepare('INSERT INTO phase_state (id, phase, since, reason, actor) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, since = excluded.since, reason = excluded.reason, actor = excluded.actor')
        .run(state.phase, state.since, state.reason, state.actor)
      this.chained('phase_state', 1, previous ? 'update' : 'insert')
      this.appendTrailInTx('phase.set', {from: previous?.phase ?? null, to: phase, reason: state.reason}, state.actor)
      return state
    })
  }

  // ---------------------------------------------------------------- validation runs

  startRun(input: {kind: string; phase?: number | null}): string {
    const id = randomUUID()
    this.tx(() => {
      this.db.prepare('INSERT INTO runs (id, kind, phase, started_at, actor) VALUES (?, ?, ?, ?, ?)').run(id, input.kind, input.phase ?? null, this.iso(), this.actor)
      this.chained('runs', id, 'insert')
    })
    return id
  }

  finishRun<R>(id: string, input: {outcome: string; results: R}): RunRecord<R> {
    return this.tx(() => {
      const info = this.db.prepare('UPDATE runs SET finished_at = ?, outcome = ?, results = ? WHERE id = ? AND finished_at IS NULL').run(this.iso(), input.outcome, json(input.results), id)
      if (info.changes === 0) throw new StateConflictError(`validation run ${id} does not exist or is already finished`)
      this.chained('runs', id, 'update')
      return this.getRun<R>(id)!
    })
  }

  /** Record a finished run in one go. */
  recordRun<R>(input: {kind: string; phase?: number | null; startedAt?: string; outcome: string; results: R}): RunRecord<R> {
    const id = randomUUID()
    return this.tx(() => {
      const finishedAt = this.iso()
      this.db
        .prepare('INSERT INTO runs (id, kind, phase, started_at, finished_at, outcome, results, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(id, input.kind, input.phase ?? null, input.startedAt ?? finishedAt, finishedAt, input.outcome, json(input.results), this.actor)
      this.chained('runs', id, 'insert')
      return this.getRun<R>(id)!
    })
  }

  getRun<R = unknown>(id: string): RunRecord<R> | null {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined
    return row ? toRun<R>(row) : null
  }

  listRuns<R = unknown>(filter: {kind?: string; phase?: number; limit?: number} = {}): RunRecord<R>[] {
    const where: string[] = []
    const params: unknown[] = []
    if (filter.kind !== undefined) {
      where.push('kind = ?')
      params.push(filter.kind)
    }
    if (filter.phase !== undefined) {
      where.push('phase = ?')
      params.push(filter.phase)
    }
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, rowid DESC LIMIT ?`
    return (this.db.prepare(sql).all(...params, filter.limit ?? 100) as Row[]).map((row) => toRun<R>(row))
  }

  /** The most recent finished run of a kind for each phase. */
  lastRunPerPhase<R = unknown>(kind: string): RunRecord<R>[] {
    const rows = this.db
      .prepare(
        `SELECT r.* FROM runs r WHERE r.kind = ? AND r.finished_at IS NOT NULL AND r.rowid = (
           SELECT r2.rowid FROM runs r2 WHERE r2.kind = r.kind AND r2.phase IS r.phase AND r2.finished_at IS NOT NULL
           ORDER BY r2.finished_at DESC, r2.rowid DESC LIMIT 1)
         ORDER BY r.phase`,
      )
      .all(kind) as Row[]
    return rows.map((row) => toRun<R>(row))
  }

  // ---------------------------------------------------------------- monitor samples

  /** Insert one sample; false when (source, ts) is already stored (a restarted monitor never double counts). */
  addSample(sample: {source: string; ts: number | Date; metrics: Record<string, unknown>}): boolean {
    return this.addSamples([sample]) === 1
  }

  /** Insert samples in one transaction; returns how many were new. */
  addSamples(samples: {source: string; ts: number | Date; metrics: Record<string, unknown>}[]): number {
    // RETURNING * hands the row as stored to the chain without reading it again (the hottest write path).
    const insert = this.db.prepare('INSERT INTO samples (ts, source, metrics) VALUES (?, ?, ?) ON CONFLICT (source, ts) DO NOTHING RETURNING *')
    return this.tx(() => {
      let inserted = 0
      for (const s of samples) {
        const ts = s.ts instanceof Date ? s.ts.getTime() : s.ts
        if (!Number.isFinite(ts)) throw new StateConflictError(`sample timestamp must be epoch milliseconds, got ${String(s.ts)}`)
        const row = insert.get(Math.round(ts), s.source, json(s.metrics)) as Row | undefined
        if (!row) continue
        this.chain.recordReturned('samples', row, 'insert')
        inserted++
      }
      return inserted
    })
  }

  listSamples<M = Record<string, unknown>>(filter: {source?: string; from?: number; to?: number; limit?: number} = {}): SampleRecord<M>[] {
    const {sql, params} = sampleWhere(filter)
    const rows = this.db.prepare(`SELECT * FROM samples ${sql} ORDER BY ts ASC, id ASC${filter.limit ? ' LIMIT ?' : ''}`).all(...params, ...(filter.limit ? [filter.limit] : [])) as Row[]
    return rows.map((row) => ({id: Number(row.id), ts: Number(row.ts), source: String(row.source), metrics: parse<M>(row.metrics)}))
  }

  countSamples(filter: {source?: string; from?: number; to?: number} = {}): number {
    const {sql, params} = sampleWhere(filter)
    return Number((this.db.prepare(`SELECT COUNT(*) AS n FROM samples ${sql}`).get(...params) as Row).n)
  }

  latestSample<M = Record<string, unknown>>(source?: string): SampleRecord<M> | null {
    const row = (source === undefined
      ? this.db.prepare('SELECT * FROM samples ORDER BY ts DESC, id DESC LIMIT 1').get()
      : this.db.prepare('SELECT * FROM samples WHERE source = ? ORDER BY ts DESC, id DESC LIMIT 1').get(source)) as Row | undefined
    return row ? {id: Number(row.id), ts: Number(row.ts), source: String(row.source), metrics: parse<M>(row.metrics)} : null
  }

  // ---------------------------------------------------------------- gate evaluations

  recordEvaluation<I>(input: {from: number; to: number; verdict: string; inputs: I}): EvaluationRecord<I> {
    const id = randomUUID()
    const inputs = redactValue(input.inputs)
    const evidenceHash = hashJson({from: input.from, to: input.to, verdict: input.verdict, inputs})
    return this.tx(() => {
      const ts = this.iso()
      this.db
        .prepare('INSERT INTO evaluations (id, ts, from_phase, to_phase, verdict, inputs, evidence_hash, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(id, ts, input.from, input.to, input.verdict, JSON.stringify(inputs ?? null), evidenceHash, this.actor)
      this.chained('evaluations', id, 'insert')
      this.appendTrailInTx('gate.evaluation', {evaluation_id: id, from: input.from, to: input.to, verdict: input.verdict, evidence_hash: evidenceHash})
      return {id, ts, from: input.from, to: input.to, verdict: input.verdict, inputs, evidenceHash, actor: this.actor}
    })
  }

  getEvaluation<I = unknown>(id: string): EvaluationRecord<I> | null {
    const row = this.db.prepare('SELECT * FROM evaluations WHERE id = ?').get(id) as Row | undefined
    return row ? toEvaluation<I>(row) : null
  }

  latestEvaluation<I = unknown>(gate: {from?: number; to?: number} = {}): EvaluationRecord<I> | null {
    return this.listEvaluations<I>({...gate, limit: 1})[0] ?? null
  }

  listEvaluations<I = unknown>(filter: {from?: number; to?: number; limit?: number} = {}): EvaluationRecord<I>[] {
    const where: string[] = []
    const params: unknown[] = []
    if (filter.from !== undefined) {
      where.push('from_phase = ?')
      params.push(filter.from)
    }
    if (filter.to !== undefined) {
      where.push('to_phase = ?')
      params.push(filter.to)
    }
    const rows = this.db.prepare(`SELECT * FROM evaluations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC, rowid DESC LIMIT ?`).all(...params, filter.limit ?? 100) as Row[]
    return rows.map((row) => toEvaluation<I>(row))
  }

  // ---------------------------------------------------------------- approvals

  /** Record an approval; with evaluationId it is bound to that evaluation's evidence hash. */
  addApproval(input: {phase: number; by: string; reason?: string; evaluationId?: string}): ApprovalRecord {
    if (input.by.trim().length === 0) throw new StateConflictError('an approval needs the approver\'s name (--by)')
    return this.tx(() => {
      let evaluationHash: string | null = null
      if (input.evaluationId !== undefined) {
        const evaluation = this.getEvaluation(input.evaluationId)
        if (!evaluation) throw new StateConflictError(`gate evaluation ${input.evaluationId} does not exist`, ['Run cutover gonogo first, then approve its evaluation.'])
        evaluationHash = evaluation.evidenceHash
      }
      const ts = this.iso()
      const info = this.db
        .prepare('INSERT INTO approvals (ts, phase, approved_by, reason, evaluation_id, evaluation_hash) VALUES (?, ?, ?, ?, ?, ?)')
        .run(ts, input.phase, input.by, input.reason ?? null, input.evaluationId ?? null, evaluationHash)
      const id = Number(info.lastInsertRowid)
      this.chained('approvals', id, 'insert')
      this.appendTrailInTx('approval', {approval_id: id, phase: input.phase, by: input.by, reason: input.reason ?? null, evaluation_id: input.evaluationId ?? null, evaluation_hash: evaluationHash})
      return {id, ts, phase: input.phase, by: input.by, reason: input.reason ?? null, evaluationId: input.evaluationId ?? null, evaluationHash}
    })
  }

  listApprovals(filter: {phase?: number; evaluationHash?: string} = {}): ApprovalRecord[] {
    const where: string[] = []
    const params: unknown[] = []
    if (filter.phase !== undefined) {
      where.push('phase = ?')
      params.push(filter.phase)
    }
    if (filter.evaluationHash !== undefined) {
      where.push('evaluation_hash = ?')
      params.push(filter.evaluationHash)
    }
    const rows = this.db.prepare(`SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`).all(...params) as Row[]
    return rows.map((row) => ({
      id: Number(row.id),
      ts: String(row.ts),
      phase: Number(row.phase),
      by: String(row.approved_by),
      reason: str(row.reason),
      evaluationId: str(row.evaluation_id),
      evaluationHash: str(row.evaluation_hash),
    }))
  }

  // ---------------------------------------------------------------- incidents

  addIncident(input: {severity: IncidentSeverity; title: string; detail?: string; by?: string}): IncidentRecord {
    if (!(INCIDENT_SEVERITIES as readonly string[]).includes(input.severity)) {
      throw new StateConflictError(`incident severity must be one of ${INCIDENT_SEVERITIES.join(', ')}, got "${input.severity}"`)
    }
    if (input.title.trim().length === 0) throw new StateConflictError('an incident needs a title')
    return this.tx(() => {
      const author = input.by ?? this.actor
      const info = this.db.prepare('INSERT INTO incidents (ts, severity, title, detail, author) VALUES (?, ?, ?, ?, ?)').run(this.iso(), input.severity, input.title, input.detail ?? null, author)
      const id = Number(info.lastInsertRowid)
      this.chained('incidents', id, 'insert')
      this.appendTrailInTx('incident.add', {incident_id: id, severity: input.severity, title: input.title}, author)
      return this.getIncident(id)!
    })
  }

  resolveIncident(id: number, input: {by?: string; resolution?: string} = {}): IncidentRecord {
    return this.tx(() => {
      const incident = this.getIncident(id)
      if (!incident) throw new StateConflictError(`incident ${id} does not exist`, ['List incidents with: cutover incident list'], 'INCIDENT_NOT_FOUND')
      if (incident.resolvedAt) throw new StateConflictError(`incident ${id} was already resolved at ${incident.resolvedAt} by ${incident.resolvedBy}`, [], 'INCIDENT_ALREADY_RESOLVED')
      const by = input.by ?? this.actor
      this.db.prepare('UPDATE incidents SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?').run(this.iso(), by, input.resolution ?? null, id)
      this.chained('incidents', id, 'update')
      this.appendTrailInTx('incident.resolve', {incident_id: id, resolution: input.resolution ?? null}, by)
      return this.getIncident(id)!
    })
  }

  getIncident(id: number): IncidentRecord | null {
    const row = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as Row | undefined
    return row ? toIncident(row) : null
  }

  listIncidents(filter: {open?: boolean; severity?: IncidentSeverity} = {}): IncidentRecord[] {
    const where: string[] = []
    const params: unknown[] = []
    if (filter.open === true) where.push('resolved_at IS NULL')
    if (filter.open === false) where.push('resolved_at IS NOT NULL')
    if (filter.severity !== undefined) {
      where.push('severity = ?')
      params.push(filter.severity)
    }
    const rows = this.db.prepare(`SELECT * FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ASC`).all(...params) as Row[]
    return rows.map((row) => toIncident(row))
  }

  // ---------------------------------------------------------------- feedback

  addFeedback(input: {user: string; sentiment: Sentiment; comment?: string; by?: string}): FeedbackRecord {
    if (!(SENTIMENTS as readonly string[]).includes(input.sentiment)) throw new StateConflictError(`sentiment must be one of ${SENTIMENTS.join(', ')}, got "${input.sentiment}"`)
    if (input.user.trim().length === 0) throw new StateConflictError('feedback needs a user id (--user)')
    return this.tx(() => {
      const author = input.by ?? this.actor
      const ts = this.iso()
      const info = this.db.prepare('INSERT INTO feedback (ts, user_id, sentiment, comment, author) VALUES (?, ?, ?, ?, ?)').run(ts, input.user, input.sentiment, input.comment ?? null, author)
      const id = Number(info.lastInsertRowid)
      this.chained('feedback', id, 'insert')
      this.appendTrailInTx('feedback.add', {feedback_id: id, user: input.user, sentiment: input.sentiment}, author)
      return {id, ts, user: input.user, sentiment: input.sentiment, comment: input.comment ?? null, author}
    })
  }

  listFeedback(filter: {from?: string; to?: string} = {}): FeedbackRecord[] {
    const where: string[] = []
    const params: unknown[] = []
    if (filter.from !== undefined) {
      where.push('ts >= ?')
      params.push(filter.from)
    }
    if (filter.to !== undefined) {
      where.push('ts <= ?')
      params.push(filter.to)
    }
    const rows = this.db.prepare(`SELECT * FROM feedback ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ASC`).all(...params) as Row[]
    return rows.map((row) => ({id: Number(row.id), ts: String(row.ts), user: String(row.user_id), sentiment: row.sentiment as Sentiment, comment: str(row.comment), author: String(row.author)}))
  }

  // ---------------------------------------------------------------- baselines

  pinBaseline(input: {phase: number; metrics: Record<string, number>; windowStart?: string; windowEnd?: string; sampleCount?: number}): BaselineRecord {
    for (const [key, value] of Object.entries(input.metrics)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new StateConflictError(`baseline metric "${key}" must be a finite number, got ${String(value)}`)
    }
    return this.tx(() => {
      const pinnedAt = this.iso()
      const info = this.db
        .prepare('INSERT INTO baselines (pinned_at, phase, window_start, window_end, sample_count, metrics, actor) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(pinnedAt, input.phase, input.windowStart ?? null, input.windowEnd ?? null, input.sampleCount ?? null, JSON.stringify(input.metrics), this.actor)
      const id = Number(info.lastInsertRowid)
      this.chained('baselines', id, 'insert')
      this.appendTrailInTx('baseline.pin', {baseline_id: id, phase: input.phase, metrics: input.metrics, sample_count: input.sampleCount ?? null})
      return {id, pinnedAt, phase: input.phase, windowStart: input.windowStart ?? null, windowEnd: input.windowEnd ?? null, sampleCount: input.sampleCount ?? null, metrics: {...input.metrics}, actor: this.actor}
    })
  }

  /** The most recently pinned baseline (of a phase, if given). */
  latestBaseline(phase?: number): BaselineRecord | null {
    const row = (phase === undefined
      ? this.db.prepare('SELECT * FROM baselines ORDER BY id DESC LIMIT 1').get()
      : this.db.prepare('SELECT * FROM baselines WHERE phase = ? ORDER BY id DESC LIMIT 1').get(phase)) as Row | undefined
    if (!row) return null
    return {
      id: Number(row.id),
      pinnedAt: String(row.pinned_at),
      phase: Number(row.phase),
      windowStart: str(row.window_start),
      windowEnd: str(row.window_end),
      sampleCount: num(row.sample_count),
      metrics: parse<Record<string, number>>(row.metrics),
      actor: String(row.actor),
    }
  }

  // ---------------------------------------------------------------- journal (advance / rollback steps)

  /**
   * Start an operation and journal its planned steps before any of them runs.
   * Refuses while another operation is pending: resume or roll that back first.
   */
  beginOperation<P>(input: {kind: string; params: P; steps: string[]}): PendingOperation<P> {
    return this.tx(() => {
      const pending = this.pendingOperation()
      if (pending) {
        throw new StateConflictError(
          `operation "${pending.operation.kind}" (${pending.operation.id}, started ${pending.operation.startedAt}) was interrupted and is still pending`,
          ['Run the same command again to resume or roll it back.'],
          'OPERATION_PENDING',
        )
      }
      const id = randomUUID()
      const ts = this.iso()
      this.db.prepare('INSERT INTO operations (id, kind, params, state, started_at, actor) VALUES (?, ?, ?, \'running\', ?, ?)').run(id, input.kind, json(input.params), ts, this.actor)
      this.chained('operations', id, 'insert')
      const insert = this.db.prepare('INSERT INTO journal (operation_id, step_index, name, state, planned_at) VALUES (?, ?, ?, \'planned\', ?)')
      input.steps.forEach((name, index) => this.chained('journal', Number(insert.run(id, index, name, ts).lastInsertRowid), 'insert'))
      this.appendTrailInTx('operation.begin', {operation_id: id, kind: input.kind, params: redactValue(input.params), steps: input.steps})
      return this.pendingOperationById<P>(id)!
    })
  }

  /** Journal a step as running before its effect starts. A step not planned yet is appended. */
  beginStep(operationId: string, index: number, name?: string, detail?: unknown): JournalStep {
    return this.tx(() => {
      const op = this.requireRunningOperation(operationId)
      const step = this.getStep(operationId, index)
      const ts = this.iso()
      if (!step) {
        if (!name) throw new StateConflictError(`step ${index} of operation ${operationId} was not planned; give its name to append it`)
        const info = this.db
          .prepare('INSERT INTO journal (operation_id, step_index, name, state, planned_at, started_at, detail) VALUES (?, ?, ?, \'running\', ?, ?, ?)')
          .run(operationId, index, name, ts, ts, detail === undefined ? null : json(detail))
        this.chained('journal', Number(info.lastInsertRowid), 'insert')
      } else {
        if (step.state === 'done') throw new StateConflictError(`step ${index} "${step.name}" of operation ${operationId} is already done; it must not run twice`)
        this.db
          .prepare('UPDATE journal SET state = \'running\', started_at = ?, finished_at = NULL, detail = COALESCE(?, detail) WHERE operation_id = ? AND step_index = ?')
          .run(ts, detail === undefined ? null : json(detail), operationId, index)
        this.chained('journal', this.journalRowId(operationId, index), 'update')
      }
      const current = this.getStep(operationId, index)!
      this.appendTrailInTx('step.begin', {operation_id: operationId, kind: op.kind, step: index, name: current.name, retry: step?.state === 'running' || step?.state === 'failed'})
      return current
    })
  }

  /** Mark a step's outcome after its effect (done, failed, or rolled_back by the compensation). */
  markStep(operationId: string, index: number, state: Exclude<StepState, 'planned' | 'running'>, detail?: unknown): JournalStep {
    return this.tx(() => {
      const op = this.getOperation(operationId)
      if (!op) throw new StateConflictError(`operation ${operationId} does not exist`)
      const step = this.getStep(operationId, index)
      if (!step) throw new StateConflictError(`operation ${operationId} has no step ${index}`)
      this.db
        .prepare('UPDATE journal SET state = ?, finished_at = ?, detail = COALESCE(?, detail) WHERE operation_id = ? AND step_index = ?')
        .run(state, this.iso(), detail === undefined ? null : json(detail), operationId, index)
      this.chained('journal', this.journalRowId(operationId, index), 'update')
      this.appendTrailInTx('step.' + state, {operation_id: operationId, kind: op.kind, step: index, name: step.name, detail: detail === undefined ? null : redactValue(detail)})
      return this.getStep(operationId, index)!
    })
  }

  finishOperation(operationId: string, state: Exclude<OperationState, 'running'>, detail?: unknown): OperationRecord {
    return this.tx(() => {
      const op = this.requireRunningOperation(operationId)
      this.db.prepare('UPDATE operations SET state = ?, finished_at = ?, detail = ? WHERE id = ?').run(state, this.iso(), detail === undefined ? null : json(detail), operationId)
      this.chained('operations', operationId, 'update')
      this.appendTrailInTx('operation.' + state, {operation_id: operationId, kind: op.kind, detail: detail === undefined ? null : redactValue(detail)})
      return this.getOperation(operationId)!
    })
  }

  /** The unfinished operation, if any, with where it stopped. */
  pendingOperation<P = unknown>(): PendingOperation<P> | null {
    const row = this.db.prepare('SELECT id FROM operations WHERE state = \'running\' ORDER BY started_at DESC, rowid DESC LIMIT 1').get() as Row | undefined
    return row ? this.pendingOperationById<P>(String(row.id)) : null
  }

  getOperation<P = unknown>(id: string): OperationRecord<P> | null {
    const row = this.db.prepare('SELECT * FROM operations WHERE id = ?').get(id) as Row | undefined
    return row ? toOperation<P>(row) : null
  }

  listOperations(filter: {kind?: string; limit?: number} = {}): OperationRecord[] {
    const rows = (filter.kind === undefined
      ? this.db.prepare('SELECT * FROM operations ORDER BY started_at DESC, rowid DESC LIMIT ?').all(filter.limit ?? 50)
      : this.db.prepare('SELECT * FROM operations WHERE kind = ? ORDER BY started_at DESC, rowid DESC LIMIT ?').all(filter.kind, filter.limit ?? 50)) as Row[]
    return rows.map((row) => toOperation(row))
  }

  operationSteps(operationId: string): JournalStep[] {
    return (this.db.prepare('SELECT * FROM journal WHERE operation_id = ? ORDER BY step_index').all(operationId) as Row[]).map((row) => toStep(row))
  }

  private journalRowId(operationId: string, index: number): number {
    return Number((this.db.prepare('SELECT id FROM journal WHERE operation_id = ? AND step_index = ?').get(operationId, index) as Row).id)
  }

  private getStep(operationId: string, index: number): JournalStep | null {
    const row = this.db.prepare('SELECT * FROM journal WHERE operation_id = ? AND step_index = ?').get(operationId, index) as Row | undefined
    return row ? toStep(row) : null
  }

  private requireRunningOperation(operationId: string): OperationRecord {
    const op = this.getOperation(operationId)
    if (!op) throw new StateConflictError(`operation ${operationId} does not exist`)
    if (op.state !== 'running') throw new StateConflictError(`operation ${operationId} is already finished (${op.state})`)
    return op
  }

  private pendingOperationById<P>(id: string): PendingOperation<P> | null {
    const operation = this.getOperation<P>(id)
    if (!operation) return null
    const steps = this.operationSteps(id)
    const interruptedStep = steps.find((s) => s.state === 'running') ?? null
    const nextStep = interruptedStep ?? steps.find((s) => s.state !== 'done') ?? null
    return {operation, steps, interruptedStep, nextStep}
  }

  // ---------------------------------------------------------------- rollbacks

  recordRollback(input: {kind: string; outcome: string; timings: Record<string, number>; objectiveMs?: number; totalMs?: number; operationId?: string; detail?: unknown}): RollbackRecord {
    const totalMs = input.totalMs ?? Object.values(input.timings).reduce((a, b) => a + b, 0)
    const objectiveMs = input.objectiveMs ?? null
    const withinObjective = isWithinObjective(input.outcome, totalMs, objectiveMs)
    return this.tx(() => {
      const ts = this.iso()
      const info = this.db
        .prepare('INSERT INTO rollbacks (ts, kind, outcome, timings, objective_ms, total_ms, within_objective, operation_id, detail, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(ts, input.kind, input.outcome, JSON.stringify(input.timings), objectiveMs, Math.round(totalMs), withinObjective ? 1 : 0, input.operationId ?? null, input.detail === undefined ? null : json(input.detail), this.actor)
      const id = Number(info.lastInsertRowid)
      this.chained('rollbacks', id, 'insert')
      this.appendTrailInTx('rollback', {rollback_id: id, kind: input.kind, outcome: input.outcome, total_ms: Math.round(totalMs), objective_ms: objectiveMs, within_objective: withinObjective, timings: input.timings})
      return this.latestRollback(input.kind)!
    })
  }

  latestRollback(kind?: string): RollbackRecord | null {
    return this.listRollbacks({kind, limit: 1})[0] ?? null
  }

  listRollbacks(filter: {kind?: string; limit?: number} = {}): RollbackRecord[] {
    const rows = (filter.kind === undefined
      ? this.db.prepare('SELECT * FROM rollbacks ORDER BY id DESC LIMIT ?').all(filter.limit ?? 50)
      : this.db.prepare('SELECT * FROM rollbacks WHERE kind = ? ORDER BY id DESC LIMIT ?').all(filter.kind, filter.limit ?? 50)) as Row[]
    return rows.map((row) => ({
      id: Number(row.id),
      ts: String(row.ts),
      kind: String(row.kind),
      outcome: String(row.outcome),
      timings: parse<Record<string, number>>(row.timings),
      objectiveMs: num(row.objective_ms),
      totalMs: num(row.total_ms),
      withinObjective: Number(row.within_objective) === 1,
      operationId: str(row.operation_id),
      detail: parse(row.detail),
      actor: String(row.actor),
    }))
  }

  // ---------------------------------------------------------------- maintenance windows

  /**
   * Open a maintenance window: cutover is about to take the daemon down on purpose (a journaled
   * restart, a rollback drill, the test-gateway script). Planned windows are excluded from
   * availability; an emergency rollback is recorded with planned = false, shown but counted.
   */
  beginMaintenance(input: {kind: MaintenanceKind; reason: string; planned?: boolean; operationId?: string | null; detail?: unknown; at?: Date}): MaintenanceWindow {
    if (!MAINTENANCE_KINDS.includes(input.kind)) throw new StateConflictError(`unknown maintenance kind '${String(input.kind)}' (known: ${MAINTENANCE_KINDS.join(', ')})`)
    if (!input.reason?.trim()) throw new StateConflictError('a maintenance window needs a reason')
    const planned = input.planned ?? input.kind !== 'rollback'
    return this.tx(() => {
      const startedAt = (input.at ?? this.now()).toISOString()
      const info = this.db
        .prepare('INSERT INTO maintenance_windows (started_at, reason, kind, planned, operation_id, actor, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(startedAt, input.reason, input.kind, planned ? 1 : 0, input.operationId ?? null, this.actor, input.detail === undefined ? null : json(input.detail))
      const id = Number(info.lastInsertRowid)
      this.chained('maintenance_windows', id, 'insert')
      this.appendTrailInTx('maintenance.begin', {window_id: id, kind: input.kind, planned, reason: input.reason, operation_id: input.operationId ?? null})
      return this.getMaintenance(id)!
    })
  }

  /**
   * Close a window. It ends `graceMs` after now (the monitor needs a sample or two to see the daemon
   * back). Closing a closed window changes nothing and returns it as it is.
   */
  endMaintenance(id: number, input: {graceMs?: number; outcome?: string; detail?: unknown} = {}): MaintenanceWindow {
    const grace = input.graceMs ?? 0
    if (!(Number.isFinite(grace) && grace >= 0)) throw new StateConflictError(`maintenance grace must be >= 0 ms, got ${grace}`)
    return this.tx(() => {
      const current = this.getMaintenance(id)
      if (!current) throw new StateConflictError(`maintenance window ${id} does not exist`)
      if (current.endedAt !== null) return current
      const endedAt = new Date(this.now().getTime() + Math.round(grace)).toISOString()
      const row = this.db.prepare('SELECT detail FROM maintenance_windows WHERE id = ?').get(id) as Row
      const detail = {...(parse<Record<string, unknown> | null>(row.detail) ?? {}), ...(input.outcome ? {outcome: input.outcome} : {}), ...(input.detail === undefined ? {} : {end: input.detail}), grace_ms: Math.round(grace)}
      this.db.prepare('UPDATE maintenance_windows SET ended_at = ?, detail = ? WHERE id = ?').run(endedAt, json(detail), id)
      this.chained('maintenance_windows', id, 'update')
      this.appendTrailInTx('maintenance.end', {window_id: id, kind: current.kind, operation_id: current.operationId, ended_at: endedAt, grace_ms: Math.round(grace), outcome: input.outcome ?? null})
      return this.getMaintenance(id)!
    })
  }

  getMaintenance(id: number): MaintenanceWindow | null {
    const row = this.db.prepare('SELECT * FROM maintenance_windows WHERE id = ?').get(id) as Row | undefined
    return row ? this.toMaintenance(row) : null
  }

  /**
   * Windows that overlap [from, to] (epoch ms, Date or ISO; both optional), oldest first. An open
   * window ends at min(now, start + cap) and is flagged `unterminated` once the cap passed: a kill
   * in the middle of a restart cannot hide the downtime that follows for longer than the cap.
   */
  listMaintenance(from?: number | Date | string, to?: number | Date | string, opts: {plannedOnly?: boolean} = {}): MaintenanceWindow[] {
    const toMs = (v: number | Date | string | undefined): number | null => (v === undefined ? null : typeof v === 'number' ? v : v instanceof Date ? v.getTime() : Date.parse(v))
    const lo = toMs(from)
    const hi = toMs(to)
    // Candidates by start (<= to); the end is computed (caps, open windows), so it is filtered here.
    const rows = (hi === null
      ? this.db.prepare('SELECT * FROM maintenance_windows ORDER BY started_at ASC, id ASC').all()
      : this.db.prepare('SELECT * FROM maintenance_windows WHERE started_at <= ? ORDER BY started_at ASC, id ASC').all(new Date(hi).toISOString())) as Row[]
    return rows
      .map((row) => this.toMaintenance(row))
      .filter((w) => (lo === null || Date.parse(w.effectiveEnd) >= lo) && (!opts.plannedOnly || w.planned))
  }

  private toMaintenance(row: Row): MaintenanceWindow {
    const startedAt = String(row.started_at)
    const endedAt = str(row.ended_at)
    const start = Date.parse(startedAt)
    const now = this.now().getTime()
    let effectiveEnd = endedAt
    let open = false
    let unterminated = false
    if (endedAt === null) {
      if (now - start > this.maintenanceCapMs) {
        unterminated = true
        effectiveEnd = new Date(start + this.maintenanceCapMs).toISOString()
      } else {
        open = true
        effectiveEnd = new Date(Math.max(now, start)).toISOString()
      }
    }
    return {
      id: Number(row.id),
      kind: String(row.kind) as MaintenanceKind,
      reason: String(row.reason),
      planned: Number(row.planned) === 1,
      operationId: str(row.operation_id),
      actor: String(row.actor),
      startedAt,
      endedAt,
      effectiveEnd: effectiveEnd!,
      open,
      unterminated,
      detail: parse(row.detail),
    }
  }

  // ---------------------------------------------------------------- audit trail

  /** Append a decision to the hash-chained trail (its own transaction). */
  appendTrail<P>(input: {kind: string; payload: P; actor?: string}): TrailRecord<P> {
    return this.tx(() => this.appendTrailInTx(input.kind, input.payload, input.actor)) as TrailRecord<P>
  }

  private appendTrailInTx(kind: string, payload: unknown, actor?: string): TrailRecord {
    const last = this.db.prepare('SELECT seq, hash FROM trail ORDER BY seq DESC LIMIT 1').get() as Row | undefined
    const seq = last ? Number(last.seq) + 1 : 1
    const prevHash = last ? String(last.hash) : GENESIS_HASH
    const ts = this.iso()
    const who = actor ?? this.actor
    const clean = redactValue(payload ?? null)
    const hash = trailHash(prevHash, {seq, ts, kind, actor: who, payload: clean})
    this.db.prepare('INSERT INTO trail (seq, ts, kind, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)').run(seq, ts, kind, who, canonicalJson(clean), prevHash, hash)
    return {seq, ts, kind, actor: who, payload: clean, prevHash, hash}
  }

  listTrail(filter: {fromSeq?: number; kind?: string; limit?: number} = {}): TrailRecord[] {
    const where = ['seq >= ?']
    const params: unknown[] = [filter.fromSeq ?? 1]
    if (filter.kind !== undefined) {
      where.push('kind = ?')
      params.push(filter.kind)
    }
    const rows = this.db.prepare(`SELECT * FROM trail WHERE ${where.join(' AND ')} ORDER BY seq ASC LIMIT ?`).all(...params, filter.limit ?? -1) as Row[]
    return rows.map((row) => ({
      seq: Number(row.seq),
      ts: String(row.ts),
      kind: String(row.kind),
      actor: String(row.actor),
      payload: safeParse(row.payload),
      prevHash: String(row.prev_hash),
      hash: String(row.hash),
    }))
  }

  /** The last record's seq and hash: publish it elsewhere to also detect truncation of the tail. */
  trailHead(): {seq: number; hash: string} | null {
    const row = this.db.prepare('SELECT seq, hash FROM trail ORDER BY seq DESC LIMIT 1').get() as Row | undefined
    return row ? {seq: Number(row.seq), hash: String(row.hash)} : null
  }

  /** Recompute the chain; the first record that was edited, removed or re-linked is named by its seq. */
  verifyTrail(): TrailVerification {
    let expectedSeq = 1
    let prevHash = GENESIS_HASH
    let count = 0
    for (const row of this.db.prepare('SELECT * FROM trail ORDER BY seq ASC').iterate() as IterableIterator<Row>) {
      count++
      const seq = Number(row.seq)
      if (seq !== expectedSeq) return {ok: false, count, firstBadSeq: expectedSeq, reason: `record ${expectedSeq} is missing (next record is ${seq})`}
      if (row.prev_hash !== prevHash) return {ok: false, count, firstBadSeq: seq, reason: `record ${seq} does not link to record ${seq - 1} (prev_hash mismatch)`}
      let payload: unknown
      try {
        payload = JSON.parse(String(row.payload))
      } catch {
        return {ok: false, count, firstBadSeq: seq, reason: `record ${seq} has a payload that is not JSON`}
      }
      const expected = trailHash(prevHash, {seq, ts: String(row.ts), kind: String(row.kind), actor: String(row.actor), payload})
      if (expected !== row.hash) return {ok: false, count, firstBadSeq: seq, reason: `record ${seq} was changed after it was written (hash mismatch)`}
      prevHash = String(row.hash)
      expectedSeq++
    }
    return {ok: true, count, head: this.trailHead()}
  }

  /**
   * Recompute the per-row chain: every chained row (phase, runs, samples, evaluations, approvals,
   * incidents, feedback, baselines, rollbacks, maintenance windows, operations, journal) must match
   * the latest chain entry for its key; rows without one and entries without a row are named.
   */
  verifyRecords(): RecordVerification {
    return this.db.transaction(() => this.chain.verify())()
  }

  /** The trail and the row chain, verified in one read snapshot (what `cutover audit verify` runs). */
  verify(): StateVerification {
    return this.db.transaction(() => {
      const trail = this.verifyTrail()
      const records = this.chain.verify()
      return {ok: trail.ok && records.ok, trail, records}
    })()
  }

  // ---------------------------------------------------------------- operation lock

  /** Who holds the operation lock, if anyone. */
  lockHolder(): OperationLockHolder | null {
    const row = this.db.prepare('SELECT * FROM operation_lock WHERE id = 1').get() as Row | undefined
    return row ? {name: String(row.name), pid: Number(row.pid), host: String(row.host), acquiredAt: String(row.acquired_at)} : null
  }

  /**
   * Serialise mutating commands: take the lock or wait up to waitMs for it, then throw OperationLockedError.
   * A lock whose process died on this host is taken over. Released by release(), close(), or process exit.
   */
  async acquireOperationLock(name: string, opts: {waitMs?: number; pollMs?: number} = {}): Promise<OperationLock> {
    const waitMs = opts.waitMs ?? 0
    const started = Date.now()
    const token = randomUUID()
    const host = os.hostname()
    for (;;) {
      const holder = this.tx(() => {
        const current = this.lockHolder()
        if (current) {
          const stale = current.host === host && current.pid !== process.pid && !isPidAlive(current.pid)
          if (!stale) return current
          this.appendTrailInTx('lock.stale', {name: current.name, pid: current.pid, acquired_at: current.acquiredAt})
        }
        this.db
          .prepare('INSERT INTO operation_lock (id, name, pid, host, token, acquired_at) VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, pid = excluded.pid, host = excluded.host, token = excluded.token, acquired_at = excluded.acquired_at')
          .run(name, process.pid, host, token, this.iso())
        return null
      })
      if (holder === null) break
      const waited = Date.now() - started
      if (waited >= waitMs) throw new OperationLockedError(name, holder, waited)
      await new Promise((resolve) => setTimeout(resolve, Math.min(opts.pollMs ?? 200, waitMs - waited)))
    }
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      process.removeListener('exit', release)
      this.heldLocks.delete(token)
      if (this.db.open) this.db.prepare('DELETE FROM operation_lock WHERE id = 1 AND token = ?').run(token)
    }
    process.once('exit', release)
    this.heldLocks.set(token, release)
    return {name, release}
  }

  /** Remove a lock regardless of its holder (operator's escape hatch for a lock held from another host). */
  breakOperationLock(): OperationLockHolder | null {
    return this.tx(() => {
      const holder = this.lockHolder()
      if (holder) {
        this.db.prepare('DELETE FROM operation_lock WHERE id = 1').run()
        this.appendTrailInTx('lock.break', {name: holder.name, pid: holder.pid, host: holder.host})
      }
      return holder
    })
  }
}

export function trailHash(prevHash: string, record: {seq: number; ts: string; kind: string; actor: string; payload: unknown}): string {
  return sha256Hex(prevHash + canonicalJson(record))
}

function checkHeader(file: string): void {
  let stat: fs.Stats
  try {
    stat = fs.statSync(file)
  } catch (error) {
    throw new StateFileError(file, `state file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, [])
  }
  if (stat.isDirectory()) throw new StateFileError(file, `state file ${file} is a directory`, ['Point --state at a file, e.g. --state ' + path.join(file, 'state.db')])
  if (stat.size === 0) return
  const header = Buffer.alloc(SQLITE_HEADER.length)
  const fd = fs.openSync(file, 'r')
  try {
    fs.readSync(fd, header, 0, header.length, 0)
  } finally {
    fs.closeSync(fd)
  }
  if (!header.equals(SQLITE_HEADER)) {
    throw new StateFileError(file, `state file ${file} is not a SQLite database (corrupted, or another file); cutover will not overwrite it`, [
      `Move it aside (mv ${file} ${file}.corrupt) to start a fresh state, or point --state at the right file.`,
    ], 'STATE_FILE_CORRUPT')
  }
}

function mapOpenError(file: string, error: unknown): CutoverError {
  const code = (error as {code?: string}).code ?? ''
  const message = (error as Error).message ?? String(error)
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT')) {
    return new StateFileError(file, `state file ${file} is corrupted (${message}); cutover will not overwrite it`, [
      `Move it aside (mv ${file} ${file}.corrupt) to start a fresh state, or restore it from a backup.`,
    ], 'STATE_FILE_CORRUPT')
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new CutoverError(`state file ${file} is locked by another process (${message})`, {code: 'STATE_BUSY', exit: ExitCode.CouldNotEvaluate, suggestions: ['Wait for the other cutover command to finish.']})
  }
  return new StateFileError(file, `state file ${file} cannot be opened: ${message}`, ['Check the path and its permissions, or use --state FILE.'], 'STATE_FILE_UNUSABLE')
}

function sampleWhere(filter: {source?: string; from?: number; to?: number}): {sql: string; params: unknown[]} {
  const where: string[] = []
  const params: unknown[] = []
  if (filter.source !== undefined) {
      where.push('source = ?')
      params.push(filter.source)
    }
  if (filter.from !== undefined) {
      where.push('ts >= ?')
      params.push(filter.from)
    }
  if (filter.to !== undefined) {
      where.push('ts <= ?')
      params.push(filter.to)
    }
  return {sql: where.length ? `WHERE ${where.join(' AND ')}` : '', params}
}

function safeParse(text: unknown): unknown {
  try {
    return JSON.parse(String(text))
  } catch {
    return text
  }
}

function toRun<R>(row: Row): RunRecord<R> {
  return {
    id: String(row.id),
    kind: String(row.kind),
    phase: num(row.phase),
    startedAt: String(row.started_at),
    finishedAt: str(row.finished_at),
    outcome: str(row.outcome),
    results: parse<R>(row.results),
    actor: String(row.actor),
  }
}

function toEvaluation<I>(row: Row): EvaluationRecord<I> {
  return {
    id: String(row.id),
    ts: String(row.ts),
    from: Number(row.from_phase),
    to: Number(row.to_phase),
    verdict: String(row.verdict),
    inputs: parse<I>(row.inputs),
    evidenceHash: String(row.evidence_hash),
    actor: String(row.actor),
  }
}

function toIncident(row: Row): IncidentRecord {
  return {
    id: Number(row.id),
    ts: String(row.ts),
    severity: row.severity as IncidentSeverity,
    title: String(row.title),
    detail: str(row.detail),
    author: String(row.author),
    resolvedAt: str(row.resolved_at),
    resolvedBy: str(row.resolved_by),
    resolution: str(row.resolution),
  }
}

function toOperation<P>(row: Row): OperationRecord<P> {
  return {
    id: String(row.id),
    kind: String(row.kind),
    params: parse<P>(row.params),
    state: row.state as OperationState,
    startedAt: String(row.started_at),
    finishedAt: str(row.finished_at),
    actor: String(row.actor),
    detail: parse(row.detail),
  }
}

function toStep(row: Row): JournalStep {
  return {
    operationId: String(row.operation_id),
    index: Number(row.step_index),
    name: String(row.name),
    state: row.state as StepState,
    plannedAt: String(row.planned_at),
    startedAt: str(row.started_at),
    finishedAt: str(row.finished_at),
    detail: parse(row.detail),
  }
}
