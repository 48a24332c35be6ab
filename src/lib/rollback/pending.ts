import type {StateStore} from '../state/store.js'

/**
 * A rollback is an emergency: an interrupted operation must not block it. The pending operation is
 * closed as failed, with who superseded it, in the journal and the audit trail, and reported.
 */
export function supersedePending(state: StateStore, by: string, log: (line: string) => void): {operationId: string; kind: string} | null {
  const pending = state.pendingOperation()
  if (!pending) return null
  const where = pending.interruptedStep ? `interrupted in step "${pending.interruptedStep.name}"` : 'unfinished'
  state.finishOperation(pending.operation.id, 'failed', {superseded_by: by, state_when_superseded: where, steps: pending.steps.map((s) => ({name: s.name, state: s.state}))})
  log(`! the ${pending.operation.kind} operation ${pending.operation.id} (${where}) was closed as failed: ${by} takes over`)
  return {operationId: pending.operation.id, kind: pending.operation.kind}
}
