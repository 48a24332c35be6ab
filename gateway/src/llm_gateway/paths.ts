/**
 * Request paths the gateway accepts (issue 13 item 3). The gateway builds upstream URLs from
 * the client's path (`/v1/models/{id}`), and an HTTP client or URL parser on the way resolves
 * dot segments and decodes escapes: `/v1/models/../../_mock/requests` would reach any path of
 * the provider's host with the operator's key and escape a baseUrl path prefix. So a path is
 * taken only in its plain form: no `.`/`..` segments (also percent-encoded), no encoded slash or
 * backslash, no backslash, no empty segment (`//`), no malformed or NUL escape. Anything else is
 * a client mistake answered 400 before routing.
 */

const DOC = 'send the path as documented, e.g. /v1/messages or /v1/models/{model_id}'

/** Why the path (request target without the query) is refused, or null when it is a plain path. */
export function pathProblem(rawPath: string): string | null {
  if (rawPath.includes('\\')) return `the request path contains a backslash; ${DOC}`
  if (/%(2f|5c)/i.test(rawPath)) return `the request path contains an encoded "/" or "\\" (%2F, %5C); ${DOC}`
  if (/%00/.test(rawPath)) return `the request path contains an encoded NUL (%00); ${DOC}`
  if (/%(?![0-9A-Fa-f]{2})/.test(rawPath)) return `the request path has a malformed percent-escape ("%" must be followed by two hex digits); ${DOC}`
  // Decoded before the segment checks so "%2e%2e" and ".%2E" count as dot segments.
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    return `the request path is not valid percent-encoded UTF-8; ${DOC}`
  }
  const segments = decoded.split('/').slice(1)
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    if (s === '.' || s === '..') return `the request path contains a "${s}" segment (paths are not resolved here); ${DOC}`
    // One trailing slash is tolerated (/v1/messages/); an empty segment anywhere else is "//".
    if (s === '' && i < segments.length - 1) return `the request path contains an empty segment ("//"); ${DOC}`
  }
  return null
}

/** Characters a model id may have when forwarded as one path segment of GET /v1/models/{model_id}. */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/

/**
 * The model id of `/v1/models/{model_id}` (the part after `/models/`, still percent-encoded),
 * decoded and checked; an error says what is wrong.
 */
export function modelIdOf(encoded: string): {ok: true; id: string} | {ok: false; message: string} {
  let id: string
  try {
    id = decodeURIComponent(encoded)
  } catch {
    return {ok: false, message: 'the model id in /v1/models/{model_id} is not valid percent-encoded UTF-8; send the id as listed by GET /v1/models'}
  }
  if (!MODEL_ID.test(id) || id.length > 256) {
    return {ok: false, message: 'the model id in /v1/models/{model_id} must be one path segment of letters, digits and . _ : @ + - (at most 256 characters), as listed by GET /v1/models'}
  }
  return {ok: true, id}
}
