import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {defaultPlaybookPath, displayPath, loadPlaybook, renderRunbook, RUNBOOK_FORMATS} from '../../lib/playbook/index.js'
import {PUBLIC_OUTPUT, writeFileAtomic} from '../../lib/util/atomic-write.js'

export interface PlaybookRenderResult {
  playbook: string
  format: 'md'
  /** The file written (with --out), else null. */
  out: string | null
  bytes: number
  /** The runbook itself when not written to a file. */
  content?: string
}

export default class PlaybookRender extends BaseCommand<typeof PlaybookRender> {
  static override description = 'Render the playbook as a human-readable runbook (phases, checklists, criteria, rollback procedures with RTOs, timeline, KPIs, communications).'
  static override examples = ['<%= config.bin %> playbook render', '<%= config.bin %> playbook render --out RUNBOOK.md']
  static override flags = {
    playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
    format: Flags.option({description: 'Output format.', options: RUNBOOK_FORMATS, default: 'md' as const})(),
    out: Flags.string({char: 'o', description: 'Write the runbook to this file (atomically) instead of stdout.'}),
  }

  public async run(): Promise<PlaybookRenderResult> {
    const file = this.flags.playbook ?? defaultPlaybookPath()
    const playbook = await loadPlaybook(file)
    const content = renderRunbook(playbook, this.flags.format)
    const bytes = Buffer.byteLength(content)
    if (this.flags.out) {
      writeFileAtomic(this.flags.out, content, PUBLIC_OUTPUT)
      this.log(`Wrote ${this.flags.out} (${bytes} bytes)`)
      return {playbook: displayPath(file), format: this.flags.format, out: this.flags.out, bytes}
    }
    this.log(content.trimEnd())
    return {playbook: displayPath(file), format: this.flags.format, out: null, bytes, content}
  }
}
