import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {isMap, LineCounter, parseDocument, type Document} from 'yaml'

import {ConfigError} from '../errors.js'
import {parseFlagDuration} from '../util/duration.js'

export const DAEMON_ACTIONS = ['start', 'stop', 'restart', 'status'] as const
export type DaemonAction = (typeof DAEMON_ACTIONS)[number]

export const DEFAULT_STABLE_COMMIT_MARKER = 'feat: add unified LLM Gateway'

export interface TargetTimeouts {
  start: number
  stop: number
  restart: number
  status: number
  launcher: number
  build: number
  test: number
  /** HTTP requests to the control port and the gateway. */
  http: number
}

/** Everything cutover needs to know to act on one cco installation. */
export interface TargetSpec {
  name: string
  /** Where the spec came from: the target file's path, or "bundled". */
  source: string
  /** True for the reference daemon shipped in this repository. */
  bundled: boolean
  /** The target's home ($CCO_HOME): PID file, flags, config, log. */
  home: string
  /** argv of each daemon command, run with CCO_HOME=home. */
  daemon: Record<DaemonAction, string[]>
  /** argv of the launcher (`cco launch`); the probe appends `-- node -e ...`. */
  launcher: string[]
  /** The target's source repository (for build, tests and git rollbacks), if known. */
  repo: string | null
  /** argv run in `repo` to build / test it. */
  build: string[] | null
  test: string[] | null
  /** Commit message that marks the last stable commit (git rollback, rehearsal). */
  stableCommitMarker: string
  /** Extra environment for every target command. */
  env: Record<string, string>
  timeouts: TargetTimeouts
}

export const DEFAULT_TIMEOUTS: TargetTimeouts = {
  start: 30_000,
  stop: 30_000,
  restart: 60_000,
  status: 15_000,
  launcher: 15_000,
  build: 600_000,
  test: 600_000,
  http: 5000,
}

/** The root of this package (where package.json named "cutover" lives), found from this module's location, not the cwd. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = path.join(dir, 'package.json')
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as {name?: string}).name === 'cutover') return dir
      } catch {
        // keep looking
      }
    }
    const parent = path.dirname(dir)
    if (parent === dir) throw new ConfigError('cannot find the cutover package root (package.json named "cutover") above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
}

/** The bundled reference daemon (`node <repo>/bin/cco`) with the given home. */
export function bundledTargetSpec(home: string): TargetSpec {
  const root = packageRoot()
  const cco = [process.execPath, path.join(root, 'bin', 'cco')]
  return {
    name: 'bundled',
    source: 'bundled',
    bundled: true,
    home: path.resolve(home),
    daemon: {
      start: [...cco, 'daemon', 'start'],
      stop: [...cco, 'daemon', 'stop'],
      restart: [...cco, 'daemon', 'restart'],
      status: [...cco, 'daemon', 'status', '--json'],
    },
    launcher: [...cco, 'launch'],
    repo: path.join(root, 'gateway'),
    build: ['npm', 'run', 'build'],
    test: ['npm', 'test'],
    stableCommitMarker: DEFAULT_STABLE_COMMIT_MARKER,
    env: {},
    timeouts: {...DEFAULT_TIMEOUTS},
  }
}

export interface ResolveTargetOptions {
  /** --target FILE, if given. */
  targetFile?: string
  /** --home when the operator passed it explicitly: wins over the target file's home. */
  explicitHome?: string
  /** The home when neither --home nor the target file names one ($CCO_HOME, else ~/.cco). */
  defaultHome: string
}

/**
 * The target to act on: the target file if given, else the bundled daemon.
 * Home precedence: explicit --home, then the target file's `home`, then $CCO_HOME / ~/.cco.
 */
export function resolveTargetSpec(opts: ResolveTargetOptions): TargetSpec {
  if (opts.targetFile === undefined) return bundledTargetSpec(opts.explicitHome ?? opts.defaultHome)
  const spec = loadTargetFile(opts.targetFile, {defaultHome: opts.defaultHome})
  if (opts.explicitHome !== undefined) spec.home = path.resolve(expandHome(opts.explicitHome))
  return spec
}

const TOP_KEYS = ['name', 'home', 'cco', 'daemon', 'launcher', 'repo', 'build', 'test', 'stable_commit_marker', 'env', 'timeouts'] as const
const TIMEOUT_KEYS = Object.keys(DEFAULT_TIMEOUTS) as (keyof TargetTimeouts)[]

