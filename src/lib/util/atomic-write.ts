import {randomBytes} from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export interface AtomicWriteOptions {
  /** File mode of the written file (default 0o600: state and config may be sensitive). */
  mode?: number
  /** Keep the previous content as `<file>.bak` (itself written atomically) before replacing it. */
  backup?: boolean
  /** Mode of a parent directory we have to create (default 0o700). */
  dirMode?: number
}

/**
 * Write a file so that readers only ever see the old or the new content, never a part:
 * write a temp file in the same directory, fsync it, then rename it over the target.
 * With `backup`, the previous content is first copied to `<file>.bak` the same way.
 */
export function writeFileAtomic(file: string, data: string | Buffer, opts: AtomicWriteOptions = {}): void {
  const mode = opts.mode ?? 0o600
  const dir = path.dirname(file)
  fs.mkdirSync(dir, {recursive: true, mode: opts.dirMode ?? 0o700})
  if (opts.backup) {
    let previous: Buffer | undefined
    try {
      previous = fs.readFileSync(file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    if (previous !== undefined) replaceFile(`${file}.bak`, previous, mode)
  }
  replaceFile(file, data, mode)
}

function replaceFile(file: string, data: string | Buffer, mode: number): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  let fd: number | undefined
  try {
    fd = fs.openSync(temp, 'wx', mode)
    fs.writeFileSync(fd, data)
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fd = undefined
    // openSync's mode is filtered by the umask; make it exact.
    fs.chmodSync(temp, mode)
    fs.renameSync(temp, file)
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd)
    fs.rmSync(temp, {force: true})
    throw error
  }
  syncDir(path.dirname(file))
}

/** Make the rename durable; not every platform lets a directory be fsynced, which is fine. */
function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r')
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    // best effort
  }
}

/** For what people and other tools read (reports, runbooks, JUnit): world-readable, in a normal directory. */
export const PUBLIC_OUTPUT: AtomicWriteOptions = {mode: 0o644, dirMode: 0o755}

/** Write JSON (2-space indent, trailing newline) atomically. */
export function writeJsonAtomic(file: string, value: unknown, opts: AtomicWriteOptions = {}): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, opts)
}
