import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {approveGate, type ApproveResult} from '../lib/gate/index.js'
import {defaultPlaybookPath, loadPlaybook} from '../lib/playbook/index.js'

export default class Approve extends BaseCommand<typeof Approve> {
  static override description = `Approve the latest evaluation of the gate leaving a phase ("Team approval").
The approval records who, when, why and the hash of the evaluation approved; it is append-only and goes into the audit trail. It counts only while gonogo measures the same evidence: once the measurements change, the approval is for an older evaluation and the gate waits for a new one.`

  static override examples = ['<%= config.bin %> approve --phase 1 --by alice --reason "baseline week clean, see dashboard"']

  static override flags = {
    phase: Flags.integer({description: 'The phase the gate leaves (1 approves the 1 -> 2 gate).', required: true, min: 0}),
    by: Flags.string({description: 'Who approves (name or id).', required: true}),
    reason: Flags.string({description: 'Why (free text, recorded).'}),
    playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
  }

  async run(): Promise<ApproveResult> {
    const {flags} = this
    const playbook = await loadPlaybook(flags.playbook ?? defaultPlaybookPath())
    const state = await this.state()
    const result = approveGate({state, playbook, phase: flags.phase, by: flags.by, ...(flags.reason ? {reason: flags.reason} : {})})
    this.log(`approval ${result.approval.id}: ${result.approval.by} approved gate ${result.gate.from} -> ${result.gate.to} at ${result.approval.ts}`)
    this.log(`  evaluation ${result.evaluation.id} (${result.evaluation.verdict}, ${result.evaluation.ts}), evidence ${(result.evaluation.evidenceHash ?? result.evaluation.recordHash).slice(0, 16)}`)
    if (result.approval.reason) this.log(`  reason: ${result.approval.reason}`)
    this.log('Next:')
    for (const step of result.next) this.log(`  ${step}`)
    return result
  }
}
