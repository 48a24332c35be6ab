import {defineCheck} from '../types.js'
import {controlUrlHint, fail, pass, requireDaemon} from '../util.js'
import {observeProxy} from './probe.js'

const EXPECTED = 'the legacy proxy listens on the proxy_port named in the PID file'

/** Phase 1 keeps the proxy fallback; after a flag rollback the proxy must answer again. */
export const proxyListening = defineCheck({
  id: 'proxy.listening',
  title: 'The proxy fallback listens',
  verifies: '§Phase 1 "before removing Proxy fallback"; §2.4 Option 2 (flag rollback re-enables the proxy)',
  params: {},
  touches: ({target}) => ({files: [target.paths.pidFile, target.paths.flags], urls: [controlUrlHint(target, '/daemon/status'), 'tcp://127.0.0.1:<proxy_port from the PID file>']}),
  async run({target}) {
    const daemon = requireDaemon(target, EXPECTED)
    if ('result' in daemon) return daemon.result
    const seen = await observeProxy(target, daemon.pid)
    if (seen.proxy_port !== null && seen.listening) {
      return pass({detail: `the legacy proxy listens on port ${seen.proxy_port}`, expected: EXPECTED, measured: `listening on ${seen.proxy_port}`, evidence: {...seen}})
    }
    const why =
      seen.proxy_port === null
        ? seen.proxyEnabled === false
          ? 'the proxy is disabled (proxyEnabled=false)'
          : `the PID file has no proxy_port (daemon reports the proxy ${seen.daemon_proxy_state ?? 'unknown'})`
        : `nothing listens on proxy_port ${seen.proxy_port}`
    return fail({
      detail: why,
      expected: EXPECTED,
      measured: seen.proxy_port === null ? 'no proxy_port' : `port ${seen.proxy_port} closed`,
      evidence: {...seen, log_tail: target.tailLog(10)},
      remediation:
        seen.proxyEnabled === false
          ? `Enable the proxy: "proxyEnabled": true in ${target.paths.flags} (cutover rollback --flag does this), then ${target.restartHint()}.`
          : `Read ${target.paths.log} for "Failed to start proxy server", then ${target.restartHint()}.`,
    })
  },
})
