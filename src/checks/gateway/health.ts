import {GATEWAY_STATUSES, isGatewayStatus} from '../../lib/evaluate/types.js'
import {defineCheck} from '../types.js'
import {fail, gatewayUrlHint, pass} from '../util.js'
import {gatewayFailure} from './common.js'

interface Params {
  accept: string[]
}

/** §1.2 "Health endpoint returns "status":"healthy""; §1.3 provider health. */
export const gatewayHealth = defineCheck<Params>({
  id: 'gateway.health',
  title: 'Gateway health endpoint is healthy',
  verifies: '§1.1 "curl .../gateway/health" Expected {"status":"healthy","providers":{...}}; §1.2 "Health endpoint returns "status":"healthy""',
  params: {
    accept: {type: 'string[]', minItems: 1, default: ['healthy'], description: 'statuses that pass (healthy, degraded, unhealthy)'},
  },
  validate: (p) =>
    p.accept.filter((s) => !isGatewayStatus(s)).map((s) => ({param: 'accept', message: `"${s}" is not a gateway status (${GATEWAY_STATUSES.join(', ')})`})),
  touches: ({target}) => ({files: [target.paths.pidFile], urls: [gatewayUrlHint(target, '/gateway/health')]}),
  async run({target, params}) {
    const expected = `GET /gateway/health answers "status": ${params.accept.map((s) => `"${s}"`).join(' or ')}`
    let answer
    try {
      answer = await target.gateway.health()
    } catch (error) {
      return gatewayFailure(error, target, expected)
    }
    const body = answer.body
    const providers = body.providers ?? {}
    const unhealthy = Object.entries(providers).filter(([, p]) => p && p.healthy === false && p.enabled !== false)
    const evidence = {url: `${target.gatewayUrl()}/gateway/health`, http_status: answer.httpStatus, duration_ms: Math.round(answer.durationMs), body}
    if (params.accept.includes(body.status)) {
      return pass({detail: `gateway ${body.status} (${Object.keys(providers).length} provider${Object.keys(providers).length === 1 ? '' : 's'})`, expected, measured: `"status": "${body.status}"`, evidence})
    }
    const reasons = unhealthy.map(([name, p]) => `${name}: ${String(p.reason ?? p.last_error ?? 'unhealthy')}`)
    return fail({
      detail: `gateway ${body.status}${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}`,
      expected,
      measured: `"status": "${body.status}"`,
      evidence,
      remediation:
        reasons.length > 0
          ? `Fix the unhealthy provider(s): ${reasons.join('; ')}. Check their baseUrl and API key env var in ${target.paths.orchestraConfig} and that the upstream answers; a provider recovers after one successful request.`
          : `Enable at least one provider in ${target.paths.orchestraConfig}, then ${target.restartHint()}.`,
    })
  },
})
