import fs from 'node:fs'

import {ConfigError, CutoverError, ExitCode, TargetUnavailableError} from '../errors.js'
import {writeJsonAtomic} from '../util/atomic-write.js'
import {isPidAlive} from '../util/process.js'

export {isPidAlive} from '../util/process.js'

/** `$CCO_HOME/daemon.pid` as the daemon writes it. */
export interface PidFile {
  pid: number
  /** RFC 3339 */
  started_at: string
  /** The daemon's control port (GET /daemon/status). */
  port: number
  gateway_port: number | null
  version: string
  /** Present only while the legacy proxy runs. */
  proxy_port?: number
}

export type PidFileProblem = 'missing' | 'invalid_json' | 'wrong_type' | 'dead'

const PID_CODES: Record<PidFileProblem, string> = {
  missing: 'PID_FILE_MISSING',
  invalid_json: 'PID_FILE_INVALID_JSON',
  wrong_type: 'PID_FILE_WRONG_TYPE',
  dead: 'PID_NOT_RUNNING',
}

/** The PID file cannot be used: which problem, and the file. Exit 4 (the target cannot be measured). */
export class PidFileError extends TargetUnavailableError {
  readonly problem: PidFileProblem
  readonly file: string

  constructor(problem: PidFileProblem, file: string, message: string, suggestions: string[]) {
    super(message, suggestions, PID_CODES[problem])
    this.name = 'PidFileError'
    this.problem = problem
    this.file = file
  }
}

const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 65_535

/**
 * Parse and validate PID file content. Unknown extra keys are tolerated (a newer daemon may add some);
 * known keys must have the documented types.
 */
export function parsePidFile(text: string, file: string, restartHint: string): PidFile {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new PidFileError('invalid_json', file, `PID file ${file} is not valid JSON (${(error as Error).message}); the daemon's state is unknown`, [
      `Try: ${restartHint} (the daemon rewrites the PID file; the previous one is kept as ${file}.bak)`,
    ])
  }
  const wrong = (key: string, expected: string, got: unknown): never => {
    throw new PidFileError('wrong_type', file, `PID file ${file}: "${key}" must be ${expected}, got ${JSON.stringify(got) ?? 'nothing'}`, [
      `Try: ${restartHint} (the PID file is written only by the daemon; do not edit it)`,
    ])
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return wrong('(root)', 'a JSON object', raw)
  const obj = raw as Record<string, unknown>
  if (!Number.isInteger(obj.pid) || (obj.pid as number) <= 0) wrong('pid', 'a positive integer', obj.pid)
  if (typeof obj.started_at !== 'string' || Number.isNaN(Date.parse(obj.started_at))) wrong('started_at', 'an RFC 3339 timestamp string', obj.started_at)
  if (!isPort(obj.port)) wrong('port', 'a port number (1-65535)', obj.port)
  if (!('gateway_port' in obj)) wrong('gateway_port', 'a port number or null', undefined)
  if (obj.gateway_port !== null && !isPort(obj.gateway_port)) wrong('gateway_port', 'a port number or null', obj.gateway_port)
  if (typeof obj.version !== 'string') wrong('version', 'a string', obj.version)
  if ('proxy_port' in obj && obj.proxy_port !== undefined && !isPort(obj.proxy_port)) wrong('proxy_port', 'a port number (present only while the proxy runs)', obj.proxy_port)
  const pidFile: PidFile = {
    pid: obj.pid as number,
    started_at: obj.started_at as string,
    port: obj.port as number,
    gateway_port: obj.gateway_port as number | null,
    version: obj.version as string,
  }
  if (obj.proxy_port !== undefined) pidFile.proxy_port = obj.proxy_port as number
  return pidFile
}

