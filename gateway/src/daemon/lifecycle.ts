import {spawn} from 'node:child_process'
import {closeSync, openSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {fetchDaemonStatus, type DaemonStatus} from './control.js'
import {loadDaemonFlags} from './flags.js'
import {errnoCode} from './fsutil.js'
import {acquireLock, type LockHandle} from './lock.js'
import {daemonModules} from './modules.js'
import {ensureHome, homePaths} from './paths.js'
import {quarantinePidFile, readPidFile, removePidFile} from './pidfile.js'
import {probeDaemon, type DaemonProbe} from './probe.js'
import {isProcessAlive, sleep, waitForExit} from './process.js'

/**
 * Memory of the long-running daemon (a steady request/response load, small live heap): V8's young
 * generation capped at 2 x 8 MB semi-spaces instead of 2 x 16 MB (a few more, equally short,
 * scavenges), and glibc limited to 2 malloc arenas instead of 8 per core (V8's helper threads
 * otherwise each keep an arena of freed memory). Together about 25 MB less RSS under load.
 * An explicit MALLOC_ARENA_MAX in the environment wins.
 */
const DAEMON_NODE_FLAGS = ['--max-semi-space-size=8']
const DAEMON_ENV_DEFAULTS: NodeJS.ProcessEnv = {MALLOC_ARENA_MAX: '2'}

/** Where `start` and `stop` report progress (the CLI prints; tests may collect). */
export interface LifecycleOutput {
  info(line: string): void
  warn(line: string): void
}

export interface LifecycleOptions {
  /** Readiness limit for start (default 10 s, env CCO_DAEMON_START_TIMEOUT_MS). */
  startTimeoutMs?: number
  /** SIGTERM grace before SIGKILL for stop (default 5 s, env CCO_DAEMON_STOP_GRACE_MS). */
  stopGraceMs?: number
  /** How long to wait for another start/stop holding the lock (default 30 s, env CCO_DAEMON_LOCK_TIMEOUT_MS). */
  lockTimeoutMs?: number
}

export type StartResult =
  | {result: 'started' | 'already_running'; status: DaemonStatus}
  | {result: 'error'; error: string; logTail: string[]}

export type StopResult =
  | {result: 'stopped'; pid: number; escalated: boolean}
  | {result: 'not_running'; reason: string}
  | {result: 'error'; error: string}

export const LOG_TAIL_LINES = 20

function envMs(name: string, fallback: number): number {
  const value = Number(process.env[name])
  return Number.isFinite(value) && value > 0 ? value : fallback
}

/** gateway/bin/cco, from both src/daemon (tsx) and dist/daemon. */
function ccoEntry(): string {
  return fileURLToPath(new URL('../../bin/cco', import.meta.url))
}

export function readLogTail(home: string, lines = LOG_TAIL_LINES): string[] {
  try {
    const text = readFileSync(homePaths(home).logFile, 'utf8')
    return text.split('\n').filter((l) => l !== '').slice(-lines)
  } catch {
    return []
  }
}

async function withLock<T>(home: string, options: LifecycleOptions, out: LifecycleOutput, fn: () => Promise<T>): Promise<T> {
  ensureHome(home)
  const lock: LockHandle = await acquireLock(homePaths(home).lockFile, {
    timeoutMs: options.lockTimeoutMs ?? envMs('CCO_DAEMON_LOCK_TIMEOUT_MS', 30_000),
    onWait: (pid) => out.info(`Waiting for another cco daemon command${pid ? ` (pid ${pid})` : ''} to finish...`),
  })
  try {
    return await fn()
  } finally {
    lock.release()
  }
}

export async function startDaemon(home: string, out: LifecycleOutput, options: LifecycleOptions = {}): Promise<StartResult> {
  try {
    return await withLock(home, options, out, () => startUnlocked(home, out, options))
  } catch (error) {
    return {result: 'error', error: (error as Error).message, logTail: []}
  }
}

export async function stopDaemon(home: string, out: LifecycleOutput, options: LifecycleOptions = {}): Promise<StopResult> {
  try {
    return await withLock(home, options, out, () => stopUnlocked(home, out, options))
  } catch (error) {
    return {result: 'error', error: (error as Error).message}
  }
}

/** stop + start under one lock, so no other start can slip in between. */
export async function restartDaemon(
  home: string,
  out: LifecycleOutput,
  options: LifecycleOptions = {},
): Promise<{stop: StopResult; start: StartResult}> {
  try {
    return await withLock(home, options, out, async () => {
      const stop = await stopUnlocked(home, out, options)
      if (stop.result === 'error') return {stop, start: {result: 'error', error: `not started because stop failed: ${stop.error}`, logTail: []}}
      return {stop, start: await startUnlocked(home, out, options)}
    })
  } catch (error) {
    const message = (error as Error).message
    return {stop: {result: 'error', error: message}, start: {result: 'error', error: message, logTail: []}}
  }
}

export async function daemonStatus(home: string): Promise<DaemonProbe> {
  return probeDaemon(home)
}

async function startUnlocked(home: string, out: LifecycleOutput, options: LifecycleOptions): Promise<StartResult> {
  // Bad flags would make the daemon exit at once; say so before spawning anything.
  try {
    loadDaemonFlags(home)
  } catch (error) {
    return {result: 'error', error: (error as Error).message, logTail: []}
  }

  const probe = await probeDaemon(home)
  if (probe.state === 'running') return {result: 'already_running', status: probe.status}
  if (probe.state === 'unresponsive') {
    return {result: 'error', error: `${probe.reason}. Try: cco daemon restart`, logTail: readLogTail(home)}
  }
  if (probe.corrupt) {
    const aside = quarantinePidFile(home)
    out.warn(`⚠️  ${probe.corrupt.reason}; moved it to ${aside}`)
  } else if (probe.stale) {
    removePidFile(home, probe.stale.pid)
    out.info(`Removed stale PID file (${probe.reason})`)
  }

  const logFd = openSync(homePaths(home).logFile, 'a', 0o600)
  let exitInfo: string | null = null
  let child
  try {
    child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ccoEntry(), 'daemon', 'run'], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      cwd: home,
      env: {...DAEMON_ENV_DEFAULTS, ...process.env, CCO_HOME: home},
    })
  } finally {
    closeSync(logFd)
  }
  child.on('exit', (code, signal) => {
    exitInfo = signal ? `signal ${signal}` : `exit code ${code}`
  })
  child.on('error', (error) => {
    exitInfo = `spawn error: ${error.message}`
  })
  const childPid = child.pid
  try {
    const timeoutMs = options.startTimeoutMs ?? envMs('CCO_DAEMON_START_TIMEOUT_MS', 10_000)
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (exitInfo !== null || childPid === undefined) {
        return {result: 'error', error: `The daemon exited during start-up (${exitInfo ?? 'no pid'})`, logTail: readLogTail(home)}
      }
      const port = readOwnPort(home, childPid)
      if (port !== null) {
        const answer = await fetchDaemonStatus(port, 1000)
        if (answer.ok && answer.status.pid === childPid && answer.status.state === 'running') {
          return {result: 'started', status: answer.status}
        }
      }
      await sleep(50)
    }
    // Not ready in time: do not leave a half-started daemon behind.
    if (childPid !== undefined && isProcessAlive(childPid)) {
      process.kill(childPid, 'SIGTERM')
      if (!(await waitForExit(childPid, 2000))) process.kill(childPid, 'SIGKILL')
      await waitForExit(childPid, 2000)
      removePidFile(home, childPid)
    }
    return {result: 'error', error: `The daemon did not become ready within ${timeoutMs / 1000} s and was stopped`, logTail: readLogTail(home)}
  } finally {
    child.unref()
  }
}

