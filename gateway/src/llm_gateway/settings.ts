/**
 * The slice of the `llmGateway` config section the request path reads: a structural
 * subset of `GatewayConfig` (gateway/src/daemon/config.ts), so the daemon passes its
 * validated config as is (checked at compile time below) while tests can write small
 * literal configs.
 */
import type {GatewayConfig} from '../daemon/config.js'

export type ProviderType = 'anthropic' | 'azure' | 'deepseek' | 'ollama'

/** Which wire API a provider is spoken to with. */
export type ProviderApi = 'anthropic' | 'openai' | 'chat' | 'responses'

export interface ProviderSettings {
  enabled: boolean
  providerType: ProviderType
  baseUrl: string
  /** Name of the environment variable holding the key; also accepted as "env:NAME" or "$NAME". */
  apiKeyRef?: string
  /** Legacy knob: used as the first-byte timeout and the non-streamed total when the specific ones are absent. */
  timeoutSecs?: number
  connectTimeoutMs?: number
  firstByteTimeoutMs?: number
  idleTimeoutMs?: number
  /** Whole-response limit for non-streamed requests only; streams are never cut by it. */
  totalTimeoutMs?: number
  /** Retries on the same provider (default 2). */
  maxRetries?: number
  /** Azure deployment name. */
  deployment?: string
  /** Azure api-version (chat completions on the deployment path). */
  apiVersion?: string
  api?: ProviderApi
  /** Model name rewrites; a key ending in `*` matches by prefix (longest prefix wins). */
  modelMap?: Record<string, string>
  defaultModel?: string
  /** Extra headers sent to this provider (override forwarded ones). */
  headers?: Record<string, string>
  /** Models this provider serves (for /v1/models and to reject unknown models). */
  models?: string[]
}

export interface RoutingSettings {
  defaultProvider: string
  /** agent type -> provider name */
  agentRules?: Record<string, string>
  /** tier (opus|sonnet|haiku) -> provider name */
  modelTierRules?: Partial<Record<'opus' | 'sonnet' | 'haiku', string>>
  fallbackChain?: string[]
  /** value of the x-claude-code-agent-id header -> agent type */
  agentIdMap?: Record<string, string>
  /** marker text searched for in the system prompt -> agent type (first match in insertion order wins) */
  systemPromptMarkers?: Record<string, string>
}

export interface GatewaySettings {
  providers: Record<string, ProviderSettings>
  routing: RoutingSettings
  server?: {maxBodyBytes?: number}
}

export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

/** Resolves an apiKeyRef ("NAME", "env:NAME" or "$NAME") against the environment; undefined when unset or empty. */
export function resolveApiKey(ref: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!ref) return undefined
  let name = ref.trim()
  if (name.startsWith('env:')) name = name.slice(4)
  else if (name.startsWith('$')) name = name.slice(1)
  if (name.startsWith('{') && name.endsWith('}')) name = name.slice(1, -1)
  const value = env[name]
  return value ? value : undefined
}

/** The wire format a provider speaks: "anthropic" (passthrough), "chat" (OpenAI chat completions) or "responses". */
export function providerWireApi(p: ProviderSettings): 'anthropic' | 'chat' | 'responses' {
  if (p.providerType === 'anthropic') return 'anthropic'
  if (p.providerType === 'azure') {
    if (p.api === 'responses') return 'responses'
    if (p.api === 'chat' || p.api === 'openai') return 'chat'
    // Codex deployments are Responses-API-only on Azure; everything else defaults to chat completions.
    return /codex/i.test(p.deployment ?? p.defaultModel ?? '') ? 'responses' : 'chat'
  }
  // deepseek and ollama speak Anthropic natively; api "openai"/"chat" selects their OpenAI endpoint, "responses" the Responses API.
  if (p.api === 'openai' || p.api === 'chat') return 'chat'
  if (p.api === 'responses') return 'responses'
  return 'anthropic'
}

/** Compile-time proof that the daemon's validated config satisfies this shape. */
export const acceptsDaemonConfig = (c: GatewayConfig): GatewaySettings => c
