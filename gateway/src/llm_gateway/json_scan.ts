/**
 * Bounded scan of a JSON object's top level, for the request path: routing and validation need
 * `model`, `stream`, `max_tokens`, the type of `messages` and (only when markers are configured)
 * `system`, so parsing a 20-100 KB Claude Code body into objects with JSON.parse is wasted work
 * (and garbage). The scan walks the structure once, jumping over string contents with memchr
 * (Buffer.indexOf), and records where each top-level value lies; only the few small values that
 * are needed are decoded.
 *
 * Validation: the structure (brackets, commas, colons, keys), literals and numbers are checked
 * exactly; string contents are not (a raw control character or a bad escape inside a string is
 * left to the upstream, which answers 400 invalid_request_error itself). Anything the scan
 * rejects is handed to JSON.parse by the caller for its exact error message.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d

/** [start, end) byte offsets of a value. */
export type Span = readonly [number, number]

export interface TopLevelScan {
  /** Value spans by key (the LAST occurrence of a key wins, as with JSON.parse). */
  readonly fields: Map<string, Span>
  /** Keys (decoded) that occur more than once at the top level; an upstream may read another occurrence than JSON.parse. */
  readonly duplicates: ReadonlySet<string>
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

class ScanError extends Error {}

/** Strings shorter than this are walked in JS; longer ones are searched with memchr (Buffer.indexOf). */
const SHORT_STRING = 24

/** Index just past the closing quote of the string whose opening quote is at `start`. */
export function skipJsonString(buf: Buffer, start: number): number {
  const n = buf.length
  let i = start + 1
  // Most strings (keys, types, names) are short: a JS loop beats the native call's overhead.
  for (const stop = Math.min(n, i + SHORT_STRING); i < stop; i++) {
    const c = buf[i]
    if (c === QUOTE) return i + 1
    if (c === BACKSLASH) i++
  }
  if (i > n) throw new ScanError('unterminated string')
  for (;;) {
    const q = buf.indexOf(QUOTE, i)
    if (q === -1) throw new ScanError('unterminated string')
    // The quote is escaped when an odd number of backslashes precede it.
    let k = q - 1
    while (k > start && buf[k] === BACKSLASH) k--
    if (((q - 1 - k) & 1) === 0) return q + 1
    i = q + 1
  }
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

function skipWs(buf: Buffer, i: number): number {
  const n = buf.length
  while (i < n && isWs(buf[i]!)) i++
  return i
}

/** Index just past the scalar (number / true / false / null) starting at i. */
function skipScalar(buf: Buffer, i: number): number {
  const n = buf.length
  let j = i
  while (j < n) {
    const c = buf[j]!
    if (c === COMMA || c === CLOSE_ARRAY || c === CLOSE_OBJECT || isWs(c)) break
    j++
  }
  if (j === i) throw new ScanError('value expected')
  const text = buf.toString('latin1', i, j)
  if (text !== 'true' && text !== 'false' && text !== 'null' && !NUMBER.test(text)) throw new ScanError(`unexpected token ${text.slice(0, 20)}`)
  return j
}

const VALUE = 0
const VALUE_OR_CLOSE = 1
const KEY = 2
const KEY_OR_CLOSE = 3
const COLON_NEXT = 4
const COMMA_OR_CLOSE = 5

/** Index just past the value starting at i (i points at its first byte). Iterative: no recursion limit. */
function skipValue(buf: Buffer, i: number): number {
  const first = buf[i]
  if (first === QUOTE) return skipJsonString(buf, i)
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) return skipScalar(buf, i)
  const n = buf.length
  // Open brackets; `expect` is the grammar position (checked in order of how often each occurs).
  const stack: number[] = []
  let expect = VALUE
  while (i < n) {
    const b = buf[i]!
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
      i++
      continue
    }
    if (expect === COMMA_OR_CLOSE) {
      if (b === COMMA) {
        i++
        expect = stack[stack.length - 1] === OPEN_OBJECT ? KEY : VALUE
        continue
      }
    } else if (expect === COLON_NEXT) {
      if (b !== COLON) throw new ScanError("':' expected")
      i++
      expect = VALUE
      continue
    } else if (expect === KEY || (expect === KEY_OR_CLOSE && b !== CLOSE_OBJECT)) {
      if (b !== QUOTE) throw new ScanError('property name expected')
      i = skipJsonString(buf, i)
      expect = COLON_NEXT
      continue
    } else if (expect === VALUE || (expect === VALUE_OR_CLOSE && b !== CLOSE_ARRAY)) {
      if (b === QUOTE) {
        i = skipJsonString(buf, i)
        expect = COMMA_OR_CLOSE
      } else if (b === OPEN_OBJECT) {
        stack.push(OPEN_OBJECT)
        i++
        expect = KEY_OR_CLOSE
      } else if (b === OPEN_ARRAY) {
        stack.push(OPEN_ARRAY)
        i++
        expect = VALUE_OR_CLOSE
      } else {
        i = skipScalar(buf, i)
        expect = COMMA_OR_CLOSE
      }
      continue
    }
    // A close bracket, valid only when it matches the innermost open one.
    const top = stack[stack.length - 1]
    if (!((b === CLOSE_OBJECT && top === OPEN_OBJECT) || (b === CLOSE_ARRAY && top === OPEN_ARRAY))) throw new ScanError("',' or a matching close expected")
    stack.pop()
    i++
    if (stack.length === 0) return i
    expect = COMMA_OR_CLOSE
  }
  throw new ScanError('unexpected end of input')
}

