/**
 * Probe traffic: one real request through the gateway, marked so it can be told apart.
 * Every probe carries the agent type `cutover-probe` (header x-cco-agent-type, which the gateway
 * records as agent_type in the audit log and metrics) and a unique marker (header x-cutover-probe,
 * metadata.user_id and the prompt text). The gateway's own request id (x-gateway-request-id)
 * finds the audit row; the marker is the fallback for gateways that do not return one.
 */
import {randomUUID} from 'node:crypto'

import type {Target} from '../../lib/target/target.js'
import {readSseEvents} from '../../lib/util/sse.js'
import type {SharedMeasurements} from '../types.js'

export const PROBE_AGENT_TYPE = 'cutover-probe'
export const DEFAULT_PROBE_MODEL = 'claude-haiku-4-5'

export interface ProbeOptions {
  agentType: string
  model: string
  stream: boolean
  maxTokens?: number
  timeoutMs: number
  signal?: AbortSignal
  /** Sent as x-api-key (to the loopback gateway only; never logged or kept as evidence). */
  apiKey?: string
}

export interface SseEvent {
  event: string | null
  data: string
  /** ms since the request was sent */
  at_ms: number
}

export interface ProbeResponse {
  url: string
  marker: string
  /** epoch ms just before the request was sent */
  sent_at: number
  status: number
  request_id: string | null
  /** x-gateway-cost-usd, when the gateway sets it (non-streamed responses). */
  cost_header: string | null
  duration_ms: number
  /** Parsed JSON body (non-streamed), or null. */
  body: unknown
  /** Raw body excerpt when it is not JSON / on errors. */
  body_excerpt: string | null
  /** Streamed responses: every SSE event in order. */
  events: SseEvent[]
  first_event_ms: number | null
  /** Set when the connection broke or timed out mid-response. */
  transport_error: string | null
}

function probeBody(opts: ProbeOptions, marker: string): string {
  return JSON.stringify({
    model: opts.model,
    max_tokens: opts.maxTokens ?? 16,
    stream: opts.stream,
    metadata: {user_id: `cutover-probe-${marker}`},
    messages: [{role: 'user', content: `cutover probe ${marker}: reply with OK`}],
  })
}

/** Send one probe request through the gateway. Never throws for HTTP-level problems: they are in the result. */
export async function sendProbe(target: Target, opts: ProbeOptions): Promise<ProbeResponse> {
  const base = target.gatewayUrl()
  const url = `${base}/v1/messages`
  const marker = randomUUID()
  const sentAt = Date.now()
  const started = performance.now()
  const since = () => Math.round(performance.now() - started)
  const signals = [AbortSignal.timeout(opts.timeoutMs), ...(opts.signal ? [opts.signal] : [])]
  const result: ProbeResponse = {url, marker, sent_at: sentAt, status: 0, request_id: null, cost_header: null, duration_ms: 0, body: null, body_excerpt: null, events: [], first_event_ms: null, transport_error: null}
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: opts.stream ? 'text/event-stream' : 'application/json',
        'anthropic-version': '2023-06-01',
        'x-cco-agent-type': opts.agentType,
        'x-cutover-probe': marker,
        ...(opts.apiKey ? {'x-api-key': opts.apiKey} : {}),
      },
      body: probeBody(opts, marker),
      redirect: 'error',
      signal: AbortSignal.any(signals),
    })
  } catch (error) {
    result.transport_error = describeFetchError(error, opts.timeoutMs)
    result.duration_ms = since()
    return result
  }
  result.status = response.status
  result.request_id = response.headers.get('x-gateway-request-id') ?? response.headers.get('request-id')
  result.cost_header = response.headers.get('x-gateway-cost-usd')
  const isSse = (response.headers.get('content-type') ?? '').includes('text/event-stream')
  try {
    if (isSse && response.body) {
      for await (const parsed of readSseEvents(response.body as unknown as AsyncIterable<Uint8Array>)) {
        const at = since()
        if (result.first_event_ms === null) result.first_event_ms = at
        result.events.push({...parsed, at_ms: at})
      }
    } else {
      const text = await response.text()
      try {
        result.body = JSON.parse(text)
      } catch {
        result.body_excerpt = target.redact(text.slice(0, 500))
      }
    }
  } catch (error) {
    result.transport_error = describeFetchError(error, opts.timeoutMs)
  }
  result.duration_ms = since()
  return result
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  const err = error as Error & {cause?: {code?: string; message?: string}}
  if (err.name === 'TimeoutError') return `no complete answer within ${timeoutMs} ms`
  if (err.name === 'AbortError') return 'cancelled'
  return err.cause?.code ?? err.cause?.message ?? err.message
}

