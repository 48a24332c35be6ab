import {readFileSync} from 'node:fs'
import {errnoCode} from './fsutil.js'
import {homePaths} from './paths.js'

/** `$CCO_HOME/config/daemon-config.json` (the plan's §2.2 feature flags). */
export interface DaemonFlags {
  gatewayEnabled: boolean
  proxyEnabled: boolean
}

export const DEFAULT_FLAGS: DaemonFlags = {gatewayEnabled: true, proxyEnabled: false}

export class DaemonFlagsError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}. Fix the file (e.g. {"gatewayEnabled": true, "proxyEnabled": false}) or remove it to use the defaults.`)
    this.name = 'DaemonFlagsError'
  }
}

const KEYS: ReadonlyArray<keyof DaemonFlags> = ['gatewayEnabled', 'proxyEnabled']

/** Validates parsed flags JSON; `file` is only used in messages. */
export function parseDaemonFlags(raw: unknown, file: string): DaemonFlags {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DaemonFlagsError(file, `must contain a JSON object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw}`)
  }
  const flags: DaemonFlags = {...DEFAULT_FLAGS}
  for (const [key, value] of Object.entries(raw)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      const hint = KEYS.find((k) => k.toLowerCase() === key.toLowerCase().replace(/[_-]/g, ''))
      throw new DaemonFlagsError(
        file,
        `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}; allowed keys: ${KEYS.join(', ')}`,
      )
    }
    if (typeof value !== 'boolean') {
      throw new DaemonFlagsError(file, `key "${key}" must be true or false, got ${JSON.stringify(value)}`)
    }
    flags[key as keyof DaemonFlags] = value
  }
  return flags
}

/** Reads the flags; an absent file gives the defaults (gateway on, proxy off). */
export function loadDaemonFlags(home: string): DaemonFlags {
  const file = homePaths(home).flagsFile
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return {...DEFAULT_FLAGS}
    throw new DaemonFlagsError(file, `cannot be read (${(error as Error).message})`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new DaemonFlagsError(file, `invalid JSON (${(error as Error).message})`)
  }
  return parseDaemonFlags(raw, file)
}
