/**
 * The one definition of "recovered within the objective" (rollbacks, rehearsals, the report, the
 * rehearsed-rollback check). The plan writes its recovery objectives as strict bounds ("< 1 minute",
 * "< 10 minutes", "30 seconds" for the flag rollback): a recovery that takes exactly the objective
 * missed it. Times are compared as recorded (whole milliseconds). No objective: only success counts.
 */
export function withinObjective(outcome: string, totalMs: number | null, objectiveMs: number | null): boolean {
  if (outcome !== 'success') return false
  if (objectiveMs === null) return true
  return totalMs !== null && Math.round(totalMs) < objectiveMs
}
