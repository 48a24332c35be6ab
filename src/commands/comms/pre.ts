import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {defaultPlaybookPath, loadPlaybook} from '../../lib/playbook/index.js'
import {type CommsMessage, renderComms} from '../../lib/report/index.js'

export default class CommsPre extends BaseCommand<typeof CommsPre> {
  static override description = `Render the plan's pre-deployment message (48 hours before), with real values.
The rollback line states the measured recovery time of the latest flag rollback in the state store (run the drill first: cutover rollback --flag).
--json prints {subject, body}.`

  static override examples = ['<%= config.bin %> comms pre --date 2025-12-09 --contact "#llm-gateway (platform team)"', '<%= config.bin %> comms pre --date "Tue 9 Dec, 10:00 UTC" --contact ops@example.com --json']

  static override flags = {
    date: Flags.string({description: 'The deployment date, as the message should show it (required).'}),
    contact: Flags.string({description: 'The team contact (required).', env: 'CUTOVER_CONTACT'}),
    playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
  }

  async run(): Promise<CommsMessage> {
    const {flags} = this
    const playbook = await loadPlaybook(flags.playbook ?? defaultPlaybookPath())
    const state = await this.state()
    const message = renderComms('pre', state, playbook, {...(flags.date ? {date: flags.date} : {}), ...(flags.contact ? {contact: flags.contact} : {})})
    this.log(`Subject: ${message.subject}\n\n${message.body.trimEnd()}`)
    return {subject: message.subject, body: message.body}
  }
}
