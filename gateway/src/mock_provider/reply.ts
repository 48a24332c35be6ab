/** What a route handler answers; the server applies faults while writing it. */
export type Reply =
  | {kind: 'json'; status: number; headers: Record<string, string>; body: string}
  | {kind: 'empty'; status: number; headers: Record<string, string>}
  | {
      kind: 'sse'
      headers: Record<string, string>
      /** Complete SSE frames, each ending with a blank line. */
      frames: string[]
      /** The frame injected mid-stream when the malformedSse fault is on. */
      malformedFrame: string
    }

export interface GenContext {
  seed: number
  outputTokens: number
  streamEvents: number
  /** Monotonic per-server counter, makes ids unique. */
  nextSerial(): number
}

export function jsonReply(status: number, payload: unknown, headers: Record<string, string> = {}): Reply {
  return {kind: 'json', status, headers, body: JSON.stringify(payload)}
}

export function sseFrame(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export type ParsedBody = {ok: true; value: Record<string, unknown>} | {ok: false; message: string}

export function parseJsonObject(body: string): ParsedBody {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch (error) {
    return {ok: false, message: `request body is not valid JSON (${(error as Error).message}); send a JSON object`}
  }
  if (!isObject(value)) return {ok: false, message: 'request body must be a JSON object'}
  return {ok: true, value}
}

export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name]
  const first = Array.isArray(value) ? value[0] : value
  return first !== undefined && first.trim() !== '' ? first : undefined
}
