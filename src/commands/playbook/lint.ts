import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../lib/errors.js'
import {formatIssue, lintPlaybookFile, type PlaybookIssue} from '../../lib/playbook/index.js'

export interface PlaybookLintResult {
  file: string
  valid: boolean
  issues: PlaybookIssue[]
}

export default class PlaybookLint extends BaseCommand<typeof PlaybookLint> {
  static override description = 'Validate a playbook: YAML syntax, schema, known check ids, thresholds and references. Exit 0 valid, 2 invalid; every problem is listed as file:line:col.'
  static override examples = ['<%= config.bin %> playbook lint playbooks/llm-gateway-cutover.yaml', '<%= config.bin %> playbook lint my-cutover.yaml --json']
  static override args = {
    file: Args.string({description: 'Playbook file to validate.', required: true}),
  }

  public async run(): Promise<PlaybookLintResult> {
    const result = await lintPlaybookFile(this.args.file)
    if (result.valid) {
      this.log(`${result.file}: valid`)
    } else {
      for (const issue of result.issues) this.logToStderr(formatIssue(issue))
      this.logToStderr(`${result.file}: ${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}`)
      this.setExitCode(ExitCode.Usage)
    }
    return {file: result.file, valid: result.valid, issues: result.issues}
  }
}
