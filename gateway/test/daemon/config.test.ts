import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {defaultGatewayConfig, validateGatewayConfig} from '../../src/daemon/config.js'
import {http, readLog, readPid, runCco, startDaemonIn, TempHomes, writeGatewayConfig} from '../helpers/cco.js'

const HOME = '/tmp/cco-home-for-paths'

/** Test configs are mutated freely to produce each error. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>

const minimal = () => ({
  providers: {
    anthropic: {enabled: true, providerType: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKeyRef: 'ANTHROPIC_API_KEY', timeoutSecs: 300, maxRetries: 2},
  },
  routing: {defaultProvider: 'anthropic', fallbackChain: ['anthropic']},
  costTracking: {enabled: true},
  audit: {enabled: true, logRequestBodies: true, logResponseBodies: true, retentionDays: 30},
})

function errorsOf(section: unknown): string[] {
  const result = validateGatewayConfig(section, HOME, 'test')
  expect(result.config, 'expected validation errors').to.equal(undefined)
  return result.errors
}

describe('gateway config validation (llmGateway section)', () => {
  it('accepts the plan\'s minimal and multi-provider examples and fills defaults', () => {
    const result = validateGatewayConfig(minimal(), HOME, 'test')
    expect(result.errors).to.deep.equal([])
    const config = result.config!
    expect(config.providers.anthropic).to.include({name: 'anthropic', enabled: true, providerType: 'anthropic', apiKeyRef: 'ANTHROPIC_API_KEY', maxRetries: 2})
    expect(config.audit.dbPath).to.equal(join(HOME, 'gateway', 'audit.db'))
    expect(config.server).to.deep.equal({maxBodyBytes: 32 * 1024 * 1024, host: '127.0.0.1'})

    const multi = validateGatewayConfig(
      {
        providers: {
          anthropic: {enabled: true, providerType: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKeyRef: 'ANTHROPIC_API_KEY'},
          azure: {enabled: true, providerType: 'azure', baseUrl: 'https://x.cognitiveservices.azure.com/', apiKeyRef: 'env:AZURE_API_KEY', deployment: 'gpt-5.1-codex-mini', apiVersion: '2024-05-01-preview', pricing: {inputPerMillion: 2, outputPerMillion: 6}},
          deepseek: {enabled: true, providerType: 'deepseek', baseUrl: 'https://api.deepseek.com', apiKeyRef: '$DEEPSEEK_API_KEY', modelMap: {'claude-*': 'deepseek-chat'}},
        },
        routing: {
          defaultProvider: 'anthropic',
          agentRules: {'code-reviewer': 'azure', 'python-specialist': 'deepseek'},
          modelTierRules: {opus: 'anthropic', haiku: 'deepseek'},
          fallbackChain: ['anthropic', 'azure', 'deepseek'],
        },
        costTracking: {enabled: true, pricingOverrides: {'claude-opus-4-5': {inputPerMillion: 5, outputPerMillion: 25, cacheWrite1hPerMillion: 10}}},
      },
      HOME,
      'test',
    )
    expect(multi.errors).to.deep.equal([])
    expect(multi.config!.providers.azure!.apiKeyRef).to.equal('AZURE_API_KEY')
    expect(multi.config!.providers.azure!.baseUrl).to.equal('https://x.cognitiveservices.azure.com')
    expect(multi.config!.providers.deepseek!.apiKeyRef).to.equal('DEEPSEEK_API_KEY')
    expect(multi.config!.routing.modelTierRules).to.deep.equal({opus: 'anthropic', haiku: 'deepseek'})
  })

  it('the default config has one anthropic provider without a key ref (client credential passthrough)', () => {
    const config = defaultGatewayConfig(HOME)
    expect(Object.keys(config.providers)).to.deep.equal(['anthropic'])
    expect(config.providers.anthropic!.apiKeyRef).to.equal(undefined)
    expect(config.routing).to.include({defaultProvider: 'anthropic'})
    expect(config.routing.fallbackChain).to.deep.equal(['anthropic'])
    expect(config.audit).to.include({enabled: true, logRequestBodies: true, logResponseBodies: true, retentionDays: 30, maxPendingRecords: 50_000})
  })

  it('names the JSON path of each error', () => {
    const section = minimal() as Loose
    section.routing.fallbackChain = ['anthropic', 'azur']
    expect(errorsOf(section)).to.deep.equal(['llmGateway.routing.fallbackChain[1]: unknown provider "azur" (configured: anthropic)'])

    const cases: Array<[(s: Loose) => void, string]> = [
      [(s) => (s.providers.anthropic.baseURL = 'x'), 'llmGateway.providers.anthropic.baseURL: unknown key (did you mean "baseUrl"?)'],
      [(s) => (s.providers.anthropic.providerType = 'openai'), 'llmGateway.providers.anthropic.providerType: must be one of "anthropic", "azure", "deepseek", "ollama", got "openai"'],
      [(s) => (s.providers.anthropic.baseUrl = 'ftp://x'), 'llmGateway.providers.anthropic.baseUrl: must be an http(s) URL, got "ftp://x"'],
      [(s) => (s.providers.anthropic.maxRetries = 11), 'llmGateway.providers.anthropic.maxRetries: must be at most 10, got 11'],
      [(s) => (s.providers.anthropic.maxRetries = 1.5), 'llmGateway.providers.anthropic.maxRetries: must be an integer, got 1.5'],
      [(s) => (s.providers.anthropic.timeoutSecs = 0), 'llmGateway.providers.anthropic.timeoutSecs: must be greater than 0, got 0'],
      [(s) => (s.providers.anthropic.enabled = 'yes'), 'llmGateway.providers.anthropic.enabled: must be true or false, got "yes"'],
      [(s) => (s.providers.anthropic.apiKeyRef = 'sk-ant-api03-secret'), 'llmGateway.providers.anthropic.apiKeyRef: must name an environment variable'],
      [(s) => (s.providers.anthropic.headers = {'x-a': 1}), 'llmGateway.providers.anthropic.headers.x-a: must be a string, got number'],
      [(s) => (s.providers.anthropic.models = ['a', 2]), 'llmGateway.providers.anthropic.models[1]: must be a string, got number'],
      [(s) => (s.providers.anthropic.api = 'soap'), 'llmGateway.providers.anthropic.api: must be one of'],
      [(s) => delete s.providers.anthropic.providerType, 'llmGateway.providers.anthropic.providerType: is required'],
      [(s) => (s.providers.anthropic.enabled = false), 'llmGateway.routing.defaultProvider: provider "anthropic" is disabled'],
      [(s) => (s.routing.defaultProvider = 'nope'), 'llmGateway.routing.defaultProvider: unknown provider "nope"'],
      [(s) => delete s.routing, 'llmGateway.routing: is required'],
      [(s) => (s.routing.agentRules = {'code-reviewer': 'azure'}), 'llmGateway.routing.agentRules.code-reviewer: unknown provider "azure"'],
      [(s) => (s.routing.modelTierRules = {gpt4: 'anthropic'}), 'llmGateway.routing.modelTierRules.gpt4: unknown key'],
      [(s) => (s.routing.fallbackChain = 'anthropic'), 'llmGateway.routing.fallbackChain: must be an array of strings, got string'],
      [(s) => (s.costTracking.pricingOverrides = {m: {inputPerMillion: 1}}), 'llmGateway.costTracking.pricingOverrides.m.outputPerMillion: is required'],
      [(s) => (s.costTracking.pricingOverrides = {m: {inputPerMillion: -1, outputPerMillion: 1}}), 'llmGateway.costTracking.pricingOverrides.m.inputPerMillion: must be at least 0'],
      [(s) => (s.audit.retentionDays = -1), 'llmGateway.audit.retentionDays: must be at least 0, got -1'],
      [(s) => (s.audit.maxPendingRecords = 0), 'llmGateway.audit.maxPendingRecords: must be at least 1, got 0'],
      [(s) => (s.audit.maxPendingRecords = 1.5), 'llmGateway.audit.maxPendingRecords: must be an integer, got 1.5'],
      [(s) => (s.audit.logBodies = true), 'llmGateway.audit.logBodies: unknown key'],
      [(s) => (s.server = {maxBodyBytes: 0}), 'llmGateway.server.maxBodyBytes: must be greater than 0'],
      [(s) => (s.extra = 1), 'llmGateway.extra: unknown key'],
      [(s) => (s.providers = {}), 'llmGateway.providers: must configure at least one provider'],
    ]
    for (const [mutate, expected] of cases) {
      const s = minimal() as Loose
      mutate(s)
      const errors = errorsOf(s)
      expect(errors.some((e) => e.startsWith(expected)), `${expected}\n  got: ${errors.join('\n  ')}`).to.equal(true)
    }
  })

  it('never echoes an API key pasted into apiKeyRef', () => {
    const s = minimal()
    s.providers.anthropic.apiKeyRef = 'sk-ant-api03-verysecretvalue'
    expect(errorsOf(s).join('\n')).to.not.contain('verysecretvalue')
  })

  it('reports all errors at once', () => {
    const s = minimal() as Loose
    s.providers.anthropic.maxRetries = -1
    s.audit.retentionDays = 'x'
    expect(errorsOf(s)).to.have.length(2)
  })
})

describe('gateway config at daemon start', function () {
  this.timeout(60_000)
  const homes = new TempHomes()
  afterEach(() => homes.cleanup())

  it('a schema error fails only the gateway: the daemon runs, logs the CRITICAL lines, gateway_port stays null', async () => {
    const home = homes.make()
    const section = minimal()
    section.routing.fallbackChain = ['anthropic', 'azur']
    writeGatewayConfig(home, section)
    const {port, gateway_port, result} = await startDaemonIn(home)
    expect(gateway_port).to.equal(null)
    expect(result.stderr).to.contain('❌ CRITICAL: LLM Gateway failed to initialize').and.contain('llmGateway.routing.fallbackChain[1]: unknown provider "azur"')
    const log = readLog(home)
    expect(log).to.contain('llmGateway.routing.fallbackChain[1]: unknown provider "azur"')
    expect(log).to.match(/WARN {2}❌ CRITICAL: LLM Gateway failed to initialize\n/)
    expect(log).to.contain('Claude Code will NOT function without the gateway.')
    expect(log).to.contain('Check orchestra-config.json for llmGateway configuration.')
    expect(log).to.contain('Daemon will continue, but Claude Code launches will fail.')
    expect(log).to.not.contain('LLM Gateway initialized successfully')
    const status = (await http(`http://127.0.0.1:${port}/daemon/status`)).json as {gateway: {state: string; error: string}}
    expect(status.gateway.state).to.equal('failed')
    expect(status.gateway.error).to.contain('fallbackChain[1]')
    const human = await runCco(['daemon', 'status'], {home})
    expect(human.code).to.equal(0)
    expect(human.stdout).to.contain('FAILED to initialize')
  })

  it('invalid JSON in orchestra-config.json fails the gateway with the file named', async () => {
    const home = homes.make()
    writeFileSync(join(home, 'orchestra-config.json'), '{"llmGateway": {')
    const {gateway_port} = await startDaemonIn(home)
    expect(gateway_port).to.equal(null)
    const log = readLog(home)
    expect(log).to.contain(join(home, 'orchestra-config.json')).and.contain('invalid JSON')
    expect(log).to.contain('❌ CRITICAL: LLM Gateway failed to initialize')
  })

  it('a file without an llmGateway section uses the default config', async () => {
    const home = homes.make()
    writeFileSync(join(home, 'orchestra-config.json'), JSON.stringify({llmRouting: {}, agents: []}))
    const {gateway_port} = await startDaemonIn(home)
    const providers = await http(`http://127.0.0.1:${gateway_port}/gateway/providers`)
    expect(providers.json).to.deep.equal({providers: [{name: 'anthropic', type: 'anthropic', enabled: true, healthy: true, base_url: 'https://api.anthropic.com'}]})
  })

  it('a missing API key env var is not fatal: the provider is unhealthy with the reason, keys never shown', async () => {
    const home = homes.make()
    const secret = 'sk-ant-api03-THIS-MUST-NOT-LEAK-1234567890'
    writeGatewayConfig(home, {
      providers: {
        anthropic: {providerType: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKeyRef: 'CCO_TEST_ANTHROPIC_KEY'},
        deepseek: {providerType: 'deepseek', baseUrl: 'https://api.deepseek.com', apiKeyRef: 'env:CCO_TEST_DEEPSEEK_KEY'},
        ollama: {enabled: false, providerType: 'ollama', baseUrl: 'http://127.0.0.1:11434'},
      },
      routing: {defaultProvider: 'anthropic', fallbackChain: ['anthropic', 'deepseek']},
    })
    const {gateway_port} = await startDaemonIn(home, {CCO_TEST_ANTHROPIC_KEY: secret})
    const health = await http(`http://127.0.0.1:${gateway_port}/gateway/health`)
    expect(health.status).to.equal(200)
    const body = health.json as {status: string; providers: Record<string, {healthy: boolean; reason?: string; enabled: boolean; type: string}>; routing: unknown}
    expect(body.status).to.equal('degraded')
    expect(body.providers.anthropic).to.include({healthy: true, enabled: true, type: 'anthropic'})
    expect(body.providers.deepseek).to.include({healthy: false, reason: 'API key env var CCO_TEST_DEEPSEEK_KEY is not set'})
    expect(body.providers.ollama).to.include({healthy: false, enabled: false, reason: 'disabled'})
    expect(body.routing).to.deep.equal({default_provider: 'anthropic', fallback_chain: ['anthropic', 'deepseek']})

    const providers = await http(`http://127.0.0.1:${gateway_port}/gateway/providers`)
    expect((providers.json as {providers: Array<{name: string}>}).providers.map((p) => p.name)).to.deep.equal(['anthropic', 'deepseek', 'ollama'])
    for (const text of [health.text, providers.text, readLog(home), JSON.stringify(readPid(home))]) expect(text).to.not.contain(secret).and.not.contain('MUST-NOT-LEAK')
    expect(readLog(home)).to.contain('API key env var CCO_TEST_DEEPSEEK_KEY is not set')
  })

  it('health is 503 unhealthy when no enabled provider is healthy', async () => {
    const home = homes.make()
    writeGatewayConfig(home, {
      providers: {anthropic: {providerType: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKeyRef: 'CCO_TEST_UNSET_KEY'}},
      routing: {defaultProvider: 'anthropic'},
    })
    const {gateway_port} = await startDaemonIn(home)
    const health = await http(`http://127.0.0.1:${gateway_port}/gateway/health`)
    expect(health.status).to.equal(503)
    expect((health.json as {status: string}).status).to.equal('unhealthy')
  })
})
