import {createServer, request, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {DaemonFlags} from './flags.js'
import {applyClientLimits} from './http_limits.js'

/**
 * `GET /daemon/status` on the control port. Optional daemon modules (daemon/modules.ts)
 * add their own top-level sections.
 */
export interface DaemonStatus {
  pid: number
  version: string
  started_at: string
  uptime_seconds: number
  /** starting: servers coming up; running: ready; stopping: shutting down. */
  state: 'starting' | 'running' | 'stopping'
  home: string
  port: number
  gateway_port: number | null
  flags: DaemonFlags
  gateway: {state: 'running' | 'disabled' | 'failed' | 'starting'; error?: string}
  /** Sections contributed by optional modules. */
  [moduleSection: string]: unknown
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}

/** The control endpoint, bound to 127.0.0.1 only; non-loopback peers get 403 anyway. */
export async function startControlServer(getStatus: () => DaemonStatus): Promise<{port: number; server: Server; close(): Promise<void>}> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body)
      res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
      res.end(text)
    }
    if (!isLoopback(req.socket.remoteAddress)) return send(403, {error: 'the daemon control endpoint only answers loopback clients'})
    // Origin-form only; "//x" must not be parsed as a host (new URL would throw on "//%00" and crash the daemon).
    const path = req.url?.startsWith('/') ? req.url.split('?')[0]! : null
    if (path === null) return send(400, {error: 'the request target must be a path such as /daemon/status'})
    if (path === '/daemon/status') {
      if (req.method !== 'GET') return send(405, {error: `method ${req.method} not allowed`})
      return send(200, getStatus())
    }
    send(404, {error: `not found: ${path}`})
  })
  // Only tiny GETs come here: short deadlines.
  applyClientLimits(server, {headersTimeoutMs: 5000, requestTimeoutMs: 10_000, errorBody: (_status, message) => ['application/json', JSON.stringify({error: message})]})
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

export type StatusFetchResult = {ok: true; status: DaemonStatus} | {ok: false; error: string; timedOut: boolean}

/** GET http://127.0.0.1:<port>/daemon/status with a timeout. */
export function fetchDaemonStatus(port: number, timeoutMs = 2000): Promise<StatusFetchResult> {
  return new Promise((resolve) => {
    const req = request({host: '127.0.0.1', port, path: '/daemon/status', method: 'GET', timeout: timeoutMs, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve({ok: false, error: `control endpoint answered HTTP ${res.statusCode}`, timedOut: false})
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as DaemonStatus
          if (typeof body.pid !== 'number') return resolve({ok: false, error: 'control endpoint answered without a pid', timedOut: false})
          resolve({ok: true, status: body})
        } catch {
          resolve({ok: false, error: 'control endpoint answered invalid JSON', timedOut: false})
        }
      })
      res.on('error', (error) => resolve({ok: false, error: error.message, timedOut: false}))
    })
    req.on('timeout', () => {
      req.destroy()
      resolve({ok: false, error: `no answer within ${timeoutMs} ms`, timedOut: true})
    })
    req.on('error', (error) => resolve({ok: false, error: error.message, timedOut: false}))
    req.end()
  })
}
