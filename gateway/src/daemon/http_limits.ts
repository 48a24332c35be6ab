/**
 * Limits every listener of the daemon (gateway, control port, legacy proxy) and the mock
 * provider apply to clients: a deadline for the request head and for the whole request (slow
 * clients cannot hold sockets), checked every second rather than Node's default 30 s, and
 * parser-level client errors (bad framing, smuggling patterns, header injection, oversize
 * heads, timeouts) answered in the listener's own error envelope and the connection closed.
 */
import type {IncomingMessage, Server, ServerResponse} from 'node:http'
import type {Socket} from 'node:net'
import type {Duplex} from 'node:stream'

/** Time a client has to send the request line and headers. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000
/** Time a client has to send the whole request (head and body); responses (streams) are not limited. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000

export interface ClientLimits {
  headersTimeoutMs?: number
  requestTimeoutMs?: number
  /** The listener's error body for a status and message: [content-type, body]. */
  errorBody(status: number, message: string): [string, string]
}

const REASONS: Record<number, string> = {400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large', 431: 'Request Header Fields Too Large'}

/** Maps a parser error to a status and a message that says what was wrong (never echoes the bytes). */
export function describeClientError(error: NodeJS.ErrnoException): {status: number; message: string} {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {status: 408, message: 'the request (headers and body) was not received in time; send it at once'}
    case 'HPE_HEADER_OVERFLOW':
      return {status: 431, message: 'the request headers are too large'}
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return {status: 400, message: 'the request has both Content-Length and Transfer-Encoding; send only one'}
    case 'HPE_INVALID_CONTENT_LENGTH':
      return {status: 400, message: 'the Content-Length header is invalid (conflicting or not a number)'}
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return {status: 400, message: 'the Transfer-Encoding header is invalid (only "chunked" as the last coding is accepted)'}
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return {status: 400, message: 'a request header is malformed (invalid character, bare CR/LF or folded line)'}
    case 'HPE_INVALID_CHUNK_SIZE':
      return {status: 400, message: 'the chunked request body is malformed (invalid chunk size)'}
    default:
      return {status: 400, message: 'the request is not valid HTTP/1.1'}
  }
}

/**
 * The error listener every accepted socket gets first. A client can reset its connection at any
 * moment (during the head, after a refusal, mid-body, mid-stream, inside a CONNECT tunnel); the
 * HTTP server's own listener is removed when a socket leaves HTTP (CONNECT, upgrade) and an
 * 'error' event with no listener is an uncaught exception that would end the whole daemon. A
 * reset says nothing the request handlers do not learn from 'close', so it is dropped here.
 */
function ignoreSocketError(): void {
  // A client that went away: nothing to do (the request's own close/abort handling cleans up).
}

/** Gives every socket of `server` an error listener from the moment it is accepted. */
export function guardSockets(server: Server): void {
  server.on('connection', (socket: Socket) => {
    socket.on('error', ignoreSocketError)
  })
}

/**
 * Applies the deadlines and the client-error answer to a server (call before listen), and the
 * socket error guard (guardSockets): every listener of the daemon and the mock calls this.
 */
export function applyClientLimits(server: Server, limits: ClientLimits): void {
  guardSockets(server)
  const headersTimeout = limits.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS
  const requestTimeout = Math.max(limits.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeout)
  server.headersTimeout = headersTimeout
  server.requestTimeout = requestTimeout
  // Node checks the deadlines on this period (default 30 s, which would triple a short limit).
  ;(server as Server & {connectionsCheckingInterval: number}).connectionsCheckingInterval = Math.min(1000, headersTimeout)
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Like Node's default: answer only if nothing was written on this connection yet (else a response is already out).
    if (error.code === 'ECONNRESET' || !socket.writable || (socket as Socket).bytesWritten > 0) {
      socket.destroy()
      return
    }
    const {status, message} = describeClientError(error)
    const [contentType, body] = limits.errorBody(status, message)
    socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Bad Request'}\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  })
}

export type BodyResult = {kind: 'ok'; body: Buffer} | {kind: 'too_large'; size: number} | {kind: 'aborted'}

/**
 * Reads a request body up to `limit` bytes. Beyond it (declared or streamed) it stops collecting and
 * answers too_large at once, without buffering the rest; the caller then answers with
 * `endAfterRequestDrained`, which reads and drops what the client still sends.
 */
export function readBodyUpTo(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({kind: 'too_large', size: declared})
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (r: BodyResult): void => {
      if (done) return
      done = true
      req.removeListener('data', onData)
      resolve(r)
    }
    const onData = (c: Buffer): void => {
      size += c.length
      if (size > limit) {
        chunks.length = 0
        finish({kind: 'too_large', size})
        return
      }
      chunks.push(c)
    }
    req.on('data', onData)
    req.once('end', () => finish({kind: 'ok', body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)}))
    req.once('error', () => finish({kind: 'aborted'}))
    req.once('close', () => {
      if (!req.complete) finish({kind: 'aborted'})
    })
  })
}

/**
 * Sends a response to a request whose body was not read (too large, refused) and ends it only once the
 * client has finished sending, reading and dropping the rest of the body. Why: the connection is closed
 * after this answer, and a socket closed with unread bytes is reset; the reset makes the client's pending
 * write fail (EPIPE, ECONNRESET) and can discard the answer before the client reads it. A client that
 * never finishes is cut by the server's request timeout, after the answer has been flushed.
 */
export function endAfterRequestDrained(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string | string[] | number>, body: string): void {
  res.writeHead(status, {...headers, 'content-length': Buffer.byteLength(body), connection: 'close'})
  res.write(body)
  const end = (): void => {
    if (!res.writableEnded) res.end()
  }
  if (req.complete || req.destroyed) {
    end()
    return
  }
  req.once('end', end)
  req.once('close', end)
  req.once('error', end)
  req.resume()
}
