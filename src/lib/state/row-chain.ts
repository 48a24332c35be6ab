import type Database from 'better-sqlite3'

import {canonicalJson, hashJson, sha256Hex} from '../util/hash.js'
import type {RecordIssue, RecordVerification, RowChainOp} from './types.js'

/**
 * Every table whose rows a gate, the report, `phase status` or a resumed/rolled-back operation
 * reads. Each has an `id` primary key (the row key). Not chained: `trail` (it is its own hash
 * chain), `operation_lock` (a mutex, deleted by design) and `row_chain` itself.
 */
export const CHAINED_TABLES = [
  'phase_state',
  'runs',
  'samples',
  'evaluations',
  'approvals',
  'incidents',
  'feedback',
  'baselines',
  'rollbacks',
  'maintenance_windows',
  'operations',
  'journal',
] as const
export type ChainedTable = (typeof CHAINED_TABLES)[number]

/** Tables of the state file that are deliberately outside the row chain (see CHAINED_TABLES). */
export const UNCHAINED_TABLES = ['trail', 'operation_lock', 'row_chain'] as const

export const ROW_CHAIN_GENESIS = '0'.repeat(64)
/** At most this many issues are listed (all are counted). */
export const MAX_LISTED_ISSUES = 100

type Row = Record<string, unknown>

/** A row's content hash: sha256 of the canonical JSON of every column as SQLite returns it. */
export function rowHash(row: Row): string {
  return hashJson(row)
}

/** A chain entry's hash: the previous entry's hash followed by this entry's canonical JSON. */
export function rowChainHash(prevHash: string, entry: {seq: number; table: string; key: string; op: RowChainOp; rowHash: string}): string {
  return sha256Hex(prevHash + canonicalJson(entry))
}

/**
 * The per-row hash chain of the state file. Every insert or update of a chained row appends
 * one entry (table, row key, op, hash of the row as stored, previous entry's hash) in the SAME
 * transaction as the write: StateStore calls record() (or recordReturned()) inside its tx(), and
 * seal() inside the migration's transaction; all three hash through append(), the one definition.
 * verify() recomputes the links and compares each row with the latest entry for its key.
 */
export class RowChain {
  private readonly selectRow = new Map<ChainedTable, Database.Statement>()
  private lastStmt?: Database.Statement
  private insertStmt?: Database.Statement

  constructor(private readonly db: Database.Database) {}

  /** Chain the current content of one row (call inside the transaction that wrote it). */
  record(table: ChainedTable, key: string | number, op: Exclude<RowChainOp, 'seal'>): void {
    let select = this.selectRow.get(table)
    if (!select) {
      select = this.db.prepare(`SELECT * FROM ${table} WHERE id = ?`)
      this.selectRow.set(table, select)
    }
    const row = select.get(key) as Row | undefined
    // A write path that chains a row it did not write is a bug; throwing rolls the write back.
    if (!row) throw new Error(`internal error: ${table} row ${String(key)} to chain does not exist`)
    this.append(table, row, op)
  }

  /** record() for a row the write returned itself (`INSERT ... RETURNING *`: the row as stored), saving a read on hot paths. */
  recordReturned(table: ChainedTable, row: Row, op: Exclude<RowChainOp, 'seal'>): void {
    this.append(table, row, op)
  }

