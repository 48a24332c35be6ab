import {PidFileError} from '../../lib/target/files.js'
import {defineCheck} from '../types.js'
import {controlUrlHint, couldNotMeasure, errorFromException, fail, pass} from '../util.js'

const EXPECTED = 'the PID file names a live process whose control endpoint answers'

/** §1.1 "cco daemon restart" / §3.4 "Daemon starts successfully". */
export const daemonRunning = defineCheck({
  id: 'daemon.running',
  title: 'The daemon runs',
  verifies: '§1.1 "cco daemon restart"; §2.3 "Daemon starts without proxy server"; §3.4 "Daemon starts successfully"',
  params: {},
  touches: ({target}) => ({files: [target.paths.pidFile], urls: [controlUrlHint(target, '/daemon/status')]}),
  async run({target}) {
    let pid
    try {
      pid = target.readPidFile()
    } catch (error) {
      if (error instanceof PidFileError && (error.problem === 'missing' || error.problem === 'dead')) {
        return fail({
          detail: error.message,
          expected: EXPECTED,
          measured: error.problem === 'missing' ? 'no PID file' : 'PID not alive (stale PID file)',
          evidence: {pid_file: target.paths.pidFile, problem: error.problem, log_tail: target.tailLog(10)},
          remediation: `Start the daemon: ${target.restartHint()}; if it does not stay up, read ${target.paths.log}.`,
        })
      }
      return errorFromException(error, EXPECTED, {pid_file: target.paths.pidFile})
    }
    const evidence: Record<string, unknown> = {pid: pid.pid, started_at: pid.started_at, version: pid.version, control_port: pid.port}
    try {
      const status = await target.gateway.status()
      evidence.status = status.body
      evidence.control_ms = status.durationMs
    } catch (error) {
      return couldNotMeasure({
        detail: `process ${pid.pid} is alive but its control endpoint on port ${pid.port} does not answer: ${(error as Error).message}`,
        expected: EXPECTED,
        measured: `pid ${pid.pid} alive, control endpoint silent`,
        evidence,
        remediation: `The daemon may be hung or still starting: try again, then ${target.restartHint()}.`,
      })
    }
    const uptime = Math.max(0, Math.round((Date.now() - Date.parse(pid.started_at)) / 1000))
    return pass({detail: `daemon pid ${pid.pid} (version ${pid.version}) is running, control endpoint answers`, expected: EXPECTED, measured: `pid ${pid.pid}, up ${uptime} s`, evidence: {...evidence, uptime_seconds: uptime}})
  },
})
