/**
 * The checks library contract. A check verifies one plan item against the live target and says
 * what it saw: `pass` / `fail` are verdicts on the target; `inconclusive` means not enough
 * evidence yet (no data in the window, nothing recorded); `error` means the check could not
 * measure at all (daemon unreachable, endpoint answered garbage) and is never a pass or a fail.
 */
import type {StateStore} from '../lib/state/store.js'
import type {Target} from '../lib/target/target.js'
import type {ParamIssue, ParamsSchema} from './params.js'

export const CHECK_OUTCOMES = ['pass', 'fail', 'inconclusive', 'error'] as const
export type CheckOutcome = (typeof CHECK_OUTCOMES)[number]

/** JSON-safe evidence: measured values, URLs hit, log lines matched, command output tails. */
export type Evidence = Record<string, unknown>

export interface CheckResult {
  outcome: CheckOutcome
  /** One line: what was found. */
  detail: string
  evidence: Evidence
  /** What the plan expects, in words. */
  expected: string
  /** What was measured, in words (short: shown in the summary table). */
  measured: string
  /** What to do about a non-pass; null on pass. */
  remediation: string | null
}

/** Per-run memo so checks that need the same expensive measurement (launcher probe, probe request) share one. */
export interface SharedMeasurements {
  once<T>(key: string, produce: () => Promise<T>): Promise<T>
}

export interface CheckContext<P = Record<string, unknown>> {
  target: Target
  /** The phase being validated. */
  phase: number
  /** Validated parameters with defaults applied. */
  params: P
  /** cutover's state store; null when none is available (records checks then report error). */
  state: StateStore | null
  /** Aborted when the run is cancelled or the check's time is up. */
  signal: AbortSignal
  now: () => Date
  /** Progress line for the task list (never secrets). */
  log: (line: string) => void
  /** Directory that relative script paths resolve against (the playbook file's directory). */
  baseDir: string
  shared: SharedMeasurements
}

/** What a check would touch, for `--dry-run`: nothing is read or run to produce it. */
export interface CheckTouches {
  urls?: string[]
  files?: string[]
  commands?: string[]
  records?: string[]
  /** Anything that changes state (restarts, probe traffic). */
  effects?: string[]
}

export interface TouchContext<P = Record<string, unknown>> {
  target: Target
  params: P
  baseDir: string
  phase: number
}

export interface CheckDefinition<P = Record<string, unknown>> {
  id: string
  title: string
  /** The plan item(s) it verifies. */
  verifies: string
  params: ParamsSchema
  /** Rules across parameters (e.g. patterns must compile when regex is true); runs after the schema. */
  validate?: (params: P) => ParamIssue[]
  /** Check ids that must finish first when they are in the same run (e.g. audit counts after the probes). */
  requires?: string[]
  /** Disturbs the target (e.g. restarts the daemon): runs alone, before the others. */
  exclusive?: boolean
  /** Default time limit; a check past it is reported as error. */
  timeoutMs?: (params: P, target: Target) => number
  touches(ctx: TouchContext<P>): CheckTouches
  run(ctx: CheckContext<P>): Promise<CheckResult>
}

/** Any check, whatever its params type (the registry's element type). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCheck = CheckDefinition<any>

/** Helper so each module gets its params type checked while the registry stays uniform. */
export function defineCheck<P>(def: CheckDefinition<P>): CheckDefinition<P> {
  return def
}
