import fs from 'node:fs'
import path from 'node:path'

import {TargetUnavailableError} from '../errors.js'
import {isSecretEnvName, redactText} from '../util/redact.js'
import {
  type DaemonFlags,
  type FlagsReading,
  type OrchestraConfig,
  type PidFile,
  readFlagsAt,
  readOrchestraConfigAt,
  readPidFileAt,
  writeFlagsAt,
} from './files.js'
import {GatewayClient} from './gateway-client.js'
import {type DaemonAction, packageRoot, type TargetSpec} from './spec.js'

/** The outcome of running one of the target's commands. Non-zero exits are results, not exceptions. */
export interface CommandResult {
  /** argv that ran */
  command: string[]
  /** null when the process was killed (timeout, signal) */
  exitCode: number | null
  stdout: string
  stderr: string
  durationMs: number
  timedOut: boolean
  /** true when exitCode === 0 */
  ok: boolean
}

export interface DaemonCommandResult extends CommandResult {
  action: DaemonAction
}

export type LauncherMode = 'gateway' | 'proxy' | 'error'

export interface LauncherProbeResult {
  mode: LauncherMode
  /** ANTHROPIC_BASE_URL in gateway mode, the proxy URL in proxy mode. */
  url?: string
  exitCode: number | null
  /** The launcher's combined output (its banner lines, or its error). */
  output: string
  /** What the probe child saw; null when the child never ran. */
  childEnv: {ANTHROPIC_BASE_URL: string | null; HTTP_PROXY: string | null; HTTPS_PROXY: string | null} | null
  durationMs: number
}

const PROBE_MARKER = 'CUTOVER_LAUNCH_PROBE '
const PROBE_SCRIPT = `const e=process.env;console.log(${JSON.stringify(PROBE_MARKER)}+JSON.stringify({ANTHROPIC_BASE_URL:e.ANTHROPIC_BASE_URL??null,HTTP_PROXY:e.HTTP_PROXY??e.http_proxy??null,HTTPS_PROXY:e.HTTPS_PROXY??e.https_proxy??null}))`
/** Inherited routing variables would fake a launcher result, so the launcher never sees ours. */
const ROUTING_ENV = ['ANTHROPIC_BASE_URL', 'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy']

export interface TargetOptions {
  /** Flags that select this target on the cutover command line, used in "Try: ..." hints. */
  cliSelector?: string
}

/** One cco installation: its files, its commands, its HTTP endpoints. */
export class Target {
  readonly spec: TargetSpec
  readonly gateway: GatewayClient
  private readonly cliSelector: string

  constructor(spec: TargetSpec, opts: TargetOptions = {}) {
    this.spec = spec
    this.cliSelector = opts.cliSelector ?? (spec.bundled ? `--home ${spec.home}` : `--target ${spec.source}`)
    this.gateway = new GatewayClient({
      gatewayUrl: () => this.gatewayUrl(),
      controlUrl: () => this.controlUrl(),
      timeoutMs: spec.timeouts.http,
      restartHint: this.restartHint(),
    })
  }

  get name(): string {
    return this.spec.name
  }

  get home(): string {
    return this.spec.home
  }

  /** Every file of the target, by role. */
  get paths() {
    const home = this.spec.home
    return {
      home,
      pidFile: path.join(home, 'daemon.pid'),
      pidBackup: path.join(home, 'daemon.pid.bak'),
      log: path.join(home, 'daemon.log'),
      configDir: path.join(home, 'config'),
      flags: path.join(home, 'config', 'daemon-config.json'),
      flagsBackup: path.join(home, 'config', 'daemon-config.json.bak'),
      orchestraConfig: path.join(home, 'orchestra-config.json'),
      auditDb: path.join(home, 'gateway', 'audit.db'),
    }
  }

  /** The cutover command an operator should run to bring the daemon back. */
  restartHint(): string {
    return `cutover daemon restart ${this.cliSelector}`
  }

