import {expect} from 'chai'
import {detectAgent, mapModel, route, tierOf} from '../../src/llm_gateway/router.js'
import type {GatewaySettings} from '../../src/llm_gateway/settings.js'
import {provider} from './helpers.js'

const base = 'http://127.0.0.1:1'

function settings(over: Partial<GatewaySettings['routing']> = {}, disabled: string[] = []): GatewaySettings {
  const names = ['anthropic', 'azure', 'deepseek', 'ollama'] as const
  const providers: GatewaySettings['providers'] = {}
  for (const n of names) providers[n] = provider({providerType: n, baseUrl: base, enabled: !disabled.includes(n)})
  return {
    providers,
    routing: {
      defaultProvider: 'anthropic',
      agentRules: {'code-reviewer': 'azure', 'python-specialist': 'deepseek'},
      modelTierRules: {haiku: 'ollama'},
      fallbackChain: ['anthropic', 'azure', 'deepseek'],
      agentIdMap: {'agent-123': 'code-reviewer'},
      systemPromptMarkers: {'You are a Python specialist': 'python-specialist', 'code review': 'code-reviewer'},
      ...over,
    },
  }
}

describe('request path: router', () => {
  describe('agent detection order', () => {
    const s = settings()
    it('x-cco-agent-type header wins over everything', () => {
      const r = detectAgent({'x-cco-agent-type': 'Test-Engineer', 'x-claude-code-agent-id': 'agent-123'}, 'You are a Python specialist', s.routing)
      expect(r).to.deep.equal({agentType: 'test-engineer', source: 'header'})
    })
    it('then x-claude-code-agent-id mapped through agentIdMap', () => {
      expect(detectAgent({'x-claude-code-agent-id': 'agent-123'}, 'You are a Python specialist', s.routing)).to.deep.equal({agentType: 'code-reviewer', source: 'agent_id'})
    })
    it('an unmapped agent id falls through to the system prompt markers', () => {
      expect(detectAgent({'x-claude-code-agent-id': 'agent-999'}, 'You are a Python specialist', s.routing).source).to.equal('system_marker')
    })
    it('then the first configured marker found in the system prompt (string or text blocks)', () => {
      const blocks = [{type: 'text', text: 'x-anthropic-billing-header: cc_version=2'}, {type: 'text', text: 'Please do a code review of this diff'}]
      expect(detectAgent({}, blocks, s.routing)).to.deep.equal({agentType: 'code-reviewer', source: 'system_marker'})
    })
    it('else main', () => {
      expect(detectAgent({}, 'You are Claude Code', s.routing)).to.deep.equal({agentType: 'main', source: 'default'})
      expect(detectAgent({'x-cco-agent-type': '  '}, undefined, s.routing)).to.deep.equal({agentType: 'main', source: 'default'})
    })
  })

  describe('tiers', () => {
    it('reads opus / sonnet / haiku from the model name, otherwise none', () => {
      expect(tierOf('claude-opus-4-5-20251101')).to.equal('opus')
      expect(tierOf('claude-sonnet-4-5-20250929')).to.equal('sonnet')
      expect(tierOf('claude-haiku-4-5-20251001')).to.equal('haiku')
      expect(tierOf('Claude-3-HAIKU')).to.equal('haiku')
      expect(tierOf('gpt-5.1-codex-mini')).to.equal(null)
      expect(tierOf(undefined)).to.equal(null)
    })
  })

  describe('rules: agentRules -> modelTierRules -> defaultProvider, then the fallback chain', () => {
    it('an agent rule wins over the tier rule', () => {
      const d = route(settings(), {'x-cco-agent-type': 'code-reviewer'}, 'claude-haiku-4-5', undefined)
      expect(d).to.include({agentType: 'code-reviewer', provider: 'azure', reason: 'agent_rule:code-reviewer', tier: 'haiku'})
      expect(d.chain).to.deep.equal(['azure', 'anthropic', 'deepseek'])
    })
    it('a tier rule applies when the agent has no rule', () => {
      const d = route(settings(), {}, 'claude-haiku-4-5-20251001', undefined)
      expect(d).to.include({agentType: 'main', provider: 'ollama', reason: 'model_tier:haiku'})
      expect(d.chain).to.deep.equal(['ollama', 'anthropic', 'azure', 'deepseek'])
    })
    it('the default provider otherwise', () => {
      const d = route(settings(), {}, 'claude-sonnet-4-5', undefined)
      expect(d).to.include({provider: 'anthropic', reason: 'default'})
      expect(d.chain).to.deep.equal(['anthropic', 'azure', 'deepseek'])
    })
    it('skips a rule whose provider is disabled', () => {
      const d = route(settings({}, ['azure']), {'x-cco-agent-type': 'code-reviewer'}, 'claude-haiku-4-5', undefined)
      expect(d).to.include({provider: 'ollama', reason: 'model_tier:haiku'})
      expect(d.chain).to.deep.equal(['ollama', 'anthropic', 'deepseek'])
    })
    it('uses the fallback chain when the default provider is disabled, and reports no provider when none is enabled', () => {
      expect(route(settings({}, ['anthropic']), {}, 'claude-sonnet-4-5', undefined)).to.include({provider: 'azure', reason: 'fallback_chain'})
      const none = route(settings({fallbackChain: []}, ['anthropic', 'azure', 'deepseek', 'ollama']), {}, 'x', undefined)
      expect(none).to.include({provider: null, reason: 'no_provider'})
      expect(none.chain).to.deep.equal([])
    })
    it('routes by a system prompt marker and by a mapped agent id', () => {
      expect(route(settings(), {}, 'claude-sonnet-4-5', 'You are a Python specialist.').provider).to.equal('deepseek')
      expect(route(settings(), {'x-claude-code-agent-id': 'agent-123'}, 'claude-sonnet-4-5', undefined).provider).to.equal('azure')
    })
  })

  describe('modelMap', () => {
    const p = provider({
      providerType: 'azure',
      baseUrl: base,
      modelMap: {'claude-sonnet-4-5*': 'gpt-5.1-codex-mini', 'claude-*': 'gpt-4.1', 'claude-sonnet-4-5-20250929': 'exact-target', 'claude-s*': 'short'},
    })
    it('an exact key wins', () => expect(mapModel(p, 'claude-sonnet-4-5-20250929')).to.equal('exact-target'))
    it('then the longest matching prefix glob (deterministic)', () => {
      expect(mapModel(p, 'claude-sonnet-4-5')).to.equal('gpt-5.1-codex-mini')
      expect(mapModel(p, 'claude-sonnet-4-5-20991231')).to.equal('gpt-5.1-codex-mini')
      expect(mapModel(p, 'claude-sonnet-4-6')).to.equal('short')
      expect(mapModel(p, 'claude-opus-4-5')).to.equal('gpt-4.1')
    })
    it('no match and no map give undefined', () => {
      expect(mapModel(p, 'gpt-4o')).to.equal(undefined)
      expect(mapModel(provider({providerType: 'anthropic', baseUrl: base}), 'claude-opus-4-5')).to.equal(undefined)
    })
  })
})