/**
 * Scans a body that should be one JSON object. Returns the top-level value spans, or
 * undefined when the body is not a well-formed JSON object as far as the scan checks (the
 * caller then runs JSON.parse for the exact error).
 */
export function scanTopLevel(buf: Buffer): TopLevelScan | undefined {
  try {
    const n = buf.length
    let i = skipWs(buf, 0)
    // A UTF-8 byte order mark is not JSON either: leave it to JSON.parse.
    if (buf[i] !== OPEN_OBJECT) return undefined
    i = skipWs(buf, i + 1)
    const fields = new Map<string, Span>()
    const duplicates = new Set<string>()
    if (buf[i] === CLOSE_OBJECT) {
      if (skipWs(buf, i + 1) !== n) return undefined
      return {fields, duplicates}
    }
    for (;;) {
      if (buf[i] !== QUOTE) return undefined
      const keyEnd = skipJsonString(buf, i)
      const rawKey = buf.toString('utf8', i + 1, keyEnd - 1)
      const key = rawKey.includes('\\') ? (JSON.parse(`"${rawKey}"`) as string) : rawKey
      i = skipWs(buf, keyEnd)
      if (buf[i] !== COLON) return undefined
      i = skipWs(buf, i + 1)
      if (i >= n) return undefined
      const end = skipValue(buf, i)
      if (fields.has(key)) duplicates.add(key)
      fields.set(key, [i, end])
      i = skipWs(buf, end)
      if (buf[i] === COMMA) {
        i = skipWs(buf, i + 1)
        continue
      }
      if (buf[i] === CLOSE_OBJECT) {
        if (skipWs(buf, i + 1) !== n) return undefined
        return {fields, duplicates}
      }
      return undefined
    }
  } catch (error) {
    if (error instanceof ScanError || error instanceof SyntaxError) return undefined
    throw error
  }
}

/** The decoded value of a small top-level field (JSON.parse of its span only). */
export function decodeSpan(buf: Buffer, span: Span | undefined): unknown {
  if (!span) return undefined
  return JSON.parse(buf.toString('utf8', span[0], span[1]))
}

/** First byte of a value: '{', '[', '"', digit, 't', ... (type checks without decoding). */
export function firstByte(buf: Buffer, span: Span | undefined): number | undefined {
  return span ? buf[span[0]] : undefined
}

/**
 * Deepest nesting of arrays and objects in a JSON text (string contents skipped), stopping as soon
 * as it passes `limit`. The gateway's translation and estimates walk a parsed body recursively, so
 * a body nested deeper than the stack allows (100k "[") is refused before it is walked (issue 13
 * item 9). Malformed input is not judged here (JSON.parse does that).
 */
export function jsonNestingExceeds(buf: Buffer, limit: number): boolean {
  let depth = 0
  const n = buf.length
  for (let i = 0; i < n; i++) {
    const c = buf[i]!
    if (c === QUOTE) {
      // Jump over the string: the next unescaped quote.
      let j = i + 1
      for (;;) {
        const q = buf.indexOf(QUOTE, j)
        if (q === -1) return false
        let backslashes = 0
        for (let k = q - 1; k > i && buf[k] === BACKSLASH; k--) backslashes++
        if (backslashes % 2 === 0) {
          i = q
          break
        }
        j = q + 1
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return true
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--
    }
  }
  return false
}
