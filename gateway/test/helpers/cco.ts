/*
 * Shared test helpers for anything that runs the real `cco` binary: a temp CCO_HOME,
 * running `node bin/cco ...`, polling for readiness, small HTTP helpers and a cleanup
 * that kills every daemon of a test home. Requires a build (`npm run build -w gateway`).
 */
import {spawn, type ChildProcess, type SpawnOptions} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync} from 'node:fs'
import {request} from 'node:http'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The gateway package directory (gateway/). */
export const GATEWAY_DIR = fileURLToPath(new URL('../..', import.meta.url))
/** gateway/bin/cco */
export const CCO_BIN = join(GATEWAY_DIR, 'bin', 'cco')
/** False once Phase 3 of the cutover has removed the legacy proxy module (gateway/src/proxy/). */
export const LEGACY_PROXY_INSTALLED = existsSync(join(GATEWAY_DIR, 'src', 'proxy', 'index.ts'))

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Env for a child with the given home; drops proxy/gateway variables inherited from the outer shell. */
export function ccoEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, CCO_HOME: home, ...extra}
  for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'ANTHROPIC_BASE_URL']) {
    if (!(name in extra)) delete env[name]
  }
  return env
}

/** Spawns `node bin/cco <args>` without waiting (for signal tests and long-running commands). */
export function spawnCco(args: string[], opts: {home: string; env?: NodeJS.ProcessEnv} & SpawnOptions): ChildProcess {
  const {home, env, ...rest} = opts
  return spawn(process.execPath, [CCO_BIN, ...args], {cwd: GATEWAY_DIR, stdio: ['ignore', 'pipe', 'pipe'], ...rest, env: ccoEnv(home, env)})
}

/** Runs `node bin/cco <args>` to completion and collects its output. */
export function runCco(args: string[], opts: {home: string; env?: NodeJS.ProcessEnv; timeoutMs?: number}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCco(args, {home: opts.home, env: opts.env})
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')))
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`cco ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 25_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, opts.timeoutMs ?? 25_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr})
    })
  })
}

/** A fresh temp CCO_HOME (mode 0700 from mkdtemp). */
export function makeTempHome(prefix = 'cco-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2))
}

export function writeFlags(home: string, flags: Record<string, unknown>): void {
  writeJson(join(home, 'config', 'daemon-config.json'), flags)
}

export function writeGatewayConfig(home: string, llmGateway: unknown): void {
  writeJson(join(home, 'orchestra-config.json'), {llmGateway})
}

export function readPid(home: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(home, 'daemon.pid'), 'utf8')) as Record<string, unknown>
}

export function readLog(home: string): string {
  try {
    return readFileSync(join(home, 'daemon.log'), 'utf8')
  } catch {
    return ''
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).charAt(0) !== 'Z'
  } catch {
    return true
  }
}

/**
 * Pids of `cco daemon run` processes of this home (Linux /proc: command line has
 * `daemon run` and the working directory is the home, where the daemon chdirs).
 */
export function findDaemonPids(home: string): number[] {
  const want = realpathSync(home)
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      const i = args.indexOf('daemon')
      if (i < 0 || args[i + 1] !== 'run') continue
      if (readlinkSync(`/proc/${entry}/cwd`) !== want) continue
      if (isAlive(Number(entry))) pids.push(Number(entry))
    } catch {
      // Process went away while we looked.
    }
  }
  return pids
}

/** Polls `check` until it returns a truthy value; fails with `what` after the timeout. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** Resolves once something accepts TCP connections on host:port. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<void> {
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, host)
        socket.once('connect', () => {
          socket.destroy()
          resolve(true)
        })
        socket.once('error', () => resolve(false))
      }),
    `port ${host}:${port}`,
    timeoutMs,
  )
}

export interface HttpResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** Parsed JSON body (undefined when not JSON). */
  json: unknown
}

/** A plain HTTP request (no agent reuse) returning status, headers, text and parsed JSON. */
export function http(
  url: string,
  opts: {method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number} = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, {method: opts.method ?? 'GET', headers: opts.headers, agent: false, timeout: opts.timeoutMs ?? 10_000}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({status: res.statusCode ?? 0, headers: res.headers, text, json})
      })
    })
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)))
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** SIGKILLs every daemon of this home (PID file pid and /proc scan) and removes the home. */
export async function cleanupHome(home: string): Promise<void> {
  const pids = new Set<number>(existsSync(home) ? findDaemonPids(home) : [])
  try {
    const pid = readPid(home).pid
    if (typeof pid === 'number' && findDaemonPids(home).includes(pid)) pids.add(pid)
  } catch {
    // No PID file.
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  for (const pid of pids) await waitFor(() => !isAlive(pid), `pid ${pid} to die`, 5000).catch(() => undefined)
  rmSync(home, {recursive: true, force: true})
}

/** A home per test: `const homes = new TempHomes(); afterEach(() => homes.cleanup())`. */
export class TempHomes {
  private readonly homes: string[] = []

  make(prefix?: string): string {
    const home = makeTempHome(prefix)
    this.homes.push(home)
    return home
  }

  async cleanup(): Promise<void> {
    const homes = this.homes.splice(0)
    for (const home of homes) await cleanupHome(home)
  }
}

/** Starts a daemon in `home` and returns its PID file content (fails the test if start fails). */
export async function startDaemonIn(home: string, env?: NodeJS.ProcessEnv): Promise<{pid: number; port: number; gateway_port: number | null; proxy_port?: number; result: RunResult}> {
  const result = await runCco(['daemon', 'start'], {home, env})
  if (result.code !== 0) throw new Error(`cco daemon start failed (${result.code}):\n${result.stdout}\n${result.stderr}\nlog:\n${readLog(home)}`)
  const pidFile = readPid(home) as {pid: number; port: number; gateway_port: number | null; proxy_port?: number}
  return {...pidFile, result}
}