export const TARGET_FILE_EXAMPLE = `name: laptop
home: ~/.cco
cco: [/usr/local/bin/cco]          # daemon and launcher commands default to <cco> daemon <action> / <cco> launch
repo: ~/src/cco                    # optional: source repo for build, tests, git rollback
build: [cargo, build, --release]
test: [cargo, test]
stable_commit_marker: "feat: add unified LLM Gateway"`

/** Load and validate a target file (YAML). Every error names the file, the key, and line:col. */
export function loadTargetFile(file: string, opts: {defaultHome: string}): TargetSpec {
  const abs = path.resolve(expandHome(file))
  let text: string
  try {
    text = fs.readFileSync(abs, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ConfigError(
      code === 'ENOENT' ? `target file ${abs} does not exist` : `target file ${abs} cannot be read (${code ?? String(error)})`,
      ['Check the --target path, or omit --target to use the bundled reference daemon.'],
      'TARGET_FILE_INVALID',
    )
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true})
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!
    const pos = first.linePos?.[0]
    throw targetError(abs, pos ? `${pos.line}:${pos.col}` : undefined, undefined, `is not valid YAML: ${first.message.split('\n')[0]}`)
  }
  return targetSpecFromDocument(doc, abs, lineCounter, opts.defaultHome)
}

/**
 * Validate a parsed YAML document (a whole target file, or the `target` section of a playbook
 * when `at` names its path) into a TargetSpec. Relative paths resolve against the file's directory.
 */