  /** Read and validate the PID file; by default also require the PID to be alive. Throws PidFileError. */
  readPidFile(opts: {checkAlive?: boolean} = {}): PidFile {
    return readPidFileAt(this.paths.pidFile, this.restartHint(), opts.checkAlive ?? true)
  }

  readFlags(): DaemonFlags {
    return readFlagsAt(this.paths.flags).flags
  }

  /** Flags plus whether the file exists (absent = defaults). */
  readFlagsDetailed(): FlagsReading {
    return readFlagsAt(this.paths.flags)
  }

  /** Atomic temp + rename, previous kept as `.bak`, mode 0600. Takes effect at the next daemon restart. */
  writeFlags(flags: DaemonFlags): FlagsReading {
    return writeFlagsAt(this.paths.flags, flags)
  }

  readOrchestraConfig(): OrchestraConfig | null {
    return readOrchestraConfigAt(this.paths.orchestraConfig)
  }

  /** Last `lines` lines of daemon.log (empty when absent). */
  tailLog(lines = 20): string[] {
    try {
      const text = fs.readFileSync(this.paths.log, 'utf8')
      return text.split('\n').filter((line) => line.length > 0).slice(-lines).map((line) => this.redact(line))
    } catch {
      return []
    }
  }

  /** http://127.0.0.1:<gateway_port> from the PID file; TargetUnavailableError if the gateway is not running. */
  gatewayUrl(): string {
    const pid = this.readPidFile()
    if (pid.gateway_port === null) {
      throw new TargetUnavailableError(`the LLM Gateway is not running: ${this.paths.pidFile} has "gateway_port": null`, [
        `Check ${this.paths.flags} ("gatewayEnabled") and the daemon log ${this.paths.log}, then try: ${this.restartHint()}`,
      ], 'GATEWAY_NOT_RUNNING')
    }
    return `http://127.0.0.1:${pid.gateway_port}`
  }

  /** http://127.0.0.1:<port> of the daemon's control endpoint. */
  controlUrl(): string {
    return `http://127.0.0.1:${this.readPidFile().port}`
  }

  /** The legacy proxy's URL, or null when the PID file has no proxy_port. */
  proxyUrl(): string | null {
    const pid = this.readPidFile()
    return pid.proxy_port === undefined ? null : `http://127.0.0.1:${pid.proxy_port}`
  }

  /** Run `cco daemon <action>` as the target defines it. Throws only when the command cannot be run at all (exit 4). */
  async daemon(action: DaemonAction): Promise<DaemonCommandResult> {
    const result = await this.run(this.spec.daemon[action], {timeoutMs: this.spec.timeouts[action], what: `daemon ${action}`})
    return {action, ...result}
  }

  /** Run the target's build or test command in its repo (or in `cwd`, e.g. a worktree). */
  async repoCommand(kind: 'build' | 'test', cwd?: string): Promise<CommandResult> {
    const argv = this.spec[kind]
    const dir = cwd ?? this.spec.repo
    if (!argv || !dir) {
      throw new TargetUnavailableError(`target "${this.name}" has no ${kind} command or repo`, [`Add "repo" and "${kind}" to the target file ${this.spec.source}.`], 'TARGET_NO_REPO')
    }
    return this.run(argv, {cwd: dir, timeoutMs: this.spec.timeouts[kind], what: kind})
  }

