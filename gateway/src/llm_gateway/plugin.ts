/**
 * The live gateway's request path and evidence as one gateway plugin (registered in
 * daemon/modules.ts):
 *
 *   /v1/...                       createApiHandler, one RequestRecord per request -> evidence.sink
 *   GET  /gateway/metrics         JSON metrics, all-time from the audit database (?window=15m|1h|24h|3d)
 *   GET  /gateway/audit           audit rows (loopback peers only: it can hold request bodies)
 *   GET  /metrics                 Prometheus text exposition
 *   POST /gateway/metrics/reset   loopback peers only
 *
 * Provider outcomes feed both /gateway/health (ProviderHealth) and gateway_provider_up, so
 * the two always agree; audit write failures turn /gateway/health "degraded".
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {isLoopback} from '../daemon/control.js'
import {VERSION} from '../version.js'
import {createApiHandler} from './api.js'
import {createEvidence, type Handler} from './evidence.js'
import type {GatewayPlugin, GatewayPluginContext, GatewayRoute} from './server.js'

export interface LlmGatewayPluginOptions {
  /** Audit flush period (default 50 ms). */
  flushIntervalMs?: number
}

function refuseRemote(handler: Handler, what: string): GatewayRoute['handler'] {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (!isLoopback(req.socket.remoteAddress)) {
      req.resume()
      const body = JSON.stringify({type: 'error', error: {type: 'permission_error', message: `${what} only answers loopback clients (127.0.0.1 / ::1)`}})
      res.writeHead(403, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)})
      res.end(body)
      return
    }
    handler(req, res)
  }
}

export async function createLlmGatewayPlugin(ctx: GatewayPluginContext, options: LlmGatewayPluginOptions = {}): Promise<GatewayPlugin> {
  const {config, home, log, health} = ctx
  const evidence = createEvidence({
    home,
    audit: config.audit,
    costTracking: config.costTracking,
    providers: config.providers,
    log,
    version: VERSION,
    flushIntervalMs: options.flushIntervalMs,
    providerUpFromRecords: false,
  })

  // gateway_provider_up mirrors /gateway/health's view of each provider.
  for (const name of Object.keys(config.providers)) evidence.setProviderUp(name, health.isHealthy(name))
  health.onProviderChange((provider, healthy) => evidence.setProviderUp(provider, healthy))
  health.addCheck('audit', () => evidence.healthStatus())

  const api = createApiHandler({
    config,
    log,
    health,
    onRecord: evidence.sink,
    costHeader: (input) => evidence.costHeaderFor(input),
  })

  const routes: GatewayRoute[] = [
    {method: 'GET', path: '/gateway/metrics', handler: (req, res) => evidence.handleMetrics(req, res)},
    {method: 'GET', path: '/gateway/audit', handler: refuseRemote(evidence.handleAudit, 'GET /gateway/audit')},
    {method: 'GET', path: '/metrics', handler: (req, res) => evidence.handlePrometheus(req, res)},
    {method: 'POST', path: '/gateway/metrics/reset', handler: refuseRemote(evidence.handleMetricsReset, 'POST /gateway/metrics/reset')},
  ]

  let closed = false
  return {
    routes,
    apiHandler: api,
    async close() {
      if (closed) return
      closed = true
      // The server has drained by now: every record is in the sink; write them all, then close the DB.
      await api.close().catch((error: unknown) => log.warn(`closing upstream connections: ${(error as Error).message}`))
      await evidence.flush()
      await evidence.close()
      log.info(`Audit log flushed and closed (${evidence.dbPath})`)
    },
  }
}
