/**
 * The checks an advance or a rollback needs to verify a state change, built in so that `advance`
 * and `rollback` work even where the full checks library (src/checks, `phase validate`) is not
 * available. Same ids and meaning as the library's checks of the same name.
 */
import {CutoverError} from '../errors.js'
import type {Target} from '../target/target.js'
import {tcpConnects} from './wait.js'

export type CheckOutcome = 'pass' | 'fail' | 'inconclusive' | 'error'

export interface EssentialCheckResult {
  outcome: CheckOutcome
  detail: string
  remediation?: string
}

type EssentialCheck = (target: Target) => Promise<EssentialCheckResult>

const pidProblem = (target: Target): EssentialCheckResult | null => {
  try {
    target.readPidFile()
    return null
  } catch (error) {
    return {outcome: 'fail', detail: (error as Error).message, remediation: `Try: ${target.restartHint()}`}
  }
}

export const ESSENTIAL_CHECKS: Record<string, EssentialCheck> = {
  async 'daemon.running'(target) {
    const problem = pidProblem(target)
    if (problem) return problem
    const pid = target.readPidFile()
    try {
      await target.gateway.status()
      return {outcome: 'pass', detail: `daemon pid ${pid.pid} runs; control port ${pid.port} answers`}
    } catch (error) {
      return {outcome: 'fail', detail: `daemon pid ${pid.pid} runs but its control port ${pid.port} does not answer: ${(error as Error).message}`, remediation: `Try: ${target.restartHint()}`}
    }
  },
  async 'pidfile.valid'(target) {
    try {
      const pid = target.readPidFile({checkAlive: false})
      return {outcome: 'pass', detail: `PID file valid: pid ${pid.pid}, port ${pid.port}, gateway_port ${pid.gateway_port}`}
    } catch (error) {
      return {outcome: 'fail', detail: (error as Error).message, remediation: `Try: ${target.restartHint()}`}
    }
  },
  async 'pidfile.gateway_port'(target) {
    const problem = pidProblem(target)
    if (problem) return problem
    const pid = target.readPidFile()
    return pid.gateway_port === null
      ? {outcome: 'fail', detail: 'the PID file has "gateway_port": null: the gateway is not running', remediation: `Check gatewayEnabled in ${target.paths.flags} and the daemon log ${target.paths.log}`}
      : {outcome: 'pass', detail: `gateway_port ${pid.gateway_port}`}
  },
  async 'pidfile.no_proxy_port'(target) {
    const problem = pidProblem(target)
    if (problem) return problem
    const pid = target.readPidFile()
    return pid.proxy_port === undefined
      ? {outcome: 'pass', detail: 'the PID file has no proxy_port'}
      : {outcome: 'fail', detail: `the PID file still has "proxy_port": ${pid.proxy_port}`, remediation: `Set proxyEnabled false in ${target.paths.flags} and restart: ${target.restartHint()}`}
  },
  async 'proxy.listening'(target) {
    const problem = pidProblem(target)
    if (problem) return problem
    const pid = target.readPidFile()
    if (pid.proxy_port === undefined) return {outcome: 'fail', detail: 'the PID file has no proxy_port: the legacy proxy is not running', remediation: `Set proxyEnabled true in ${target.paths.flags} and restart (cutover rollback --flag does both)`}
    return (await tcpConnects(pid.proxy_port))
      ? {outcome: 'pass', detail: `the proxy accepts connections on port ${pid.proxy_port}`}
      : {outcome: 'fail', detail: `proxy_port ${pid.proxy_port} is in the PID file but nothing accepts connections there`, remediation: `Try: ${target.restartHint()}`}
  },
  async 'proxy.not_listening'(target) {
    const problem = pidProblem(target)
    if (problem) return problem
    const pid = target.readPidFile()
    if (pid.proxy_port === undefined) return {outcome: 'pass', detail: 'no proxy_port in the PID file: the proxy is not running'}
    return (await tcpConnects(pid.proxy_port))
      ? {outcome: 'fail', detail: `the legacy proxy still listens on port ${pid.proxy_port}`, remediation: `Set proxyEnabled false in ${target.paths.flags} and restart: ${target.restartHint()}`}
      : {outcome: 'fail', detail: `the PID file names proxy_port ${pid.proxy_port} (nothing listens there)`, remediation: `Restart the daemon: ${target.restartHint()}`}
  },
  async 'gateway.health'(target) {
    try {
      const health = await target.gateway.health()
      return health.body.status === 'healthy'
        ? {outcome: 'pass', detail: `/gateway/health: healthy (HTTP ${health.httpStatus})`}
        : {outcome: 'fail', detail: `/gateway/health: ${health.body.status} (HTTP ${health.httpStatus})`, remediation: 'Check the providers in /gateway/health and the daemon log.'}
    } catch (error) {
      return {outcome: error instanceof CutoverError ? 'fail' : 'error', detail: (error as Error).message, remediation: `Try: ${target.restartHint()}`}
    }
  },
  async 'launcher.gateway_env'(target) {
    const probe = await target.launcherProbe()
    let gatewayUrl: string | null = null
    try {
      gatewayUrl = target.gatewayUrl()
    } catch {
      gatewayUrl = null
    }
    if (probe.mode === 'gateway' && (gatewayUrl === null || probe.url === gatewayUrl)) return {outcome: 'pass', detail: `the launcher sets ANTHROPIC_BASE_URL=${probe.url}`}
    return {outcome: 'fail', detail: `the launcher selected ${probe.mode}${probe.url ? ` (${probe.url})` : ''}${gatewayUrl ? `, expected ANTHROPIC_BASE_URL=${gatewayUrl}` : ''}: ${probe.output.split('\n')[0] ?? ''}`.trim()}
  },
  async 'launcher.no_proxy_fallback'(target) {
    const probe = await target.launcherProbe()
    return probe.mode === 'proxy'
      ? {outcome: 'fail', detail: `the launcher fell back to the proxy (${probe.url})`, remediation: `Set proxyEnabled false in ${target.paths.flags} and restart.`}
      : {outcome: 'pass', detail: `the launcher did not select the proxy (mode ${probe.mode})`}
  },
}

export function hasEssentialCheck(id: string): boolean {
  return Object.hasOwn(ESSENTIAL_CHECKS, id)
}

export async function runEssentialCheck(id: string, target: Target): Promise<EssentialCheckResult> {
  const check = ESSENTIAL_CHECKS[id]
  if (!check) return {outcome: 'error', detail: `check "${id}" is not built into advance/rollback and the checks library is not available`, remediation: 'Use `cutover phase validate` for the full checklist.'}
  try {
    return await check(target)
  } catch (error) {
    return {outcome: 'error', detail: `check "${id}" could not run: ${(error as Error).message}`}
  }
}
