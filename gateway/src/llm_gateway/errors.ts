/** Anthropic error envelope helpers: every error the gateway answers has this shape. */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {endAfterRequestDrained} from '../daemon/http_limits.js'

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error'

export function errorTypeForStatus(status: number): AnthropicErrorType {
  switch (status) {
    case 400: return 'invalid_request_error'
    case 401: return 'authentication_error'
    case 402: return 'billing_error'
    case 403: return 'permission_error'
    case 404: return 'not_found_error'
    case 408: return 'timeout_error'
    case 413: return 'request_too_large'
    case 429: return 'rate_limit_error'
    case 503: return 'overloaded_error'
    case 504: return 'timeout_error'
    case 529: return 'overloaded_error'
    default: return status >= 400 && status < 500 ? 'invalid_request_error' : 'api_error'
  }
}

export function errorEnvelope(type: string, message: string, requestId?: string): string {
  const body: {type: 'error'; error: {type: string; message: string}; request_id?: string} = {type: 'error', error: {type, message}}
  if (requestId) body.request_id = requestId
  return JSON.stringify(body)
}

/** An SSE `event: error` frame (used after bytes of a stream were committed). */
export function errorEvent(type: string, message: string): string {
  return `event: error\ndata: ${JSON.stringify({type: 'error', error: {type, message}})}\n\n`
}

/** True when `text` already is an Anthropic error envelope; such bodies are forwarded unchanged (Claude Code keys recovery on their wording). */
export function isAnthropicErrorBody(text: string): {type: string; message: string} | undefined {
  try {
    const parsed: unknown = JSON.parse(text)
    if (isObject(parsed) && parsed.type === 'error' && isObject(parsed.error) && typeof parsed.error.type === 'string') {
      return {type: parsed.error.type, message: typeof parsed.error.message === 'string' ? parsed.error.message : ''}
    }
  } catch {
    // not JSON
  }
  return undefined
}

/**
 * Extracts a human message from a non-Anthropic upstream error body: OpenAI/Azure `{"error":{"message"}}`,
 * Ollama `{"error":"..."}`, `{"message"}`, `{"detail":{"message"}}`, or plain text.
 */
export function extractUpstreamMessage(text: string): string {
  const trimmed = text.trim()
  if (!trimmed) return ''
  try {
    const parsed: unknown = JSON.parse(trimmed)
    if (isObject(parsed)) {
      const err = parsed.error
      if (typeof err === 'string') return err
      if (isObject(err)) {
        const msg = typeof err.message === 'string' ? err.message : ''
        const code = typeof err.code === 'string' ? err.code : typeof err.type === 'string' ? err.type : ''
        if (msg) return code && !msg.includes(code) ? `${code}: ${msg}` : msg
        if (code) return code
      }
      if (typeof parsed.message === 'string') return parsed.message
      if (isObject(parsed.detail) && typeof parsed.detail.message === 'string') return parsed.detail.message
      if (typeof parsed.detail === 'string') return parsed.detail
    }
  } catch {
    // plain text / HTML
  }
  return trimmed.length > 500 ? `${trimmed.slice(0, 500)}...` : trimmed
}

/** Maps any upstream error body to the Anthropic envelope, keeping an Anthropic body unchanged. */
export function mapUpstreamError(status: number, text: string, providerName: string, requestId: string): {body: string; type: string; message: string} {
  const anthropic = isAnthropicErrorBody(text)
  if (anthropic) return {body: text, type: anthropic.type, message: anthropic.message}
  const type = errorTypeForStatus(status)
  const detail = extractUpstreamMessage(text)
  const message = `${providerName}: upstream returned HTTP ${status}${detail ? `: ${detail}` : ''}`
  return {body: errorEnvelope(type, message, requestId), type, message}
}

export interface SendErrorOptions {
  requestId: string
  headers?: Record<string, string | string[]>
  /** The request's body was not read (too large): answer now, end once the client has sent the rest. */
  unreadRequest?: IncomingMessage
}

/** Writes an Anthropic error response unless headers were already sent. */
export function sendError(res: ServerResponse, status: number, type: string, message: string, opts: SendErrorOptions): void {
  sendErrorBody(res, status, errorEnvelope(type, message, opts.requestId), opts)
}

export function sendErrorBody(res: ServerResponse, status: number, body: string, opts: SendErrorOptions): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.end()
    return
  }
  const headers: Record<string, string | string[] | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'request-id': opts.requestId,
    'x-gateway-request-id': opts.requestId,
    ...opts.headers,
  }
  if (opts.unreadRequest) {
    endAfterRequestDrained(opts.unreadRequest, res, status, headers, body)
    return
  }
  res.writeHead(status, headers)
  res.end(body)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
