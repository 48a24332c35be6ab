import {defineCheck} from '../types.js'
import {fail, gatewayUrlHint, pass} from '../util.js'
import {gatewayFailure} from '../gateway/common.js'
import {DEFAULT_PROBE_MODEL, errorMessageOf, findAuditEntry, PROBE_AGENT_TYPE, probeApiKey, routingLogLines, sharedJsonProbe} from './probe.js'

interface Params {
  agent_type: string
  model: string
  timeout: number
  audit_timeout: number
  api_key_env: string
}

export const probeParams = {
  agent_type: {type: 'string', default: PROBE_AGENT_TYPE, description: 'agent type the probe is sent as (x-cco-agent-type), so it can be told apart in the audit log and metrics'},
  model: {type: 'string', default: DEFAULT_PROBE_MODEL, description: 'model the probe asks for (a priced model, so cost tracking can be checked)'},
  timeout: {type: 'duration', default: '30s', description: 'time limit for the probe request'},
  audit_timeout: {type: 'duration', default: '5s', description: 'how long to wait for the audit row to appear'},
  api_key_env: {type: 'string', default: 'ANTHROPIC_API_KEY', description: 'environment variable whose value the probe sends as x-api-key, as Claude Code does (unset: no key; the gateway then uses its configured apiKeyRef)'},
} as const

const EXPECTED = 'a probe request through the gateway succeeds and appears in /gateway/audit with its agent type and a provider'

/** §1.2 "Claude Code requests route through gateway (check audit logs)"; §2.3 "All Claude Code requests route through gateway". */
export const trafficRoutesThroughGateway = defineCheck<Params>({
  id: 'traffic.routes_through_gateway',
  title: 'Requests route through the gateway (audit log)',
  verifies: '§1.1 "Test Request Flow"; §1.2 "Claude Code requests route through gateway (check audit logs)"; §2.3 "All Claude Code requests route through gateway"',
  params: {...probeParams},
  touches: ({target, params}) => ({
    urls: [`POST ${gatewayUrlHint(target, '/v1/messages')} (x-cco-agent-type: ${params.agent_type}, model ${params.model})`, `GET ${gatewayUrlHint(target, '/gateway/audit?request_id=...')}`],
    files: [target.paths.pidFile, target.paths.log],
    effects: ['one probe request to the upstream provider (billed by real providers)'],
  }),
  timeoutMs: (p) => p.timeout + p.audit_timeout + 5000,
  async run({target, params, shared, signal}) {
    let probe
    try {
      probe = await sharedJsonProbe(target, shared, {agentType: params.agent_type, model: params.model, timeoutMs: params.timeout, signal, apiKey: probeApiKey(target, params.api_key_env)})
    } catch (error) {
      return gatewayFailure(error, target, EXPECTED)
    }
    const evidence: Record<string, unknown> = {url: probe.url, marker: probe.marker, status: probe.status, request_id: probe.request_id, duration_ms: probe.duration_ms}
    if (probe.transport_error) {
      return fail({detail: `the probe request failed: ${probe.transport_error}`, expected: EXPECTED, measured: 'no answer', evidence, remediation: `The gateway did not answer ${probe.url}: check cutover daemon status and ${target.paths.log}.`})
    }
    if (probe.status !== 200) {
      const message = errorMessageOf(probe.body) ?? probe.body_excerpt ?? ''
      return fail({
        detail: `the gateway answered HTTP ${probe.status}${message ? `: ${message}` : ''}`,
        expected: EXPECTED,
        measured: `HTTP ${probe.status}`,
        evidence: {...evidence, body: probe.body ?? probe.body_excerpt, health_hint: 'see gateway.health'},
        remediation:
          probe.status >= 500
            ? `The upstream provider failed or is down: check /gateway/health (cutover phase validate --check gateway.health) and the provider baseUrl in ${target.paths.orchestraConfig}.`
            : probe.status === 401 || probe.status === 403
              ? `The upstream refused the probe's credentials (HTTP ${probe.status}): set ${params.api_key_env} for cutover (the probe sends it as x-api-key, like Claude Code), or give the provider an apiKeyRef in ${target.paths.orchestraConfig}.`
              : `The gateway refused the probe (HTTP ${probe.status}): ${probe.status === 404 ? 'this gateway build does not serve POST /v1/messages' : 'check its routing configuration'}.`,
      })
    }
    const lookup = await findAuditEntry(target, probe, {agentType: params.agent_type, timeoutMs: params.audit_timeout, signal})
    evidence.audit_url = lookup.url
    evidence.audit_polls = lookup.polls
    evidence.log_lines = routingLogLines(target, params.agent_type)
    if (!lookup.found) {
      return fail({
        detail: lookup.reason === 'disabled' ? 'the request was served, but the audit log is disabled (GET /gateway/audit answered 404)' : `the request was served (HTTP 200), but ${lookup.detail}`,
        expected: EXPECTED,
        measured: lookup.reason === 'disabled' ? 'audit log disabled' : 'no audit row',
        evidence: {...evidence, audit: lookup},
        remediation:
          lookup.reason === 'disabled'
            ? `Enable the audit log: "llmGateway": {"audit": {"enabled": true}} in ${target.paths.orchestraConfig}, then ${target.restartHint()}.`
            : `The gateway served the request without auditing it: check ${target.paths.log} for audit write errors and the audit database ${target.paths.auditDb}.`,
      })
    }
    const entry = lookup.entry
    evidence.audit_entry = entry
    if (entry.agent_type !== params.agent_type || !entry.provider) {
      return fail({
        detail: `audit row found, but agent_type=${String(entry.agent_type)} provider=${String(entry.provider)}`,
        expected: EXPECTED,
        measured: `agent_type=${String(entry.agent_type)}, provider=${String(entry.provider)}`,
        evidence,
        remediation: 'The gateway does not record the x-cco-agent-type header or the routed provider: check its routing rules (llmGateway.routing).',
      })
    }
    return pass({
      detail: `request ${String(entry.request_id ?? probe.request_id)} routed to ${String(entry.provider)} (${String(entry.routing_reason ?? 'no reason recorded')}), audited as agent_type=${String(entry.agent_type)}`,
      expected: EXPECTED,
      measured: `audited, provider ${String(entry.provider)}`,
      evidence,
    })
  },
})
