/** Raw TCP HTTP clients: for requests node:http refuses to send (bad framing, injected headers, slow clients). */
import net from 'node:net'

export interface RawResponse {
  /** Everything the server sent. */
  data: Buffer
  /** Status of the first response, or 0 when nothing parseable came back. */
  status: number
  /** Body of the first response (after the blank line). */
  body: string
  /** The server closed the connection (vs. our timeout). */
  closedByServer: boolean
  timedOut: boolean
  /** Milliseconds until the connection ended. */
  elapsedMs: number
}

export interface RawOptions {
  /** Give up (and report timedOut) after this long. */
  timeoutMs?: number
  /** Chunks written one after another, with `gapMs` between them (slow clients). */
  gapMs?: number
  /** Half-close our side after writing (default true). */
  end?: boolean
}

/** Sends bytes over a fresh connection and collects what comes back until the server closes or the timeout. */
export function rawRequest(port: number, chunks: Array<string | Buffer>, opts: RawOptions = {}): Promise<RawResponse> {
  const started = Date.now()
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    const received: Buffer[] = []
    let timedOut = false
    let closedByServer = false
    let settled = false
    const finish = () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const data = Buffer.concat(received)
      const text = data.toString('latin1')
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0)
      const split = text.indexOf('\r\n\r\n')
      resolve({data, status, body: split >= 0 ? data.subarray(split + 4).toString('utf8') : '', closedByServer, timedOut, elapsedMs: Date.now() - started})
    }
    const timer = setTimeout(() => {
      timedOut = true
      socket.destroy()
      finish()
    }, opts.timeoutMs ?? 10_000)
    socket.on('data', (c: Buffer) => received.push(c))
    socket.on('end', () => {
      closedByServer = true
      socket.end()
    })
    socket.on('close', finish)
    socket.on('error', () => {
      closedByServer = true
    })
    socket.once('connect', async () => {
      for (let i = 0; i < chunks.length; i++) {
        if (socket.destroyed) return
        if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs))
        socket.write(chunks[i]!)
      }
      if (opts.end !== false && !socket.destroyed) socket.end()
    })
  })
}

/** All HTTP status codes of the responses in a raw byte stream (pipelined responses included). */
export function allStatuses(data: Buffer): number[] {
  return [...data.toString('latin1').matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]))
}
