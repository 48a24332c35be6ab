import {BaseCommand} from '../base-command.js'
import type {ExitCodeValue} from '../lib/errors.js'
import {validateCommand} from '../lib/validate/command.js'
import type {DryRunReport, ValidationReport} from '../lib/validate/types.js'
import {validateFlags} from './phase/validate.js'

export default class Validate extends BaseCommand<typeof Validate> {
  static override description = `Validate the current phase (from the state store; phase 1 when none is recorded): the CI shorthand for "cutover phase validate".
Exit codes: 0 pass; 1 fail; 3 inconclusive; 4 could not measure; 2 usage or playbook error.`
  static override examples = ['<%= config.bin %> validate', '<%= config.bin %> validate --json --junit junit.xml']
  static override flags = {...validateFlags}

  public async run(): Promise<ValidationReport | DryRunReport> {
    return validateCommand({
      playbook: this.flags.playbook,
      checks: this.flags.check ?? [],
      noDisturb: this.flags['no-disturb'],
      dryRun: this.flags['dry-run'],
      junit: this.flags.junit,
      json: this.jsonEnabled(),
      target: () => this.target(),
      state: () => this.state(),
      log: (line) => this.log(line),
      setExitCode: (code) => this.setExitCode(code as ExitCodeValue),
    })
  }
}
