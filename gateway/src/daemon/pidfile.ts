import {copyFileSync, readFileSync} from 'node:fs'
import {atomicWriteFile, errnoCode, safeUnlink} from './fsutil.js'
import {homePaths} from './paths.js'
import {isProcessAlive} from './process.js'

/**
 * `$CCO_HOME/daemon.pid`, same JSON as the original cco (pretty-printed). Optional daemon
 * modules (daemon/modules.ts) may own extra fields; they sit between `port` and
 * `gateway_port` as in the original struct and are validated by the module that registered them.
 */
export interface PidFileContent {
  pid: number
  /** RFC 3339. */
  started_at: string
  /** The daemon's control port. */
  port: number
  gateway_port: number | null
  version: string
  /** Fields owned by optional modules. */
  [moduleField: string]: unknown
}

const CORE_FIELDS = new Set(['pid', 'started_at', 'port', 'gateway_port', 'version'])

/** Returns null when the value is fine, else what it must be ("a port number"). */
export type PidFieldValidator = (value: unknown) => string | null

const moduleFields = new Map<string, PidFieldValidator>()

/** Called by optional modules for each PID file field they own (see daemon/modules.ts). */
export function registerPidFileField(name: string, validate: PidFieldValidator): void {
  if (CORE_FIELDS.has(name)) throw new Error(`PID file field "${name}" belongs to the daemon core`)
  moduleFields.set(name, validate)
}

export type PidFileErrorKind = 'missing' | 'invalid_json' | 'wrong_type' | 'not_alive'

export const RESTART_HINT = 'Try: cco daemon restart'

/** A PID file problem. `reason` is the short cause; `message` adds the file and what to do. */
export class PidFileError extends Error {
  constructor(
    readonly kind: PidFileErrorKind,
    readonly file: string,
    readonly reason: string,
    /** The parsed content, when the file parsed (kind not_alive). */
    readonly content?: PidFileContent,
  ) {
    super(`${reason}. ${RESTART_HINT}`)
    this.name = 'PidFileError'
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value === 'string' ? `string ${JSON.stringify(value)}` : typeof value
}

/** Parses and validates PID file text. Throws PidFileError (invalid_json / wrong_type). */
export function parsePidFile(text: string, file: string): PidFileContent {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new PidFileError('invalid_json', file, `PID file ${file} is not valid JSON (${(error as Error).message})`)
  }
  const wrong = (field: string, expected: string, value: unknown) =>
    new PidFileError('wrong_type', file, `PID file ${file}: field "${field}" must be ${expected}, got ${describe(value)}`)
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PidFileError('wrong_type', file, `PID file ${file} must contain a JSON object, got ${describe(raw)}`)
  }
  const obj = raw as Record<string, unknown>
  if (typeof obj.pid !== 'number' || !Number.isInteger(obj.pid) || obj.pid <= 0) throw wrong('pid', 'a positive integer', obj.pid)
  if (typeof obj.started_at !== 'string' || !RFC3339.test(obj.started_at)) {
    throw wrong('started_at', 'an RFC 3339 timestamp', obj.started_at)
  }
  if (!isPort(obj.port)) throw wrong('port', 'a port number', obj.port)
  // Like serde's #[serde(default)]: a missing gateway_port means null.
  const gatewayPort = obj.gateway_port === undefined ? null : obj.gateway_port
  if (gatewayPort !== null && !isPort(gatewayPort)) throw wrong('gateway_port', 'a port number or null', gatewayPort)
  if (typeof obj.version !== 'string') throw wrong('version', 'a string', obj.version)
  const content: PidFileContent = {pid: obj.pid, started_at: obj.started_at, port: obj.port, gateway_port: gatewayPort, version: obj.version}
  for (const [key, value] of Object.entries(obj)) {
    // Unknown fields are kept (like serde's default), and a null module field means "absent".
    if (CORE_FIELDS.has(key) || value === null || value === undefined) continue
    const problem = moduleFields.get(key)?.(value)
    if (problem) throw wrong(key, problem, value)
    content[key] = value
  }
  return orderFields(content)
}