/** Read, validate and (unless checkAlive is false) check that the PID is alive. */
export function readPidFileAt(file: string, restartHint: string, checkAlive = true): PidFile {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PidFileError('missing', file, `PID file ${file} does not exist: the daemon is not running (or uses another home)`, [
        `Try: ${restartHint}`,
        'Check --home / $CCO_HOME, or the target file\'s home.',
      ])
    }
    throw new TargetUnavailableError(`PID file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, ['Check the permissions of the target home.'], 'PID_FILE_UNREADABLE')
  }
  const pidFile = parsePidFile(text, file, restartHint)
  if (checkAlive && !isPidAlive(pidFile.pid)) {
    throw new PidFileError('dead', file, `PID file ${file} names process ${pidFile.pid}, which is not running: the daemon died or was killed (stale PID file)`, [
      `Try: ${restartHint} (start cleans the stale PID file)`,
    ])
  }
  return pidFile
}

/** `$CCO_HOME/config/daemon-config.json`: the feature flags. Absent file = defaults. */
export interface DaemonFlags {
  gatewayEnabled: boolean
  proxyEnabled: boolean
}

export const DEFAULT_FLAGS: DaemonFlags = {gatewayEnabled: true, proxyEnabled: false}
const FLAG_KEYS = Object.keys(DEFAULT_FLAGS) as (keyof DaemonFlags)[]

export interface FlagsReading {
  flags: DaemonFlags
  /** False when the file is absent and the defaults apply. */
  exists: boolean
  file: string
}

/** Validate flags content: unknown keys and wrong types are errors naming the key (exit 2). */
export function parseFlags(text: string, file: string): DaemonFlags {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new ConfigError(`flags file ${file} is not valid JSON (${(error as Error).message})`, [
      `Write it again, e.g. cutover rollback --flag, or restore ${file}.bak`,
    ], 'FLAGS_INVALID')
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`flags file ${file} must hold a JSON object such as {"gatewayEnabled": true, "proxyEnabled": false}`, [], 'FLAGS_INVALID')
  }
  const obj = raw as Record<string, unknown>
  for (const key of Object.keys(obj)) {
    if (!(FLAG_KEYS as string[]).includes(key)) {
      throw new ConfigError(`flags file ${file}: unknown key "${key}" (expected: ${FLAG_KEYS.join(', ')})`, ['Remove the key; the daemon refuses unknown flags.'], 'FLAGS_INVALID')
    }
  }
  const flags = {...DEFAULT_FLAGS}
  for (const key of FLAG_KEYS) {
    if (obj[key] === undefined) continue
    if (typeof obj[key] !== 'boolean') {
      throw new ConfigError(`flags file ${file}: "${key}" must be true or false, got ${JSON.stringify(obj[key])}`, [], 'FLAGS_INVALID')
    }
    flags[key] = obj[key] as boolean
  }
  return flags
}

export function readFlagsAt(file: string): FlagsReading {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {flags: {...DEFAULT_FLAGS}, exists: false, file}
    throw new CutoverError(`flags file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {code: 'FLAGS_UNREADABLE', exit: ExitCode.CouldNotEvaluate})
  }
  return {flags: parseFlags(text, file), exists: true, file}
}

/** Write the flags atomically (temp + rename), 0600, previous content kept as `.bak`. */
export function writeFlagsAt(file: string, flags: DaemonFlags): FlagsReading {
  for (const key of FLAG_KEYS) {
    if (typeof flags[key] !== 'boolean') throw new ConfigError(`flag "${key}" must be true or false, got ${JSON.stringify(flags[key])}`, [], 'FLAGS_INVALID')
  }
  const extra = Object.keys(flags).filter((key) => !(FLAG_KEYS as string[]).includes(key))
  if (extra.length > 0) throw new ConfigError(`unknown flag "${extra[0]}" (expected: ${FLAG_KEYS.join(', ')})`, [], 'FLAGS_INVALID')
  const content: DaemonFlags = {gatewayEnabled: flags.gatewayEnabled, proxyEnabled: flags.proxyEnabled}
  writeJsonAtomic(file, content, {backup: true, mode: 0o600})
  return {flags: content, exists: true, file}
}

/** The `llmGateway` section of orchestra-config.json (plan Appendix C); the daemon validates it fully. */
export interface LlmGatewayProviderConfig {
  enabled?: boolean
  providerType?: string
  baseUrl?: string
  /** Name of the environment variable holding the key (never the key itself). */
  apiKeyRef?: string
  timeoutSecs?: number
  maxRetries?: number
  deployment?: string
  apiVersion?: string
  [key: string]: unknown
}

export interface LlmGatewayConfig {
  enabled?: boolean
  providers?: Record<string, LlmGatewayProviderConfig>
  routing?: {
    defaultProvider?: string
    agentRules?: Record<string, string> | unknown[]
    modelTierRules?: Record<string, string> | unknown[]
    fallbackChain?: string[]
    [key: string]: unknown
  }
  costTracking?: Record<string, unknown>
  audit?: Record<string, unknown>
  [key: string]: unknown
}

export interface OrchestraConfig {
  llmGateway?: LlmGatewayConfig
  [key: string]: unknown
}

/** Read orchestra-config.json; null when absent. Only the shape's outline is checked here. */
export function readOrchestraConfigAt(file: string): OrchestraConfig | null {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new CutoverError(`gateway config ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {code: 'ORCHESTRA_CONFIG_UNREADABLE', exit: ExitCode.CouldNotEvaluate})
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new ConfigError(`gateway config ${file} is not valid JSON (${(error as Error).message})`, ['Fix the file; the daemon will refuse it too.'], 'ORCHESTRA_CONFIG_INVALID')
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`gateway config ${file} must hold a JSON object`, [], 'ORCHESTRA_CONFIG_INVALID')
  const config = raw as OrchestraConfig
  if (config.llmGateway !== undefined && (config.llmGateway === null || typeof config.llmGateway !== 'object' || Array.isArray(config.llmGateway))) {
    throw new ConfigError(`gateway config ${file}: "llmGateway" must be an object`, [], 'ORCHESTRA_CONFIG_INVALID')
  }
  return config
}
