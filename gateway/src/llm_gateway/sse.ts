/**
 * Incremental Server-Sent Events parser for upstream streams.
 *
 * Bytes are handed to the client as soon as an event is complete: `push()` returns the
 * prefix of the input that ends at the last complete event boundary (a zero-copy view of
 * the chunk whenever nothing was carried over), and keeps the incomplete tail for the next
 * chunk. Events that straddle chunks (at any byte) are therefore never split or lost.
 * Parsing rules follow the SSE spec / the Anthropic SDK decoder: LF, CRLF or CR line ends,
 * `:` comments, `field: value` with one optional leading space, multi-line `data` joined by LF,
 * dispatch on a blank line.
 */

const LF = 0x0a
const CR = 0x0d
const COLON = 0x3a
const SPACE = 0x20

export interface SseEvent {
  /** `event:` field, or "message" when absent. */
  event: string
  data: string
}

export type SseEventHandler = (event: SseEvent) => void

export class SseParser {
  private carry: Buffer | null = null
  private eventName = ''
  private dataLines: string[] = []
  private hasData = false
  /** Total bytes of complete events seen (for diagnostics). */
  completeBytes = 0
  eventsSeen = 0

  constructor(private readonly onEvent: SseEventHandler) {}

  /** Bytes buffered that do not form a complete event yet. */
  get pendingBytes(): number {
    return this.carry ? this.carry.length : 0
  }

  /**
   * Feeds a chunk; calls onEvent for every completed event and returns the bytes that end
   * at the last event boundary (ready to forward), or null when no event completed.
   */
  push(chunk: Buffer): Buffer | null {
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk
    this.carry = null
    // Parsing restarts at the last boundary each time, so the field state is reset here.
    this.eventName = ''
    this.dataLines.length = 0
    this.hasData = false
    let pos = 0
    let boundary = 0
    const len = buf.length
    let nextCr = buf.indexOf(CR)
    while (pos < len) {
      const lf = buf.indexOf(LF, pos)
      if (nextCr !== -1 && nextCr < pos) nextCr = buf.indexOf(CR, pos)
      let lineEnd: number
      let next: number
      if (nextCr !== -1 && (lf === -1 || nextCr < lf)) {
        // CR line end; CRLF counts as one. A CR as the very last byte may be half of a CRLF: wait.
        if (nextCr === len - 1) break
        lineEnd = nextCr
        next = buf[nextCr + 1] === LF ? nextCr + 2 : nextCr + 1
      } else if (lf !== -1) {
        lineEnd = lf
        next = lf + 1
      } else {
        break
      }
      if (lineEnd === pos) {
        // Blank line: dispatch.
        if (this.hasData || this.eventName) {
          this.eventsSeen++
          this.onEvent({event: this.eventName || 'message', data: this.dataLines.join('\n')})
        }
        this.eventName = ''
        this.dataLines.length = 0
        this.hasData = false
        boundary = next
      } else {
        this.field(buf, pos, lineEnd)
      }
      pos = next
    }
    if (boundary < len) this.carry = Buffer.from(buf.subarray(boundary))
    if (boundary === 0) return null
    this.completeBytes += boundary
    return boundary === len ? buf : buf.subarray(0, boundary)
  }

  private field(buf: Buffer, start: number, end: number): void {
    if (buf[start] === COLON) return // comment
    let colon = buf.indexOf(COLON, start)
    if (colon === -1 || colon > end) colon = end
    const name = buf.toString('latin1', start, colon)
    let valueStart = colon + 1
    if (valueStart < end && buf[valueStart] === SPACE) valueStart++
    if (name === 'data') {
      this.dataLines.push(valueStart >= end ? '' : buf.toString('utf8', valueStart, end))
      this.hasData = true
    } else if (name === 'event') {
      this.eventName = valueStart >= end ? '' : buf.toString('utf8', valueStart, end)
    }
    // id / retry / unknown fields are irrelevant to the gateway.
  }
}

/** Formats one Anthropic SSE frame. */
export function sseFrame(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`
}
