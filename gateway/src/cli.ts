import {runLauncher} from './commands/launcher.js'
import type {DaemonStatus} from './daemon/control.js'
import {
  daemonStatus,
  formatStatusLines,
  restartDaemon,
  startDaemon,
  stopDaemon,
  type LifecycleOutput,
  type StartResult,
  type StopResult,
} from './daemon/lifecycle.js'
import {homePaths, resolveHome} from './daemon/paths.js'
import {runDaemon} from './daemon/run.js'
import {VERSION} from './version.js'

const USAGE = `cco ${VERSION}: the reference cco daemon (LLM Gateway, legacy HTTP proxy, launcher)

Usage:
  cco daemon start [--json]      start the daemon in the background (waits until ready)
  cco daemon stop [--json]       stop it (SIGTERM, then SIGKILL after a grace period)
  cco daemon restart [--json]    stop + start
  cco daemon status [--json]     show whether it runs (exit 0 running, 3 not running)
  cco daemon run                 run the daemon in the foreground
  cco launch [--] [command [args...]]
                                 run Claude Code (default: claude) wired to the gateway or proxy
  cco mock-provider [options]    run the mock LLM provider (see: cco mock-provider --help)
  cco --version                  print the version
  cco help                       this help

Home: $CCO_HOME (default ~/.cco): daemon.pid, daemon.log, config/daemon-config.json, orchestra-config.json
Exit codes: 0 ok, 1 failure, 2 usage error, 3 daemon not running (status), 127 command not found (launch)
`

function usageError(message: string): number {
  process.stderr.write(`cco: ${message}\n\n${USAGE}`)
  return 2
}

const print = (line: string) => process.stdout.write(`${line}\n`)
const printErr = (line: string) => process.stderr.write(`${line}\n`)
const printJson = (value: unknown) => print(JSON.stringify(value, null, 2))

/** Progress lines; in --json mode they go to stderr so stdout stays one JSON document. */
function lifecycleOutput(json: boolean): LifecycleOutput {
  return {info: json ? printErr : print, warn: printErr}
}

function reportStart(result: StartResult, home: string, json: boolean): number {
  if (json) {
    if (result.result === 'error') printJson({result: 'error', error: result.error, log_tail: result.logTail})
    else printJson({result: result.result, ...result.status})
    return result.result === 'error' ? 1 : 0
  }
  if (result.result === 'error') {
    printErr(`❌ Error: ${result.error}`)
    if (result.logTail.length > 0) {
      printErr(`   Last lines of ${homePaths(home).logFile}:`)
      for (const line of result.logTail) printErr(`   | ${line}`)
    }
    return 1
  }
  const status: DaemonStatus = result.status
  print(result.result === 'started' ? `✅ Daemon started (pid ${status.pid})` : `ℹ️  Daemon is already running (pid ${status.pid})`)
  for (const line of formatStatusLines(status, home)) print(line)
  if (status.gateway.state === 'failed') {
    printErr('❌ CRITICAL: LLM Gateway failed to initialize')
    printErr(`   ${status.gateway.error ?? ''}`.trimEnd())
    printErr('   Claude Code launches will fail until this is fixed. Fix orchestra-config.json, then: cco daemon restart')
  }
  return 0
}

function reportStop(result: StopResult, json: boolean): number {
  if (json) {
    printJson(result)
    return result.result === 'error' ? 1 : 0
  }
  if (result.result === 'error') {
    printErr(`❌ Error: ${result.error}`)
    return 1
  }
  if (result.result === 'stopped') print(`✅ Daemon stopped (pid ${result.pid}${result.escalated ? ', after SIGKILL' : ''})`)
  else print(`ℹ️  Daemon is not running (${result.reason})`)
  return 0
}

async function daemonCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === undefined) return usageError('missing daemon subcommand (start, stop, restart, status, run)')
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    print(USAGE)
    return 0
  }
  const allowed = sub === 'run' ? [] : ['--json']
  for (const arg of rest) {
    if (!allowed.includes(arg)) return usageError(`unknown ${arg.startsWith('-') ? 'flag' : 'argument'} for "daemon ${sub}": ${arg}`)
  }
  const json = rest.includes('--json')
  const home = resolveHome()
  const out = lifecycleOutput(json)
  switch (sub) {
    case 'start':
      return reportStart(await startDaemon(home, out), home, json)
    case 'stop':
      return reportStop(await stopDaemon(home, out), json)
    case 'restart': {
      const {stop, start} = await restartDaemon(home, out)
      if (json) {
        printJson({stop, start: start.result === 'error' ? {result: 'error', error: start.error, log_tail: start.logTail} : {result: start.result, ...start.status}})
        return start.result === 'error' ? 1 : 0
      }
      if (stop.result === 'error') return reportStop(stop, false)
      reportStop(stop, false)
      return reportStart(start, home, false)
    }
    case 'status': {
      const probe = await daemonStatus(home)
      if (json) {
        if (probe.state === 'running') printJson({running: true, ...probe.status})
        else printJson({running: false, state: probe.state, reason: probe.reason, pid_file: homePaths(home).pidFile})
        return probe.state === 'running' ? 0 : 3
      }
      if (probe.state === 'running') {
        print('✅ Daemon is running')
        for (const line of formatStatusLines(probe.status, home)) print(line)
        return 0
      }
      if (probe.state === 'unresponsive') {
        print(`⚠️  Daemon is not responding: ${probe.reason}`)
        print('   Try: cco daemon restart')
        return 3
      }
      print(`Daemon is not running: ${probe.corrupt ? probe.corrupt.message : probe.reason}`)
      return 3
    }
    case 'run': {
      const code = await runDaemon(home)
      // Plugins may hold handles; the daemon is done, so do not linger on them.
      setTimeout(() => process.exit(code), 1000).unref()
      return code
    }
    default:
      return usageError(`unknown daemon subcommand: ${sub}`)
  }
}

/** `cco` command-line entry. Returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      print(USAGE)
      return 0
    case '--version':
    case '-V':
    case 'version':
      print(`cco ${VERSION}`)
      return 0
    case 'daemon':
      return daemonCommand(rest)
    case 'launch': {
      if (rest[0] === '--help' || rest[0] === '-h') {
        print(USAGE)
        return 0
      }
      if (rest[0] === '--') return runLauncher(rest.slice(1), resolveHome())
      if (rest[0]?.startsWith('-')) return usageError(`unknown flag for "launch": ${rest[0]} (put the command after --)`)
      return runLauncher(rest, resolveHome())
    }
    case 'mock-provider': {
      const {runMockProviderCli} = await import('./mock_provider/cli.js')
      return runMockProviderCli(rest)
    }
    default:
      return usageError(command.startsWith('-') ? `unknown flag: ${command}` : `unknown command: ${command}`)
  }
}
