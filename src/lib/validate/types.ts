/** The `phase validate` contract: what `--json` prints and what the state store keeps per run. */
import type {CheckOutcome, CheckTouches, Evidence} from '../../checks/types.js'

export type ValidationOutcome = CheckOutcome

/** One check instance of a phase, ready to run. */
export interface PlannedCheck {
  /** Instance name (unique in the phase): the playbook's `name`, else the check id. */
  name: string
  id: string
  title: string
  required: boolean
  plan_ref: string
  params: Record<string, unknown>
}

export interface CheckRunResult {
  name: string
  id: string
  title: string
  required: boolean
  plan_ref: string
  outcome: CheckOutcome
  detail: string
  measured: string
  expected: string
  remediation: string | null
  evidence: Evidence
  started_at: string
  duration_ms: number
}

export interface OutcomeCounts {
  pass: number
  fail: number
  inconclusive: number
  error: number
  total: number
}

export interface ValidationReport {
  /** State store id of this run. */
  run_id: string
  kind: 'validate'
  playbook: {name: string; version: string; file: string}
  target: {name: string; home: string; source: string}
  phase: {number: number; id: string; title: string}
  started_at: string
  finished_at: string
  duration_ms: number
  /** Over the required checks: fail if any failed, else error if any could not be measured, else inconclusive if any, else pass. */
  outcome: ValidationOutcome
  exit_code: number
  counts: {all: OutcomeCounts; required: OutcomeCounts}
  results: CheckRunResult[]
  /** Whether this run covered the phase's whole checklist: only a complete run counts for a gate. */
  scope: ValidationScope
  /** Path of the JUnit file written, if --junit was given. */
  junit: string | null
}

export interface ValidationScope {
  /** Every check of the phase ran. A partial run (--check) is recorded and shown, never counted by a gate. */
  complete: boolean
  phase_checks: number
  run_checks: number
  /** The phase's checks this run left out. */
  left_out: string[]
}

export interface DryRunEntry extends PlannedCheck {
  verifies: string
  touches: CheckTouches
  runs: 'alone, last (disturbs the target)' | 'concurrently'
  after: string[]
  timeout_ms: number
}

export interface DryRunReport {
  dry_run: true
  playbook: {name: string; version: string; file: string}
  target: {name: string; home: string; source: string}
  phase: {number: number; id: string; title: string}
  checks: DryRunEntry[]
}
