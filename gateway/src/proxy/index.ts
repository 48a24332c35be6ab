/*
 * The legacy HTTP proxy as an optional daemon module: everything the daemon, the PID file,
 * the control endpoint, `cco daemon status` and the launcher know about the proxy lives in
 * this folder, plugged in by the one marked line in daemon/modules.ts. Phase 3 of the
 * cutover deletes this folder and that line (the plan's §3.1-3.2).
 */
import type {DaemonStatus} from '../daemon/control.js'
import type {DaemonModule, ModuleRoute} from '../daemon/modules.js'
import {isPort, PidFileError, readPidFile} from '../daemon/pidfile.js'
import {startProxyServer, type LegacyProxyHandle} from './server.js'

export {allowedTargets, MAX_PROXY_BODY_BYTES, startProxyServer} from './server.js'

/** The `proxy` section of /daemon/status. */
export interface ProxyStatus {
  state: 'running' | 'disabled' | 'failed' | 'starting'
  error?: string
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** The plan's `read_proxy_port`: the running daemon's proxy port. Throws when the daemon or its proxy is not running. */
export function readProxyPort(home: string): number {
  const content = readPidFile(home)
  // The field's type was checked on read by the validator registered below.
  const port = content.proxy_port as number | undefined
  if (port === undefined) throw new Error('Proxy port not set in PID file (HTTP proxy not running)')
  return port
}

function findProxy(home: string): {port: number} | {reason: string} {
  try {
    return {port: readProxyPort(home)}
  } catch (error) {
    return {reason: error instanceof PidFileError ? error.reason : describeError(error)}
  }
}

export const legacyProxyModule: DaemonModule = {
  name: 'legacy HTTP proxy',
  flag: 'proxyEnabled',
  pidFileFields: {
    // Present only while the proxy runs (the original PidFileContent.proxy_port: Option<u16>).
    proxy_port: (value) => (isPort(value) ? null : 'a port number or null'),
  },

  async start(ctx) {
    let status: ProxyStatus = {state: ctx.flags.proxyEnabled ? 'starting' : 'disabled'}
    let port: number | null = null
    let server: LegacyProxyHandle | null = null
    if (ctx.flags.proxyEnabled) {
      if (ctx.configError) ctx.log.warn('Legacy proxy: gateway config is invalid; allowing only the default provider (api.anthropic.com)')
      try {
        server = await startProxyServer({config: ctx.config, log: ctx.log})
        port = server.port
        status = {state: 'running'}
        // The plan's `update_proxy_port`.
        ctx.updatePidFields({proxy_port: port})
        ctx.log.info(`✅ Proxy server started on port ${port}`)
      } catch (error) {
        status = {state: 'failed', error: describeError(error)}
        ctx.log.warn(`Failed to start proxy server: ${describeError(error)}`)
      }
    }
    return {
      status: () => ({proxy_port: port, proxy: status}),
      close: async () => {
        await server?.close()
      },
    }
  },

  statusLines(status: DaemonStatus) {
    const proxy = (status.proxy ?? {state: 'unknown'}) as ProxyStatus
    const line =
      proxy.state === 'running'
        ? `http://127.0.0.1:${String(status.proxy_port)} (legacy HTTP proxy running)`
        : proxy.error
          ? `${proxy.state}: ${proxy.error}`
          : proxy.state
    return [`   Proxy:    ${line}`]
  },

  launchRoute(home, gatewayProblem): ModuleRoute {
    const proxy = findProxy(home)
    if ('port' in proxy) {
      const url = `http://127.0.0.1:${proxy.port}`
      return {
        env: {HTTPS_PROXY: url, HTTP_PROXY: url},
        lines: [`   Proxy: ${url} (HTTP proxy mode)`],
        warnings: [
          gatewayProblem === null
            ? '⚠️  Using legacy HTTP Proxy (gateway disabled)'
            : `⚠️  LLM Gateway not available (${gatewayProblem}); falling back to the legacy HTTP proxy`,
        ],
      }
    }
    if (gatewayProblem !== null) {
      return {
        errors: [
          `❌ Error: LLM Gateway not available: ${gatewayProblem}`,
          `   Legacy HTTP proxy not available either: ${proxy.reason}`,
          '   Try: cco daemon restart',
        ],
      }
    }
    return {errors: ['⚠️  Using legacy HTTP Proxy (gateway disabled)', `❌ Error: Legacy HTTP proxy not available: ${proxy.reason}`, '   Try: cco daemon restart']}
  },
}
