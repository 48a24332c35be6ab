import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../lib/errors.js'
import {type DaemonActionResult, describeAction, performDaemonAction} from '../../lib/target/daemon-ops.js'

export default class DaemonStart extends BaseCommand<typeof DaemonStart> {
  static override description = "Start the target's daemon (runs the target's start command and waits for it). Exit 0 when it succeeded, 1 when it failed (with the target's output), 4 when the command cannot be run."
  static override examples = [
    '<%= config.bin %> <%= command.id %> --home /tmp/cco-home',
    '<%= config.bin %> <%= command.id %> --target ./prod-laptop.yaml --json',
  ]

  async run(): Promise<DaemonActionResult> {
    const result = await performDaemonAction(await this.target(), await this.state(), 'start')
    const {out, err} = describeAction(result)
    for (const line of out) this.log(line)
    for (const line of err) this.logToStderr(line)
    if (!result.ok) this.setExitCode(ExitCode.Fail)
    return result
  }
}
