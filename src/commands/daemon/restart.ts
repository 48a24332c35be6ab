import {DaemonActionCommand} from '../../daemon-action-command.js'

export default class DaemonRestart extends DaemonActionCommand {
  static override description = "Restart the target's daemon (stop, then start). Exit 0 when it succeeded, 1 when it failed (with the target's output), 4 when the command cannot be run."
  static override examples = [
    '<%= config.bin %> <%= command.id %> --home /tmp/cco-home',
    '<%= config.bin %> <%= command.id %> --target ./prod-laptop.yaml --json',
  ]

  protected readonly action = 'restart' as const
}