/** Field order as the original struct: pid, started_at, port, <module fields>, gateway_port, version. */
function orderFields(c: PidFileContent): PidFileContent {
  const out: Record<string, unknown> = {pid: c.pid, started_at: c.started_at, port: c.port}
  for (const [key, value] of Object.entries(c)) if (!CORE_FIELDS.has(key) && value !== undefined && value !== null) out[key] = value
  out.gateway_port = c.gateway_port
  out.version = c.version
  return out as PidFileContent
}

export interface ReadPidFileOptions {
  /** Also require the pid to be a live process (default true). */
  requireAlive?: boolean
}

/**
 * Reads and validates `$CCO_HOME/daemon.pid`. Each problem is a distinct PidFileError:
 * missing, invalid_json, wrong_type (naming the field), not_alive.
 */
export function readPidFile(home: string, options: ReadPidFileOptions = {}): PidFileContent {
  const file = homePaths(home).pidFile
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new PidFileError('missing', file, `PID file not found: ${file} (daemon not running)`)
    throw new PidFileError('missing', file, `PID file ${file} cannot be read (${(error as Error).message})`)
  }
  const content = parsePidFile(text, file)
  if ((options.requireAlive ?? true) && !isProcessAlive(content.pid)) {
    throw new PidFileError('not_alive', file, `PID file ${file} names pid ${content.pid}, which is not running (stale PID file)`, content)
  }
  return content
}

/**
 * Writes the PID file atomically (temp + fsync + rename). The previous content, if any,
 * is first copied to `daemon.pid.bak` (the plan's "backup before write").
 */
export function writePidFile(home: string, content: PidFileContent): void {
  const {pidFile, pidBackup} = homePaths(home)
  try {
    const previous = readFileSync(pidFile)
    atomicWriteFile(pidBackup, previous)
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error
  }
  atomicWriteFile(pidFile, JSON.stringify(orderFields(content), null, 2) + '\n')
}

/**
 * Read-modify-write of the daemon's own PID file. `gateway_port` may be set to null; a
 * module field set to null is removed. Only the daemon that owns the file should call this.
 */
export function updatePidFile(home: string, patch: {gateway_port?: number | null; [moduleField: string]: unknown}): PidFileContent {
  const current = readPidFile(home, {requireAlive: false})
  const next: PidFileContent = {...current}
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue
    if (key === 'gateway_port') next.gateway_port = value as number | null
    else if (CORE_FIELDS.has(key)) throw new Error(`updatePidFile: "${key}" is not updatable`)
    else if (value === null) delete next[key]
    else next[key] = value
  }
  writePidFile(home, next)
  return next
}

/** Removes the PID file; with `onlyPid`, only if it still names that pid. */
export function removePidFile(home: string, onlyPid?: number): boolean {
  const file = homePaths(home).pidFile
  if (onlyPid !== undefined) {
    try {
      const content = parsePidFile(readFileSync(file, 'utf8'), file)
      if (content.pid !== onlyPid) return false
    } catch {
      return false
    }
  }
  safeUnlink(file)
  return true
}

/** Moves an unreadable PID file aside to `daemon.pid.corrupt` so its content is not lost. */
export function quarantinePidFile(home: string): string {
  const {pidFile, pidCorrupt} = homePaths(home)
  copyFileSync(pidFile, pidCorrupt)
  safeUnlink(pidFile)
  return pidCorrupt
}

/** The gateway port of the running daemon. Throws when the daemon or its gateway is not running. */
export function readGatewayPort(home: string): number {
  const content = readPidFile(home)
  if (content.gateway_port === null) throw new Error('Gateway port not set in PID file (LLM Gateway not running)')
  return content.gateway_port
}
