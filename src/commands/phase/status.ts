import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {defaultPlaybookPath, displayPath, loadPlaybook} from '../../lib/playbook/index.js'
import {type PhaseStatusReport, phaseStatus, renderPhaseStatus} from '../../lib/validate/status.js'

export default class PhaseStatus extends BaseCommand<typeof PhaseStatus> {
  static override description = 'Show the current phase, since when, the last validation of each phase, and what is due next per the playbook timeline.'
  static override examples = ['<%= config.bin %> phase status', '<%= config.bin %> phase status --json']
  static override flags = {
    playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
  }

  public async run(): Promise<PhaseStatusReport> {
    const file = this.flags.playbook ?? defaultPlaybookPath()
    const playbook = await loadPlaybook(file)
    const status = phaseStatus(playbook, displayPath(file), await this.state())
    for (const line of renderPhaseStatus(status)) this.log(line)
    return status
  }
}
