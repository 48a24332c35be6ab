import {defineCheck} from '../types.js'
import {errorFromException, fail, pass, requireDaemon} from '../util.js'
import {launcherCommandHint, probeEvidence, sharedLauncherProbe} from './probe.js'

const EXPECTED = 'the launcher never selects the proxy: no HTTP(S)_PROXY in the child, no "Proxy: ... (HTTP proxy mode)" line'
const PROXY_LINE = /Proxy: http:\/\/\S+ \(HTTP proxy mode\)|falling back to the legacy HTTP proxy/i

/** §1.1 "Should NOT see: Proxy: http://127.0.0.1:XXXXX (HTTP proxy mode)"; §2.3 "Gateway is the only routing mechanism". */
export const launcherNoProxyFallback = defineCheck({
  id: 'launcher.no_proxy_fallback',
  title: 'Launcher does not fall back to the proxy',
  verifies: '§1.1 "Verify no fallback to proxy"; §2.3 "Gateway is the only routing mechanism"',
  params: {},
  touches: ({target}) => ({commands: [launcherCommandHint(target)], files: [target.paths.pidFile]}),
  async run({target, shared}) {
    const daemon = requireDaemon(target, EXPECTED)
    if ('result' in daemon) return daemon.result
    let probe
    try {
      probe = await sharedLauncherProbe(target, shared)
    } catch (error) {
      return errorFromException(error, EXPECTED)
    }
    const proxyVar = probe.childEnv?.HTTPS_PROXY ?? probe.childEnv?.HTTP_PROXY ?? null
    const proxyLine = probe.output.split('\n').find((line) => PROXY_LINE.test(line)) ?? null
    const evidence = {...probeEvidence(probe), proxy_line: proxyLine}
    if (probe.mode === 'proxy' || proxyVar || proxyLine) {
      return fail({
        detail: `the launcher selected the legacy proxy${proxyLine ? `: "${proxyLine.trim()}"` : ` (HTTP(S)_PROXY=${proxyVar})`}`,
        expected: EXPECTED,
        measured: `proxy mode (${probe.url ?? proxyVar})`,
        evidence,
        remediation: `Make the gateway answer (cutover phase validate --check gateway.health), and for Phase 2 set "proxyEnabled": false in ${target.paths.flags}, then ${target.restartHint()}.`,
      })
    }
    const measured = probe.mode === 'gateway' ? `gateway mode (${probe.url})` : `no child started (exit ${probe.exitCode}), no proxy`
    return pass({detail: `no proxy fallback: ${measured}`, expected: EXPECTED, measured, evidence})
  },
})
