import {getCheck, resolveCheckParams} from '../../checks/index.js'
import {ConfigError} from '../errors.js'
import type {Phase, Playbook} from '../playbook/types.js'
import type {PlannedCheck} from './types.js'

/** The playbook phase with this number, or a ConfigError listing the phases. */
export function findPhase(playbook: Playbook, number: number): Phase {
  const phase = playbook.phases.find((p) => p.number === number)
  if (!phase) {
    throw new ConfigError(`playbook "${playbook.name}" has no phase ${number} (phases: ${playbook.phases.map((p) => `${p.number} ${p.id}`).join(', ')})`, ['Pass --phase with one of the numbers above.'], 'PHASE_UNKNOWN')
  }
  return phase
}

/**
 * The phase's checks to run: all of them, or those named by `only` (instance names or check ids).
 * Params are validated and defaulted here (the loader validated them too; this keeps the runner safe
 * for playbooks loaded with another catalog).
 */
export function planChecks(phase: Phase, only: string[] = []): PlannedCheck[] {
  const all: PlannedCheck[] = phase.checks.map((ref) => {
    const name = ref.name ?? ref.id
    if (!getCheck(ref.id)) throw new ConfigError(`phase ${phase.number} names check "${ref.id}", which the checks library does not have`, ['Run: cutover playbook lint <playbook>'], 'CHECK_UNKNOWN')
    const params = resolveCheckParams(ref.id, ref.params ?? {})
    if (!params.ok) {
      throw new ConfigError(`phase ${phase.number} check "${name}": ${params.issues.map((i) => (i.param ? `${i.param}: ${i.message}` : i.message)).join('; ')}`, ['Run: cutover playbook lint <playbook>'], 'CHECK_PARAMS_INVALID')
    }
    return {name, id: ref.id, title: ref.title ?? getCheck(ref.id)!.title, required: ref.required ?? true, plan_ref: ref.plan_ref, params: params.params}
  })
  if (only.length === 0) return all
  const unknown = only.filter((o) => !all.some((c) => c.name === o || c.id === o))
  if (unknown.length > 0) {
    throw new ConfigError(`phase ${phase.number} has no check ${unknown.map((u) => `"${u}"`).join(', ')} (its checks: ${[...new Set(all.map((c) => c.name))].join(', ')})`, ['Name a check of this phase with --check, or drop --check to run them all.'], 'CHECK_NOT_IN_PHASE')
  }
  return all.filter((c) => only.includes(c.name) || only.includes(c.id))
}

/** Checks that disturb the target (e.g. the plan's script restarts the daemon). */
export function disturbsTarget(planned: Pick<PlannedCheck, 'id'>): boolean {
  return getCheck(planned.id)?.exclusive === true
}

/**
 * The one ordering rule of a validation run (#11 item 10): every check that leaves the target alone
 * runs first, concurrently, each after the checks it `requires`, so each sees the target as it was
 * found (a stopped daemon fails daemon.running); then the disturbing checks, alone, one after the
 * other in playbook order. Returns the names `planned` waits for.
 */
export function runsAfter(planned: PlannedCheck, checks: readonly PlannedCheck[]): string[] {
  if (disturbsTarget(planned)) {
    const disturbing = checks.filter((c) => disturbsTarget(c))
    return [...checks.filter((c) => !disturbsTarget(c)).map((c) => c.name), ...disturbing.slice(0, disturbing.findIndex((c) => c.name === planned.name)).map((c) => c.name)]
  }
  const requires = getCheck(planned.id)?.requires ?? []
  return checks.filter((c) => requires.includes(c.id) && c.name !== planned.name && !disturbsTarget(c)).map((c) => c.name)
}
