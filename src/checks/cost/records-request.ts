import {defineCheck} from '../types.js'
import type {CheckResult, Evidence} from '../types.js'
import {couldNotMeasure, fail, gatewayUrlHint, inconclusive, pass} from '../util.js'
import {gatewayFailure} from '../gateway/common.js'
import {probeParams} from '../traffic/routes-through-gateway.js'
import {errorMessageOf, findAuditEntry, probeApiKey, sharedJsonProbe} from '../traffic/probe.js'

interface Params {
  agent_type: string
  model: string
  timeout: number
  audit_timeout: number
  api_key_env: string
}

const EXPECTED = 'the probe request is costed: input and output tokens > 0 and a cost > 0 USD for the priced model'

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null)

/**
 * The `orchestra-config.json` entry that prices `model`: the path and field names are exact (the
 * gateway's `costTracking.pricingOverrides`, USD per million tokens); the <...> placeholders are the
 * published rates, left for the operator on purpose (a guessed rate would be a wrong cost that looks right).
 */
export function pricingOverrideEntry(model: string): string {
  const rates = ['inputPerMillion', 'outputPerMillion', 'cacheReadPerMillion', 'cacheWrite5mPerMillion', 'cacheWrite1hPerMillion']
  const placeholder: Record<string, string> = {
    inputPerMillion: '<input USD/MTok>',
    outputPerMillion: '<output USD/MTok>',
    cacheReadPerMillion: '<cache read USD/MTok>',
    cacheWrite5mPerMillion: '<5-minute cache write USD/MTok>',
    cacheWrite1hPerMillion: '<1-hour cache write USD/MTok>',
  }
  return `"llmGateway": {"costTracking": {"pricingOverrides": {${JSON.stringify(model)}: {${rates.map((r) => `"${r}": ${placeholder[r]}`).join(', ')}}}}}`
}

/** The probe was served and its tokens recorded, but the gateway has no price for the model: inconclusive, not a failure of cost tracking. */
export function unpricedModelResult(input: {model: string; measured: string; evidence: Evidence; configPath: string; restartHint: string}): CheckResult {
  const entry = pricingOverrideEntry(input.model)
  return inconclusive({
    detail: `inconclusive: model ${input.model} has no price, so the gateway recorded the request as unpriced (cost unknown) and cost tracking could not be verified (${input.measured})`,
    expected: EXPECTED,
    measured: input.measured,
    evidence: {...input.evidence, unpriced_model: input.model, pricing_override: entry},
    remediation: `Model ${input.model} has no price: add ${entry} to ${input.configPath} with the model's published rates (https://platform.claude.com/docs/en/about-claude/pricing), then ${input.restartHint}; or probe a priced model (params.model).`,
  })
}

export interface CostEvidence {
  input: number | null
  output: number | null
  /** USD, from the audit row or the x-gateway-cost-usd header. */
  cost: number | null
  /** The audit row's cost_status (priced, estimated, unpriced, disabled, ...); null when only the header was seen. */
  status: string | null
  /** The model the gateway priced (the audit row's model: served after any modelMap, else requested). */
  model: string
  source: string
  evidence: Evidence
  configPath: string
  restartHint: string
}

/** The verdict once the probe was served and its cost evidence found (pure: unit-tested on its own). */
export function judgeCostEvidence(e: CostEvidence): CheckResult {
  const {input, output, cost, status, evidence} = e
  evidence.source = e.source
  evidence.measured = {input_tokens: input, output_tokens: output, cost_usd: cost, cost_status: status}
  const measured = `in ${input ?? '?'} / out ${output ?? '?'} tokens, $${cost ?? '?'}${status ? ` (${status})` : ''}`
  if (!input || !output || input <= 0 || output <= 0) {
    return fail({detail: `tokens not recorded (${measured})`, expected: EXPECTED, measured, evidence, remediation: 'The gateway did not parse the usage of the response: check that the provider returns usage and the gateway records it.'})
  }
  if (status === 'unpriced') return unpricedModelResult({model: e.model, measured, evidence, configPath: e.configPath, restartHint: e.restartHint})
  if (cost === null || cost <= 0) {
    return fail({
      detail: `no cost for ${e.model} (${measured})`,
      expected: EXPECTED,
      measured,
      evidence,
      remediation:
        status === 'disabled'
          ? `Cost tracking is disabled: set llmGateway.costTracking.enabled true in ${e.configPath}, then ${e.restartHint}.`
          : `The request was recorded with no cost (${status ?? 'no cost'}): check llmGateway.costTracking (enabled, and a price for ${e.model} in the built-in table or pricingOverrides) in ${e.configPath}, or probe a priced model (params.model).`,
    })
  }
  return pass({detail: `request costed from the ${e.source}: ${measured}`, expected: EXPECTED, measured, evidence})
}

