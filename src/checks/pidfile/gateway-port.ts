import {defineCheck} from '../types.js'
import {fail, pass, requireDaemon} from '../util.js'

const EXPECTED = 'daemon.pid has "gateway_port": <port>'

/** §1.2 "Gateway port written to PID file". */
export const pidfileGatewayPort = defineCheck({
  id: 'pidfile.gateway_port',
  title: 'Gateway port written to PID file',
  verifies: '§1.2 "Gateway port written to PID file"',
  params: {},
  touches: ({target}) => ({files: [target.paths.pidFile, target.paths.flags]}),
  async run({target}) {
    const daemon = requireDaemon(target, EXPECTED)
    if ('result' in daemon) return daemon.result
    const {pid} = daemon
    if (pid.gateway_port === null) {
      let gatewayEnabled: boolean | null = null
      try {
        gatewayEnabled = target.readFlags().gatewayEnabled
      } catch {
        gatewayEnabled = null
      }
      return fail({
        detail: `${target.paths.pidFile} has "gateway_port": null: the LLM Gateway is not running`,
        expected: EXPECTED,
        measured: 'gateway_port null',
        evidence: {pid_file: target.paths.pidFile, content: pid, gatewayEnabled, log_tail: target.tailLog(15)},
        remediation:
          gatewayEnabled === false
            ? `The gateway is disabled: set "gatewayEnabled": true in ${target.paths.flags}, then ${target.restartHint()}.`
            : `The gateway failed to start: read ${target.paths.log} (look for "CRITICAL: LLM Gateway failed to initialize"), fix the llmGateway section of ${target.paths.orchestraConfig}, then ${target.restartHint()}.`,
      })
    }
    return pass({detail: `gateway_port ${pid.gateway_port} in ${target.paths.pidFile}`, expected: EXPECTED, measured: `gateway_port ${pid.gateway_port}`, evidence: {gateway_port: pid.gateway_port, pid: pid.pid}})
  },
})