  /**
   * Run the launcher with a probe child that prints the routing variables it received,
   * and classify the launcher's choice: gateway (ANTHROPIC_BASE_URL), proxy (HTTP(S)_PROXY), or error.
   */
  async launcherProbe(): Promise<LauncherProbeResult> {
    const argv = [...this.spec.launcher, '--', process.execPath, '-e', PROBE_SCRIPT]
    const result = await this.run(argv, {timeoutMs: this.spec.timeouts.launcher, what: 'launcher', dropEnv: ROUTING_ENV})
    const combined = [result.stdout, result.stderr].filter((s) => s.length > 0).join('\n')
    const probeLine = result.stdout.split('\n').find((line) => line.startsWith(PROBE_MARKER))
    const output = combined.split('\n').filter((line) => !line.startsWith(PROBE_MARKER)).join('\n').trim()
    let childEnv: LauncherProbeResult['childEnv'] = null
    if (probeLine) {
      try {
        childEnv = JSON.parse(probeLine.slice(PROBE_MARKER.length)) as LauncherProbeResult['childEnv']
      } catch {
        childEnv = null
      }
    }
    const base = {exitCode: result.exitCode, output, childEnv, durationMs: result.durationMs}
    if (result.ok && childEnv?.ANTHROPIC_BASE_URL) return {mode: 'gateway', url: childEnv.ANTHROPIC_BASE_URL, ...base}
    const proxy = childEnv?.HTTPS_PROXY ?? childEnv?.HTTP_PROXY
    if (result.ok && proxy) return {mode: 'proxy', url: proxy, ...base}
    return {mode: 'error', ...base}
  }

  /** Mask the values of secret-looking env vars of the target spec (and key-like strings) in text. */
  redact(text: string): string {
    const secrets = Object.entries(this.spec.env)
      .filter(([name]) => isSecretEnvName(name))
      .map(([, value]) => value)
    return redactText(text, secrets)
  }

  /** Environment for target commands: ours, plus the spec's env, plus CCO_HOME. */
  commandEnv(dropEnv: string[] = []): Record<string, string> {
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !dropEnv.includes(key)) env[key] = value
    return {...env, ...this.spec.env, CCO_HOME: this.spec.home}
  }

  private async run(argv: string[], opts: {cwd?: string; timeoutMs: number; what: string; dropEnv?: string[]}): Promise<CommandResult> {
    this.assertRunnable(opts.what)
    const [file, ...args] = argv as [string, ...string[]]
    const {execa} = await import('execa')
    const started = performance.now()
    const result = await execa(file, args, {
      cwd: opts.cwd,
      env: this.commandEnv(opts.dropEnv),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      timeout: opts.timeoutMs,
      forceKillAfterDelay: 2000,
      stripFinalNewline: true,
      maxBuffer: 10_000_000,
    })
    const durationMs = Math.round(performance.now() - started)
    const errno = (result.cause as NodeJS.ErrnoException | undefined)?.code
    if (result.exitCode === undefined && !result.timedOut && (errno === 'ENOENT' || errno === 'EACCES' || result.signal === undefined)) {
      throw new TargetUnavailableError(
        `cannot run the target's ${opts.what} command (${argv.join(' ')}): ${errno === 'ENOENT' ? 'command not found' : (errno ?? result.shortMessage)}`,
        [this.spec.bundled ? 'Build the bundled daemon: npm run build -w gateway' : `Fix "${opts.what}" in the target file ${this.spec.source}.`],
        'TARGET_COMMAND_UNRUNNABLE',
      )
    }
    const stdout = this.redact(String(result.stdout ?? ''))
    let stderr = this.redact(String(result.stderr ?? ''))
    if (result.timedOut) stderr = `${stderr}${stderr ? '\n' : ''}cutover: ${opts.what} did not finish within ${opts.timeoutMs} ms and was stopped`
    const exitCode = result.exitCode ?? null
    return {command: argv, exitCode, stdout, stderr, durationMs, timedOut: Boolean(result.timedOut), ok: exitCode === 0}
  }

  /** The bundled daemon runs from gateway/dist: say how to build it instead of showing a module-not-found trace. */
  private assertRunnable(what: string): void {
    if (!this.spec.bundled) return
    const entry = path.join(packageRoot(), 'gateway', 'dist', 'cli.js')
    if (!fs.existsSync(entry)) {
      throw new TargetUnavailableError(`cannot run the bundled daemon's ${what} command: ${entry} is missing (the reference daemon is not built)`, ['Build it: npm run build -w gateway'], 'TARGET_COMMAND_UNRUNNABLE')
    }
  }
}
