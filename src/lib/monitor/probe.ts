/**
 * The streaming probe: one small POST /v1/messages with stream: true through the target's gateway,
 * tagged `x-cco-agent-type: cutover-probe` so its audit rows can be told from users' traffic.
 * It passes when the answer is HTTP 200 text/event-stream and ends with `message_stop`.
 * No credentials are sent: the gateway's provider config supplies them (or the probe fails and says so).
 */
import type {Target} from '../target/target.js'
import {readSseEvents} from '../util/sse.js'

export const PROBE_AGENT_TYPE = 'cutover-probe'
export const DEFAULT_PROBE_MODEL = 'claude-haiku-4-5'

export interface ProbeResult {
  ok: boolean
  http_status: number | null
  /** Time to the first complete event (or, on an HTTP error, to the error body). */
  ttfb_ms: number | null
  duration_ms: number
  events: number
  error?: string
}

export async function streamingProbe(target: Target, opts: {model?: string; timeoutMs?: number} = {}): Promise<ProbeResult> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  let base: string
  try {
    base = target.gatewayUrl()
  } catch (error) {
    return {ok: false, http_status: null, ttfb_ms: null, duration_ms: elapsed(), events: 0, error: (error as Error).message}
  }
  const body = {model: opts.model ?? DEFAULT_PROBE_MODEL, max_tokens: 16, stream: true, messages: [{role: 'user', content: 'cutover streaming probe: reply with one word'}]}
  try {
    const response = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'text/event-stream', 'anthropic-version': '2023-06-01', 'x-cco-agent-type': PROBE_AGENT_TYPE},
      body: JSON.stringify(body),
      redirect: 'error',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    })
    if (!response.body) return {ok: false, http_status: response.status, ttfb_ms: null, duration_ms: elapsed(), events: 0, error: 'the gateway answered without a body'}
    if (response.status !== 200) {
      const text = await response.text()
      return {ok: false, http_status: response.status, ttfb_ms: elapsed(), duration_ms: elapsed(), events: 0, error: `HTTP ${response.status}: ${text.replace(/\s+/g, ' ').slice(0, 200)}`}
    }
    let ttfb: number | null = null
    const events: string[] = []
    for await (const block of readSseEvents(response.body as unknown as AsyncIterable<Uint8Array>)) {
      if (ttfb === null) ttfb = elapsed()
      if (block.event !== null) events.push(block.event)
    }
    const answer = {http_status: response.status, ttfb_ms: ttfb, duration_ms: elapsed(), events: events.length}
    if (!events.includes('message_stop')) {
      return {ok: false, ...answer, error: events.includes('error') ? 'the stream carried an error event' : 'the stream ended without message_stop'}
    }
    return {ok: true, ...answer}
  } catch (error) {
    const err = error as Error & {cause?: {code?: string}}
    const reason = err.name === 'TimeoutError' ? `no complete answer within ${opts.timeoutMs ?? 30_000} ms` : (err.cause?.code ?? err.message)
    return {ok: false, http_status: null, ttfb_ms: null, duration_ms: elapsed(), events: 0, error: `POST ${base}/v1/messages: ${reason}`}
  }
}
