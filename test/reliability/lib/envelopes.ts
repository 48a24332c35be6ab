/** The error envelope each listener promises (issue 8 item 4: a well-formed 4xx in the right envelope). */

/** Anthropic's envelope: {"type":"error","error":{"type":"...","message":"..."}} (gateway and mock). */
export function isAnthropicEnvelope(text: string): boolean {
  try {
    const body = JSON.parse(text) as {type?: unknown; error?: {type?: unknown; message?: unknown}}
    return body.type === 'error' && typeof body.error?.type === 'string' && typeof body.error.message === 'string' && body.error.message.length > 0
  } catch {
    return false
  }
}

/** The control port's and the mock control surface's envelope: {"error":"..."}. */
export function isErrorJson(text: string): boolean {
  try {
    const body = JSON.parse(text) as {error?: unknown}
    return typeof body.error === 'string' && body.error.length > 0
  } catch {
    return false
  }
}

/** The legacy proxy answers errors in plain text naming itself. */
export function isProxyText(text: string): boolean {
  return text.startsWith('cco legacy proxy:')
}
