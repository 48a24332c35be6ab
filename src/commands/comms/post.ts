import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {defaultPlaybookPath, loadPlaybook} from '../../lib/playbook/index.js'
import {type CommsMessage, renderComms} from '../../lib/report/index.js'

export default class CommsPost extends BaseCommand<typeof CommsPost> {
  static override description = `Render the plan's post-deployment message (24 hours after), with real values.
The completion time defaults to when the state store shows the last phase was entered; known issues are the open incidents ("None" when there are none).
--json prints {subject, body}.`

  static override examples = ['<%= config.bin %> comms post --contact "#llm-gateway (platform team)"', '<%= config.bin %> comms post --completed-at 2025-12-23T10:00:00Z --contact ops@example.com --json']

  static override flags = {
    'completed-at': Flags.string({description: 'When the migration completed (default: when the last phase was entered, from the state store).'}),
    contact: Flags.string({description: 'The team contact (required).', env: 'CUTOVER_CONTACT'}),
    playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
  }

  async run(): Promise<CommsMessage> {
    const {flags} = this
    const playbook = await loadPlaybook(flags.playbook ?? defaultPlaybookPath())
    const state = await this.state()
    const message = renderComms('post', state, playbook, {...(flags['completed-at'] ? {completedAt: flags['completed-at']} : {}), ...(flags.contact ? {contact: flags.contact} : {})})
    this.log(`Subject: ${message.subject}\n\n${message.body.trimEnd()}`)
    return {subject: message.subject, body: message.body}
  }
}
