import {defineCheck} from '../types.js'
import {errorFromException, fail, pass, requireDaemon} from '../util.js'
import {launcherCommandHint, probeEvidence, sharedLauncherProbe} from './probe.js'

const EXPECTED = 'the launcher starts its child with ANTHROPIC_BASE_URL = http://127.0.0.1:<gateway_port>'

/** §1.2 "Launcher discovers gateway port and sets ANTHROPIC_BASE_URL". */
export const launcherGatewayEnv = defineCheck({
  id: 'launcher.gateway_env',
  title: 'Launcher sets ANTHROPIC_BASE_URL',
  verifies: '§1.2 "Launcher discovers gateway port and sets `ANTHROPIC_BASE_URL`"; §1.1 "Gateway: http://127.0.0.1:XXXXX (LLM routing enabled)"',
  params: {},
  touches: ({target}) => ({commands: [launcherCommandHint(target)], files: [target.paths.pidFile]}),
  async run({target, shared}) {
    const daemon = requireDaemon(target, EXPECTED)
    if ('result' in daemon) return daemon.result
    const expectedUrl = daemon.pid.gateway_port === null ? null : `http://127.0.0.1:${daemon.pid.gateway_port}`
    let probe
    try {
      probe = await sharedLauncherProbe(target, shared)
    } catch (error) {
      return errorFromException(error, EXPECTED)
    }
    const evidence = {...probeEvidence(probe), expected_url: expectedUrl}
    if (probe.mode === 'gateway' && probe.url === expectedUrl) {
      return pass({detail: `the launcher set ANTHROPIC_BASE_URL=${probe.url}`, expected: EXPECTED, measured: `ANTHROPIC_BASE_URL=${probe.url}`, evidence})
    }
    if (probe.mode === 'gateway') {
      return fail({
        detail: `the launcher set ANTHROPIC_BASE_URL=${probe.url}, but the PID file names ${expectedUrl ?? 'no gateway'}`,
        expected: EXPECTED,
        measured: `ANTHROPIC_BASE_URL=${probe.url}`,
        evidence,
        remediation: `The launcher reads another home or a stale value: check CCO_HOME and ${target.paths.pidFile}.`,
      })
    }
    const firstLine = probe.output.split('\n').find((line) => line.trim().length > 0)?.trim() ?? `exit code ${probe.exitCode}`
    return fail({
      detail: probe.mode === 'proxy' ? `the launcher fell back to the proxy (${probe.url})` : `the launcher did not start its child: ${firstLine}`,
      expected: EXPECTED,
      measured: probe.mode === 'proxy' ? `proxy mode (${probe.url})` : `exit ${probe.exitCode}`,
      evidence,
      remediation:
        expectedUrl === null
          ? `The gateway is not running (gateway_port null): check "gatewayEnabled" in ${target.paths.flags} and ${target.paths.log}, then ${target.restartHint()}.`
          : `The gateway on ${expectedUrl} did not answer the launcher's probe: run cutover phase validate --check gateway.health, then ${target.restartHint()}.`,
    })
  },
})
