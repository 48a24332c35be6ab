import {renameSync, statSync} from 'node:fs'
import {startGatewayServer, type ApiHandler, type GatewayRoute, type GatewayServerHandle} from '../llm_gateway/server.js'
import {ProviderHealth} from '../llm_gateway/health.js'
import {VERSION} from '../version.js'
import {apiKeyStatus, defaultGatewayConfig, GatewayConfigError, loadGatewayConfig, type GatewayConfig} from './config.js'
import {startControlServer, type DaemonStatus} from './control.js'
import {loadDaemonFlags, type DaemonFlags} from './flags.js'
import {log, openFileLogger, setLogSink} from './log.js'
import {daemonModules, gatewayPlugins, moduleForFlag, type DaemonModuleInstance} from './modules.js'
import {ensureHome, homePaths} from './paths.js'
import {removePidFile, updatePidFile, writePidFile} from './pidfile.js'
import {probeDaemon} from './probe.js'

/** The log is rotated to daemon.log.1 at start-up once it grows past this. */
const LOG_ROTATE_BYTES = 10 * 1024 * 1024

function rotateLog(file: string): void {
  try {
    if (statSync(file).size > LOG_ROTATE_BYTES) renameSync(file, `${file}.1`)
  } catch {
    // No log yet.
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * `cco daemon run`: the daemon in the foreground. Binds the control endpoint, writes
 * the PID file, starts the gateway and the optional modules per the flags, and serves
 * until SIGTERM/SIGINT. Resolves with the exit code once shut down.
 */
export async function runDaemon(home: string): Promise<number> {
  ensureHome(home)
  const paths = homePaths(home)
  rotateLog(paths.logFile)
  const fileLog = openFileLogger(paths.logFile)
  setLogSink(fileLog.sink)
  const fail = (message: string): number => {
    log.error(message)
    process.stderr.write(`❌ ${message}\n`)
    fileLog.close()
    setLogSink(null)
    return 1
  }

  const existing = await probeDaemon(home)
  if (existing.state === 'running' && existing.pidFile.pid !== process.pid) {
    return fail(`Another cco daemon is already running (pid ${existing.pidFile.pid}, control port ${existing.pidFile.port}). Stop it first: cco daemon stop`)
  }

  let flags: DaemonFlags
  try {
    flags = loadDaemonFlags(home)
  } catch (error) {
    return fail(describeError(error))
  }

  const startedAt = new Date()
  log.info(`🚀 cco daemon ${VERSION} starting (pid ${process.pid}, home ${home})`)
  log.info(`Flags: gatewayEnabled=${flags.gatewayEnabled} proxyEnabled=${flags.proxyEnabled}`)

  const status: DaemonStatus = {
    pid: process.pid,
    version: VERSION,
    started_at: startedAt.toISOString(),
    uptime_seconds: 0,
    state: 'starting',
    home,
    port: 0,
    gateway_port: null,
    flags,
    gateway: {state: flags.gatewayEnabled ? 'starting' : 'disabled'},
  }
  const modules: DaemonModuleInstance[] = []
  const control = await startControlServer(() => {
    const sections = Object.assign({}, ...modules.map((m) => m.status())) as Record<string, unknown>
    return {...status, ...sections, uptime_seconds: Math.floor((Date.now() - startedAt.getTime()) / 1000)}
  })
  status.port = control.port
  try {
    writePidFile(home, {pid: process.pid, started_at: status.started_at, port: control.port, gateway_port: null, version: VERSION})
  } catch (error) {
    await control.close()
    return fail(`Cannot write the PID file ${paths.pidFile}: ${describeError(error)}. Check that ${home} is writable and daemon.pid is a regular file.`)
  }
  log.info(`✅ Daemon control endpoint listening on 127.0.0.1:${control.port}`)

  // Shutdown is armed before the servers start, so a SIGTERM during start-up is honoured.
  let shuttingDown = false
  let resolveExit: (code: number) => void = () => {}
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve
  })
  const closers: Array<{name: string; close: () => Promise<void>}> = []
  const shutdown = async (signal: string) => {
    if (shuttingDown) return
    shuttingDown = true
    status.state = 'stopping'
    log.info(`Received ${signal}, shutting down`)
    for (const {name, close} of closers.reverse()) {
      try {
        await close()
      } catch (error) {
        log.warn(`Error while stopping ${name}: ${describeError(error)}`)
      }
    }
    await control.close()
    removePidFile(home, process.pid)
    log.info(`Daemon stopped (pid ${process.pid})`)
    fileLog.close()
    setLogSink(null)
    resolveExit(0)
  }
  const onSignal = (signal: NodeJS.Signals) => void shutdown(signal)
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  process.on('uncaughtException', (error) => {
    log.error(`Fatal: uncaught exception: ${error.stack ?? error.message}`)
    fileLog.flush()
    removePidFile(home, process.pid)
    process.exit(1)
  })
  process.on('SIGHUP', () => log.info('Received SIGHUP (ignored; use cco daemon restart to reload config)'))

  // Loaded whatever the gateway flag says: the legacy proxy's allow-list comes from the same providers.
  let gatewayConfig: GatewayConfig | null = null
  let configError: string | null = null
  try {
    gatewayConfig = loadGatewayConfig(home)
  } catch (error) {
    configError = error instanceof GatewayConfigError ? error.message : describeError(error)
  }

  if (flags.gatewayEnabled) {
    const gateway = gatewayConfig ? await startGateway(home, gatewayConfig) : null
    if (gateway && 'handle' in gateway) {
      const port = gateway.handle.port
      closers.push({name: 'LLM Gateway', close: gateway.close})
      status.gateway = {state: 'running'}
      status.gateway_port = port
      log.info(`✅ LLM Gateway started on port ${port}`)
      updatePidFile(home, {gateway_port: port})
      log.info(`✅ PID file updated with gateway port: ${port}`)
    } else {
      const reason = configError ?? (gateway && 'error' in gateway ? gateway.error : 'unknown error')
      status.gateway = {state: 'failed', error: reason}
      log.error(`LLM Gateway initialization error: ${reason}`)
      // The plan's Phase 2 change 2, verbatim.
      log.warn('❌ CRITICAL: LLM Gateway failed to initialize')
      log.warn('   Claude Code will NOT function without the gateway.')
      log.warn('   Check orchestra-config.json for llmGateway configuration.')
      log.warn('   Daemon will continue, but Claude Code launches will fail.')
    }
  } else {
    log.info('ℹ️  LLM Gateway disabled (gatewayEnabled=false in config/daemon-config.json)')
  }

  // Optional modules (the legacy proxy until Phase 3) start themselves per their flag.
  for (const module of daemonModules) {
    try {
      const instance = await module.start({
        home,
        flags,
        config: gatewayConfig ?? defaultGatewayConfig(home),
        configError,
        log,
        updatePidFields: (fields) => updatePidFile(home, fields),
      })
      modules.push(instance)
      closers.push({name: module.name, close: () => instance.close()})
    } catch (error) {
      log.warn(`Optional module ${module.name} failed to start: ${describeError(error)}`)
    }
  }
  if (!flags.proxyEnabled) {
    log.info('ℹ️  HTTP Proxy disabled - Gateway handles all LLM routing')
  } else if (!moduleForFlag('proxyEnabled')) {
    log.warn('⚠️  proxyEnabled is set in config/daemon-config.json, but no legacy proxy module is installed in this build (removed in Phase 3 of the cutover); nothing to start')
  }

  if (!flags.gatewayEnabled && !flags.proxyEnabled) {
    log.warn('⚠️  No LLM routing mechanism enabled (gatewayEnabled=false, proxyEnabled=false); cco launch will fail')
  }

  if (!shuttingDown) {
    status.state = 'running'
    log.info(`✅ Daemon ready (pid ${process.pid}, control port ${control.port})`)
  }
  return exited
}

