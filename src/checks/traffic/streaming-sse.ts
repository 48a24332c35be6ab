import {defineCheck} from '../types.js'
import {fail, gatewayUrlHint, pass} from '../util.js'
import {gatewayFailure} from '../gateway/common.js'
import {DEFAULT_PROBE_MODEL, errorMessageOf, PROBE_AGENT_TYPE, probeApiKey, type SseEvent, sendRecordedProbe} from './probe.js'
import {probeParams} from './routes-through-gateway.js'

interface Params {
  agent_type: string
  model: string
  first_event_within: number
  timeout: number
  api_key_env: string
}

/** Problems with an Anthropic SSE sequence: message_start ... message_stop, JSON data whose type matches the event. */
export function sseProblems(events: SseEvent[]): string[] {
  const problems: string[] = []
  if (events.length === 0) return ['no SSE events']
  const types: string[] = []
  for (const [i, e] of events.entries()) {
    let data: {type?: unknown} | null = null
    try {
      data = JSON.parse(e.data) as {type?: unknown}
    } catch {
      problems.push(`event ${i + 1} (${e.event ?? 'no name'}): data is not JSON`)
      continue
    }
    const type = typeof data?.type === 'string' ? data.type : null
    if (e.event !== null && type !== null && e.event !== type) problems.push(`event ${i + 1}: "event: ${e.event}" but data.type "${type}"`)
    types.push(e.event ?? type ?? '?')
  }
  const real = types.filter((t) => t !== 'ping')
  if (real[0] !== 'message_start') problems.push(`first event is "${real[0]}", expected message_start`)
  if (real.at(-1) !== 'message_stop') problems.push(`last event is "${real.at(-1)}", expected message_stop (stream cut short?)`)
  if (types.includes('error')) problems.push('the stream carries an error event')
  const open = new Set<string>()
  for (const [i, e] of events.entries()) {
    let index: unknown
    try {
      index = (JSON.parse(e.data) as {index?: unknown}).index
    } catch {
      continue
    }
    const t = e.event
    if (t === 'content_block_start') open.add(String(index))
    if (t === 'content_block_delta' && !open.has(String(index))) problems.push(`event ${i + 1}: delta for block ${String(index)} that was not started`)
    if (t === 'content_block_stop') open.delete(String(index))
  }
  if (open.size > 0 && real.at(-1) === 'message_stop') problems.push(`content block(s) ${[...open].join(', ')} never stopped`)
  return problems
}

/** §1.2 "Streaming requests work (SSE format)"; §2.3 "Streaming still works". */
export const trafficStreamingSse = defineCheck<Params>({
  id: 'traffic.streaming_sse',
  title: 'Streaming works (SSE)',
  verifies: '§1.2 "Streaming requests work (SSE format)"; §2.3 "Streaming still works"',
  params: {
    agent_type: {type: 'string', default: PROBE_AGENT_TYPE, description: 'agent type the probe is sent as (x-cco-agent-type)'},
    model: {type: 'string', default: DEFAULT_PROBE_MODEL, description: 'model the streamed probe asks for'},
    first_event_within: {type: 'duration', default: '10s', description: 'the first SSE event must arrive within this time'},
    timeout: {type: 'duration', default: '60s', description: 'time limit for the whole stream'},
    api_key_env: probeParams.api_key_env,
  },
  touches: ({target, params}) => ({
    urls: [`POST ${gatewayUrlHint(target, '/v1/messages')} (stream: true, x-cco-agent-type: ${params.agent_type}, model ${params.model})`],
    files: [target.paths.pidFile],
    effects: ['one streamed probe request to the upstream provider (billed by real providers)'],
  }),
  timeoutMs: (p) => p.timeout + 5000,
  async run({target, params, signal, shared}) {
    const expected = `a streamed probe yields message_start ... message_stop (well-formed SSE), first event within ${params.first_event_within} ms`
    let probe
    try {
      probe = await sendRecordedProbe(target, shared, {agentType: params.agent_type, model: params.model, stream: true, timeoutMs: params.timeout, signal, apiKey: probeApiKey(target, params.api_key_env)})
    } catch (error) {
      return gatewayFailure(error, target, expected)
    }
    const names = probe.events.map((e) => e.event ?? '?')
    const evidence: Record<string, unknown> = {
      url: probe.url,
      marker: probe.marker,
      status: probe.status,
      request_id: probe.request_id,
      first_event_ms: probe.first_event_ms,
      duration_ms: probe.duration_ms,
      event_count: probe.events.length,
      events: names.length > 40 ? [...names.slice(0, 20), `... ${names.length - 40} more ...`, ...names.slice(-20)] : names,
      transport_error: probe.transport_error,
    }
    if (probe.status !== 200 && probe.status !== 0) {
      const message = errorMessageOf(probe.body) ?? probe.body_excerpt ?? ''
      return fail({
        detail: `the gateway answered HTTP ${probe.status}${message ? `: ${message}` : ''}`,
        expected,
        measured: `HTTP ${probe.status}`,
        evidence: {...evidence, body: probe.body ?? probe.body_excerpt},
        remediation:
          probe.status >= 500
            ? `The upstream provider failed or is down: check /gateway/health and the provider baseUrl in ${target.paths.orchestraConfig}.`
            : probe.status === 401 || probe.status === 403
              ? `The upstream refused the probe's credentials (HTTP ${probe.status}): set ${params.api_key_env} for cutover, or give the provider an apiKeyRef in ${target.paths.orchestraConfig}.`
              : 'The gateway refused the streamed probe: check that it serves POST /v1/messages with stream: true.',
      })
    }
    if (probe.status === 0) {
      return fail({detail: `the streamed probe got no answer: ${probe.transport_error}`, expected, measured: 'no answer', evidence, remediation: `Check cutover daemon status and ${target.paths.log}.`})
    }
    const problems = sseProblems(probe.events)
    if (probe.transport_error) problems.unshift(`the stream broke: ${probe.transport_error}`)
    if (problems.length > 0) {
      return fail({
        detail: `malformed stream after ${probe.events.length} event(s): ${problems.slice(0, 3).join('; ')}`,
        expected,
        measured: `${probe.events.length} events, last "${names.at(-1) ?? 'none'}"`,
        evidence: {...evidence, problems},
        remediation: 'The stream was cut or garbled between the upstream and the client: check the provider (mock faults, network) and the gateway log for stream errors; streaming failures above 10% are a rollback trigger.',
      })
    }
    if (probe.first_event_ms === null || probe.first_event_ms > params.first_event_within) {
      return fail({
        detail: `first event after ${probe.first_event_ms} ms (limit ${params.first_event_within} ms)`,
        expected,
        measured: `first event ${probe.first_event_ms} ms`,
        evidence,
        remediation: 'The gateway buffers the stream or the upstream is slow: the gateway must forward events as they arrive.',
      })
    }
    return pass({detail: `${probe.events.length} SSE events, message_start ... message_stop, first after ${probe.first_event_ms} ms`, expected, measured: `${probe.events.length} events, first ${probe.first_event_ms} ms`, evidence})
  },
})
