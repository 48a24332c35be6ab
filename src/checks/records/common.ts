import type {StateStore} from '../../lib/state/store.js'
import type {CheckResult} from '../types.js'
import {couldNotMeasure} from '../util.js'

export function requireState(state: StateStore | null, expected: string): {state: StateStore} | {result: CheckResult} {
  if (state) return {state}
  return {result: couldNotMeasure({detail: "cutover's state store is not available", expected, evidence: {}, remediation: 'Run through the cutover CLI (it opens <home>/cutover/state.db, or --state FILE).'})}
}

/** When the given phase began, if it is the current phase (records older than that belong to an earlier attempt). */
export function phaseStart(state: StateStore, phase: number): string | null {
  const current = state.getPhase()
  return current && current.phase === phase ? current.since : null
}
