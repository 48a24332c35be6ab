import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../lib/errors.js'
import type {TrailVerification} from '../../lib/state/types.js'

export type AuditVerifyResult = TrailVerification & {state: string}

export default class AuditVerify extends BaseCommand<typeof AuditVerify> {
  static override description = `Verify the audit trail's hash chain: every decision (gate verdicts, approvals, incidents, rollbacks, phase changes) carries the hash of the record before it.
Exit 0 when the chain is intact, 1 when a record was edited, removed or re-linked (the first bad record is named).`

  static override examples = ['<%= config.bin %> audit verify', '<%= config.bin %> audit verify --json']

  async run(): Promise<AuditVerifyResult> {
    const state = await this.state()
    const result = state.verifyTrail()
    if (result.ok) {
      this.log(`audit trail intact: ${result.count} record(s)${result.head ? `, head #${result.head.seq} ${result.head.hash.slice(0, 16)}` : ''} (${state.file})`)
      if (result.head) this.log('Keep the head hash elsewhere (ticket, chat) to also detect a truncated tail later.')
    } else {
      this.log(`audit trail BROKEN at record #${result.firstBadSeq}: ${result.reason} (${state.file})`)
      this.log(`Records from #${result.firstBadSeq} on cannot be trusted; restore the state file from a backup and compare, or investigate who changed ${state.file}.`)
      this.setExitCode(ExitCode.Fail)
    }
    return {...result, state: state.file}
  }
}