/** §1.2 "Cost tracking records metrics"; §2.3 "Cost tracking still works". */
export const costRecordsRequest = defineCheck<Params>({
  id: 'cost.records_request',
  title: 'Cost tracking records the request',
  verifies: '§1.2 "Cost tracking records metrics"; §2.3 "Cost tracking still works"; rollback trigger "Cost tracking shows incorrect data"',
  params: {...probeParams},
  touches: ({target, params}) => ({
    urls: [`POST ${gatewayUrlHint(target, '/v1/messages')} (x-cco-agent-type: ${params.agent_type}, model ${params.model}; shared with traffic.routes_through_gateway)`, `GET ${gatewayUrlHint(target, '/gateway/audit?request_id=...')}`],
    files: [target.paths.pidFile],
    effects: ['one probe request to the upstream provider (billed by real providers)'],
  }),
  timeoutMs: (p) => p.timeout + p.audit_timeout + 5000,
  async run({target, params, shared, signal}) {
    let probe
    try {
      probe = await sharedJsonProbe(target, shared, {agentType: params.agent_type, model: params.model, timeoutMs: params.timeout, signal, apiKey: probeApiKey(target, params.api_key_env)})
    } catch (error) {
      // No gateway to ask (not running, disabled): cost tracking cannot be judged, which is not "incorrect data".
      const failure = gatewayFailure(error, target, EXPECTED)
      return failure.outcome === 'fail' ? {...failure, outcome: 'error', detail: `could not measure cost tracking: ${failure.detail}`} : failure
    }
    const evidence: Record<string, unknown> = {url: probe.url, status: probe.status, request_id: probe.request_id, model: params.model, cost_header: probe.cost_header}
    if (probe.transport_error || probe.status !== 200) {
      const why = probe.transport_error ?? `HTTP ${probe.status}${errorMessageOf(probe.body) ? `: ${errorMessageOf(probe.body)}` : ''}`
      // Not served: nothing was costed, so cost tracking could not be measured (traffic.routes_through_gateway fails for the request path).
      return couldNotMeasure({detail: `the probe request was not served (${why}), so nothing could be costed`, expected: EXPECTED, measured: probe.transport_error ? 'no answer' : `HTTP ${probe.status}`, evidence, remediation: 'Fix the request path first (see traffic.routes_through_gateway and gateway.health), then check cost tracking again.'})
    }
    const usage = (probe.body as {usage?: {input_tokens?: unknown; output_tokens?: unknown}} | null)?.usage ?? {}
    evidence.response_usage = usage
    const lookup = await findAuditEntry(target, probe, {agentType: params.agent_type, timeoutMs: params.audit_timeout, signal})
    let input: number | null
    let output: number | null
    let cost: number | null
    let status: string | null = null
    let source: string
    if (lookup.found) {
      const e = lookup.entry
      input = num(e.input_tokens)
      output = num(e.output_tokens)
      cost = num(e.cost_usd)
      status = typeof e.cost_status === 'string' ? e.cost_status : null
      source = 'audit log'
      evidence.audit_entry = {request_id: e.request_id, model: e.model, input_tokens: e.input_tokens, output_tokens: e.output_tokens, cost_usd: e.cost_usd, cost_status: e.cost_status, pricing: e.pricing}
    } else if (probe.cost_header !== null) {
      // Audit log off: the cost header and the response usage are the next best evidence.
      input = num(usage.input_tokens)
      output = num(usage.output_tokens)
      cost = num(probe.cost_header)
      source = 'x-gateway-cost-usd header (audit log unavailable)'
      evidence.audit = lookup
    } else {
      return fail({
        detail: lookup.reason === 'disabled' ? 'no cost evidence: the audit log is disabled and the response carries no x-gateway-cost-usd header' : `no cost evidence: ${lookup.detail}`,
        expected: EXPECTED,
        measured: 'no cost recorded',
        evidence: {...evidence, audit: lookup},
        remediation: `Enable cost tracking and the audit log ("costTracking": {"enabled": true}, "audit": {"enabled": true} under llmGateway in ${target.paths.orchestraConfig}), then ${target.restartHint()}.`,
      })
    }
    return judgeCostEvidence({
      input,
      output,
      cost,
      status,
      model: lookup.found && typeof lookup.entry.model === 'string' && lookup.entry.model !== '' ? lookup.entry.model : params.model,
      source,
      evidence,
      configPath: target.paths.orchestraConfig,
      restartHint: target.restartHint(),
    })
  },
})