  /**
   * Seal every row of the given tables as it is now (op 'seal'): the migration that added the chain
   * runs it over every chained table, so rows written before it verify. Returns per-table counts.
   */
  seal(tables: readonly ChainedTable[] = CHAINED_TABLES): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const table of tables) {
      let n = 0
      for (const row of this.db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all() as Row[]) {
        this.append(table, row, 'seal')
        n++
      }
      if (n > 0) counts[table] = n
    }
    return counts
  }

  head(): {seq: number; hash: string} | null {
    const row = this.last()
    return row ? {seq: Number(row.seq), hash: String(row.hash)} : null
  }

  private last(): Row | undefined {
    this.lastStmt ??= this.db.prepare('SELECT seq, hash FROM row_chain ORDER BY seq DESC LIMIT 1')
    return this.lastStmt.get() as Row | undefined
  }

  private append(table: ChainedTable, row: Row, op: RowChainOp): void {
    const last = this.last()
    const seq = last ? Number(last.seq) + 1 : 1
    const prevHash = last ? String(last.hash) : ROW_CHAIN_GENESIS
    const key = String(row.id)
    const content = rowHash(row)
    const hash = rowChainHash(prevHash, {seq, table, key, op, rowHash: content})
    this.insertStmt ??= this.db.prepare('INSERT INTO row_chain (seq, table_name, row_key, op, row_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
    this.insertStmt.run(seq, table, key, op, content, prevHash, hash)
  }

  /**
   * Recompute the chain and compare every chained row with its latest entry. Run it inside a read
   * transaction so rows and chain are one snapshot. Issues are ordered by the chain position of the
   * entry involved (rows inserted outside cutover, which have none, come last, table by table).
   */
  verify(): RecordVerification {
    const issues: RecordIssue[] = []
    const tables = Object.fromEntries(CHAINED_TABLES.map((t) => [t, 0])) as Record<ChainedTable, number>
    const known = new Set<string>(CHAINED_TABLES)
    const latest = new Map<string, Map<string, {seq: number; rowHash: string}>>(CHAINED_TABLES.map((t) => [t, new Map()]))
    let entries = 0
    let sealed = 0
    let expectedSeq = 1
    let prevHash = ROW_CHAIN_GENESIS
    let head: {seq: number; hash: string} | null = null
    const chainIssue = (seq: number, table: string, key: string, reason: string) => issues.push({table, rowKey: key, problem: 'relinked', seq, reason})
    const present = new Set((this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{name: string}>).map((t) => t.name))
    if (!present.has('row_chain')) chainIssue(0, 'row_chain', '*', 'the row chain: chain re-linked (the row_chain table is missing, dropped: no record can be checked)')
    const chain = present.has('row_chain') ? (this.db.prepare('SELECT * FROM row_chain ORDER BY seq ASC').iterate() as IterableIterator<Row>) : []

    for (const entry of chain) {
      entries++
      const seq = Number(entry.seq)
      const table = String(entry.table_name)
      const key = String(entry.row_key)
      const op = String(entry.op) as RowChainOp
      const what = `${table} row ${key}`
      if (seq !== expectedSeq) {
        const gap = seq - 1 > expectedSeq ? `s #${expectedSeq}-#${seq - 1} are` : ` #${expectedSeq} is`
        chainIssue(expectedSeq, 'row_chain', String(expectedSeq), `row chain entry${gap} missing: chain re-linked (deleted; the next entry is #${seq}, ${what})`)
      } else if (entry.prev_hash !== prevHash) {
        chainIssue(seq, table, key, `${what}: chain re-linked (row chain entry #${seq} does not link to entry #${seq - 1}: prev_hash mismatch, an entry was rewritten or re-linked)`)
      } else if (rowChainHash(prevHash, {seq, table, key, op, rowHash: String(entry.row_hash)}) !== entry.hash) {
        chainIssue(seq, table, key, `${what}: chain re-linked (row chain entry #${seq} was changed after it was written: hash mismatch)`)
      }
      prevHash = String(entry.hash)
      expectedSeq = seq + 1
      head = {seq, hash: prevHash}
      if (op === 'seal') sealed++
      if (!known.has(table)) {
        chainIssue(seq, table, key, `${what}: chain re-linked (row chain entry #${seq} names table "${table}", which is not chained)`)
        continue
      }
      latest.get(table)!.set(key, {seq, rowHash: String(entry.row_hash)})
    }

    const unchained: RecordIssue[] = []
    for (const table of CHAINED_TABLES) {
      const expected = latest.get(table)!
      if (!present.has(table)) {
        issues.push({table, rowKey: '*', problem: 'deleted', seq: null, reason: `${table}: deleted (the whole table is missing, dropped)`})
        continue
      }
      for (const row of this.db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).iterate() as IterableIterator<Row>) {
        tables[table]++
        const key = String(row.id)
        const entry = expected.get(key)
        if (!entry) {
          unchained.push({table, rowKey: key, problem: 'inserted', seq: null, reason: `${table} row ${key} inserted outside cutover (it has no row chain entry)`})
          continue
        }
        expected.delete(key)
        if (rowHash(row) !== entry.rowHash) {
          issues.push({table, rowKey: key, problem: 'edited', seq: entry.seq, reason: `${table} row ${key} edited (changed after it was written: its content does not match row chain entry #${entry.seq})`})
        }
      }
      for (const [key, entry] of expected) {
        issues.push({table, rowKey: key, problem: 'deleted', seq: entry.seq, reason: `${table} row ${key} deleted (row chain entry #${entry.seq} has no row)`})
      }
    }
    issues.sort((a, b) => (a.seq ?? -1) - (b.seq ?? -1))
    issues.push(...unchained)
    const rows = Object.values(tables).reduce((a, b) => a + b, 0)
    return {ok: issues.length === 0, rows, entries, sealed, tables, head, issueCount: issues.length, firstBad: issues[0] ?? null, issues: issues.slice(0, MAX_LISTED_ISSUES)}
  }
}
