import {fetchDaemonStatus, type DaemonStatus} from './control.js'
import {PidFileError, readPidFile, type PidFileContent} from './pidfile.js'
import {isProcessAlive, looksLikeDaemonProcess} from './process.js'

/**
 * Is the daemon of this home running? Identity is established safely: the PID file's
 * pid must be alive AND its control endpoint must answer with that same pid. A live
 * pid whose endpoint does not answer counts as ours only if /proc shows it is a
 * `cco daemon run` (state "unresponsive"); otherwise the PID file is stale (pid reuse).
 */
export type DaemonProbe =
  | {state: 'running'; pidFile: PidFileContent; status: DaemonStatus}
  | {state: 'unresponsive'; pidFile: PidFileContent; reason: string}
  | {state: 'not_running'; reason: string; stale?: PidFileContent; corrupt?: PidFileError}

export async function probeDaemon(home: string, timeoutMs = 2000): Promise<DaemonProbe> {
  let pidFile: PidFileContent
  try {
    pidFile = readPidFile(home, {requireAlive: false})
  } catch (error) {
    if (!(error instanceof PidFileError)) throw error
    if (error.kind === 'missing') return {state: 'not_running', reason: error.reason}
    return {state: 'not_running', reason: error.reason, corrupt: error}
  }
  if (!isProcessAlive(pidFile.pid)) {
    return {state: 'not_running', reason: `pid ${pidFile.pid} from the PID file is not running (stale PID file)`, stale: pidFile}
  }
  const answer = await fetchDaemonStatus(pidFile.port, timeoutMs)
  if (answer.ok && answer.status.pid === pidFile.pid) return {state: 'running', pidFile, status: answer.status}
  if (looksLikeDaemonProcess(pidFile.pid, home)) {
    const why = answer.ok ? `its control port answers for pid ${answer.status.pid}` : answer.error
    return {state: 'unresponsive', pidFile, reason: `daemon pid ${pidFile.pid} is alive but its control endpoint (port ${pidFile.port}) does not answer: ${why}`}
  }
  return {
    state: 'not_running',
    reason: `pid ${pidFile.pid} is alive but is not this home's cco daemon (pid reused; stale PID file)`,
    stale: pidFile,
  }
}
