/**
 * Byte-level edit of a top-level string field in a JSON object, leaving every other byte of
 * the client's body untouched (used when modelMap renames the model on a passthrough route).
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Index just past the closing quote of the string starting at `start` (which is a quote). */
function skipString(buf: Buffer, start: number): number {
  let i = start + 1
  const len = buf.length
  while (i < len) {
    const c = buf[i]
    if (c === BACKSLASH) i += 2
    else if (c === QUOTE) return i + 1
    else i++
  }
  return len
}

function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/**
 * True when the JSON string token buf[start, end) (quotes included) names `key`. Compared decoded,
 * as JSON.parse reads it: `"mod\u0065l"` is the key `model` (issue 13 item 4: compared as bytes,
 * such a key was not renamed, so the upstream served the unmapped model while the audit row and
 * x-gateway-cost-usd recorded the mapped one).
 */
function keyIs(buf: Buffer, start: number, end: number, key: string, keyBytes: Buffer): boolean {
  if (end - start === keyBytes.length && buf.compare(keyBytes, 0, keyBytes.length, start, end) === 0) return true
  const escape = buf.indexOf(BACKSLASH, start)
  if (escape === -1 || escape >= end) return false
  try {
    return JSON.parse(buf.toString('utf8', start, end)) === key
  } catch {
    return false
  }
}

/** [start, end) of every top-level `"key": "<string>"` value (quotes included), in order; keys compared decoded. */
export function findTopLevelStrings(buf: Buffer, key: string): Array<[number, number]> {
  const keyBytes = Buffer.from(JSON.stringify(key))
  let depth = 0
  let expectKey = false
  const found: Array<[number, number]> = []
  const len = buf.length
  let i = 0
  while (i < len) {
    const c = buf[i]
    if (c === QUOTE) {
      const end = skipString(buf, i)
      if (depth === 1 && expectKey) {
        expectKey = false
        if (keyIs(buf, i, end, key, keyBytes)) {
          let j = end
          while (isWs(buf[j])) j++
          if (buf[j] === 0x3a) {
            j++
            while (isWs(buf[j])) j++
            if (buf[j] === QUOTE) {
              const vEnd = skipString(buf, j)
              found.push([j, vEnd])
              i = vEnd
              continue
            }
          }
        }
      }
      i = end
      continue
    }
    if (c === 0x7b || c === 0x5b) {
      depth++
      if (depth === 1 && c === 0x7b) expectKey = true
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    } else if (c === 0x2c && depth === 1) {
      expectKey = true
    }
    i++
  }
  return found
}

/** [start, end) of the LAST top-level `"key": "<string>"` value (quotes included), as JSON.parse would see it. */
export function findTopLevelString(buf: Buffer, key: string): [number, number] | undefined {
  return findTopLevelStrings(buf, key).at(-1)
}

/**
 * Returns the body with top-level string field `key` set to `value`; the input when the key is absent.
 * Every top-level occurrence is replaced (however its name is escaped), so an upstream that keeps the
 * first of duplicate keys, like one that keeps the last, reads the value that was decided here.
 */
export function replaceTopLevelString(buf: Buffer, key: string, value: string): Buffer {
  const spans = findTopLevelStrings(buf, key)
  if (spans.length === 0) return buf
  const replacement = Buffer.from(JSON.stringify(value))
  const parts: Buffer[] = []
  let at = 0
  for (const [start, end] of spans) {
    parts.push(buf.subarray(at, start), replacement)
    at = end
  }
  parts.push(buf.subarray(at))
  return Buffer.concat(parts)
}
