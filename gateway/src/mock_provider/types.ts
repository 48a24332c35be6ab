/** Public contract of the mock LLM provider (used by other parts' tests and by benchmarks). */

export type MockErrorStatus = 429 | 500 | 503 | 529 | 400 | 401 | 403 | 404 | 413

export interface MockFaults {
  /** Added before the response head. */
  latencyMs?: number
  /** Delay between the response head and the first body byte / first SSE event. */
  ttfbMs?: number
  /** Delay between SSE events. */
  eventDelayMs?: number
  /** 0..1; which requests fail is deterministic for a given seed (the sequence restarts when faults are set). */
  errorRate?: number
  /**
   * Status of injected failures (default 500). 429 sends `retry-after` (retryAfterSecs, default 1), 529 an overloaded_error.
   * Set alone (without errorRate/failFirstN), every API request fails with it.
   */
  errorStatus?: MockErrorStatus
  retryAfterSecs?: number
  /** The first N API requests (counted from when the faults were set) fail, then requests succeed. */
  failFirstN?: number
  /** Destroy the socket (TCP reset) before any header. With errorRate/failFirstN, only the selected requests are reset. */
  resetBeforeHeaders?: boolean
  /** Destroy the connection after N SSE events (capped so the terminal event is never sent). */
  cutStreamAfterEvents?: number
  /** Like cutStreamAfterEvents, but end the HTTP response cleanly (a well-formed EOF with no terminal event). */
  endStreamAfterEvents?: number
  /** Emit one syntactically broken SSE event in the middle of each stream. */
  malformedSse?: boolean
  /** Stop sending after N SSE events but keep the connection open. */
  stallAfterEvents?: number
  /** Accept the request and never answer. With errorRate/failFirstN, only the selected requests hang. */
  neverRespond?: boolean
}

export interface MockProviderOptions {
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Seed of all generated text, ids and error selection. Default 1. */
  seed?: number
  faults?: MockFaults
  /** Output tokens (words) of a text answer. Default 20. */
  outputTokens?: number
  /** Number of text deltas in a stream. Default 5. */
  streamEvents?: number
  /** Requests kept for requests() (oldest dropped first). Default 10000. */
  maxRecordedRequests?: number
}

export interface RecordedRequest {
  method: string
  /** Including the query string. */
  path: string
  headers: Record<string, string | string[] | undefined>
  /** Raw body decoded as UTF-8. */
  body: string
  bodyBase64: string
  /** Epoch milliseconds when the request head arrived. */
  receivedAt: number
  /** The client disconnected before the response finished. */
  aborted: boolean
}

export interface RunningMockProvider {
  url: string
  port: number
  /** Replace all faults (also restarts failFirstN counting and the error-rate sequence). */
  setFaults(f: MockFaults): void
  requests(): RecordedRequest[]
  clearRequests(): void
  close(): Promise<void>
}
