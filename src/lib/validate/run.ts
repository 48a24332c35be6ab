/**
 * Run a phase's checks against the target in the order of runsAfter (select.ts): the checks that
 * leave the target alone first, concurrently, so they see it as found; the disturbing ones (the
 * plan's script restarts the daemon) alone and last. Shown as a listr2 task list (animated
 * on a terminal, a line per event elsewhere, nothing under --json). The run and every result are
 * recorded in the state store before anything is reported.
 */
import {Listr, type ListrTask} from 'listr2'

import {getCheck} from '../../checks/index.js'
import type {AnyCheck, CheckResult, SharedMeasurements} from '../../checks/types.js'
import {CHECK_OUTCOMES} from '../../checks/types.js'
import {ExitCode} from '../errors.js'
import {VALIDATION_RUN_KIND} from '../gate/records.js'
import type {Phase, Playbook} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import type {Target} from '../target/target.js'
import {redactText} from '../util/redact.js'
import {planChecks, runsAfter} from './select.js'
import type {CheckRunResult, OutcomeCounts, PlannedCheck, ValidationOutcome, ValidationReport, ValidationScope} from './types.js'

export const DEFAULT_CHECK_TIMEOUT_MS = 60_000

export type ValidationRenderer = 'auto' | 'verbose' | 'silent'

export interface RunValidationOptions {
  playbook: Playbook
  playbookFile: string
  /** Directory that relative script paths resolve against (the playbook file's directory). */
  baseDir: string
  phase: Phase
  checks: PlannedCheck[]
  target: Target
  state: StateStore
  /** auto: animated on a terminal, line per event in CI / non-TTY; silent for --json. */
  renderer: ValidationRenderer
  now?: () => Date
  signal?: AbortSignal
}

export function exitCodeFor(outcome: ValidationOutcome): number {
  return {pass: ExitCode.Ok, fail: ExitCode.Fail, inconclusive: ExitCode.Inconclusive, error: ExitCode.CouldNotEvaluate}[outcome]
}

/** The verdict over the required checks: any fail -> fail; else any error -> error; else any inconclusive -> inconclusive; else pass. */
export function overallOutcome(results: Pick<CheckRunResult, 'outcome' | 'required'>[]): ValidationOutcome {
  const required = results.filter((r) => r.required)
  for (const outcome of ['fail', 'error', 'inconclusive'] as const) if (required.some((r) => r.outcome === outcome)) return outcome
  return 'pass'
}

export function countOutcomes(results: Pick<CheckRunResult, 'outcome'>[]): OutcomeCounts {
  const counts: OutcomeCounts = {pass: 0, fail: 0, inconclusive: 0, error: 0, total: results.length}
  for (const r of results) counts[r.outcome]++
  return counts
}

/** Measurements shared by the checks of one run (one probe request for several checks). */
export class Memo implements SharedMeasurements {
  private readonly values = new Map<string, Promise<unknown>>()
  once<T>(key: string, produce: () => Promise<T>): Promise<T> {
    let value = this.values.get(key) as Promise<T> | undefined
    if (!value) {
      value = produce()
      this.values.set(key, value)
    }
    return value
  }
}

function isValidResult(value: unknown): value is CheckResult {
  const r = value as CheckResult | null
  return r !== null && typeof r === 'object' && (CHECK_OUTCOMES as readonly string[]).includes(r.outcome) && typeof r.detail === 'string'
}

export function checkTimeoutMs(check: AnyCheck, params: Record<string, unknown>, target: Target): number {
  return check.timeoutMs?.(params, target) ?? DEFAULT_CHECK_TIMEOUT_MS
}

/** Run one check: never throws; a timeout, an exception or a malformed result becomes `error`. */
export async function executeCheck(
  planned: PlannedCheck,
  env: {target: Target; state: StateStore | null; phase: number; baseDir: string; shared: SharedMeasurements; now: () => Date; signal?: AbortSignal; log?: (line: string) => void},
): Promise<CheckRunResult> {
  const check = getCheck(planned.id)
  const startedAt = env.now()
  const started = performance.now()
  const base = {name: planned.name, id: planned.id, title: planned.title, required: planned.required, plan_ref: planned.plan_ref, started_at: startedAt.toISOString()}
  const finish = (r: CheckResult): CheckRunResult => ({...base, ...r, duration_ms: Math.round(performance.now() - started)})
  if (!check) return finish({outcome: 'error', detail: `unknown check "${planned.id}"`, evidence: {}, expected: '', measured: 'not run', remediation: 'Run: cutover playbook lint'})
  const timeoutMs = checkTimeoutMs(check, planned.params, env.target)
  const controller = new AbortController()
  const onAbort = () => controller.abort(env.signal?.reason)
  env.signal?.addEventListener('abort', onAbort, {once: true})
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error('timeout'))
      resolve({outcome: 'error', detail: `could not measure: the check did not finish within ${timeoutMs} ms`, evidence: {timeout_ms: timeoutMs}, expected: check.title, measured: 'timed out', remediation: 'The target is slow or hangs: check cutover daemon status, then validate again.'})
    }, timeoutMs)
  })
  try {
    const running = check
      .run({target: env.target, phase: env.phase, params: planned.params, state: env.state, signal: controller.signal, now: env.now, log: env.log ?? (() => {}), baseDir: env.baseDir, shared: env.shared})
      .then((r: unknown): CheckResult =>
        isValidResult(r) ? r : {outcome: 'error', detail: `check ${planned.id} returned no valid result`, evidence: {}, expected: check.title, measured: 'not measured', remediation: 'This is a bug in the check; please report it.'},
      )
      .catch((error: unknown): CheckResult => ({
        // Checks map their own failures; anything that escapes is "could not measure".
        outcome: 'error',
        detail: `could not measure: ${redactText(error instanceof Error ? error.message : String(error))}`,
        evidence: {},
        expected: check.title,
        measured: 'not measured',
        remediation: 'Check that the daemon runs (cutover daemon status) and try again.',
      }))
    return finish(await Promise.race([running, timedOut]))
  } finally {
    clearTimeout(timer)
    env.signal?.removeEventListener('abort', onAbort)
  }
}

