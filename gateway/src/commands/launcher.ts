import {spawn} from 'node:child_process'
import {request} from 'node:http'
import {constants as osConstants} from 'node:os'
import {loadDaemonFlags, type DaemonFlags} from '../daemon/flags.js'
import {moduleForFlag} from '../daemon/modules.js'
import {PidFileError, readGatewayPort} from '../daemon/pidfile.js'

/*
 * `cco launch [--] [command [args...]]`: runs Claude Code (default `claude`) wired to
 * the daemon, per the flags in config/daemon-config.json:
 *   gateway on + gateway up          -> ANTHROPIC_BASE_URL (preferred)
 *   gateway on + proxy on, gw down   -> the proxy module's route (Phase 1 fallback)
 *   only gateway on, gw down         -> exit 1 with the plan's three lines (Phase 2)
 *   only proxy on                    -> the proxy module's route (rollback mode)
 *   neither                          -> exit 1
 * The proxy routes come from the legacy proxy module (daemon/modules.ts); once Phase 3 has
 * removed it, asking for the proxy is an error that says so.
 */

export interface LaunchIo {
  stdout(line: string): void
  stderr(line: string): void
}

const defaultIo: LaunchIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
}

const reasonOf = (error: unknown) => (error instanceof PidFileError ? error.reason : (error as Error).message)

/** A quick liveness probe of the gateway: any HTTP answer from /gateway/health counts (even 503). */
function probeGateway(port: number, timeoutMs = 1500): Promise<string | null> {
  return new Promise((resolve) => {
    const req = request({host: '127.0.0.1', port, path: '/gateway/health', timeout: timeoutMs, agent: false}, (res) => {
      res.resume()
      resolve(null)
    })
    req.on('timeout', () => {
      req.destroy()
      resolve(`gateway on port ${port} did not answer within ${timeoutMs} ms`)
    })
    req.on('error', (error) => resolve(`gateway on port ${port} does not answer (${error.message})`))
    req.end()
  })
}

/** The gateway port if the gateway is present and answering, else the reason it is not. */
async function findGateway(home: string): Promise<{port: number} | {reason: string}> {
  let port: number
  try {
    port = readGatewayPort(home)
  } catch (error) {
    return {reason: reasonOf(error)}
  }
  const problem = await probeGateway(port)
  return problem ? {reason: problem} : {port}
}

export type RoutingDecision =
  | {mode: 'gateway'; env: Record<string, string>; lines: string[]; warnings: string[]}
  | {mode: 'proxy'; env: Record<string, string>; lines: string[]; warnings: string[]}
  | {mode: 'error'; errors: string[]}

const NO_PROXY_MODULE = [
  '   proxyEnabled is set in config/daemon-config.json, but no legacy proxy module is installed in this build',
  '   (it was removed in Phase 3 of the cutover). Set "gatewayEnabled": true and "proxyEnabled": false, then: cco daemon restart',
]

/** Decides how the child reaches an LLM. Pure apart from reading the home and probing the gateway. */
export async function decideRouting(home: string, flags: DaemonFlags): Promise<RoutingDecision> {
  const proxyModule = moduleForFlag('proxyEnabled')
  const viaProxy = (gatewayProblem: string | null): RoutingDecision => {
    if (!proxyModule) {
      const head = gatewayProblem === null ? '❌ Error: No legacy proxy module installed' : `❌ Error: LLM Gateway not available: ${gatewayProblem}`
      return {mode: 'error', errors: [head, ...NO_PROXY_MODULE]}
    }
    const route = proxyModule.launchRoute(home, gatewayProblem)
    return 'errors' in route ? {mode: 'error', errors: route.errors} : {mode: 'proxy', ...route}
  }
  if (flags.gatewayEnabled) {
    const gateway = await findGateway(home)
    if ('port' in gateway) {
      const url = `http://127.0.0.1:${gateway.port}`
      return {mode: 'gateway', env: {ANTHROPIC_BASE_URL: url}, lines: [`   Gateway: ${url} (LLM routing enabled)`], warnings: []}
    }
    if (flags.proxyEnabled) return viaProxy(gateway.reason)
    return {
      mode: 'error',
      errors: [
        `❌ Error: LLM Gateway not available: ${gateway.reason}`,
        '   The gateway must be running for Claude Code to function.',
        '   Try: cco daemon restart',
      ],
    }
  }
  if (flags.proxyEnabled) return viaProxy(null)
  return {
    mode: 'error',
    errors: [
      '❌ Error: No LLM routing mechanism enabled',
      '   Both gatewayEnabled and proxyEnabled are false in config/daemon-config.json.',
      '   Set "gatewayEnabled": true, then: cco daemon restart',
    ],
  }
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2']
/**
 * On a terminal, Ctrl-C, Ctrl-\\ and resizes already reach the child (same foreground
 * process group): forwarding them again would deliver them twice (Claude Code exits on
 * a double Ctrl-C). The launcher then only survives them; otherwise it forwards them.
 */
const TERMINAL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGWINCH']

/** Runs the launcher; resolves with the exit code (the child's, or 128+signal). */
export async function runLauncher(argv: string[], home: string, io: LaunchIo = defaultIo): Promise<number> {
  let flags: DaemonFlags
  try {
    flags = loadDaemonFlags(home)
  } catch (error) {
    io.stderr(`❌ Error: ${(error as Error).message}`)
    return 1
  }
  const decision = await decideRouting(home, flags)
  if (decision.mode === 'error') {
    for (const line of decision.errors) io.stderr(line)
    return 1
  }
  for (const line of decision.warnings) io.stderr(line)
  for (const line of decision.lines) io.stdout(line)

  const [command = 'claude', ...args] = argv
  const child = spawn(command, args, {stdio: 'inherit', env: {...process.env, ...decision.env}})
  const onTerminal = Boolean(process.stdin.isTTY)
  const forwarders = [...FORWARDED_SIGNALS, ...TERMINAL_SIGNALS].map((signal) => {
    const forward = !onTerminal || FORWARDED_SIGNALS.includes(signal)
    const handler = () => {
      if (forward && child.exitCode === null && child.signalCode === null) child.kill(signal)
    }
    process.on(signal, handler)
    return () => process.off(signal, handler)
  })
  try {
    return await new Promise<number>((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') {
          io.stderr(`❌ Error: command not found: ${command}`)
          io.stderr(command === 'claude' ? '   Install Claude Code, or name the command to run: cco launch -- <command> [args...]' : '   Check the command name and your PATH.')
          resolve(127)
        } else {
          io.stderr(`❌ Error: cannot run ${command}: ${error.message}`)
          resolve(126)
        }
      })
      child.once('exit', (code, signal) => {
        if (signal) resolve(128 + (osConstants.signals[signal] ?? 0))
        else resolve(code ?? 1)
      })
    })
  } finally {
    for (const remove of forwarders) remove()
  }
}
