import Database from 'better-sqlite3'
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import {MIGRATIONS, SCHEMA_VERSION} from '../../../src/lib/state/schema.js'
import {StateConflictError, StateStore} from '../../../src/lib/state/store.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

describe('StateStore: maintenance windows', () => {
  let file: string
  let store: StateStore
  let clock: number
  const T = Date.parse('2026-02-01T10:00:00Z')
  const iso = (ms: number) => new Date(ms).toISOString()

  beforeEach(() => {
    file = path.join(makeTempDir(), 'state.db')
    clock = T
    store = StateStore.open(file, {actor: 'ops', now: () => new Date(clock), maintenanceCapMs: 60_000})
  })
  afterEach(() => {
    store.close()
    cleanupTempDirs()
  })

  it('begin/end records a window with its grace, and both ends go to the audit trail', () => {
    const opened = store.beginMaintenance({kind: 'advance-step', reason: 'phase advance to phase 2', operationId: 'op-1'})
    expect(opened).to.include({kind: 'advance-step', planned: true, operationId: 'op-1', actor: 'ops', startedAt: iso(T), endedAt: null, open: true, unterminated: false})
    clock = T + 1500
    const closed = store.endMaintenance(opened.id, {graceMs: 400, outcome: 'verified_up'})
    expect(closed).to.include({endedAt: iso(T + 1900), effectiveEnd: iso(T + 1900), open: false, unterminated: false})
    expect(closed.detail).to.deep.include({outcome: 'verified_up', grace_ms: 400})
    // Closing again changes nothing.
    clock = T + 9000
    expect(store.endMaintenance(opened.id, {graceMs: 0}).endedAt).to.equal(iso(T + 1900))
    const trail = store.listTrail().filter((t) => t.kind.startsWith('maintenance.'))
    expect(trail.map((t) => t.kind)).to.deep.equal(['maintenance.begin', 'maintenance.end'])
    expect(trail[0]!.payload).to.deep.include({window_id: opened.id, kind: 'advance-step', planned: true, operation_id: 'op-1'})
    expect(store.verifyTrail().ok).to.equal(true)
  })

  it('an emergency rollback is recorded as unplanned; plannedOnly leaves it out', () => {
    store.beginMaintenance({kind: 'rollback', reason: 'flag rollback: fired by a trigger'})
    store.beginMaintenance({kind: 'rollback-drill', reason: 'flag rollback drill'})
    expect(store.listMaintenance().map((w) => [w.kind, w.planned])).to.deep.equal([['rollback', false], ['rollback-drill', true]])
    expect(store.listMaintenance(undefined, undefined, {plannedOnly: true}).map((w) => w.kind)).to.deep.equal(['rollback-drill'])
  })

  it('a window nobody closed is capped at start + cap when read, and flagged unterminated', () => {
    const w = store.beginMaintenance({kind: 'validate-restart', reason: 'test-gateway restarts the daemon'})
    clock = T + 20_000
    expect(store.getMaintenance(w.id)).to.include({open: true, unterminated: false, effectiveEnd: iso(T + 20_000)})
    clock = T + 3_600_000
    expect(store.getMaintenance(w.id)).to.include({open: false, unterminated: true, endedAt: null, effectiveEnd: iso(T + 60_000)})
    // The cap is configurable per store (e.g. $CUTOVER_MAINTENANCE_CAP_S).
    const other = StateStore.open(file, {now: () => new Date(clock), maintenanceCapMs: 5000})
    try {
      expect(other.getMaintenance(w.id)?.effectiveEnd).to.equal(iso(T + 5000))
    } finally {
      other.close()
    }
  })

  it('listMaintenance(from, to) returns the windows overlapping the range', () => {
    const a = store.beginMaintenance({kind: 'advance-step', reason: 'a'})
    clock = T + 1000
    store.endMaintenance(a.id)
    clock = T + 10_000
    const b = store.beginMaintenance({kind: 'advance-step', reason: 'b'})
    clock = T + 12_000
    store.endMaintenance(b.id)
    expect(store.listMaintenance(T + 500, T + 2000).map((w) => w.reason)).to.deep.equal(['a'])
    expect(store.listMaintenance(T + 1500, T + 9000)).to.deep.equal([])
    expect(store.listMaintenance(T + 1500).map((w) => w.reason)).to.deep.equal(['b'])
    expect(store.listMaintenance(iso(T), new Date(T + 11_000)).map((w) => w.reason)).to.deep.equal(['a', 'b'])
  })

  it('refuses an unknown kind, an empty reason, an unknown id and a negative grace', () => {
    expect(() => store.beginMaintenance({kind: 'coffee' as never, reason: 'x'})).to.throw(StateConflictError, /unknown maintenance kind 'coffee'/)
    expect(() => store.beginMaintenance({kind: 'rehearsal', reason: ' '})).to.throw(StateConflictError, /needs a reason/)
    expect(() => store.endMaintenance(999)).to.throw(StateConflictError, /maintenance window 999 does not exist/)
    const w = store.beginMaintenance({kind: 'rehearsal', reason: 'drill'})
    expect(() => store.endMaintenance(w.id, {graceMs: -1})).to.throw(StateConflictError, />= 0/)
  })
})

describe('StateStore: migration from schema version 1', () => {
  afterEach(() => cleanupTempDirs())

  it('adds maintenance_windows to a version 1 file and keeps its records and trail', () => {
    const file = path.join(makeTempDir(), 'state.db')
    // A state file as the previous cutover wrote it: migration 1 only, user_version 1, some records.
    const old = new Database(file)
    old.exec(MIGRATIONS[0]!)
    old.pragma('user_version = 1')
    old.prepare("INSERT INTO phase_state (id, phase, since, reason, actor) VALUES (1, 2, '2026-01-01T00:00:00.000Z', 'advance', 'bob')").run()
    old.prepare("INSERT INTO samples (ts, source, metrics) VALUES (1000, 'health', '{\"status\":\"healthy\",\"interval_ms\":1000}')").run()
    old.close()
    expect(fs.existsSync(file)).to.equal(true)

    const store = StateStore.open(file, {actor: 'alice'})
    try {
      expect(store.schemaVersion).to.equal(SCHEMA_VERSION)
      expect(store.getPhase()).to.include({phase: 2, actor: 'bob'})
      expect(store.countSamples({source: 'health'})).to.equal(1)
      expect(store.listMaintenance()).to.deep.equal([])
      const w = store.beginMaintenance({kind: 'advance-step', reason: 'after the upgrade'})
      expect(store.getMaintenance(w.id)?.reason).to.equal('after the upgrade')
      expect(store.verify().ok).to.equal(true)
    } finally {
      store.close()
    }
    // Opening again does not migrate twice.
    const again = StateStore.open(file)
    try {
      expect(again.schemaVersion).to.equal(SCHEMA_VERSION)
      expect(again.listMaintenance()).to.have.length(1)
    } finally {
      again.close()
    }
  })
})
