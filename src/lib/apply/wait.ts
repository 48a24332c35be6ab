import net from 'node:net'

/** Poll `check` until it returns a truthy value or `timeoutMs` passes; returns null on timeout. */
export async function pollUntil<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, opts: {timeoutMs: number; intervalMs?: number}): Promise<T | null> {
  const deadline = performance.now() + opts.timeoutMs
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch {
      // not ready yet
    }
    if (performance.now() >= deadline) return null
    await new Promise((resolve) => setTimeout(resolve, Math.min(opts.intervalMs ?? 50, Math.max(1, deadline - performance.now()))))
  }
}

/** True when something accepts a TCP connection on 127.0.0.1:port within timeoutMs. */
export function tcpConnects(port: number, timeoutMs = 1000, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({port, host})
    const done = (ok: boolean) => {
      socket.removeAllListeners()
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Milliseconds since `start` (a performance.now() value), rounded. */
export function since(start: number): number {
  return Math.round(performance.now() - start)
}
