import {PidFileError} from '../../lib/target/files.js'
import {defineCheck} from '../types.js'
import {errorFromException, fail, pass} from '../util.js'

const EXPECTED = 'daemon.pid is JSON {pid, started_at, port, gateway_port, version[, proxy_port]} with the documented types'

/** §3.4 "PID file format is valid"; §1.1 reads gateway_port from it. */
export const pidfileValid = defineCheck({
  id: 'pidfile.valid',
  title: 'PID file is valid',
  verifies: '§3.4 "PID file format is valid"; §1.1 "cat ~/.cco/daemon.pid | jq -r .gateway_port"',
  params: {},
  touches: ({target}) => ({files: [target.paths.pidFile]}),
  async run({target}) {
    try {
      const pid = target.readPidFile({checkAlive: false})
      return pass({detail: `${target.paths.pidFile} is valid`, expected: EXPECTED, measured: `valid (${Object.keys(pid).join(', ')})`, evidence: {pid_file: target.paths.pidFile, content: pid}})
    } catch (error) {
      if (error instanceof PidFileError && (error.problem === 'invalid_json' || error.problem === 'wrong_type')) {
        return fail({
          detail: error.message,
          expected: EXPECTED,
          measured: error.problem === 'invalid_json' ? 'not valid JSON' : 'wrong shape',
          evidence: {pid_file: target.paths.pidFile, problem: error.problem},
          remediation: error.suggestions.join(' ') || `Restart the daemon so it rewrites the PID file: ${target.restartHint()}`,
        })
      }
      return errorFromException(error, EXPECTED, {pid_file: target.paths.pidFile})
    }
  },
})
