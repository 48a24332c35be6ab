import {Flags} from '@oclif/core'
import chalk from 'chalk'

import {BaseCommand} from '../base-command.js'
import {ConfigError, ExitCode} from '../lib/errors.js'
import {formatNumber} from '../lib/evaluate/criterion.js'
import {isUp, type LiveStatus, type MonitorSummary, runMonitor} from '../lib/monitor/index.js'
import {formatElapsed, parseFlagDuration} from '../lib/util/duration.js'

export type MonitorResult = MonitorSummary & {target: {name: string; home: string}; state: string}

function pct(n: number | null | undefined): string {
  return n === null || n === undefined ? 'n/a' : `${formatNumber(Number(n.toFixed(3)))}%`
}

function liveLine(live: LiveStatus): string {
  const {health, metrics} = live.tick
  const time = new Date(live.tick.ts).toISOString().slice(11, 19)
  const state = isUp(health.status) ? chalk.green(health.status) : chalk.red(health.status)
  const parts = [
    `${time} ${state}`,
    `uptime ${pct(live.uptimePct)} (${live.up}/${live.samples})`,
    metrics ? `error rate ${pct(metrics.error_rate)} of ${metrics.total_requests} req/${metrics.window}` : 'error rate n/a',
    `latency ${metrics?.avg_latency_ms === null || metrics?.avg_latency_ms === undefined ? 'n/a' : `${Math.round(metrics.avg_latency_ms)} ms avg`}`,
    `probes ${live.probesOk} ok / ${live.probesFailed} failed`,
  ]
  if (!live.tick.stored) parts.push(chalk.dim('(slot already sampled)'))
  return parts.join(' · ')
}

export default class Monitor extends BaseCommand<typeof Monitor> {
  static override description = `Sample the target into the state store: gateway health every interval, live metrics, and a periodic streaming probe (POST /v1/messages, stream: true, x-cco-agent-type: cutover-probe).
Gate criteria such as uptime are measured from these samples. Samples sit on a fixed time grid, one per slot, so a restarted or overlapping monitor never counts a slot twice.
Progress goes to stderr; --json prints only the summary. A crash (the daemon died without shutting down) or a stop or restart no cutover command explains is recorded as an incident (critical for a crash: the plan counts crashes as critical bugs). Exit 0 when the last health sample was up, 1 when it was down.
From cron, use --once with --interval set to the cron period (gaps longer than two intervals count as down time).`

  static override examples = [
    '<%= config.bin %> monitor --duration 10m --interval 5s',
    '<%= config.bin %> monitor --once --interval 1m   # from cron, every minute',
    '<%= config.bin %> monitor --duration 1h --probe-every 12 --json',
  ]

  static override flags = {
    duration: Flags.string({description: 'Stop after this long (e.g. 30s, 10m, 4h). Default: until Ctrl-C.'}),
    interval: Flags.string({description: 'Time between samples (at least 100ms).', default: '10s'}),
    once: Flags.boolean({description: 'Take one sample and exit (for cron).', default: false}),
    'probe-every': Flags.integer({description: 'Run a streaming probe every N samples (0 = never).', default: 6, min: 0}),
    'probe-model': Flags.string({description: 'Model the streaming probe asks for.'}),
  }

  async run(): Promise<MonitorResult> {
    const {flags} = this
    const intervalMs = parseFlagDuration(flags.interval, '--interval')
    if (intervalMs < 100) throw new ConfigError(`--interval ${flags.interval} is too short; use at least 100ms`, ['e.g. --interval 5s'])
    const durationMs = flags.duration === undefined ? undefined : parseFlagDuration(flags.duration, '--duration')
    if (flags.once && durationMs !== undefined) throw new ConfigError('--once and --duration exclude each other', ['Use --once from cron, or --duration for a run of a given length.'])
    const target = await this.target()
    const state = await this.state()

    const controller = new AbortController()
    const stop = () => controller.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    const quiet = this.jsonEnabled()
    const tty = process.stderr.isTTY === true
    if (!quiet) {
      process.stderr.write(`monitoring ${target.name} (${target.home}) every ${formatElapsed(intervalMs)}${durationMs === undefined ? (flags.once ? ', once' : ' until Ctrl-C') : ` for ${formatElapsed(durationMs)}`}; samples -> ${state.file}\n`)
    }
    let summary: MonitorSummary
    try {
      summary = await runMonitor(target, state, {
        intervalMs,
        ...(durationMs === undefined ? {} : {durationMs}),
        once: flags.once,
        probeEvery: flags['probe-every'],
        ...(flags['probe-model'] ? {probeModel: flags['probe-model']} : {}),
        probeTimeoutMs: Math.max(10_000, target.spec.timeouts.http),
        signal: controller.signal,
        onTick: (live) => {
          if (quiet) return
          process.stderr.write(tty ? `\r\u001B[2K${liveLine(live)}` : `${liveLine(live)}\n`)
        },
        onProbe: (probe) => {
          if (quiet || probe.ok) return
          process.stderr.write(`${tty ? '\n' : ''}${chalk.red('probe failed')}: ${probe.error ?? 'unknown error'}\n`)
        },
        onIncident: (incident) => {
          // Always said, even with --json (on stderr): an incident changes what the gates decide.
          process.stderr.write(`${tty ? '\n' : ''}${chalk.red(`incident #${incident.id} (${incident.severity}) recorded`)}: ${incident.title}\n`)
        },
      })
    } finally {
      process.removeListener('SIGINT', stop)
      process.removeListener('SIGTERM', stop)
    }
    if (!quiet) {
      if (tty) process.stderr.write('\n')
      this.log(
        `${summary.ticks} sample(s), ${summary.stored.health} new (${summary.duplicates} slot(s) already sampled); uptime ${pct(summary.uptimePct)}; ` +
          `error rate ${pct(summary.errorRatePct)} over ${summary.metricsWindow}; probes ${summary.probes.ok} ok, ${summary.probes.failed} failed`,
      )
      if (summary.incidents.length > 0) this.log(`${summary.incidents.length} incident(s) recorded: ${summary.incidents.map((i) => `#${i.id} ${i.severity} ${i.title}`).join('; ')} (cutover incident list)`)
      if (!isUp(summary.lastHealth?.status)) this.log(`the gateway is ${summary.lastHealth?.status ?? 'unknown'}: ${summary.lastHealth?.error ?? ''}\nTry: ${target.restartHint()}`)
    }
    if (!isUp(summary.lastHealth?.status)) this.setExitCode(ExitCode.Fail)
    return {...summary, target: {name: target.name, home: target.home}, state: state.file}
  }
}
