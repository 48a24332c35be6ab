/**
 * The catalog of check ids a playbook may name, with their parameter validation. It is derived
 * from the checks library's registry (src/checks/index.ts), so a playbook is linted against the
 * checks that really exist; tests may pass a smaller catalog (`catalogOf`).
 */
import {checkCatalog} from '../../checks/index.js'

export interface CatalogParamIssue {
  /** The parameter at fault, or null for the params mapping itself. */
  param: string | null
  message: string
}

export interface CheckCatalog {
  has(id: string): boolean
  ids(): string[]
  /** Problems with a check's params (unknown names, wrong types, bad values); empty when valid. */
  validateParams?(id: string, params: unknown): CatalogParamIssue[]
}

/** Every check id of the library. */
export const KNOWN_CHECK_IDS: readonly string[] = checkCatalog.ids()

export function catalogOf(ids: Iterable<string>): CheckCatalog {
  const set = new Set(ids)
  return {has: (id) => set.has(id), ids: () => [...set].sort()}
}

/** The catalog used when none is passed in: the checks library. */
export const knownChecks: CheckCatalog = checkCatalog
