import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../lib/errors.js'
import {parseDuration} from '../../lib/util/duration.js'
import {type DaemonActionResult, describeAction, performDaemonAction} from '../../lib/target/daemon-ops.js'

export default class DaemonRestart extends BaseCommand<typeof DaemonRestart> {
  static override description = "Restart the target's daemon (stop, then start). Exit 0 when it succeeded, 1 when it failed (with the target's output), 4 when the command cannot be run."
  static override examples = [
    '<%= config.bin %> <%= command.id %> --home /tmp/cco-home',
    '<%= config.bin %> <%= command.id %> --target ./prod-laptop.yaml --json',
  ]

  static override flags = {
    wait: Flags.string({
      description: 'How long to wait for another cutover command that is changing the target (e.g. 0s, 30s, 2m).',
      default: '30s',
    }),
  }

  async run(): Promise<DaemonActionResult> {
    const waitMs = parseDuration(this.flags.wait, '--wait')
    const result = await performDaemonAction(await this.target(), await this.state(), 'restart', waitMs)
    const {out, err} = describeAction(result)
    for (const line of out) this.log(line)
    for (const line of err) this.logToStderr(line)
    if (!result.ok) this.setExitCode(ExitCode.Fail)
    return result
  }
}
