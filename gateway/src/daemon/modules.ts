import type {GatewayPlugin, GatewayPluginContext} from '../llm_gateway/server.js'
import type {GatewayConfig} from './config.js'
import type {Logger} from './log.js'

/*
 * The one place where optional daemon modules are registered.
 *
 * Legacy proxy: Phase 3 of the cutover deletes gateway/src/proxy/ and the single
 * marked line below; everything else compiles unchanged (the daemon then reports the
 * proxy as unavailable if proxyEnabled is still set).
 *
 * Gateway plugins: the request path and the evidence layer add one line each to
 * `gatewayPlugins`; the daemon mounts their routes and API handler on the gateway.
 */

export interface LegacyProxyOptions {
  /** Providers' baseUrl hosts are the only allowed targets. */
  config: GatewayConfig
  log: Logger
  host?: string
  port?: number
}

export interface LegacyProxyHandle {
  port: number
  close(): Promise<void>
}

export interface LegacyProxyModule {
  startProxyServer(options: LegacyProxyOptions): Promise<LegacyProxyHandle>
}

const legacyProxyLoaders: Array<() => Promise<LegacyProxyModule>> = [
  () => import('../proxy/index.js'), // LEGACY PROXY: Phase 3 deletes this line and gateway/src/proxy/
]

/** The legacy proxy module, or null once its code has been removed. */
export async function loadLegacyProxy(): Promise<LegacyProxyModule | null> {
  const load = legacyProxyLoaders[0]
  return load ? load() : null
}

export type GatewayPluginFactory = (ctx: GatewayPluginContext) => Promise<GatewayPlugin>

/** Gateway layers, mounted in order (their routes after the built-in ones; API handlers chained). */
export const gatewayPlugins: Array<() => Promise<GatewayPluginFactory>> = [
  // e.g. async () => (await import('../llm_gateway/api.js')).createApiPlugin,
]
