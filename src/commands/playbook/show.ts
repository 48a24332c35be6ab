import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {defaultPlaybookPath, displayPath, loadPlaybook, type Playbook, renderSummary} from '../../lib/playbook/index.js'

export interface PlaybookShowResult {
  file: string
  playbook: Playbook
}

export default class PlaybookShow extends BaseCommand<typeof PlaybookShow> {
  static override description = 'Show a playbook: phases, checks, gates, rollback triggers, KPIs and timeline (--json: the whole typed playbook).'
  static override examples = ['<%= config.bin %> playbook show', '<%= config.bin %> playbook show --json', '<%= config.bin %> playbook show --playbook my-cutover.yaml']
  static override flags = {
    playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
  }

  public async run(): Promise<PlaybookShowResult> {
    const file = this.flags.playbook ?? defaultPlaybookPath()
    const playbook = await loadPlaybook(file)
    const shown = displayPath(file)
    this.log(renderSummary(playbook, shown))
    return {file: shown, playbook}
  }
}
