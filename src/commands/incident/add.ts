import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {INCIDENT_SEVERITIES, type IncidentRecord} from '../../lib/state/types.js'

export default class IncidentAdd extends BaseCommand<typeof IncidentAdd> {
  static override description = 'Record an incident (append-only, with author and time). An open critical incident fails the "zero critical bugs" gate criterion until it is resolved.'
  static override examples = ['<%= config.bin %> incident add --severity critical --title "gateway leaks memory under load" --by alice']
  static override flags = {
    severity: Flags.string({description: 'How bad it is.', options: [...INCIDENT_SEVERITIES], required: true}),
    title: Flags.string({description: 'What happened, in one line.', required: true}),
    detail: Flags.string({description: 'More detail (ticket link, symptoms).'}),
    by: Flags.string({description: 'Who reports it (default: $CUTOVER_ACTOR, else the OS user).'}),
  }

  async run(): Promise<IncidentRecord> {
    const {flags} = this
    const state = await this.state()
    const incident = state.addIncident({
      severity: flags.severity as IncidentRecord['severity'],
      title: flags.title,
      ...(flags.detail ? {detail: flags.detail} : {}),
      ...(flags.by ? {by: flags.by} : {}),
    })
    this.log(`incident ${incident.id} (${incident.severity}) recorded by ${incident.author} at ${incident.ts}: ${incident.title}`)
    this.log(`Resolve it with: cutover incident resolve ${incident.id} --by NAME`)
    return incident
  }
}
