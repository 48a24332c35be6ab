/**
 * The small HTTP layer of the metric sources: fetch with a timeout, JSON decoding and
 * typed errors. Error messages name the URL without credentials and never carry headers.
 */

export type FetchImpl = typeof fetch

export type SourceErrorKind = 'unreachable' | 'timeout' | 'http' | 'api' | 'bad_response' | 'config'

export class SourceError extends Error {
  readonly kind: SourceErrorKind
  readonly status?: number
  /** Prometheus `errorType` (bad_data, timeout, execution, ...) for kind 'api'. */
  readonly errorType?: string

  constructor(kind: SourceErrorKind, message: string, opts: {status?: number; errorType?: string; cause?: unknown} = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = 'SourceError'
    this.kind = kind
    if (opts.status !== undefined) this.status = opts.status
    if (opts.errorType !== undefined) this.errorType = opts.errorType
  }
}

/** URL for messages: user:password removed. */
export function redactUrl(url: URL | string): string {
  try {
    const u = new URL(String(url))
    if (u.username || u.password) {
      u.username = ''
      u.password = ''
    }
    return u.toString()
  } catch {
    return '<invalid url>'
  }
}

export function parseBaseUrl(raw: string, what: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new SourceError('config', `${what} URL '${raw}' is not a valid URL; pass e.g. http://prometheus.example:9090`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SourceError('config', `${what} URL must use http or https, got '${url.protocol}'`)
  }
  return url
}

function causeText(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    const code = (current as {code?: unknown}).code
    parts.push(typeof code === 'string' ? `${code}: ${current.message}` : current.message)
    current = (current as {cause?: unknown}).cause
  }
  return parts.length > 0 ? parts.join(' <- ') : String(error)
}

export interface RequestJsonOptions {
  fetchImpl: FetchImpl
  timeoutMs: number
  headers?: Record<string, string>
  /** Who is being asked, for messages ("Prometheus", "gateway"). */
  what: string
}

export interface JsonResponse {
  status: number
  body: unknown
}

/** GET url and decode JSON. Network failures and timeouts throw SourceError; any HTTP status is returned. */
export async function getJson(url: URL, opts: RequestJsonOptions): Promise<JsonResponse> {
  const shown = redactUrl(url)
  // fetch refuses URLs with user:password; send them as Basic auth instead.
  const target = new URL(url.href)
  const auth: Record<string, string> = {}
  if (target.username || target.password) {
    const user = decodeURIComponent(target.username)
    const pass = decodeURIComponent(target.password)
    auth.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
    target.username = ''
    target.password = ''
  }
  let response: Response
  try {
    response = await opts.fetchImpl(target, {
      method: 'GET',
      headers: {accept: 'application/json', ...auth, ...opts.headers},
      signal: AbortSignal.timeout(opts.timeoutMs),
    })
  } catch (error) {
    const name = (error as {name?: string}).name
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new SourceError('timeout', `${opts.what} did not answer within ${opts.timeoutMs} ms (${shown})`, {cause: error})
    }
    throw new SourceError('unreachable', `${opts.what} is unreachable at ${shown}: ${causeText(error)}`, {cause: error})
  }
  let text: string
  try {
    text = await response.text()
  } catch (error) {
    const name = (error as {name?: string}).name
    const kind = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'unreachable'
    throw new SourceError(kind, `${opts.what} broke off its answer from ${shown}: ${causeText(error)}`, {cause: error})
  }
  let body: unknown
  try {
    body = text.length === 0 ? undefined : JSON.parse(text)
  } catch {
    if (response.ok) {
      throw new SourceError('bad_response', `${opts.what} answered HTTP ${response.status} with a body that is not JSON (${shown}): ${text.slice(0, 200)}`, {status: response.status})
    }
    body = text
  }
  return {status: response.status, body}
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
