import {closeSync, linkSync, openSync, readFileSync, renameSync, statSync, writeSync} from 'node:fs'
import {errnoCode, safeUnlink} from './fsutil.js'
import {isProcessAlive, sleep} from './process.js'

/**
 * A lock file created with O_EXCL holding the holder's pid. Serialises `cco daemon
 * start|stop|restart`. A lock whose holder is dead (or that stayed empty for a while)
 * is stale and gets broken.
 */
export interface LockHandle {
  file: string
  release(): void
}

export class LockTimeoutError extends Error {
  constructor(
    readonly file: string,
    readonly holderPid: number | null,
  ) {
    super(
      `Another cco daemon command${holderPid ? ` (pid ${holderPid})` : ''} holds the lock ${file}. ` +
        `Wait for it to finish and try again; if no such command is running, remove ${file}.`,
    )
    this.name = 'LockTimeoutError'
  }
}

/** An empty lock file older than this is a leftover of a crash between create and write. */
const EMPTY_LOCK_STALE_MS = 5000

function readHolder(file: string): {pid: number | null; empty: boolean; ageMs: number} | null {
  try {
    const text = readFileSync(file, 'utf8').trim()
    const ageMs = Date.now() - statSync(file).mtimeMs
    const pid = /^\d+$/.test(text) ? Number(text) : null
    return {pid, empty: text === '', ageMs}
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null
    throw error
  }
}

function tryCreate(file: string): boolean {
  let fd: number
  try {
    fd = openSync(file, 'wx', 0o600)
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false
    throw error
  }
  try {
    writeSync(fd, `${process.pid}\n`)
  } finally {
    closeSync(fd)
  }
  return true
}

/**
 * Breaks a stale lock without stealing a fresh one: the lock is renamed to a private
 * name (atomic), and if what was moved turns out not to be the stale lock we saw,
 * it is linked back (link fails if a new lock already exists, which then wins).
 */
function breakStaleLock(file: string, stalePid: number | null): void {
  const aside = `${file}.stale-${process.pid}`
  try {
    renameSync(file, aside)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return
    throw error
  }
  const moved = readHolder(aside)
  if (moved && moved.pid !== stalePid && moved.pid !== null && isProcessAlive(moved.pid)) {
    try {
      linkSync(aside, file)
    } catch {
      // Someone else holds a new lock now; the one we moved lost its file, which its holder detects on release.
    }
  }
  safeUnlink(aside)
}

export async function acquireLock(
  file: string,
  options: {timeoutMs?: number; onWait?: (holderPid: number | null) => void} = {},
): Promise<LockHandle> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  let announced = false
  for (;;) {
    if (tryCreate(file)) {
      return {
        file,
        release() {
          const holder = readHolder(file)
          if (holder?.pid === process.pid) safeUnlink(file)
        },
      }
    }
    const holder = readHolder(file)
    if (holder) {
      const stale =
        holder.pid === process.pid // our own leftover (should not happen)
          ? false
          : holder.pid !== null
            ? !isProcessAlive(holder.pid)
            : holder.ageMs > EMPTY_LOCK_STALE_MS
      if (stale) {
        breakStaleLock(file, holder.pid)
        continue
      }
      if (!announced) {
        options.onWait?.(holder.pid)
        announced = true
      }
    }
    if (Date.now() > deadline) throw new LockTimeoutError(file, holder?.pid ?? null)
    await sleep(50)
  }
}
