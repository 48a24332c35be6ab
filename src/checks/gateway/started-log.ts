import fs from 'node:fs'

import type {Target} from '../../lib/target/target.js'
import {defineCheck} from '../types.js'
import {couldNotMeasure, fail, pass, regexIssuesOf} from '../util.js'

const EXPECTED = 'since the last daemon start: "✅ LLM Gateway initialized successfully", "✅ LLM Gateway started on port N", "✅ PID file updated with gateway port: N" (N = gateway_port), no "CRITICAL: LLM Gateway failed to initialize"'

const INITIALIZED = /LLM Gateway initialized successfully/
const STARTED = /LLM Gateway started on port (\d+)/
const PID_UPDATED = /PID file updated with gateway port: (\d+)/
const CRITICAL = /CRITICAL: LLM Gateway failed to initialize/
const DISABLED = /LLM Gateway disabled/

const MAX_READ_BYTES = 2 * 1024 * 1024

/** The last MAX_READ_BYTES of the log, split in lines (secrets masked). */
function readLogTail(target: Target): string[] | null {
  let fd: number
  try {
    fd = fs.openSync(target.paths.log, 'r')
  } catch {
    return null
  }
  try {
    const size = fs.fstatSync(fd).size
    const length = Math.min(size, MAX_READ_BYTES)
    const buffer = Buffer.alloc(length)
    fs.readSync(fd, buffer, 0, length, size - length)
    const lines = buffer.toString('utf8').split('\n')
    if (size > length) lines.shift() // first line may be cut
    return lines.filter((line) => line.length > 0).map((line) => target.redact(line))
  } finally {
    fs.closeSync(fd)
  }
}

interface Params {
  start_marker: string
  lines: number
}

/** §1.1 "tail -50 ~/.cco/daemon.log | grep -i gateway" with its three expected lines; §2.1 Change 2. */
export const gatewayStartedLog = defineCheck<Params>({
  id: 'gateway.started_log',
  title: 'Gateway started (daemon log)',
  verifies: '§1.1 expected log lines; §1.2 "Gateway starts successfully on daemon launch"; §2.1 Change 2 "Add Gateway Startup Check"',
  params: {
    start_marker: {type: 'string', description: 'regular expression (case-insensitive) of the log line that starts a daemon run, anchored on the daemon\'s own marker at the start of the line (a client-chosen value logged mid-line never matches); only lines after the last one count', default: String.raw`^\S+ +INFO +(?:🚀 +)?cco daemon \S+ starting \(pid \d+`},
    lines: {type: 'number', integer: true, min: 10, max: 100_000, description: 'how many trailing log lines to search when no start marker is found', default: 500},
  },
  validate: (p) => regexIssuesOf('start_marker', [p.start_marker], 'i'),
  touches: ({target}) => ({files: [target.paths.log, target.paths.pidFile]}),
  async run({target, params}) {
    const all = readLogTail(target)
    if (all === null || all.length === 0) {
      return couldNotMeasure({detail: `no daemon log at ${target.paths.log}`, expected: EXPECTED, evidence: {log: target.paths.log}, remediation: `Start the daemon (${target.restartHint()}); it writes ${target.paths.log}.`})
    }
    const marker = new RegExp(params.start_marker, 'i')
    let from = -1
    for (let i = all.length - 1; i >= 0; i--) {
      if (marker.test(all[i] as string)) {
        from = i
        break
      }
    }
    const run = from >= 0 ? all.slice(from) : all.slice(-params.lines)
    const find = (re: RegExp) => run.find((line) => re.test(line)) ?? null
    const matched = {initialized: find(INITIALIZED), started: find(STARTED), pid_updated: find(PID_UPDATED), critical: find(CRITICAL), disabled: find(DISABLED)}
    const startedPort = matched.started ? Number(STARTED.exec(matched.started)?.[1]) : null
    const pidPort = matched.pid_updated ? Number(PID_UPDATED.exec(matched.pid_updated)?.[1]) : null
    let pidFilePort: number | null = null
    try {
      pidFilePort = target.readPidFile({checkAlive: false}).gateway_port
    } catch {
      pidFilePort = null
    }
    const evidence = {log: target.paths.log, start_line: from >= 0 ? all[from] : null, lines_searched: run.length, matched, started_port: startedPort, pid_file_gateway_port: pidFilePort}
    if (matched.critical || matched.disabled || !matched.initialized || !matched.started || !matched.pid_updated) {
      const missing = [!matched.initialized && 'initialized', !matched.started && 'started on port', !matched.pid_updated && 'PID file updated'].filter(Boolean)
      const detail = matched.critical
        ? `the log says: ${matched.critical.trim()}`
        : matched.disabled
          ? `the log says the gateway is disabled: ${matched.disabled.trim()}`
          : `missing start-up line${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}`
      return fail({
        detail,
        expected: EXPECTED,
        measured: matched.critical ? 'CRITICAL: failed to initialize' : matched.disabled ? 'gateway disabled' : `missing: ${missing.join(', ')}`,
        evidence: {...evidence, log_tail: run.slice(-15)},
        remediation: matched.disabled
          ? `Set "gatewayEnabled": true in ${target.paths.flags}, then ${target.restartHint()}.`
          : `Fix the llmGateway section of ${target.paths.orchestraConfig} (see the error above it in ${target.paths.log}), then ${target.restartHint()}.`,
      })
    }
    if (startedPort !== pidPort || (pidFilePort !== null && pidFilePort !== startedPort)) {
      return fail({
        detail: `ports disagree: log "started on port ${startedPort}", "PID file updated with gateway port: ${pidPort}", PID file gateway_port ${pidFilePort}`,
        expected: EXPECTED,
        measured: `log port ${startedPort}, PID file ${pidFilePort}`,
        evidence,
        remediation: `The PID file and the log describe different daemon runs: ${target.restartHint()}.`,
      })
    }
    return pass({detail: `the three start-up lines are in the log (gateway port ${startedPort})`, expected: EXPECTED, measured: `3/3 lines, port ${startedPort}`, evidence})
  },
})