/** The gateway's error message from an Anthropic error envelope, if any. */
export function errorMessageOf(body: unknown): string | null {
  const e = (body as {error?: {type?: unknown; message?: unknown}} | null)?.error
  if (!e) return null
  return `${String(e.type ?? 'error')}: ${String(e.message ?? '')}`
}

export type AuditLookup =
  | {found: true; entry: Record<string, unknown>; polls: number; url: string}
  | {found: false; reason: 'disabled' | 'not_found' | 'unreachable'; detail: string; polls: number; url: string; http_status: number | null}

/**
 * Find the probe's audit row via /gateway/audit: by the gateway's request id when known, else by
 * agent type and time (newest rows after the send). Polls: the gateway writes audit rows off the hot path.
 */
export async function findAuditEntry(target: Target, probe: ProbeResponse, opts: {agentType: string; timeoutMs: number; signal?: AbortSignal}): Promise<AuditLookup> {
  const deadline = Date.now() + opts.timeoutMs
  let polls = 0
  const query = probe.request_id
    ? {request_id: probe.request_id, agent_type: opts.agentType, limit: 5}
    : {agent_type: opts.agentType, start_time: new Date(probe.sent_at - 1000).toISOString(), limit: 100}
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()
  let base = ''
  try {
    base = target.gatewayUrl()
  } catch {
    base = '(gateway)'
  }
  const url = `${base}/gateway/audit?${qs}`
  for (;;) {
    polls++
    try {
      const page = await target.gateway.getGatewayJson<{entries?: Record<string, unknown>[]}>(`/gateway/audit?${qs}`)
      const entries = Array.isArray(page.body.entries) ? page.body.entries : []
      const entry = probe.request_id ? entries.find((e) => e.request_id === probe.request_id) : entries.find((e) => Date.parse(String(e.received_at ?? e.timestamp)) >= probe.sent_at - 1000)
      if (entry) return {found: true, entry, polls, url}
    } catch (error) {
      const status = (error as {httpStatus?: number}).httpStatus ?? null
      if (status === 404) return {found: false, reason: 'disabled', detail: (error as Error).message, polls, url, http_status: 404}
      if (status === null) return {found: false, reason: 'unreachable', detail: (error as Error).message, polls, url, http_status: null}
      return {found: false, reason: 'unreachable', detail: (error as Error).message, polls, url, http_status: status}
    }
    if (Date.now() >= deadline || opts.signal?.aborted) {
      return {found: false, reason: 'not_found', detail: `no audit row for ${probe.request_id ? `request ${probe.request_id}` : `agent_type ${opts.agentType} since ${new Date(probe.sent_at).toISOString()}`} after ${polls} look-ups`, polls, url, http_status: 200}
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/**
 * The client key a probe presents, like Claude Code does: the value of `envName` in the target's
 * command environment (ours plus the target file's env). Gateways that inject their own provider
 * key (apiKeyRef) need none.
 */
export function probeApiKey(target: Target, envName: string): string | undefined {
  const value = target.commandEnv()[envName]
  return value && value.length > 0 ? value : undefined
}

/**
 * Every probe this run sent, counted on the client side: audit.complete looks each one up in the
 * audit log by its request id, a count that does not come from the gateway's own database.
 */
export class ProbeLedger {
  readonly sent: Array<{agent_type: string; probe: ProbeResponse}> = []
}

export function probeLedger(shared: SharedMeasurements): Promise<ProbeLedger> {
  return shared.once('probe-ledger', async () => new ProbeLedger())
}

/** sendProbe, entered in the run's ledger. */
export async function sendRecordedProbe(target: Target, shared: SharedMeasurements, opts: ProbeOptions): Promise<ProbeResponse> {
  const ledger = await probeLedger(shared)
  const probe = await sendProbe(target, opts)
  ledger.sent.push({agent_type: opts.agentType, probe})
  return probe
}

/** One non-streamed probe per (agent type, model) per run, shared by the routing, cost and audit checks. */
export function sharedJsonProbe(target: Target, shared: SharedMeasurements, opts: Omit<ProbeOptions, 'stream'>): Promise<ProbeResponse> {
  return shared.once(`json-probe:${opts.agentType}:${opts.model}`, () => sendRecordedProbe(target, shared, {...opts, stream: false}))
}

/** The routing line the daemon logs for a request (plan §1.1 "Routing request: agent_type=..."). */
export function routingLogLines(target: Target, agentType: string): string[] {
  return target
    .tailLog(400)
    .filter((line) => line.includes(`agent_type=${agentType}`) || /Forwarding to provider/.test(line))
    .slice(-4)
}
