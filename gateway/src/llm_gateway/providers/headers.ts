/** Header policy for upstream requests: what is forwarded, what is dropped, which credential is sent. */

/** Never forwarded: hop-by-hop (RFC 9110 §7.6.1), recomputed, or gateway-internal. */
const DROP = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
  // Responses are parsed on the side (usage) and must not be compressed on the stream path.
  'accept-encoding',
  'x-cco-agent-type',
])

const CREDENTIALS = new Set(['x-api-key', 'authorization'])

export interface ForwardOptions {
  /** Keep the client's x-api-key / Authorization (anthropic provider without apiKeyRef). */
  passClientCredentials: boolean
  /** Credential header to set (name lower-case). */
  credential?: {name: string; value: string}
  /** Provider-configured extra headers (override forwarded ones). */
  extra?: Record<string, string>
}

/**
 * All non-hop-by-hop client headers, unchanged (anthropic-version, anthropic-beta, x-stainless-*, ...),
 * for Anthropic-format upstreams. Header names in the Connection header are hop-by-hop too.
 */
export function forwardClientHeaders(rawHeaders: string[], opts: ForwardOptions): Record<string, string> {
  const out: Record<string, string> = {}
  let connectionTokens: Set<string> | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') {
      connectionTokens = new Set(rawHeaders[i + 1]!.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean))
    }
  }
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    if (DROP.has(name) || connectionTokens?.has(name)) continue
    if (CREDENTIALS.has(name) && !opts.passClientCredentials) continue
    const value = rawHeaders[i + 1]!
    const prev = out[name]
    out[name] = prev === undefined ? value : `${prev}, ${value}`
  }
  applyCredentialAndExtra(out, opts)
  return out
}

/** Headers for a translated (OpenAI-format) upstream: no client headers, only what the upstream needs. */
export function translatedHeaders(stream: boolean, credential: {name: string; value: string} | undefined, extra?: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'user-agent': 'cco-gateway',
  }
  applyCredentialAndExtra(out, {passClientCredentials: false, credential, extra})
  return out
}

function applyCredentialAndExtra(out: Record<string, string>, opts: ForwardOptions): void {
  if (opts.credential) {
    delete out['x-api-key']
    delete out.authorization
    out[opts.credential.name] = opts.credential.value
  }
  if (opts.extra) for (const [k, v] of Object.entries(opts.extra)) out[k.toLowerCase()] = v
}

/** Response headers from the upstream that must not be copied to the client. */
export const RESPONSE_DROP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection', 'te', 'trailer', 'upgrade'])
