import {readFileSync, readlinkSync, realpathSync} from 'node:fs'

/** Reads /proc/<pid>/stat's state letter (Linux only); null when unavailable. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Format: pid (comm) state ...; comm may contain spaces/parens, so split after the last ')'.
    const after = stat.slice(stat.lastIndexOf(')') + 2)
    return after.charAt(0) || null
  } catch {
    return null
  }
}

/** True when a process with this pid exists and is not a zombie. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const state = procState(pid)
  return state !== 'Z' && state !== 'X'
}

/**
 * True when the process is a `cco daemon run` of this home: its command line has
 * `daemon run` and its working directory is the home (the daemon chdirs there).
 * Linux /proc only. Used only to confirm the identity of a pid taken from our own
 * PID file when its control endpoint does not answer; never to find processes by name.
 */
export function looksLikeDaemonProcess(pid: number, home: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    const i = args.indexOf('daemon')
    if (i < 0 || args[i + 1] !== 'run') return false
  } catch {
    return false
  }
  try {
    return realpathSync(readlinkSync(`/proc/${pid}/cwd`)) === realpathSync(home)
  } catch {
    // cwd unreadable (other user): the command line has to do.
    return true
  }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls until the pid is gone or the timeout passes. Returns true when gone. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true
    await sleep(50)
  }
  return !isProcessAlive(pid)
}