export function targetSpecFromDocument(doc: Document, file: string, lineCounter: LineCounter, defaultHome: string, at: (string | number)[] = []): TargetSpec {
  const baseDir = path.dirname(file)
  const where = (keyPath: (string | number)[], atKey = false): string | undefined => {
    let node: unknown = keyPath.length === 0 ? doc.contents : doc.getIn(keyPath, true)
    if (atKey && keyPath.length > 0) {
      // Point at the key itself (for unknown keys) rather than at its value.
      const parent = keyPath.length === 1 ? doc.contents : doc.getIn(keyPath.slice(0, -1), true)
      const last = keyPath[keyPath.length - 1]
      if (isMap(parent)) node = parent.items.find((pair) => (pair.key as {value?: unknown} | null)?.value === last)?.key ?? node
    }
    const range = (node as {range?: [number, number, number]} | undefined)?.range
    if (!range) return undefined
    const pos = lineCounter.linePos(range[0])
    return `${pos.line}:${pos.col}`
  }
  const fail = (keyPath: (string | number)[], message: string, atKey = false): never => {
    throw targetError(file, where(keyPath.length > 0 ? keyPath : at, atKey), keyPath.slice(at.length).join('.') || undefined, message)
  }
  const root = at.length === 0 ? doc.contents : doc.getIn(at, true)
  if (!isMap(root)) fail(at, 'must be a mapping of keys (name, home, cco, daemon, launcher, repo, build, test, ...)')
  const raw = doc.toJS({}) as unknown
  const value = (at.length === 0 ? raw : getPath(raw, at)) as Record<string, unknown>

  for (const key of Object.keys(value)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) fail([...at, key], `unknown key (expected one of: ${TOP_KEYS.join(', ')})`, true)
  }
  const str = (key: string, required: boolean): string | undefined => {
    const v = value[key]
    if (v === undefined || v === null) {
      if (required) fail(at, `missing required key "${key}"`)
      return undefined
    }
    if (typeof v !== 'string' || v.trim().length === 0) fail([...at, key], `must be a non-empty string, got ${describe(v)}`)
    return v as string
  }
  const argv = (keyPath: (string | number)[], v: unknown): string[] => {
    if (!Array.isArray(v) || v.length === 0) fail(keyPath, `must be a non-empty list of strings (an argv, e.g. [cco, daemon, start]), got ${describe(v)}`)
    const list = v as unknown[]
    list.forEach((item, i) => {
      if (typeof item !== 'string' || item.length === 0) fail([...keyPath, i], `must be a non-empty string, got ${describe(item)}`)
    })
    const [cmd, ...args] = list as string[]
    return [resolveCommand(cmd!, baseDir), ...args]
  }

  const name = str('name', true)!
  const homeText = str('home', false)
  const cco = value.cco === undefined ? undefined : argv([...at, 'cco'], value.cco)

  const daemonRaw = value.daemon
  if (daemonRaw !== undefined && (daemonRaw === null || typeof daemonRaw !== 'object' || Array.isArray(daemonRaw))) {
    fail([...at, 'daemon'], `must be a mapping with start, stop, restart, status (argv lists), got ${describe(daemonRaw)}`)
  }
  const daemonMap = (daemonRaw ?? {}) as Record<string, unknown>
  for (const key of Object.keys(daemonMap)) {
    if (!(DAEMON_ACTIONS as readonly string[]).includes(key)) fail([...at, 'daemon', key], `unknown daemon command (expected: ${DAEMON_ACTIONS.join(', ')})`, true)
  }
  const daemon = {} as Record<DaemonAction, string[]>
  for (const action of DAEMON_ACTIONS) {
    if (daemonMap[action] !== undefined) daemon[action] = argv([...at, 'daemon', action], daemonMap[action])
    else if (cco) daemon[action] = [...cco, 'daemon', action, ...(action === 'status' ? ['--json'] : [])]
    else fail(daemonRaw === undefined ? at : [...at, 'daemon'], `missing daemon.${action} (give daemon.${action} as an argv list, or "cco" so it defaults to <cco> daemon ${action})`)
  }
  let launcher: string[]
  if (value.launcher !== undefined) launcher = argv([...at, 'launcher'], value.launcher)
  else if (cco) launcher = [...cco, 'launch']
  else fail(at, 'missing "launcher" (an argv list such as [cco, launch], or give "cco")')

  const repoText = str('repo', false)
  const build = value.build === undefined ? null : argv([...at, 'build'], value.build)
  const test = value.test === undefined ? null : argv([...at, 'test'], value.test)
  if ((build || test) && !repoText) fail(at, 'build/test commands need "repo" (the directory they run in)')
  const stableCommitMarker = str('stable_commit_marker', false) ?? DEFAULT_STABLE_COMMIT_MARKER

  const env: Record<string, string> = {}
  if (value.env !== undefined) {
    if (value.env === null || typeof value.env !== 'object' || Array.isArray(value.env)) fail([...at, 'env'], `must be a mapping of NAME: value, got ${describe(value.env)}`)
    for (const [key, v] of Object.entries(value.env as Record<string, unknown>)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) fail([...at, 'env', key], 'is not a valid environment variable name')
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') fail([...at, 'env', key], `must be a string, got ${describe(v)}`)
      env[key] = String(v)
    }
  }

  const timeouts = {...DEFAULT_TIMEOUTS}
  if (value.timeouts !== undefined) {
    if (value.timeouts === null || typeof value.timeouts !== 'object' || Array.isArray(value.timeouts)) fail([...at, 'timeouts'], `must be a mapping such as {start: 30s, build: 10m}, got ${describe(value.timeouts)}`)
    for (const [key, v] of Object.entries(value.timeouts as Record<string, unknown>)) {
      if (!(TIMEOUT_KEYS as string[]).includes(key)) fail([...at, 'timeouts', key], `unknown timeout (expected one of: ${TIMEOUT_KEYS.join(', ')})`, true)
      if (typeof v !== 'string' && typeof v !== 'number') fail([...at, 'timeouts', key], `must be a duration such as 30s, got ${describe(v)}`)
      let ms: number
      try {
        ms = parseFlagDuration(String(v), key)
      } catch {
        return fail([...at, 'timeouts', key], `"${String(v)}" is not a duration (use e.g. 500ms, 30s, 10m)`)
      }
      if (ms <= 0) fail([...at, 'timeouts', key], 'must be greater than zero')
      timeouts[key as keyof TargetTimeouts] = ms
    }
  }

  return {
    name,
    source: file,
    bundled: false,
    home: path.resolve(baseDir, expandHome(homeText ?? defaultHome)),
    daemon,
    launcher: launcher!,
    repo: repoText ? path.resolve(baseDir, expandHome(repoText)) : null,
    build,
    test,
    stableCommitMarker,
    env,
    timeouts,
  }
}

function targetError(file: string, pos: string | undefined, key: string | undefined, message: string): ConfigError {
  const location = pos ? `${file}:${pos}` : file
  return new ConfigError(
    `target file ${location}: ${key ? `${key}: ` : ''}${message}`,
    [`Fix the target file. A minimal example:\n${TARGET_FILE_EXAMPLE}`],
    'TARGET_FILE_INVALID',
  )
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  if (typeof v === 'string') return `the string "${v}"`
  return `${typeof v} ${String(v)}`
}

function getPath(value: unknown, keyPath: (string | number)[]): unknown {
  let cur = value
  for (const key of keyPath) cur = (cur as Record<string | number, unknown> | undefined)?.[key]
  return cur
}

export function expandHome(p: string): string {
  if (p === '~') return os.homedir()
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2))
  return p
}

/** A command name stays as is (found on PATH); a relative path resolves against the target file's directory. */
function resolveCommand(cmd: string, baseDir: string): string {
  const expanded = expandHome(cmd)
  if (path.isAbsolute(expanded) || !expanded.includes('/')) return expanded
  return path.resolve(baseDir, expanded)
}
