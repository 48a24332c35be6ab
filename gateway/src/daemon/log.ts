import {closeSync, openSync, writeSync} from 'node:fs'

/**
 * The daemon's logger. Lines are `<ISO timestamp> <LEVEL> <message>`; every line goes
 * through `redact` first so API keys and bearer tokens never reach the log.
 *
 * Other gateway modules import `log` and call `log.info('Routing request: ...')`; the
 * daemon points it at `$CCO_HOME/daemon.log` with `setLogSink` at start-up. Until then
 * lines go to stderr.
 */
export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export type LogLevel = 'INFO' | 'WARN' | 'ERROR'
export type LogSink = (line: string) => void

const SECRET_PATTERNS: Array<[RegExp, string]> = [
  // Anthropic / OpenAI style keys.
  [/\bsk-ant-[A-Za-z0-9_-]{6,}/g, 'sk-ant-***'],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, 'sk-***'],
  // Authorization header values.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, '$1 ***'],
  // key=value / "key": "value" / header: value forms.
  [
    /\b((?:x-)?api[-_]?key|access[-_]?token|auth[-_]?token|token|secret|password|authorization)(["']?\s*[:=]\s*["']?)(?!\*\*\*)(?!Bearer\b|Basic\b)([^\s"',;}]{6,})/gi,
    '$1$2***',
  ],
  // Long hex blobs (Azure keys are 32 hex characters).
  [/\b[A-Fa-f0-9]{32,}\b/g, '***'],
]

/**
 * Every pattern above needs one of these (case-insensitive) to match; a line with none of them
 * (most lines, including the per-request routing lines) skips the five replacements.
 */
const MAY_HOLD_SECRET = /sk-|bearer|basic|key|token|secret|passw|authoriz|[a-f0-9]{32}/i

/** Masks anything that looks like an API key, bearer token or secret value. */
export function redact(text: string): string {
  if (!MAY_HOLD_SECRET.test(text)) return text
  let out = text
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement)
  return out
}

/** A value that needs no quoting in a log line: a plain token (agent names, hosts, paths, ids). */
const PLAIN_LOG_TOKEN = /^[A-Za-z0-9._:@/+*-]{1,200}$/
/** Characters escaped inside a quoted value: C0 controls, DEL, C1 controls, line/paragraph separators, bidi controls. */
// eslint-disable-next-line no-control-regex
const LOG_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"\\]/g
const MAX_LOG_VALUE_CHARS = 200

/**
 * A client- or upstream-supplied value as it may appear in a log line (issue 13 item 7): a plain
 * token as it is (`agent_type=main` stays greppable), anything else in double quotes with quotes,
 * backslashes and control characters escaped (\n, \r, \t, \uXXXX) and cut at 200 characters, so a
 * value can never end a line, forge the start of another or run into the next field. Every log
 * line that carries data a client chose goes through this helper.
 */
export function logValue(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value)
  if (PLAIN_LOG_TOKEN.test(text)) return text
  const cut = text.length > MAX_LOG_VALUE_CHARS ? `${text.slice(0, MAX_LOG_VALUE_CHARS)}...` : text
  const escaped = cut.replace(LOG_UNSAFE, (ch) => {
    switch (ch) {
      case '\n': return '\\n'
      case '\r': return '\\r'
      case '\t': return '\\t'
      case '"': return '\\"'
      case '\\': return '\\\\'
      default: return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`
    }
  })
  return `"${escaped}"${text.length > MAX_LOG_VALUE_CHARS ? ` (${text.length} chars)` : ''}`
}

/** The last timestamp formatted (busy logs write many lines in the same millisecond). */
let stampMs = Number.NaN
let stampText = ''

export function formatLogLine(level: LogLevel, message: string, now?: Date): string {
  const ms = now ? now.getTime() : Date.now()
  if (ms !== stampMs) {
    stampMs = ms
    stampText = new Date(ms).toISOString()
  }
  const stamp = stampText
  const text = redact(message)
  // One line (the per-request routing lines): no split/join.
  if (!text.includes('\n')) return `${stamp} ${level.padEnd(5)} ${text}\n`
  return (
    text
      .split('\n')
      .map((line) => `${stamp} ${level.padEnd(5)} ${line}`)
      .join('\n') + '\n'
  )
}

export function createLogger(sink: LogSink): Logger {
  return {
    info: (message) => sink(formatLogLine('INFO', message)),
    warn: (message) => sink(formatLogLine('WARN', message)),
    error: (message) => sink(formatLogLine('ERROR', message)),
  }
}

export interface FileLogger extends Logger {
  /** The raw sink, for `setLogSink`. */
  sink: LogSink
  /** Writes buffered lines now. */
  flush(): void
  close(): void
}

/**
 * Appends to `file` (created 0600). Lines are collected and written together with one synchronous
 * write: right after the current event-loop turn (setImmediate) normally, and at most LOG_FLUSH_MS
 * after the first pending line while the log is busy (over BUSY_LINES_PER_SECOND: request traffic
 * logs two lines per request), so a busy gateway makes a few writes a second instead of one per
 * line; order is kept. A kill -9 loses at most the pending lines (one turn, or LOG_FLUSH_MS when
 * busy); process exit, an uncaught exception (run.ts) and close() write what is pending.
 */
const LOG_FLUSH_MS = 25
const LOG_FLUSH_BYTES = 64 * 1024
const BUSY_LINES_PER_SECOND = 200

export function openFileLogger(file: string): FileLogger {
  let fd: number | null = openSync(file, 'a', 0o600)
  let pending: string[] = []
  let scheduled = false
  const writePending = (): void => {
    scheduled = false
    if (pending.length === 0 || fd === null) return
    const text = pending.length === 1 ? pending[0]! : pending.join('')
    pending = []
    pendingBytes = 0
    try {
      writeSync(fd, text)
    } catch {
      // A full disk must not take the daemon down.
    }
  }
  process.on('exit', writePending)
  let pendingBytes = 0
  // Lines in the current one-second window: only a busy log (request traffic) waits LOG_FLUSH_MS.
  let windowStart = 0
  let windowLines = 0
  const sink: LogSink = (line) => {
    if (fd === null) return
    pending.push(line)
    pendingBytes += line.length
    const now = Date.now()
    if (now - windowStart >= 1000) {
      windowStart = now
      windowLines = 0
    }
    windowLines++
    if (pendingBytes >= LOG_FLUSH_BYTES) writePending()
    else if (!scheduled) {
      scheduled = true
      if (windowLines > BUSY_LINES_PER_SECOND) setTimeout(writePending, LOG_FLUSH_MS).unref()
      else setImmediate(writePending)
    }
  }
  return {
    ...createLogger(sink),
    sink,
    flush: writePending,
    close() {
      writePending()
      process.off('exit', writePending)
      if (fd !== null) closeSync(fd)
      fd = null
    },
  }
}

const stderrSink: LogSink = (line) => {
  process.stderr.write(line)
}
let currentSink: LogSink = stderrSink

/** Points the process-wide `log` at a sink (null = back to stderr). */
export function setLogSink(sink: LogSink | null): void {
  currentSink = sink ?? stderrSink
}

/** Process-wide logger for gateway modules. */
export const log: Logger = createLogger((line) => currentSink(line))
