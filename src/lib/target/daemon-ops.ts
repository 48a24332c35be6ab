import {CutoverError} from '../errors.js'
import {type DaemonFlags, type PidFile, PidFileError, type PidFileProblem} from './files.js'
import type {GatewayHealthStatus} from './gateway-client.js'
import type {DaemonAction} from './spec.js'
import type {DaemonCommandResult, Target} from './target.js'

export interface TargetSummary {
  name: string
  home: string
  source: string
}

/** `cutover daemon start|stop|restart --json`. */
export interface DaemonActionResult {
  action: Exclude<DaemonAction, 'status'>
  target: TargetSummary
  ok: boolean
  exitCode: number | null
  timedOut: boolean
  durationMs: number
  command: string[]
  stdout: string
  stderr: string
  /** The PID file after the action (null when absent or unusable, e.g. after stop). */
  pidFile: PidFile | null
  /** Last lines of daemon.log when the action failed. */
  logTail: string[]
}

export type GatewayState = GatewayHealthStatus | 'unreachable' | 'disabled' | 'not_running'

/** `cutover daemon status --json`. */
export interface DaemonStatusResult {
  target: TargetSummary
  running: boolean
  pid: number | null
  started_at: string | null
  version: string | null
  port: number | null
  gateway_port: number | null
  proxy_port: number | null
  pid_file: {path: string; ok: boolean; problem: PidFileProblem | 'unreadable' | null; error: string | null}
  flags: (DaemonFlags & {fromFile: boolean}) | {error: string}
  control: {reachable: boolean; status: Record<string, unknown> | null; error: string | null}
  gateway: {state: GatewayState; url: string | null; detail: string | null}
  command: {exitCode: number | null; durationMs: number; stdout: string; stderr: string}
}

export function summarise(target: Target): TargetSummary {
  return {name: target.name, home: target.home, source: target.spec.source}
}

/** Run start/stop/restart and report what the target did. Throws only when the command cannot be run. */
export async function runDaemonAction(target: Target, action: Exclude<DaemonAction, 'status'>): Promise<DaemonActionResult> {
  const result: DaemonCommandResult = await target.daemon(action)
  let pidFile: PidFile | null = null
  try {
    pidFile = target.readPidFile()
  } catch {
    pidFile = null
  }
  return {
    action,
    target: summarise(target),
    ok: result.ok,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    durationMs: result.durationMs,
    command: result.command,
    stdout: result.stdout,
    stderr: result.stderr,
    pidFile,
    logTail: result.ok ? [] : target.tailLog(20),
  }
}

/** The target's status command, plus what the PID file, flags, control port and gateway say. Never throws for a down daemon. */
export async function daemonStatus(target: Target): Promise<DaemonStatusResult> {
  const command = await target.daemon('status')
  const result: DaemonStatusResult = {
    target: summarise(target),
    running: false,
    pid: null,
    started_at: null,
    version: null,
    port: null,
    gateway_port: null,
    proxy_port: null,
    pid_file: {path: target.paths.pidFile, ok: false, problem: null, error: null},
    flags: {error: 'not read'},
    control: {reachable: false, status: null, error: null},
    gateway: {state: 'not_running', url: null, detail: null},
    command: {exitCode: command.exitCode, durationMs: command.durationMs, stdout: command.stdout, stderr: command.stderr},
  }
  try {
    const flags = target.readFlagsDetailed()
    result.flags = {...flags.flags, fromFile: flags.exists}
  } catch (error) {
    result.flags = {error: (error as Error).message}
  }
  let pid: PidFile
  try {
    pid = target.readPidFile()
  } catch (error) {
    result.pid_file.problem = error instanceof PidFileError ? error.problem : 'unreadable'
    result.pid_file.error = (error as Error).message
    result.gateway.detail = 'daemon not running'
    return result
  }
  Object.assign(result, {
    running: true,
    pid: pid.pid,
    started_at: pid.started_at,
    version: pid.version,
    port: pid.port,
    gateway_port: pid.gateway_port,
    proxy_port: pid.proxy_port ?? null,
  })
  result.pid_file.ok = true
  try {
    result.control.status = (await target.gateway.status()).body
    result.control.reachable = true
  } catch (error) {
    result.control.error = (error as Error).message
  }
  if (pid.gateway_port === null) {
    const enabled = 'gatewayEnabled' in result.flags ? result.flags.gatewayEnabled : undefined
    result.gateway = {state: enabled === false ? 'disabled' : 'not_running', url: null, detail: enabled === false ? 'gatewayEnabled is false' : 'gateway_port is null in the PID file'}
    return result
  }
  result.gateway.url = `http://127.0.0.1:${pid.gateway_port}`
  try {
    const health = await target.gateway.health()
    result.gateway.state = health.body.status
    result.gateway.detail = `HTTP ${health.httpStatus}`
  } catch (error) {
    result.gateway.state = 'unreachable'
    result.gateway.detail = error instanceof CutoverError ? error.message : String(error)
  }
  return result
}

