import {defineCheck} from '../types.js'
import {fail, pass, requireDaemon} from '../util.js'

const EXPECTED = 'daemon.pid has no "proxy_port"'

/** §3.2 Change 1 "Remove proxy_port from PidFileContent"; §2.3 "Daemon starts without proxy server". */
export const pidfileNoProxyPort = defineCheck({
  id: 'pidfile.no_proxy_port',
  title: 'PID file carries no proxy_port',
  verifies: '§2.3 "Daemon starts without proxy server"; §3.2 Change 1 "Remove proxy_port from PidFileContent"',
  params: {},
  touches: ({target}) => ({files: [target.paths.pidFile]}),
  async run({target}) {
    const daemon = requireDaemon(target, EXPECTED)
    if ('result' in daemon) return daemon.result
    const {pid} = daemon
    if (pid.proxy_port !== undefined) {
      return fail({
        detail: `${target.paths.pidFile} has "proxy_port": ${pid.proxy_port}: the legacy proxy runs`,
        expected: EXPECTED,
        measured: `proxy_port ${pid.proxy_port}`,
        evidence: {content: pid},
        remediation: `Set "proxyEnabled": false in ${target.paths.flags} (cutover phase advance does this for Phase 2), then ${target.restartHint()}.`,
      })
    }
    return pass({detail: 'no proxy_port in the PID file', expected: EXPECTED, measured: 'no proxy_port', evidence: {content: pid}})
  },
})
