import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {GatewayConfig} from '../daemon/config.js'
import {applyClientLimits} from '../daemon/http_limits.js'
import {logValue, type Logger} from '../daemon/log.js'
import {buildHealthReport, buildProvidersReport, ProviderHealth} from './health.js'
import {pathProblem} from './paths.js'

/*
 * The LLM Gateway's HTTP server. It owns only the process surface (health, providers)
 * and dispatch: a small route table (exact path + method), then the optional API
 * handler (the request path, which reads bodies itself), then a 404 in Anthropic's
 * error envelope. Adding an endpoint is one entry in `routes`.
 */

export interface RouteContext {
  url: URL
  config: GatewayConfig
  health: ProviderHealth
  home: string
  log: Logger
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => void | Promise<void>

export interface GatewayRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'
  /** Exact path, without the query string. */
  path: string
  handler: RouteHandler
}

/** Returns true when it handled the request (it then owns the response). */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>

/** What other gateway layers (request path, evidence) plug into the server. */
export interface GatewayPlugin {
  routes?: GatewayRoute[]
  apiHandler?: ApiHandler
  close?(): Promise<void>
}

export interface GatewayPluginContext {
  config: GatewayConfig
  home: string
  log: Logger
  health: ProviderHealth
}

export interface StartGatewayOptions {
  config: GatewayConfig
  home: string
  log: Logger
  /** Default: config.server.host (127.0.0.1). */
  host?: string
  /** Default 0 (a free port). */
  port?: number
  apiHandler?: ApiHandler
  /** Extra routes, matched after the built-in ones. */
  routes?: GatewayRoute[]
  /** Share a registry with the request path; created from config + env when absent. */
  health?: ProviderHealth
  /** How long close() lets in-flight requests finish before cutting connections. Default 5000 ms. */
  drainMs?: number
}

export interface GatewayServerHandle {
  port: number
  host: string
  server: Server
  health: ProviderHealth
  close(): Promise<void>
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}

/** Anthropic's error envelope: {"type":"error","error":{"type":...,"message":...}}. */
export function sendAnthropicError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, {type: 'error', error: {type, message}})
}

const BUILTIN_ROUTES: GatewayRoute[] = [
  {
    method: 'GET',
    path: '/gateway/health',
    handler(_req, res, ctx) {
      const report = buildHealthReport(ctx.config, ctx.health, startedAtOf(ctx))
      sendJson(res, report.status === 'unhealthy' ? 503 : 200, report)
    },
  },
  {
    method: 'GET',
    path: '/gateway/providers',
    handler(_req, res, ctx) {
      sendJson(res, 200, buildProvidersReport(ctx.config, ctx.health))
    },
  },
]

const startTimes = new WeakMap<ProviderHealth, number>()
function startedAtOf(ctx: RouteContext): number {
  return startTimes.get(ctx.health) ?? Date.now()
}

/**
 * The request target as a URL, origin-form only: "//x" is a path here, not a host (a base-relative
 * parse would read it as one, or throw on "//%00"). Null when the target is not a path.
 */
export function originFormUrl(target: string | undefined, host: string): URL | null {
  if (!target?.startsWith('/')) return null
  try {
    return new URL(`http://${host}${target}`)
  } catch {
    return null
  }
}

/** A path the URL parser leaves as it is (no dot segments, escapes or a leading "//"). */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9_\-/]*$/

export async function startGatewayServer(opts: StartGatewayOptions): Promise<GatewayServerHandle> {
  const health = opts.health ?? new ProviderHealth(opts.config)
  startTimes.set(health, Date.now())
  const routes = [...BUILTIN_ROUTES, ...(opts.routes ?? [])]
  const host = opts.host ?? opts.config.server.host

  let draining = false
  const server = createServer((req, res) => {
    // While closing, a busy keep-alive client would keep its connection alive forever (Node keeps
    // serving requests on open connections after server.close()): answer, then close the connection.
    if (draining) res.setHeader('connection', 'close')
    void dispatch(req, res).catch((error: unknown) => {
      opts.log.error(`Gateway: unhandled error for ${logValue(req.method)} ${logValue(req.url)}: ${logValue((error as Error).message)}`)
      if (!res.headersSent) sendAnthropicError(res, 500, 'api_error', 'Internal gateway error')
      else res.destroy()
    })
  })

  applyClientLimits(server, {
    headersTimeoutMs: opts.config.server.headersTimeoutMs,
    requestTimeoutMs: opts.config.server.requestTimeoutMs,
    errorBody: (status, message) => ['application/json', JSON.stringify({type: 'error', error: {type: status === 408 ? 'timeout_error' : status === 413 || status === 431 ? 'request_too_large' : 'invalid_request_error', message}})],
  })

  const routePaths = new Set(routes.map((r) => r.path))

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // API traffic (/v1/messages?beta=true) is not a route: a plain path that no route has goes
    // straight to the API handler without a URL parse (a plain path is its own URL pathname).
    const target = req.url ?? ''
    const q = target.indexOf('?')
    const rawPath = q === -1 ? target : target.slice(0, q)
    // Dot segments, encoded slashes, backslashes, "//" and bad escapes are refused before routing:
    // nothing downstream resolves them (issue 13 item 3). "*" and absolute-form get the check below.
    const problem = rawPath.startsWith('/') ? pathProblem(rawPath) : null
    if (problem) {
      sendAnthropicError(res, 400, 'invalid_request_error', problem)
      return
    }
    if (opts.apiHandler && PLAIN_PATH.test(rawPath) && !routePaths.has(rawPath)) {
      if (await opts.apiHandler(req, res)) return
      sendAnthropicError(res, 404, 'not_found_error', `Not found: ${req.method} ${rawPath}`)
      return
    }
    const url = originFormUrl(req.url, 'gateway.local')
    if (!url) {
      sendAnthropicError(res, 400, 'invalid_request_error', 'The request target must be a path such as /v1/messages (this is not a proxy)')
      return
    }
    const samePath = routes.filter((r) => r.path === url.pathname)
    const route = samePath.find((r) => r.method === req.method)
    if (route) {
      await route.handler(req, res, {url, config: opts.config, health, home: opts.home, log: opts.log})
      return
    }
    if (opts.apiHandler && (await opts.apiHandler(req, res))) return
    if (samePath.length > 0) {
      res.setHeader('allow', samePath.map((r) => r.method).join(', '))
      sendAnthropicError(res, 405, 'invalid_request_error', `Method ${req.method} not allowed for ${url.pathname}`)
      return
    }
    sendAnthropicError(res, 404, 'not_found_error', `Not found: ${req.method} ${url.pathname}`)
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port

  let closing: Promise<void> | null = null
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      draining = true
      const timer = setTimeout(() => server.closeAllConnections(), opts.drainMs ?? 5000)
      timer.unref()
      server.close(() => {
        clearTimeout(timer)
        resolve()
      })
      server.closeIdleConnections()
    })
    return closing
  }

  return {port, host, server, health, close}
}
