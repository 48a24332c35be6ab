import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {colorOutcome, renderTable} from '../../lib/output/table.js'
import {INCIDENT_SEVERITIES, type IncidentRecord, type IncidentSeverity} from '../../lib/state/types.js'

export interface IncidentListResult {
  incidents: IncidentRecord[]
  open: number
  openCritical: number
}

export default class IncidentList extends BaseCommand<typeof IncidentList> {
  static override description = 'List recorded incidents, oldest first.'
  static override examples = ['<%= config.bin %> incident list --open', '<%= config.bin %> incident list --severity critical --json']
  static override flags = {
    open: Flags.boolean({description: 'Only incidents that are not resolved.', default: false}),
    severity: Flags.string({description: 'Only this severity.', options: [...INCIDENT_SEVERITIES]}),
  }

  async run(): Promise<IncidentListResult> {
    const state = await this.state()
    const incidents = state.listIncidents({...(this.flags.open ? {open: true} : {}), ...(this.flags.severity ? {severity: this.flags.severity as IncidentSeverity} : {})})
    const all = this.flags.open ? incidents : state.listIncidents({open: true})
    const result = {incidents, open: all.length, openCritical: all.filter((i) => i.severity === 'critical').length}
    if (incidents.length === 0) this.log(this.flags.open ? 'no open incidents' : 'no incidents recorded')
    else {
      const lines = renderTable(incidents, [
        {header: 'ID', get: (i) => String(i.id), align: 'right'},
        {header: 'SEVERITY', get: (i) => i.severity, color: (text, i) => (i.severity === 'critical' && !i.resolvedAt ? colorOutcome(text, 'fail') : text)},
        {header: 'STATE', get: (i) => (i.resolvedAt ? 'resolved' : 'open')},
        {header: 'OPENED', get: (i) => `${i.ts} by ${i.author}`},
        {header: 'RESOLVED', get: (i) => (i.resolvedAt ? `${i.resolvedAt} by ${i.resolvedBy}` : '-')},
        {header: 'TITLE', get: (i) => i.title, maxWidth: 60},
      ])
      for (const line of lines) this.log(line)
    }
    this.log(`${result.open} open (${result.openCritical} critical)`)
    return result
  }
}
