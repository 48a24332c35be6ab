/**
 * §2.3 "Launcher fails with clear error if gateway unavailable".
 *
 * Method `disposable_home` (default): copy the home's PID file, flags and gateway config into a
 * temporary directory, set "gateway_port": null in the copied PID file, and run the target's
 * launcher against that copy (CCO_HOME=<copy>). The launcher then sees exactly what it would see
 * if the gateway were down, with the real flags, while the real daemon and gateway keep running
 * untouched. The copy is removed afterwards.
 *
 * Method `flags`: infer the behaviour from the flags alone (gatewayEnabled true and proxyEnabled
 * false means no fallback exists); weaker evidence, for installations whose launcher cannot run
 * against another home.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {Target} from '../../lib/target/target.js'
import {defineCheck} from '../types.js'
import {errorFromException, fail, pass, regexIssuesOf, requireDaemon} from '../util.js'
import {probeEvidence} from './probe.js'

const EXPECTED = 'with the gateway unavailable the launcher exits non-zero with a clear error naming the gateway, and starts nothing'

interface Params {
  method: 'disposable_home' | 'flags'
  error_pattern: string
}

/** Copy what the launcher reads into a fresh directory; returns it. */
function disposableHome(target: Target): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-launcher-probe-'))
  fs.chmodSync(dir, 0o700)
  const pid = JSON.parse(fs.readFileSync(target.paths.pidFile, 'utf8')) as Record<string, unknown>
  pid.gateway_port = null
  fs.writeFileSync(path.join(dir, 'daemon.pid'), JSON.stringify(pid, null, 2), {mode: 0o600})
  if (fs.existsSync(target.paths.configDir)) fs.cpSync(target.paths.configDir, path.join(dir, 'config'), {recursive: true})
  if (fs.existsSync(target.paths.orchestraConfig)) fs.copyFileSync(target.paths.orchestraConfig, path.join(dir, 'orchestra-config.json'))
  return dir
}

export const launcherFailsWithoutGateway = defineCheck<Params>({
  id: 'launcher.fails_without_gateway',
  title: 'Launcher fails clearly without the gateway',
  verifies: '§2.3 "Launcher fails with clear error if gateway unavailable"; §2.1 Change 1 "Remove Proxy Fallback in Launcher"',
  params: {
    method: {type: 'enum', values: ['disposable_home', 'flags'], default: 'disposable_home', description: 'disposable_home: run the launcher against a temporary copy of the home whose PID file has gateway_port null; flags: infer from the flags only'},
    error_pattern: {type: 'string', default: 'gateway', description: 'regular expression (case-insensitive) the launcher\'s error output must match'},
  },
  validate: (p) => regexIssuesOf('error_pattern', [p.error_pattern], 'i'),
  touches: ({target, params}) =>
    params.method === 'flags'
      ? {files: [target.paths.flags]}
      : {
          files: [target.paths.pidFile, target.paths.configDir, target.paths.orchestraConfig],
          commands: [`${target.spec.launcher.join(' ')} -- node -e <probe> (CCO_HOME=<temporary copy of ${target.home} with gateway_port null>)`],
        },
  async run({target, params}) {
    if (params.method === 'flags') {
      let flags
      try {
        flags = target.readFlagsDetailed()
      } catch (error) {
        return errorFromException(error, EXPECTED)
      }
      const evidence = {method: 'flags', flags: flags.flags, flags_file_exists: flags.exists, note: 'inferred from the flags; the launcher was not run'}
      if (flags.flags.gatewayEnabled && !flags.flags.proxyEnabled) {
        return pass({detail: 'gatewayEnabled=true, proxyEnabled=false: the launcher has no fallback (inferred from the flags)', expected: EXPECTED, measured: 'no fallback configured (flags)', evidence})
      }
      return fail({
        detail: `flags allow another route: gatewayEnabled=${flags.flags.gatewayEnabled}, proxyEnabled=${flags.flags.proxyEnabled}`,
        expected: EXPECTED,
        measured: `gatewayEnabled=${flags.flags.gatewayEnabled} proxyEnabled=${flags.flags.proxyEnabled}`,
        evidence,
        remediation: `Write {"gatewayEnabled": true, "proxyEnabled": false} to ${target.paths.flags} (cutover phase advance --to 2), then ${target.restartHint()}.`,
      })
    }

    const daemon = requireDaemon(target, EXPECTED)
    if ('result' in daemon) return daemon.result
    let home: string
    try {
      home = disposableHome(target)
    } catch (error) {
      return errorFromException(error, EXPECTED)
    }
    try {
      const copy = new Target({...target.spec, home}, {cliSelector: `--home ${target.home}`})
      const probe = await copy.launcherProbe()
      const evidence = {method: 'disposable_home', disposable_home: home, ...probeEvidence(probe)}
      const clear = new RegExp(params.error_pattern, 'i').test(probe.output)
      if (probe.mode === 'error' && probe.exitCode !== 0 && probe.childEnv === null && clear) {
        const first = probe.output.split('\n').find((line) => line.trim().length > 0)?.trim() ?? ''
        return pass({detail: `the launcher exited ${probe.exitCode}: "${first}"`, expected: EXPECTED, measured: `exit ${probe.exitCode}, clear error`, evidence})
      }
      if (probe.mode === 'proxy') {
        return fail({
          detail: `with the gateway down the launcher fell back to the proxy (${probe.url})`,
          expected: EXPECTED,
          measured: 'fell back to the proxy',
          evidence,
          remediation: `Set "proxyEnabled": false in ${target.paths.flags} (Phase 2 removes the fallback), then ${target.restartHint()}.`,
        })
      }
      if (probe.mode === 'gateway') {
        return fail({
          detail: `with gateway_port null the launcher still set ANTHROPIC_BASE_URL=${probe.url}`,
          expected: EXPECTED,
          measured: 'started the child anyway',
          evidence,
          remediation: 'The launcher must read the gateway port from the PID file and refuse to start without it (plan §2.1 Change 1).',
        })
      }
      return fail({
        detail: probe.childEnv === null ? `the launcher failed (exit ${probe.exitCode}) but its message does not mention the gateway (/${params.error_pattern}/i)` : 'the launcher started its child without a route',
        expected: EXPECTED,
        measured: `exit ${probe.exitCode}, unclear error`,
        evidence,
        remediation: 'Make the launcher print which component is missing and what to do (plan §2.1 Change 1: "LLM Gateway not available ... Try: cco daemon restart").',
      })
    } catch (error) {
      return errorFromException(error, EXPECTED)
    } finally {
      fs.rmSync(home, {recursive: true, force: true})
    }
  },
})
