/**
 * The contract between the request path (api/router/providers) and the evidence
 * layer (cost, audit, metrics): exactly one RequestRecord per request that reached
 * the gateway's API, emitted once the response has finished (or failed, or the
 * client went away). Emission happens after the response, off the hot path.
 */

/** Token usage as Anthropic reports it (OpenAI usage is mapped into this shape). */
export interface Usage {
  input_tokens: number
  output_tokens: number
  /** Total cache-write tokens (5m + 1h). */
  cache_creation_input_tokens: number
  /** Cache-write tokens split by TTL when the upstream reports it (usage.cache_creation). */
  cache_creation_5m_input_tokens?: number
  cache_creation_1h_input_tokens?: number
  cache_read_input_tokens: number
}

export interface RequestRecord {
  /** Gateway-assigned id (also returned to the client as `request-id`-style header x-gateway-request-id). */
  request_id: string
  /** Epoch milliseconds. */
  received_at: number
  /** First byte written to the client (null if none). */
  first_byte_at: number | null
  done_at: number
  /** `/v1/messages`, `/v1/messages/count_tokens`, `/v1/models`, ... */
  path: string
  method: string
  agent_type: string
  /** Provider that served (or last tried) the request; null if none was tried (e.g. malformed JSON). */
  provider: string | null
  model_requested: string | null
  /** Model name sent upstream after modelMap. */
  model_served: string | null
  routing_reason: string | null
  stream: boolean
  /** HTTP status sent to the client (for streams: the status of the response head). */
  status: number
  /** True when the client got a complete, non-error answer. A stream that ended in `event: error` or was cut is not a success. */
  success: boolean
  /** Anthropic error type (`rate_limit_error`, `overloaded_error`, `api_error`, `client_aborted`, `stream_cut`, ...) or null. */
  error_type: string | null
  error_message: string | null
  attempts: number
  fallback_used: boolean
  /** Provider type of the serving provider (anthropic|azure|deepseek|ollama). */
  provider_type: string | null
  /**
   * Usage as reported, or null when the response carried none. usage_missing is true in that case and
   * also when a stream ended before its final usage (then `usage` is message_start's partial figures).
   */
  usage: Usage | null
  usage_missing: boolean
  /** Upstream `stop_reason` when known. */
  stop_reason: string | null
  /** Time spent inside the gateway (not waiting on upstream), ms. */
  overhead_ms: number
  /** Raw client request body (bytes as received), present only if bodies are logged. Redaction happens in the audit layer. */
  request_body?: Buffer
  /** Where request_body's top-level values lie, when the request path scanned it (saves the audit writer a second scan). */
  request_body_fields?: ReadonlyMap<string, readonly [number, number]>
  /** Response body: JSON text for non-streamed, reassembled final Message JSON for streams. */
  response_body?: string
}

export type RecordSink = (record: RequestRecord) => void