interface Deferred {
  promise: Promise<void>
  resolve: () => void
}

function deferred(): Deferred {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return {promise, resolve}
}

/** Execute the planned checks with ordering and concurrency, showing a task list; returns results in playbook order. */
export async function executeChecks(opts: Omit<RunValidationOptions, 'playbook' | 'playbookFile'>): Promise<CheckRunResult[]> {
  const now = opts.now ?? (() => new Date())
  const shared = new Memo()
  const results = new Map<string, CheckRunResult>()
  const done = new Map(opts.checks.map((c) => [c.name, deferred()]))

  const waitFor = (planned: PlannedCheck): Promise<unknown> => {
    const before = runsAfter(planned, opts.checks)
    return Promise.all(before.map((name) => done.get(name)?.promise))
  }

  const tasks: ListrTask[] = opts.checks.map((planned) => ({
    title: `${planned.name}: ${planned.title}`,
    task: async (_ctx, task) => {
      try {
        await waitFor(planned)
        const result = await executeCheck(planned, {target: opts.target, state: opts.state, phase: opts.phase.number, baseDir: opts.baseDir, shared, now, signal: opts.signal, log: (line) => (task.output = line)})
        results.set(planned.name, result)
        const label = `${planned.name}: ${result.outcome.toUpperCase()}${planned.required ? '' : ' (not required)'}: ${result.measured}`
        task.title = label
        if (result.outcome === 'inconclusive') task.skip(`${label}: ${result.detail}`)
        else if (result.outcome === 'fail' || result.outcome === 'error') throw new Error(`${label}: ${result.detail}`)
      } finally {
        done.get(planned.name)?.resolve()
      }
    },
  }))

  const list = new Listr(tasks, {
    concurrent: true,
    exitOnError: false,
    collectErrors: false,
    registerSignalListeners: false,
    renderer: opts.renderer === 'silent' ? 'silent' : opts.renderer === 'verbose' ? 'verbose' : 'default',
    fallbackRenderer: 'verbose',
    // Animation only on an interactive terminal; CI logs and pipes get one line per event.
    fallbackRendererCondition: () => !process.stdout.isTTY || Boolean(process.env.CI) || process.env.TERM === 'dumb',
    // --json: nothing but the result document on stdout, whatever the terminal.
    silentRendererCondition: opts.renderer === 'silent',
    rendererOptions: {collapseSubtasks: false, showErrorMessage: true},
    fallbackRendererOptions: {logTitleChange: true},
  })
  await list.run()
  return opts.checks.map((c) => results.get(c.name) as CheckRunResult)
}

/** Run, record in the state store, and return the report (the --json document). */
export async function runValidation(opts: RunValidationOptions): Promise<ValidationReport> {
  const now = opts.now ?? (() => new Date())
  const startedAt = now()
  const runId = opts.state.startRun({kind: VALIDATION_RUN_KIND, phase: opts.phase.number})
  let results: CheckRunResult[]
  try {
    results = await executeChecks(opts)
  } catch (error) {
    opts.state.finishRun(runId, {outcome: 'error', results: {error: (error as Error).message}})
    throw error
  }
  const finishedAt = now()
  const outcome = overallOutcome(results)
  const scope = scopeOf(opts.phase, opts.checks)
  const report: ValidationReport = {
    run_id: runId,
    kind: 'validate',
    playbook: {name: opts.playbook.name, version: opts.playbook.version, file: opts.playbookFile},
    target: {name: opts.target.name, home: opts.target.home, source: opts.target.spec.source},
    phase: {number: opts.phase.number, id: opts.phase.id, title: opts.phase.title},
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_ms: finishedAt.getTime() - startedAt.getTime(),
    outcome,
    exit_code: exitCodeFor(outcome),
    counts: {all: countOutcomes(results), required: countOutcomes(results.filter((r) => r.required))},
    results,
    scope,
    junit: null,
  }
  opts.state.finishRun(runId, {outcome, results: report})
  opts.state.appendTrail({kind: 'phase.validate', payload: {run_id: runId, phase: opts.phase.number, outcome, complete: scope.complete, left_out: scope.left_out, counts: report.counts.required, checks: results.map((r) => ({name: r.name, outcome: r.outcome}))}})
  return report
}

/** Did the run cover the phase's whole checklist (by instance name)? */
export function scopeOf(phase: Phase, ran: readonly PlannedCheck[]): ValidationScope {
  const all = planChecks(phase)
  const names = new Set(ran.map((c) => c.name))
  const leftOut = all.filter((c) => !names.has(c.name)).map((c) => c.name)
  return {complete: leftOut.length === 0, phase_checks: all.length, run_checks: ran.length, left_out: leftOut}
}
