/**
 * The one client-side reader of Server-Sent Events (the gateway's streamed /v1/messages answers).
 * Events are blank-line separated blocks of `field: value` lines; CRLF is tolerated, comments
 * (`:` lines) are skipped and several `data:` lines join with a newline, as the SSE spec says.
 */
export interface SseBlock {
  event: string | null
  data: string
}

/** One block of lines -> its event, or null for a block with neither event nor data (a comment or keep-alive). */
export function parseSseBlock(block: string): SseBlock | null {
  let event: string | null = null
  const data: string[] = []
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':') || line.length === 0) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
  }
  if (event === null && data.length === 0) return null
  return {event, data: data.join('\n')}
}

/**
 * The events of a streamed body, each as soon as its block is complete (so a caller can time the
 * first one). A last block without its blank line is still an event: a stream cut short shows what came.
 */
export async function* readSseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseBlock> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, {stream: true})
    let cut: RegExpExecArray | null
    while ((cut = /\r?\n\r?\n/.exec(buffer)) !== null) {
      const parsed = parseSseBlock(buffer.slice(0, cut.index))
      buffer = buffer.slice(cut.index + cut[0].length)
      if (parsed) yield parsed
    }
  }
  const rest = parseSseBlock((buffer + decoder.decode()).trim())
  if (rest) yield rest
}