/** The control port from the PID file if it was written by `pid`, else null. */
function readOwnPort(home: string, pid: number): number | null {
  try {
    const content = readPidFile(home, {requireAlive: false})
    return content.pid === pid ? content.port : null
  } catch {
    return null
  }
}

async function stopUnlocked(home: string, out: LifecycleOutput, options: LifecycleOptions): Promise<StopResult> {
  const probe = await probeDaemon(home)
  if (probe.state === 'not_running') {
    if (probe.stale) {
      removePidFile(home, probe.stale.pid)
      return {result: 'not_running', reason: `${probe.reason}; removed it`}
    }
    if (probe.corrupt) {
      out.warn(`⚠️  ${probe.corrupt.reason}. Left it in place; cco daemon start moves it aside to daemon.pid.corrupt.`)
    }
    return {result: 'not_running', reason: probe.reason}
  }
  const pid = probe.pidFile.pid
  if (probe.state === 'unresponsive') out.warn(`⚠️  ${probe.reason}; stopping it anyway`)
  const graceMs = options.stopGraceMs ?? envMs('CCO_DAEMON_STOP_GRACE_MS', 5000)
  try {
    process.kill(pid, 'SIGTERM')
  } catch (error) {
    if (errnoCode(error) !== 'ESRCH') return {result: 'error', error: `Cannot signal daemon pid ${pid}: ${(error as Error).message}`}
  }
  let escalated = false
  if (!(await waitForExit(pid, graceMs))) {
    escalated = true
    out.warn(`⚠️  Daemon pid ${pid} did not exit within ${graceMs / 1000} s of SIGTERM; sending SIGKILL`)
    try {
      process.kill(pid, 'SIGKILL')
    } catch (error) {
      if (errnoCode(error) !== 'ESRCH') return {result: 'error', error: `Cannot SIGKILL daemon pid ${pid}: ${(error as Error).message}`}
    }
    if (!(await waitForExit(pid, 5000))) return {result: 'error', error: `Daemon pid ${pid} is still alive after SIGKILL`}
  }
  removePidFile(home, pid)
  return {result: 'stopped', pid, escalated}
}

/** Human-readable lines for a running daemon's status. */
export function formatStatusLines(status: DaemonStatus, home: string): string[] {
  const gateway =
    status.gateway.state === 'running'
      ? `http://127.0.0.1:${status.gateway_port} (running)`
      : status.gateway.state === 'failed'
        ? `FAILED to initialize: ${status.gateway.error ?? 'unknown error'}`
        : status.gateway.state
  return [
    `   PID:      ${status.pid}`,
    `   Version:  ${status.version}`,
    `   Started:  ${status.started_at} (uptime ${status.uptime_seconds} s)`,
    `   Control:  http://127.0.0.1:${status.port}`,
    `   Gateway:  ${gateway}`,
    ...daemonModules.flatMap((m) => m.statusLines(status)),
    `   Flags:    gatewayEnabled=${status.flags.gatewayEnabled} proxyEnabled=${status.flags.proxyEnabled}`,
    `   Home:     ${home}`,
    `   Log:      ${homePaths(home).logFile}`,
  ]
}
