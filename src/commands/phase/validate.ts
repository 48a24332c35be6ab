import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import type {ExitCodeValue} from '../../lib/errors.js'
import {validateCommand} from '../../lib/validate/command.js'
import type {DryRunReport, ValidationReport} from '../../lib/validate/types.js'

export const validateFlags = {
  playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
  check: Flags.string({char: 'c', description: 'Run only this check (instance name or check id); repeat for more.', multiple: true}),
  'no-disturb': Flags.boolean({description: 'Leave out the checks that disturb the target (the plan\'s test-gateway script restarts the daemon): a health gate for CI. Recorded as a partial run, which a gate never counts.'}),
  'dry-run': Flags.boolean({description: 'List the checks and what each would touch (URLs, files, commands) without touching the target.'}),
  junit: Flags.string({description: 'Also write the results as JUnit XML to FILE (one testcase per check; fail and error distinguished).'}),
}

export default class PhaseValidate extends BaseCommand<typeof PhaseValidate> {
  static override description = `Run a phase's checklist against the target: each check with its outcome, measured value, expectation and remediation.
Exit codes: 0 every required check passed; 1 a required check failed; 3 inconclusive (not enough evidence yet, none failed); 4 a check could not measure (none failed); 2 usage or playbook error.
The run and every result are recorded in the state store before anything is printed.`
  static override examples = [
    '<%= config.bin %> phase validate --phase 1',
    '<%= config.bin %> phase validate --phase 2 --check gateway.health --check traffic.streaming_sse',
    '<%= config.bin %> phase validate --phase 1 --json --junit reports/phase1.xml',
    '<%= config.bin %> phase validate --phase 3 --dry-run',
    '<%= config.bin %> phase validate --no-disturb --json',
  ]
  static override flags = {
    ...validateFlags,
    phase: Flags.integer({description: 'Phase number (default: the current phase from the state store, else 1).', min: 1}),
  }

  public async run(): Promise<ValidationReport | DryRunReport> {
    return validateCommand({
      playbook: this.flags.playbook,
      phase: this.flags.phase,
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
