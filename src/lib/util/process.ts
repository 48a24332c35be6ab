import fs from 'node:fs'

/**
 * True when a process with this PID exists and has not exited. EPERM means it exists but belongs
 * to someone else. A zombie (exited, not yet reaped: common for detached daemons whose new parent,
 * e.g. a container's PID 1, does not reap) counts as dead.
 */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  return !isZombie(pid)
}

function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Format: "pid (comm) S ..."; comm may contain spaces and parentheses, so split at the last ')'.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state === 'Z' || state === 'X'
  } catch {
    return false
  }
}
