import http from 'node:http'
import {performance} from 'node:perf_hooks'

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
  /** The HTTP message ended properly (false when the server cut the connection). */
  complete: boolean
  /** performance.now() when the request was sent, the head arrived, the first body byte arrived and the response closed. */
  timing: {start: number; head: number; firstByte: number | undefined; end: number}
}

/** A bare node:http request (no retries, no pooling), so tests see exactly what the server did on the wire. */
export function rawRequest(
  url: string,
  options: {method?: string; headers?: Record<string, string>; body?: string | Buffer; onData?: (text: string, req: http.ClientRequest) => void} = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const req = http.request(url, {method: options.method ?? 'POST', headers: options.headers, agent: false}, (res) => {
      const head = performance.now()
      let firstByte: number | undefined
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        firstByte ??= performance.now()
        body += chunk
        options.onData?.(body, req)
      })
      res.on('error', () => {})
      res.on('close', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body, complete: res.complete, timing: {start, head, firstByte, end: performance.now()}}))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

export interface SseEvent {
  event: string | undefined
  data: string
}

/** Minimal SSE parser following the SDK's rules (blank line dispatches, one leading space dropped). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = []
  for (const frame of text.split('\n\n')) {
    if (frame.trim() === '') continue
    let event: string | undefined
    const data: string[] = []
    for (const line of frame.split('\n')) {
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') event = value
      else if (field === 'data') data.push(value)
    }
    events.push({event, data: data.join('\n')})
  }
  return events
}

export const anthropicHeaders = {'x-api-key': 'test-key', 'anthropic-version': '2023-06-01', 'content-type': 'application/json'}

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export const weatherTool = {
  name: 'get_weather',
  description: 'Get the weather for a city',
  input_schema: {type: 'object' as const, properties: {city: {type: 'string'}, days: {type: 'integer'}}, required: ['city', 'days']},
}
