/**
 * Routing decision per request: agentRules[agent] -> modelTierRules[tier] -> defaultProvider,
 * then the fallback chain for failures. The agent type comes from (in order) the
 * `x-cco-agent-type` header, the `x-claude-code-agent-id` header mapped through
 * routing.agentIdMap, a configured marker in the system prompt, else "main".
 */
import type {IncomingHttpHeaders} from 'node:http'
import type {GatewaySettings, ProviderSettings} from './settings.js'

export type Tier = 'opus' | 'sonnet' | 'haiku'

export interface RouteDecision {
  agentType: string
  /** How the agent type was found: header | agent_id | system_marker | default. */
  agentSource: 'header' | 'agent_id' | 'system_marker' | 'default'
  tier: Tier | null
  /** Primary provider name, or null when no enabled provider can be chosen. */
  provider: string | null
  /** agent_rule:X | model_tier:X | default */
  reason: string
  /** Providers to try in order: the primary, then the fallback chain (enabled, deduplicated). */
  chain: string[]
}

export function tierOf(model: string | undefined): Tier | null {
  if (!model) return null
  const m = model.toLowerCase()
  if (m.includes('opus')) return 'opus'
  if (m.includes('sonnet')) return 'sonnet'
  if (m.includes('haiku')) return 'haiku'
  return null
}

function headerValue(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h
  const t = v?.trim()
  return t ? t : undefined
}

/** Concatenated text of the system prompt (string or text blocks). */
function systemPromptText(system: unknown): string {
  if (typeof system === 'string') return system
  if (!Array.isArray(system)) return ''
  let s = ''
  for (const b of system) {
    if (b && typeof b === 'object' && typeof (b as {text?: unknown}).text === 'string') s += `${(b as {text: string}).text}\n`
  }
  return s
}

export function detectAgent(
  headers: IncomingHttpHeaders,
  system: unknown,
  routing: GatewaySettings['routing'],
): {agentType: string; source: RouteDecision['agentSource']} {
  const explicit = headerValue(headers['x-cco-agent-type'])
  if (explicit) return {agentType: explicit.toLowerCase(), source: 'header'}
  const agentId = headerValue(headers['x-claude-code-agent-id'])
  if (agentId && routing.agentIdMap) {
    const mapped = routing.agentIdMap[agentId]
    if (mapped) return {agentType: mapped.toLowerCase(), source: 'agent_id'}
  }
  const markers = routing.systemPromptMarkers
  if (markers && system !== undefined) {
    const text = systemPromptText(system)
    if (text) {
      for (const [marker, agent] of Object.entries(markers)) {
        if (marker && text.includes(marker)) return {agentType: agent.toLowerCase(), source: 'system_marker'}
      }
    }
  }
  return {agentType: 'main', source: 'default'}
}

function usable(settings: GatewaySettings, name: string | undefined): name is string {
  return !!name && settings.providers[name]?.enabled === true
}

export function route(settings: GatewaySettings, headers: IncomingHttpHeaders, model: string | undefined, system: unknown): RouteDecision {
  const {agentType, source} = detectAgent(headers, system, settings.routing)
  const tier = tierOf(model)
  const r = settings.routing
  let provider: string | null = null
  let reason = 'default'
  const agentTarget = r.agentRules?.[agentType]
  const tierTarget = tier ? r.modelTierRules?.[tier] : undefined
  if (usable(settings, agentTarget)) {
    provider = agentTarget
    reason = `agent_rule:${agentType}`
  } else if (usable(settings, tierTarget)) {
    provider = tierTarget
    reason = `model_tier:${tier}`
  } else if (usable(settings, r.defaultProvider)) {
    provider = r.defaultProvider
    reason = 'default'
  } else {
    // Default provider disabled: the first enabled provider of the fallback chain serves.
    provider = (r.fallbackChain ?? []).find((p) => usable(settings, p)) ?? null
    reason = provider ? 'fallback_chain' : 'no_provider'
  }
  const chain: string[] = []
  if (provider) chain.push(provider)
  for (const p of r.fallbackChain ?? []) if (usable(settings, p) && !chain.includes(p)) chain.push(p)
  return {agentType, agentSource: source, tier, provider, reason, chain}
}

/**
 * The model name to send to a provider: exact modelMap key, else the longest `prefix*` key,
 * else undefined (caller decides: passthrough keeps the name, translated providers fall back
 * to defaultModel / deployment).
 */
export function mapModel(provider: ProviderSettings, model: string): string | undefined {
  const map = provider.modelMap
  if (!map) return undefined
  const exact = map[model]
  if (exact !== undefined && !model.endsWith('*')) return exact
  let best: string | undefined
  let bestLen = -1
  for (const [key, value] of Object.entries(map)) {
    if (!key.endsWith('*')) continue
    const prefix = key.slice(0, -1)
    if (prefix.length > bestLen && model.startsWith(prefix)) {
      best = value
      bestLen = prefix.length
    }
  }
  return best
}
