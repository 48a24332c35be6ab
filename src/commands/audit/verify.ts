import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../lib/errors.js'
import type {RecordVerification, TrailVerification} from '../../lib/state/types.js'

/**
 * `--json`: the trail's fields stay at the top level as before (count, head or firstBadSeq and
 * reason); `ok` is now false when either chain is broken, `reason` then names the first problem,
 * and `trail` and `records` carry each verification in full.
 */
export type AuditVerifyResult = {
  ok: boolean
  count: number
  head?: {seq: number; hash: string} | null
  firstBadSeq?: number
  reason?: string
  trail: TrailVerification
  records: RecordVerification
  state: string
}

export default class AuditVerify extends BaseCommand<typeof AuditVerify> {
  static override description = `Verify cutover's state file: the audit trail's hash chain (every decision carries the hash of the record before it) and the per-row chain over every record a gate or the report reads (phase, validation runs, samples, evaluations, approvals, incidents, feedback, baselines, rollbacks, maintenance windows, operations and journal).
Exit 0 when both are intact, 1 when a record was edited, inserted outside cutover, removed or re-linked (the first bad record is named: trail seq, or table and row).`

  static override examples = ['<%= config.bin %> audit verify', '<%= config.bin %> audit verify --json']

  async run(): Promise<AuditVerifyResult> {
    const state = await this.state()
    const {ok, trail, records} = state.verify()
    if (trail.ok) {
      this.log(`audit trail intact: ${trail.count} record(s)${trail.head ? `, head #${trail.head.seq} ${trail.head.hash.slice(0, 16)}` : ''} (${state.file})`)
    } else {
      this.log(`audit trail BROKEN at record #${trail.firstBadSeq}: ${trail.reason} (${state.file})`)
      this.log(`Records from #${trail.firstBadSeq} on cannot be trusted; restore the state file from a backup and compare, or investigate who changed ${state.file}.`)
    }
    if (records.ok) {
      const sealed = records.sealed > 0 ? ` (${records.sealed} sealed when the row chain was added)` : ''
      this.log(`records intact: ${records.rows} row(s) in ${Object.values(records.tables).filter((n) => n > 0).length} table(s), ${records.entries} chain entr${records.entries === 1 ? 'y' : 'ies'}${sealed}${records.head ? `, head #${records.head.seq} ${records.head.hash.slice(0, 16)}` : ''}`)
    } else {
      const first = records.firstBad!
      this.log(`records TAMPERED: ${first.reason} (${state.file})`)
      for (const issue of records.issues.slice(1, 10)) this.log(`  also: ${issue.reason}`)
      if (records.issueCount > 10) this.log(`  ... ${records.issueCount - 10} more (--json lists up to ${records.issues.length})`)
      this.log(`A gate or report reading these records cannot be trusted; restore the state file from a backup and compare, or investigate who changed ${state.file}.`)
    }
    if (ok && ((trail.ok && trail.head) || records.head)) this.log('Keep both head hashes elsewhere (ticket, chat) to also detect a truncated tail later.')
    if (!ok) this.setExitCode(ExitCode.Fail)
    const reason = trail.ok ? records.firstBad?.reason : trail.reason
    return {...trail, ok, ...(reason === undefined ? {} : {reason}), trail, records, state: state.file}
  }
}
