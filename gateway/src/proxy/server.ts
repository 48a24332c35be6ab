/*
 * The legacy HTTP forward proxy (the system the cutover retires), kept faithful to its
 * limits: whole responses are buffered (no streaming) and every upstream connection is
 * `Connection: close`. Unlike the old one it reads request bodies whole (no 64 KB
 * truncation) and it is not an open proxy: only configured providers' host:port are
 * allowed, anything else gets 403.
 *
 * Plugged into the daemon by ./index.ts (registered in daemon/modules.ts); Phase 3 deletes
 * this folder and that one line.
 */
import {createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {connect, type AddressInfo, type Socket} from 'node:net'
import type {GatewayConfig} from '../daemon/config.js'
import {applyClientLimits, endAfterRequestDrained, readBodyUpTo} from '../daemon/http_limits.js'
import {logValue, type Logger} from '../daemon/log.js'

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

/** Request bodies above this are refused with 413 (they are otherwise read whole). */
export const MAX_PROXY_BODY_BYTES = 32 * 1024 * 1024

const HOP_BY_HOP = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
])

function normalizeHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase()
}

/** "host:port" targets the proxy may reach: every configured provider's baseUrl (default port by scheme). */
export function allowedTargets(config: GatewayConfig): Set<string> {
  const out = new Set<string>()
  for (const provider of Object.values(config.providers)) {
    try {
      const url = new URL(provider.baseUrl)
      const port = url.port || (url.protocol === 'https:' ? '443' : '80')
      out.add(`${normalizeHost(url.hostname)}:${port}`)
    } catch {
      // Validated config never gets here.
    }
  }
  return out
}

function stripHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  )
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue
    out[name] = value
  }
  return out
}

/** A plain-text refusal sent before the request body was read: ended once the client has sent it all. */
function plainRefusal(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  endAfterRequestDrained(req, res, status, {'content-type': 'text/plain; charset=utf-8'}, message)
}

function plainResponse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, {'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(message), connection: 'close'})
  res.end(message)
}

export async function startProxyServer(options: LegacyProxyOptions): Promise<LegacyProxyHandle> {
  const {log} = options
  const allowed = allowedTargets(options.config)
  const tunnels = new Set<Socket>()
  const forbidden = (target: string) =>
    `cco legacy proxy: forwarding to ${target} is not allowed (only configured LLM providers: ${[...allowed].join(', ') || 'none'})\n`

  const server = createServer((req, res) => {
    void forward(req, res).catch((error: unknown) => {
      log.warn(`Proxy: ${logValue(req.method)} ${logValue(req.url)} failed: ${logValue((error as Error).message)}`)
      if (!res.headersSent) plainResponse(res, 502, `cco legacy proxy: upstream error: ${(error as Error).message}\n`)
      else res.destroy()
    })
  })

  applyClientLimits(server, {
    headersTimeoutMs: options.config.server.headersTimeoutMs,
    requestTimeoutMs: options.config.server.requestTimeoutMs,
    errorBody: (_status, message) => ['text/plain; charset=utf-8', `cco legacy proxy: ${message}\n`],
  })

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL
    try {
      url = new URL(req.url ?? '')
    } catch {
      plainRefusal(req, res, 400, 'cco legacy proxy: expected an absolute-form request (use it as HTTP_PROXY/HTTPS_PROXY)\n')
      return
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      plainRefusal(req, res, 400, `cco legacy proxy: unsupported scheme ${url.protocol}\n`)
      return
    }
    const port = url.port || (url.protocol === 'https:' ? '443' : '80')
    const target = `${normalizeHost(url.hostname)}:${port}`
    if (!allowed.has(target)) {
      log.warn(`Proxy: refused ${logValue(req.method)} to ${logValue(target)} (not a configured provider)`)
      plainRefusal(req, res, 403, forbidden(target))
      return
    }
    const read = await readBodyUpTo(req, MAX_PROXY_BODY_BYTES)
    if (read.kind === 'aborted') return
    if (read.kind === 'too_large') {
      plainRefusal(req, res, 413, `cco legacy proxy: request body larger than ${MAX_PROXY_BODY_BYTES} bytes\n`)
      return
    }
    const body = read.body
    const headers = stripHopByHop(req.headers)
    headers.host = url.host
    headers.connection = 'close'
    headers['content-length'] = String(body.length)
    const started = Date.now()
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const upstream = await new Promise<{status: number; headers: IncomingHttpHeaders; body: Buffer}>((resolve, reject) => {
      const upReq = send(
        {hostname: url.hostname, port, method: req.method, path: `${url.pathname}${url.search}`, headers},
        (upRes) => {
          // Faithful to the old proxy: the whole response is buffered before anything is sent back.
          const chunks: Buffer[] = []
          upRes.on('data', (c: Buffer) => chunks.push(c))
          upRes.on('end', () => resolve({status: upRes.statusCode ?? 502, headers: upRes.headers, body: Buffer.concat(chunks)}))
          upRes.on('error', reject)
        },
      )
      upReq.on('error', reject)
      upReq.end(body)
    })
    const outHeaders = stripHopByHop(upstream.headers)
    outHeaders['content-length'] = String(upstream.body.length)
    outHeaders.connection = 'close'
    log.info(`Proxy: ${logValue(req.method)} ${logValue(`${url.origin}${url.pathname}`)} -> ${upstream.status} (${body.length} bytes in, ${upstream.body.length} bytes out, ${Date.now() - started} ms)`)
    res.writeHead(upstream.status, outHeaders)
    res.end(upstream.body)
  }

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    // First thing: the socket left the HTTP server (its error listener is gone). A client that resets
    // after a refusal or inside the tunnel must not become an uncaught exception (issue 13 item 1).
    let upstream: Socket | null = null
    client.on('error', () => upstream?.destroy())
    const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '')
    const reply = (status: string, message: string) => {
      client.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(message)}\r\nconnection: close\r\n\r\n${message}`)
    }
    if (!match) {
      reply('400 Bad Request', 'cco legacy proxy: CONNECT needs host:port\n')
      return
    }
    const host = normalizeHost(match[1] as string)
    const port = Number(match[2])
    const target = `${host}:${port}`
    if (!allowed.has(target)) {
      log.warn(`Proxy: refused CONNECT to ${logValue(target)} (not a configured provider)`)
      reply('403 Forbidden', forbidden(target))
      return
    }
    const up = connect(port, host)
    upstream = up
    let established = false
    tunnels.add(client)
    client.on('close', () => {
      tunnels.delete(client)
      // The client went away before or inside the tunnel: nothing is left to carry.
      up.destroy()
    })
    up.on('error', (error) => {
      log.warn(`Proxy: CONNECT ${logValue(target)} failed: ${logValue(error.message)}`)
      if (established) client.destroy()
      else reply('502 Bad Gateway', `cco legacy proxy: cannot reach ${target}\n`)
    })
    up.once('connect', () => {
      if (client.destroyed) return
      established = true
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) up.write(head)
      up.pipe(client)
      client.pipe(up)
      log.info(`Proxy: CONNECT tunnel to ${logValue(target)}`)
    })
    up.on('close', () => {
      if (established) client.destroy()
    })
  })

  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const {port} = server.address() as AddressInfo
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of tunnels) socket.destroy()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
