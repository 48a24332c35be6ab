/**
 * Schema migrations, applied in order; PRAGMA user_version holds the number applied.
 * Never edit a released migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: initial schema
  `
  CREATE TABLE phase_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    phase INTEGER NOT NULL,
    since TEXT NOT NULL,
    reason TEXT,
    actor TEXT NOT NULL
  );

  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    phase INTEGER,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT,
    results TEXT NOT NULL DEFAULT 'null',
    actor TEXT NOT NULL
  );
  CREATE INDEX runs_by_kind_phase ON runs (kind, phase, started_at);

  CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    source TEXT NOT NULL,
    metrics TEXT NOT NULL,
    UNIQUE (source, ts)
  );
  CREATE INDEX samples_by_ts ON samples (ts);

  CREATE TABLE evaluations (
    id TEXT PRIMARY KEY,
    ts TEXT NOT NULL,
    from_phase INTEGER NOT NULL,
    to_phase INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    inputs TEXT NOT NULL,
    evidence_hash TEXT NOT NULL,
    actor TEXT NOT NULL
  );
  CREATE INDEX evaluations_by_gate ON evaluations (from_phase, to_phase, ts);

  CREATE TABLE approvals (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    phase INTEGER NOT NULL,
    approved_by TEXT NOT NULL,
    reason TEXT,
    evaluation_id TEXT REFERENCES evaluations (id),
    evaluation_hash TEXT
  );

  CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'major', 'minor')),
    title TEXT NOT NULL,
    detail TEXT,
    author TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT,
    resolution TEXT
  );

  CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    user_id TEXT NOT NULL,
    sentiment TEXT NOT NULL CHECK (sentiment IN ('positive', 'negative')),
    comment TEXT,
    author TEXT NOT NULL
  );

  CREATE TABLE baselines (
    id INTEGER PRIMARY KEY,
    pinned_at TEXT NOT NULL,
    phase INTEGER NOT NULL,
    window_start TEXT,
    window_end TEXT,
    sample_count INTEGER,
    metrics TEXT NOT NULL,
    actor TEXT NOT NULL
  );

  CREATE TABLE operations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'rolled_back')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    actor TEXT NOT NULL,
    detail TEXT
  );

  CREATE TABLE journal (
    id INTEGER PRIMARY KEY,
    operation_id TEXT NOT NULL REFERENCES operations (id),
    step_index INTEGER NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('planned', 'running', 'done', 'failed', 'rolled_back')),
    planned_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    detail TEXT,
    UNIQUE (operation_id, step_index)
  );

  CREATE TABLE rollbacks (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    timings TEXT NOT NULL,
    objective_ms INTEGER,
    total_ms INTEGER,
    within_objective INTEGER NOT NULL,
    operation_id TEXT,
    detail TEXT,
    actor TEXT NOT NULL
  );

  CREATE TABLE trail (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );

  CREATE TABLE operation_lock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    token TEXT NOT NULL,
    acquired_at TEXT NOT NULL
  );

  -- Human evidence and the trail are append-only (the trail's hashes detect edits made around these guards).
  CREATE TRIGGER trail_no_update BEFORE UPDATE ON trail BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
  CREATE TRIGGER trail_no_delete BEFORE DELETE ON trail BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
  CREATE TRIGGER approvals_no_change BEFORE UPDATE ON approvals BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;
  CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;
  CREATE TRIGGER feedback_no_change BEFORE UPDATE ON feedback BEGIN SELECT RAISE(ABORT, 'feedback is append-only'); END;
  CREATE TRIGGER feedback_no_delete BEFORE DELETE ON feedback BEGIN SELECT RAISE(ABORT, 'feedback is append-only'); END;
  CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents BEGIN SELECT RAISE(ABORT, 'incidents are append-only'); END;
  CREATE TRIGGER evaluations_no_change BEFORE UPDATE ON evaluations BEGIN SELECT RAISE(ABORT, 'evaluations are append-only'); END;
  CREATE TRIGGER evaluations_no_delete BEFORE DELETE ON evaluations BEGIN SELECT RAISE(ABORT, 'evaluations are append-only'); END;
  `,
  // 2: planned maintenance windows (cutover's own daemon restarts), excluded from availability
  `
  CREATE TABLE maintenance_windows (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    reason TEXT NOT NULL,
    kind TEXT NOT NULL,
    planned INTEGER NOT NULL DEFAULT 1 CHECK (planned IN (0, 1)),
    operation_id TEXT,
    actor TEXT NOT NULL,
    detail TEXT
  );
  CREATE INDEX maintenance_by_start ON maintenance_windows (started_at);
  CREATE TRIGGER maintenance_no_delete BEFORE DELETE ON maintenance_windows BEGIN SELECT RAISE(ABORT, 'maintenance windows are append-only'); END;
  `,
  // 3: per-row hash chain over every record a gate, the report or a resumed operation reads (see row-chain.ts).
  // The store seals the rows already present in the same transaction (op 'seal'), so an old file verifies.
  `
  CREATE TABLE row_chain (
    seq INTEGER PRIMARY KEY,
    table_name TEXT NOT NULL,
    row_key TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'seal')),
    row_hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE TRIGGER row_chain_no_update BEFORE UPDATE ON row_chain BEGIN SELECT RAISE(ABORT, 'the row chain is append-only'); END;
  CREATE TRIGGER row_chain_no_delete BEFORE DELETE ON row_chain BEGIN SELECT RAISE(ABORT, 'the row chain is append-only'); END;
  `,
]

/**
 * The schema version that added row_chain: migrating to it seals every existing row of a chained
 * table. A later migration that adds or changes columns of a chained table changes its rows'
 * canonical content, so it must re-seal those rows in its own transaction (RowChain.seal).
 */
export const ROW_CHAIN_VERSION = 3

export const SCHEMA_VERSION = MIGRATIONS.length
