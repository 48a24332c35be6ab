import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {ConfigError} from '../../lib/errors.js'
import type {IncidentRecord} from '../../lib/state/types.js'

export default class IncidentResolve extends BaseCommand<typeof IncidentResolve> {
  static override description = 'Mark an incident resolved (recorded with who and when; the incident itself is never edited away).'
  static override examples = ['<%= config.bin %> incident resolve 3 --by alice --resolution "fixed in 2026.11.2"']
  static override args = {
    id: Args.string({description: 'Incident id (see: cutover incident list --open).', required: true}),
  }

  static override flags = {
    by: Flags.string({description: 'Who resolves it (default: $CUTOVER_ACTOR, else the OS user).'}),
    resolution: Flags.string({description: 'How it was resolved.'}),
  }

  async run(): Promise<IncidentRecord> {
    const id = Number(this.args.id)
    if (!Number.isInteger(id) || id < 1) throw new ConfigError(`incident id must be a positive whole number, got "${this.args.id}"`, ['List incidents with: cutover incident list --open'])
    const state = await this.state()
    const incident = state.resolveIncident(id, {...(this.flags.by ? {by: this.flags.by} : {}), ...(this.flags.resolution ? {resolution: this.flags.resolution} : {})})
    this.log(`incident ${incident.id} (${incident.severity}) resolved by ${incident.resolvedBy} at ${incident.resolvedAt}: ${incident.title}`)
    return incident
  }
}
