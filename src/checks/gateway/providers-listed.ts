import {defineCheck} from '../types.js'
import {errorFromException, fail, gatewayUrlHint, pass} from '../util.js'
import {gatewayFailure} from './common.js'

interface Params {
  require_healthy: boolean
}

/** Appendix B test-gateway.sh "Test providers endpoint": every enabled provider of orchestra-config is listed. */
export const gatewayProvidersListed = defineCheck<Params>({
  id: 'gateway.providers_listed',
  title: 'Providers endpoint lists the configured providers',
  verifies: 'Appendix B "Test providers endpoint"; §1.3 "Provider health"',
  params: {
    require_healthy: {type: 'boolean', default: false, description: 'also require every listed enabled provider to be healthy'},
  },
  touches: ({target}) => ({files: [target.paths.pidFile, target.paths.orchestraConfig], urls: [gatewayUrlHint(target, '/gateway/providers')]}),
  async run({target, params}) {
    let configured: string[] | null = null
    try {
      const config = target.readOrchestraConfig()
      const providers = config?.llmGateway?.providers
      configured = providers ? Object.entries(providers).filter(([, p]) => p?.enabled !== false).map(([name]) => name).sort() : null
    } catch (error) {
      return errorFromException(error, 'the configured providers can be read')
    }
    const expected = configured ? `GET /gateway/providers lists ${configured.join(', ')}${params.require_healthy ? ', all healthy' : ''}` : 'GET /gateway/providers lists at least one provider'
    let answer
    try {
      answer = await target.gateway.providers()
    } catch (error) {
      return gatewayFailure(error, target, expected)
    }
    const listed = answer.body.providers
    const names = listed.map((p) => p.name).sort()
    const evidence = {url: `${target.gatewayUrl()}/gateway/providers`, configured, configured_from: target.paths.orchestraConfig, providers: listed}
    if (names.length === 0) {
      return fail({detail: 'the gateway lists no providers', expected, measured: 'no providers', evidence, remediation: `Configure llmGateway.providers in ${target.paths.orchestraConfig}, then ${target.restartHint()}.`})
    }
    const missing = (configured ?? []).filter((name) => !names.includes(name))
    if (missing.length > 0) {
      return fail({
        detail: `configured but not listed: ${missing.join(', ')} (listed: ${names.join(', ')})`,
        expected,
        measured: `listed ${names.join(', ')}`,
        evidence,
        remediation: `The daemon runs with another configuration than ${target.paths.orchestraConfig}: ${target.restartHint()} to load it.`,
      })
    }
    const unhealthy = listed.filter((p) => p.enabled !== false && p.healthy === false)
    if (params.require_healthy && unhealthy.length > 0) {
      return fail({
        detail: `unhealthy: ${unhealthy.map((p) => `${p.name} (${String(p.reason ?? 'unhealthy')})`).join(', ')}`,
        expected,
        measured: `${unhealthy.length} unhealthy`,
        evidence,
        remediation: 'Check the provider baseUrl, the API key env var and that the upstream answers.',
      })
    }
    if (configured === null) {
      return pass({detail: `providers listed: ${names.join(', ')} (no orchestra-config.json to compare with: defaults apply)`, expected, measured: names.join(', '), evidence})
    }
    return pass({detail: `providers listed: ${names.join(', ')}`, expected, measured: names.join(', '), evidence})
  },
})