/** Minimal view of the state store that daemon actions need (keeps this module free of SQLite). */
export interface DaemonActionRecorder {
  acquireOperationLock(name: string, opts?: {waitMs?: number}): Promise<{release(): void}>
  appendTrail(input: {kind: string; payload: unknown}): unknown
}

/** Start/stop/restart under the operation lock, recorded in the audit trail. */
export async function performDaemonAction(target: Target, recorder: DaemonActionRecorder, action: Exclude<DaemonAction, 'status'>, lockWaitMs = 30_000): Promise<DaemonActionResult> {
  const lock = await recorder.acquireOperationLock(`daemon ${action}`, {waitMs: lockWaitMs})
  try {
    const result = await runDaemonAction(target, action)
    recorder.appendTrail({
      kind: `daemon.${action}`,
      payload: {target: target.name, home: target.home, ok: result.ok, exit_code: result.exitCode, timed_out: result.timedOut, duration_ms: result.durationMs, pid: result.pidFile?.pid ?? null},
    })
    return result
  } finally {
    lock.release()
  }
}

/** Human-readable lines for an action result: [stdout lines, stderr lines]. */
export function describeAction(result: DaemonActionResult): {out: string[]; err: string[]} {
  const out = result.stdout ? result.stdout.split('\n') : []
  const err = result.stderr ? result.stderr.split('\n') : []
  if (result.ok) {
    const pid = result.pidFile
    if (pid && result.action !== 'stop') {
      out.push(`✔ daemon ${result.action}: pid ${pid.pid}, control port ${pid.port}, gateway ${pid.gateway_port === null ? 'not running' : `port ${pid.gateway_port}`}${pid.proxy_port === undefined ? '' : `, proxy port ${pid.proxy_port}`} (${result.durationMs} ms)`)
    } else out.push(`✔ daemon ${result.action} (${result.durationMs} ms)`)
  } else {
    err.push(`✖ daemon ${result.action} failed: ${result.timedOut ? 'timed out' : `exit code ${result.exitCode}`} (${result.command.join(' ')})`)
    if (result.logTail.length > 0) err.push(`Last lines of ${result.target.home}/daemon.log:`, ...result.logTail.map((line) => `  ${line}`))
  }
  return {out, err}
}

export function describeStatus(status: DaemonStatusResult): string[] {
  const lines = [`Target:   ${status.target.name} (home ${status.target.home})`]
  if (status.running) {
    lines.push(`Daemon:   running, pid ${status.pid}, version ${status.version}, since ${status.started_at}`)
    lines.push(`Control:  http://127.0.0.1:${status.port} ${status.control.reachable ? 'answers' : `does not answer (${status.control.error})`}`)
  } else {
    lines.push(`Daemon:   not running (${status.pid_file.error})`)
  }
  const gw = status.gateway
  lines.push(`Gateway:  ${gw.state}${gw.url ? ` at ${gw.url}` : ''}${gw.detail && gw.state !== 'healthy' ? ` (${gw.detail})` : ''}`)
  lines.push(`Proxy:    ${status.proxy_port === null ? 'not running' : `running on port ${status.proxy_port}`}`)
  lines.push('error' in status.flags ? `Flags:    unreadable: ${status.flags.error}` : `Flags:    gatewayEnabled=${status.flags.gatewayEnabled} proxyEnabled=${status.flags.proxyEnabled}${status.flags.fromFile ? '' : ' (defaults: no flags file)'}`)
  return lines
}
