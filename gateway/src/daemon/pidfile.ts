import {copyFileSync, readFileSync} from 'node:fs'
import {atomicWriteFile, errnoCode, safeUnlink} from './fsutil.js'
import {homePaths} from './paths.js'
import {isProcessAlive} from './process.js'

/** `$CCO_HOME/daemon.pid`, same JSON as the original cco (pretty-printed). */
export interface PidFileContent {
  pid: number
  /** RFC 3339. */
  started_at: string
  /** The daemon's control port. */
  port: number
  /** Present only while the legacy HTTP proxy runs. */
  proxy_port?: number
  gateway_port: number | null
  version: string
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

function isPort(value: unknown): value is number {
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
  const proxyPort = obj.proxy_port === undefined ? null : obj.proxy_port
  if (proxyPort !== null && !isPort(proxyPort)) throw wrong('proxy_port', 'a port number or null', proxyPort)
  if (typeof obj.version !== 'string') throw wrong('version', 'a string', obj.version)
  const content: PidFileContent = {pid: obj.pid, started_at: obj.started_at, port: obj.port, gateway_port: gatewayPort, version: obj.version}
  if (proxyPort !== null) content.proxy_port = proxyPort
  return orderFields(content)
}

/** Field order as the original struct: pid, started_at, port, proxy_port, gateway_port, version. */
function orderFields(c: PidFileContent): PidFileContent {
  const out: PidFileContent = {pid: c.pid, started_at: c.started_at, port: c.port} as PidFileContent
  if (c.proxy_port !== undefined) out.proxy_port = c.proxy_port
  out.gateway_port = c.gateway_port
  out.version = c.version
  return out
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
 * Read-modify-write of the daemon's own PID file. `proxy_port: null` removes the field.
 * Only the daemon that owns the file should call this.
 */
export function updatePidFile(
  home: string,
  patch: {gateway_port?: number | null; proxy_port?: number | null},
): PidFileContent {
  const current = readPidFile(home, {requireAlive: false})
  const next: PidFileContent = {...current}
  if (patch.gateway_port !== undefined) next.gateway_port = patch.gateway_port
  if (patch.proxy_port !== undefined) {
    if (patch.proxy_port === null) delete next.proxy_port
    else next.proxy_port = patch.proxy_port
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

/** The legacy proxy's port of the running daemon. Throws when the daemon or its proxy is not running. */
export function readProxyPort(home: string): number {
  const content = readPidFile(home)
  if (content.proxy_port === undefined) throw new Error('Proxy port not set in PID file (HTTP proxy not running)')
  return content.proxy_port
}
