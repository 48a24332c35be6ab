import {Flags} from '@oclif/core'
import path from 'node:path'

import {BaseCommand} from '../base-command.js'
import {gonogoJUnit, gonogoLines, type GonogoResult, runGonogo} from '../lib/gate/index.js'
import {defaultPlaybookPath, displayPath, loadPlaybook} from '../lib/playbook/index.js'
import {PUBLIC_OUTPUT, writeFileAtomic} from '../lib/util/atomic-write.js'

export type GonogoCommandResult = GonogoResult & {junit?: string}

export default class Gonogo extends BaseCommand<typeof Gonogo> {
  static override description = `Evaluate the playbook's Go/No-Go gate between two phases.
Each criterion is measured by its source (gateway metrics and audit log, the monitor's samples, Prometheus, the recorded incidents/feedback/approvals/rollbacks) over its window, then judged: pass, fail, inconclusive (too few samples, window not covered yet) or error (could not measure). GO only if every key criterion passes and, where the gate asks for it, the team approved this very evaluation.
Every evaluation is stored with its inputs and appended to the audit trail.
Exit codes: 0 GO, 1 NO-GO, 3 inconclusive or awaiting approval, 4 could not evaluate, 2 usage/playbook error.`

  static override examples = [
    '<%= config.bin %> gonogo',
    '<%= config.bin %> gonogo --from 1 --to 2 --json',
    '<%= config.bin %> gonogo --from 2 --to 3 --junit reports/gonogo.xml',
    '<%= config.bin %> gonogo --prometheus-url http://prometheus.internal:9090',
  ]

  static override flags = {
    from: Flags.integer({description: 'The phase the gate leaves (default: the current phase, else 1).', min: 0}),
    to: Flags.integer({description: 'The phase the gate enters (default: the gate leaving --from).', min: 0}),
    'prometheus-url': Flags.string({description: 'Prometheus server for fleet criteria (credentials in the URL are sent as Basic auth, never shown).', env: 'CUTOVER_PROMETHEUS_URL'}),
    junit: Flags.string({description: 'Also write a JUnit XML report to this file (one testcase per criterion).'}),
    playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
  }

  async run(): Promise<GonogoCommandResult> {
    const {flags} = this
    const file = flags.playbook ?? defaultPlaybookPath()
    const playbook = await loadPlaybook(file)
    const target = await this.target()
    const state = await this.state()
    const result = await runGonogo({
      playbook,
      playbookFile: displayPath(file),
      state,
      target,
      ...(flags.from === undefined ? {} : {from: flags.from}),
      ...(flags.to === undefined ? {} : {to: flags.to}),
      ...(flags['prometheus-url'] ? {prometheusUrl: flags['prometheus-url']} : {}),
    })
    let junit: string | undefined
    if (flags.junit) {
      junit = path.resolve(flags.junit)
      writeFileAtomic(junit, gonogoJUnit(result), PUBLIC_OUTPUT)
    }
    for (const line of gonogoLines(result)) this.log(line)
    if (junit) this.log(`JUnit report: ${junit}`)
    this.setExitCode(result.exitCode)
    return {...result, ...(junit ? {junit} : {})}
  }
}
