import {Flags} from '@oclif/core'
import path from 'node:path'

import {BaseCommand} from '../base-command.js'
import {ConfigError} from '../lib/errors.js'
import {defaultPlaybookPath, loadPlaybook} from '../lib/playbook/index.js'
import {triggerLabel, watchTriggers, type WatchResult} from '../lib/rollback/index.js'
import {parseFlagDuration} from '../lib/util/duration.js'

export default class Watch extends BaseCommand<typeof Watch> {
  static override description = `Evaluate the playbook's rollback triggers continuously against the pinned baseline.
Banded triggers (performance degradation): below 25% no action, 25-50% alert and wait for a human, above 50% roll back. Plain triggers (streaming failures > 10%, critical incidents, ...) ask for their action when crossed.
Every trigger of the playbook is evaluated: source "check" triggers (cost tracking shows incorrect data) run the library check they name, as phase validate does; fleet triggers need --prometheus-url. The evidence rules are the gates' (min_hosts, min_samples): too little evidence is inconclusive, never a rollback. Values are shown in their own units (ms, req/s), the degradation % after them.
Alerts go to the terminal and, with --notify URL, as a JSON POST {criterion, value, threshold, decision, band, status, ...}. A rollback decision performs the flag rollback with --auto-rollback (recorded with its recovery time), otherwise it is reported as recommended.
Exit codes: 0 every trigger was evaluated and no rollback is needed, 1 a rollback fired or is recommended, 2 usage error, 4 a trigger could not be evaluated (daemon down, Prometheus unreachable or not given, a check that could not measure).`

  static override examples = ['<%= config.bin %> watch --once', '<%= config.bin %> watch --interval 30s --auto-rollback --notify https://hooks.example.com/cutover', '<%= config.bin %> watch --duration 1h --json']

  static override flags = {
    interval: Flags.string({description: 'Time between evaluations.', default: '30s'}),
    duration: Flags.string({description: 'Stop after this long (default: until interrupted).'}),
    once: Flags.boolean({description: 'Evaluate once and exit (for cron).'}),
    'auto-rollback': Flags.boolean({description: 'Perform the flag rollback when a rollback trigger fires.'}),
    notify: Flags.string({description: 'Webhook URL that receives a JSON POST per alert and rollback.'}),
    playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
    'prometheus-url': Flags.string({description: 'Prometheus server for fleet triggers.', env: 'CUTOVER_PROMETHEUS_URL'}),
  }

  async run(): Promise<WatchResult> {
    const {flags} = this
    const intervalMs = parseFlagDuration(flags.interval, '--interval')
    if (intervalMs <= 0) throw new ConfigError('--interval must be greater than zero, e.g. 30s')
    const durationMs = flags.duration === undefined ? undefined : parseFlagDuration(flags.duration, '--duration')
    if (flags.notify) {
      let url: URL
      try {
        url = new URL(flags.notify)
      } catch {
        throw new ConfigError(`--notify ${flags.notify} is not a URL`, ['Example: --notify https://hooks.example.com/cutover'])
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--notify must be an http(s) URL, got ${url.protocol}`)
    }
    const playbookFile = flags.playbook ?? defaultPlaybookPath()
    const playbook = await loadPlaybook(playbookFile)
    const quiet = this.jsonEnabled()
    const controller = new AbortController()
    const stop = () => controller.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    try {
      const result = await watchTriggers({
        playbook,
        target: await this.target(),
        state: await this.state(),
        intervalMs,
        ...(durationMs === undefined ? {} : {durationMs}),
        once: flags.once,
        autoRollback: flags['auto-rollback'],
        ...(flags.notify ? {notifyUrl: flags.notify} : {}),
        ...(flags['prometheus-url'] ? {prometheusUrl: flags['prometheus-url']} : {}),
        baseDir: path.dirname(path.resolve(playbookFile)),
        signal: controller.signal,
        log: (line) => {
          if (!quiet) this.log(line)
        },
        warn: (line) => {
          if (!quiet) this.logToStderr(line)
        },
      })
      if (!quiet) {
        const last = result.ticks.at(-1)
        for (const t of last?.triggers ?? []) this.log(`  ${triggerLabel(t).padEnd(12)} ${t.reason}`)
      }
      if (result.exitCode === 0) this.log(result.message)
      else this.logToStderr(result.message)
      this.setExitCode(result.exitCode)
      return result
    } finally {
      process.removeListener('SIGINT', stop)
      process.removeListener('SIGTERM', stop)
    }
  }
}
