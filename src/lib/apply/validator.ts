/**
 * How advance and rollback verify a phase: a PhaseValidator runs named checks of a phase.
 * The default one uses the shared validation library (src/lib/validate, `phase validate`) when this
 * build has it, else the built-in essential checks. Tests and other callers can inject their own.
 */
import {ExitCode, type ExitCodeValue} from '../errors.js'
import type {CheckRef, Playbook} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import type {Target} from '../target/target.js'
import {type CheckOutcome, runEssentialCheck} from './essential-checks.js'

export type {CheckOutcome} from './essential-checks.js'

export interface CheckResult {
  /** Instance name (the playbook's `name`, else the check id). */
  name: string
  id: string
  outcome: CheckOutcome
  detail: string
  remediation?: string
  required: boolean
}

export interface PhaseValidation {
  phase: number
  /** pass only if every required check passed; otherwise the worst required outcome. */
  outcome: CheckOutcome
  exitCode: ExitCodeValue
  results: CheckResult[]
  /** Which implementation ran the checks. */
  validator: string
  durationMs: number
}

export interface ValidateRequest {
  target: Target
  playbook: Playbook
  state: StateStore
  phase: number
  /** Restrict to these check instance names (or ids). */
  checks?: string[]
  /** Directory relative script paths of checks resolve against (the playbook file's). */
  baseDir?: string
}

export type PhaseValidator = (request: ValidateRequest) => Promise<PhaseValidation>

const SEVERITY: Record<CheckOutcome, number> = {pass: 0, inconclusive: 1, error: 2, fail: 3}
const EXIT: Record<CheckOutcome, ExitCodeValue> = {pass: ExitCode.Ok, fail: ExitCode.Fail, inconclusive: ExitCode.Inconclusive, error: ExitCode.CouldNotEvaluate}

export function overallOutcome(results: readonly Pick<CheckResult, 'outcome' | 'required'>[]): CheckOutcome {
  let worst: CheckOutcome = 'pass'
  for (const r of results) if (r.required && SEVERITY[r.outcome] > SEVERITY[worst]) worst = r.outcome
  return worst
}

/** The check references a validate step selects: the phase's checks by name, or bare ids. */
export function selectChecks(playbook: Playbook, phase: number, names?: string[]): CheckRef[] {
  const phaseChecks = playbook.phases.find((p) => p.number === phase)?.checks ?? []
  if (!names || names.length === 0) return phaseChecks
  return names.map((name) => phaseChecks.find((c) => (c.name ?? c.id) === name) ?? phaseChecks.find((c) => c.id === name) ?? {id: name, plan_ref: ''})
}

/** The built-in essential checks (daemon, PID file, proxy, gateway health, launcher). */
export const essentialValidator: PhaseValidator = async (request) => {
  const started = performance.now()
  const refs = selectChecks(request.playbook, request.phase, request.checks)
  const results: CheckResult[] = []
  for (const ref of refs) {
    const result = await runEssentialCheck(ref.id, request.target)
    results.push({name: ref.name ?? ref.id, id: ref.id, required: ref.required !== false, ...result})
  }
  const outcome = overallOutcome(results)
  return {phase: request.phase, outcome, exitCode: EXIT[outcome], results, validator: 'essential', durationMs: Math.round(performance.now() - started)}
}

interface LibraryCheckResult {
  name: string
  id: string
  required: boolean
  outcome: string
  detail: string
  measured?: string
  remediation?: string | null
}

/** The part of the shared validation library (src/lib/validate, used by `phase validate`) this module uses. */
interface ValidationLibrary {
  findPhase(playbook: Playbook, phase: number): unknown
  planChecks(phase: unknown, only?: string[]): unknown[]
  executeChecks(opts: Record<string, unknown>): Promise<LibraryCheckResult[]>
}

/** The shared validation library, resolved at run time so that this module works in builds without it. */
async function loadLibrary(): Promise<ValidationLibrary | null> {
  const specifier = '../validate/index.js'
  try {
    const mod = (await import(specifier)) as Partial<ValidationLibrary>
    return typeof mod.findPhase === 'function' && typeof mod.planChecks === 'function' && typeof mod.executeChecks === 'function' ? (mod as ValidationLibrary) : null
  } catch {
    return null
  }
}

function asOutcome(value: unknown): CheckOutcome {
  return value === 'pass' || value === 'fail' || value === 'inconclusive' || value === 'error' ? value : 'error'
}

/**
 * The default validator: the shared checks library when this build has it (the same checks as
 * `phase validate`, not recorded as a validation run), otherwise the built-in essential checks.
 */
export async function defaultValidator(): Promise<PhaseValidator> {
  const library = await loadLibrary()
  if (!library) return essentialValidator
  return async (request) => {
    const started = performance.now()
    const names = selectChecks(request.playbook, request.phase, request.checks).map((r) => r.name ?? r.id)
    let raw: LibraryCheckResult[]
    try {
      const phase = library.findPhase(request.playbook, request.phase)
      const planned = library.planChecks(phase, names)
      raw = await library.executeChecks({baseDir: request.baseDir ?? process.cwd(), phase, checks: planned, target: request.target, state: request.state, renderer: 'silent'})
    } catch {
      // Checks the library does not know (or cannot plan): the built-in ones still verify the state change.
      return essentialValidator(request)
    }
    const results: CheckResult[] = raw.map((r) => ({
      name: r.name,
      id: r.id,
      required: r.required,
      outcome: asOutcome(r.outcome),
      detail: r.measured && !r.detail.includes(r.measured) ? `${r.measured}: ${r.detail}` : r.detail,
      ...(r.remediation ? {remediation: r.remediation} : {}),
    }))
    const outcome = overallOutcome(results)
    return {phase: request.phase, outcome, exitCode: EXIT[outcome], results, validator: 'checks library', durationMs: Math.round(performance.now() - started)}
  }
}

export function describeValidation(v: PhaseValidation): string[] {
  const mark: Record<CheckOutcome, string> = {pass: '✔', fail: '✖', inconclusive: '?', error: '!'}
  return v.results.map((r) => `    ${mark[r.outcome]} ${r.name}: ${r.detail}${r.outcome !== 'pass' && r.remediation ? ` (${r.remediation})` : ''}${r.required ? '' : ' [advisory]'}`)
}
