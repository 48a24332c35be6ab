import type {RequestRecord, Usage} from '../../src/llm_gateway/record.js'

let seq = 0

/** A complete, successful non-streamed Anthropic request; override what the case needs. */
export function makeRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  seq++
  const received = overrides.received_at ?? Date.now()
  const usage: Usage = {input_tokens: 412, output_tokens: 87, cache_creation_input_tokens: 1800, cache_creation_5m_input_tokens: 1800, cache_creation_1h_input_tokens: 0, cache_read_input_tokens: 9000}
  return {
    request_id: `req_test_${process.pid}_${seq}`,
    received_at: received,
    first_byte_at: received + 40,
    done_at: received + 90,
    path: '/v1/messages',
    method: 'POST',
    agent_type: 'main',
    provider: 'anthropic',
    model_requested: 'claude-sonnet-4-6',
    model_served: 'claude-sonnet-4-6',
    routing_reason: 'default',
    stream: false,
    status: 200,
    success: true,
    error_type: null,
    error_message: null,
    attempts: 1,
    fallback_used: false,
    provider_type: 'anthropic',
    usage,
    usage_missing: false,
    stop_reason: 'end_turn',
    overhead_ms: 2,
    ...overrides,
  }
}

/** The kinds of request the completeness tests mix. */
export type Kind = 'ok' | 'stream-ok' | 'error-429' | 'error-529' | 'stream-cut' | 'client-abort' | 'fallback'

export const KINDS: Kind[] = ['ok', 'stream-ok', 'error-429', 'error-529', 'stream-cut', 'client-abort', 'fallback']

export function recordOfKind(kind: Kind, received: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  switch (kind) {
    case 'ok':
      return makeRecord({received_at: received, ...extra})
    case 'stream-ok':
      return makeRecord({received_at: received, stream: true, done_at: received + 400, ...extra})
    case 'error-429':
      return makeRecord({received_at: received, status: 429, success: false, error_type: 'rate_limit_error', error_message: 'rate limited', usage: null, usage_missing: true, first_byte_at: received + 5, done_at: received + 6, stop_reason: null, attempts: 3, ...extra})
    case 'error-529':
      return makeRecord({received_at: received, status: 529, success: false, error_type: 'overloaded_error', error_message: 'overloaded', usage: null, usage_missing: true, done_at: received + 30, stop_reason: null, ...extra})
    case 'stream-cut':
      return makeRecord({received_at: received, stream: true, success: false, error_type: 'stream_cut', error_message: 'upstream closed mid-stream', usage: {input_tokens: 412, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0}, usage_missing: true, stop_reason: null, done_at: received + 700, ...extra})
    case 'client-abort':
      return makeRecord({received_at: received, stream: true, success: false, error_type: 'client_aborted', error_message: 'client went away', usage: null, usage_missing: true, stop_reason: null, done_at: received + 250, ...extra})
    case 'fallback':
      return makeRecord({received_at: received, provider: 'deepseek', provider_type: 'deepseek', model_served: 'deepseek-flash', attempts: 2, fallback_used: true, routing_reason: 'fallback:anthropic->deepseek', ...extra})
  }
}
