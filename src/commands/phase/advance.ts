import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {advancePhase, type AdvanceResult} from '../../lib/apply/index.js'
import {defaultPlaybookPath, displayPath, loadPlaybook} from '../../lib/playbook/index.js'
import {parseFlagDuration} from '../../lib/util/duration.js'

export default class PhaseAdvance extends BaseCommand<typeof PhaseAdvance> {
  static override description = `Move the target into the next phase: the gate must say GO (or --force with --reason, recorded), then the phase's apply steps run one by one, each journaled before it runs and marked after; the new phase's validation decides.
If a step or the validation fails, the steps that ran are undone automatically (flags restored from the journal, git reset to the recorded commit, rebuilt, daemon restarted) and the command says why.
An advance interrupted by a crash or a kill is found by the next invocation: it resumes (or, with --abort, rolls back).
Exit codes: 0 advanced, 1 rolled back or NO-GO, 2 usage/playbook error, 3 gate inconclusive or awaiting approval, 4 target unreachable.`

  static override examples = [
    '<%= config.bin %> phase advance --dry-run',
    '<%= config.bin %> phase advance --to 2',
    '<%= config.bin %> phase advance --force --reason "approved in the change meeting (OPS-42)"',
    '<%= config.bin %> phase advance --abort',
  ]

  static override flags = {
    to: Flags.integer({description: 'The phase to enter (default: the next one).', min: 1}),
    'dry-run': Flags.boolean({description: 'Show every step, the flag changes and the diff it would apply; change nothing.'}),
    force: Flags.boolean({description: 'Advance even if the gate does not say GO (needs --reason; recorded in the audit trail).'}),
    reason: Flags.string({description: 'Why the gate is overridden (with --force).'}),
    abort: Flags.boolean({description: 'Roll back an interrupted advance instead of resuming it.', exclusive: ['force', 'to']}),
    playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
    'prometheus-url': Flags.string({description: 'Prometheus server for fleet criteria of the gate.', env: 'CUTOVER_PROMETHEUS_URL'}),
    wait: Flags.string({description: 'How long to wait for another cutover command that is changing the target.', default: '0s'}),
  }

  async run(): Promise<AdvanceResult> {
    const {flags} = this
    const file = flags.playbook ?? defaultPlaybookPath()
    const playbook = await loadPlaybook(file)
    const quiet = this.jsonEnabled()
    const result = await advancePhase({
      playbook,
      playbookFile: displayPath(file),
      target: await this.target(),
      state: await this.state(),
      ...(flags.to === undefined ? {} : {to: flags.to}),
      dryRun: flags['dry-run'],
      force: flags.force,
      ...(flags.reason ? {reason: flags.reason} : {}),
      abort: flags.abort,
      ...(flags['prometheus-url'] ? {prometheusUrl: flags['prometheus-url']} : {}),
      lockWaitMs: parseFlagDuration(flags.wait, '--wait'),
      log: (line) => {
        if (!quiet) this.log(line)
      },
    })
    if (result.plan) {
      for (const step of result.plan) {
        this.log(`${step.index + 1}. ${step.id} [${step.kind}] ${step.title}`)
        this.log(`     ${step.summary}`)
        for (const line of step.diff ?? []) this.log(`       ${line}`)
        for (const warning of step.warnings ?? []) this.log(`     ! ${warning}`)
      }
    }
    if (result.failure && result.compensation) {
      for (const action of result.compensation.actions) this.logToStderr(`  ${action.ok ? '↺' : '✖'} ${action.action}${action.error ? `: ${action.error}` : ''}`)
    }
    if (result.baseline && result.baseline.pinned.length > 0) this.log(`baseline of phase ${result.from} pinned: ${result.baseline.pinned.map((p) => `${p.key}=${p.value}`).join(', ')}`)
    if (result.exitCode === 0) this.log(result.message)
    else this.logToStderr(result.message)
    this.setExitCode(result.exitCode)
    return result
  }
}