type GatewayStart = {handle: GatewayServerHandle; close: () => Promise<void>} | {error: string}

async function startGateway(home: string, config: GatewayConfig): Promise<GatewayStart> {
  try {
    const health = new ProviderHealth(config)
    for (const provider of Object.values(config.providers)) {
      const key = apiKeyStatus(provider)
      if (provider.enabled && !key.present) {
        log.warn(`⚠️  Provider ${provider.name}: API key env var ${key.envVar} is not set (provider unhealthy)`)
      }
    }
    const routes: GatewayRoute[] = []
    const apiHandlers: ApiHandler[] = []
    const pluginClosers: Array<() => Promise<void>> = []
    for (const loadFactory of gatewayPlugins) {
      const factory = await loadFactory()
      const plugin = await factory({config, home, log, health})
      routes.push(...(plugin.routes ?? []))
      if (plugin.apiHandler) apiHandlers.push(plugin.apiHandler)
      if (plugin.close) pluginClosers.push(plugin.close)
    }
    const apiHandler: ApiHandler | undefined =
      apiHandlers.length === 0
        ? undefined
        : async (req, res) => {
            for (const handler of apiHandlers) if (await handler(req, res)) return true
            return false
          }
    const providers = Object.values(config.providers)
    log.info('✅ LLM Gateway initialized successfully')
    log.info(
      `   Providers: ${providers.map((p) => `${p.name} (${p.providerType}${p.enabled ? '' : ', disabled'})`).join(', ')}; default: ${config.routing.defaultProvider}; config: ${config.source}`,
    )
    const handle = await startGatewayServer({config, home, log, health, routes, apiHandler})
    return {
      handle,
      close: async () => {
        await handle.close()
        for (const close of pluginClosers) await close()
      },
    }
  } catch (error) {
    return {error: describeError(error)}
  }
}
