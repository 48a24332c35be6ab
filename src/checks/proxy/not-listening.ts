import {defineCheck} from '../types.js'
import {controlUrlHint, fail, pass, requireDaemon} from '../util.js'
import {observeProxy} from './probe.js'

const EXPECTED = 'no legacy proxy listening (no proxy_port, daemon reports the proxy disabled)'

/** §2.3 "Daemon starts without proxy server"; Phase 3 "Completely remove legacy proxy system". */
export const proxyNotListening = defineCheck({
  id: 'proxy.not_listening',
  title: 'No proxy listening',
  verifies: '§2.1 Change 3 "Stop Starting Proxy Server"; §2.3 "Daemon starts without proxy server"',
  params: {},
  touches: ({target}) => ({files: [target.paths.pidFile, target.paths.flags], urls: [controlUrlHint(target, '/daemon/status'), 'tcp://127.0.0.1:<proxy_port from the PID file>']}),
  async run({target}) {
    const daemon = requireDaemon(target, EXPECTED)
    if ('result' in daemon) return daemon.result
    const seen = await observeProxy(target, daemon.pid)
    if (seen.listening || seen.daemon_proxy_state === 'running') {
      return fail({
        detail: `the legacy proxy is running${seen.proxy_port === null ? '' : ` on port ${seen.proxy_port}`} (proxyEnabled=${seen.proxyEnabled})`,
        expected: EXPECTED,
        measured: seen.proxy_port === null ? 'proxy running' : `listening on ${seen.proxy_port}`,
        evidence: {...seen},
        remediation: `Set "proxyEnabled": false in ${target.paths.flags} (cutover phase advance --to 2 writes it), then ${target.restartHint()}.`,
      })
    }
    const note = seen.proxy_port === null ? '' : ` (the PID file still names proxy_port ${seen.proxy_port}, but nothing listens)`
    return pass({detail: `no proxy listening${note}`, expected: EXPECTED, measured: seen.daemon_proxy_state ? `proxy ${seen.daemon_proxy_state}` : 'not listening', evidence: {...seen}})
  },
})
