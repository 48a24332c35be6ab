import {DaemonActionCommand} from '../../daemon-action-command.js'

export default class DaemonStart extends DaemonActionCommand {
  static override description = "Start the target's daemon (runs the target's start command and waits for it). Exit 0 when it succeeded, 1 when it failed (with the target's output), 4 when the command cannot be run."
  static override examples = [
    '<%= config.bin %> <%= command.id %> --home /tmp/cco-home',
    '<%= config.bin %> <%= command.id %> --target ./prod-laptop.yaml --json',
  ]

  protected readonly action = 'start' as const
}
