import {Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'
import {ExitCode} from './lib/errors.js'
import {type DaemonActionResult, describeAction, performDaemonAction} from './lib/target/daemon-ops.js'
import {parseFlagDuration} from './lib/util/duration.js'

/** `cutover daemon start|stop|restart`: one action on the target's daemon, under the operation lock. */
export abstract class DaemonActionCommand extends BaseCommand<typeof DaemonActionCommand> {
  static override flags = {
    wait: Flags.string({
      description: 'How long to wait for another cutover command that is changing the target (e.g. 0s, 30s, 2m).',
      default: '30s',
    }),
  }

  protected abstract readonly action: 'start' | 'stop' | 'restart'

  async run(): Promise<DaemonActionResult> {
    const waitMs = parseFlagDuration(this.flags.wait, '--wait')
    const result = await performDaemonAction(await this.target(), await this.state(), this.action, waitMs)
    const {out, err} = describeAction(result)
    for (const line of out) this.log(line)
    for (const line of err) this.logToStderr(line)
    if (!result.ok) this.setExitCode(ExitCode.Fail)
    return result
  }
}
