import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../lib/errors.js'
import {daemonStatus, type DaemonStatusResult, describeStatus} from '../../lib/target/daemon-ops.js'

export default class DaemonStatus extends BaseCommand<typeof DaemonStatus> {
  static override description =
    "Show whether the target's daemon runs: PID file, control port, gateway health, proxy, flags. Exit 0 when running, 1 when not, 4 when the target's status command cannot be run."
  static override examples = ['<%= config.bin %> <%= command.id %> --home /tmp/cco-home', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<DaemonStatusResult> {
    const status = await daemonStatus(await this.target())
    for (const line of describeStatus(status)) this.log(line)
    if (!status.running) this.setExitCode(ExitCode.Fail)
    return status
  }
}
