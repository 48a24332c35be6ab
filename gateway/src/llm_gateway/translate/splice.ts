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

/** [start, end) of the LAST top-level `"key": "<string>"` value (quotes included), as JSON.parse would see it. */
export function findTopLevelString(buf: Buffer, key: string): [number, number] | undefined {
  const keyBytes = Buffer.from(JSON.stringify(key))
  let depth = 0
  let expectKey = false
  let found: [number, number] | undefined
  const len = buf.length
  let i = 0
  while (i < len) {
    const c = buf[i]
    if (c === QUOTE) {
      const end = skipString(buf, i)
      if (depth === 1 && expectKey) {
        expectKey = false
        if (end - i === keyBytes.length && buf.compare(keyBytes, 0, keyBytes.length, i, end) === 0) {
          let j = end
          while (isWs(buf[j])) j++
          if (buf[j] === 0x3a) {
            j++
            while (isWs(buf[j])) j++
            if (buf[j] === QUOTE) {
              const vEnd = skipString(buf, j)
              found = [j, vEnd]
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

/** Returns the body with top-level string field `key` set to `value`; the input when the key is absent. */
export function replaceTopLevelString(buf: Buffer, key: string, value: string): Buffer {
  const span = findTopLevelString(buf, key)
  if (!span) return buf
  return Buffer.concat([buf.subarray(0, span[0]), Buffer.from(JSON.stringify(value)), buf.subarray(span[1])])
}
