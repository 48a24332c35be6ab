import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {isAbsolute, join, resolve} from 'node:path'
import {errnoCode} from './fsutil.js'
import {homePaths} from './paths.js'

/*
 * The `llmGateway` section of `$CCO_HOME/orchestra-config.json` (camelCase, as the
 * plan's Appendix C), validated by hand so that every error names its JSON path:
 *   llmGateway.routing.fallbackChain[1]: unknown provider "azur"
 * After validation, defaults are filled in and `apiKeyRef` is the bare env var name.
 */

export const PROVIDER_TYPES = ['anthropic', 'azure', 'deepseek', 'ollama'] as const
export type ProviderType = (typeof PROVIDER_TYPES)[number]
export const PROVIDER_APIS = ['anthropic', 'openai', 'chat', 'responses'] as const
export type ProviderApi = (typeof PROVIDER_APIS)[number]
export const MODEL_TIERS = ['opus', 'sonnet', 'haiku'] as const
export type ModelTier = (typeof MODEL_TIERS)[number]

/** Per-deployment rates (Azure), USD per million tokens. */
export interface DeploymentPricing {
  inputPerMillion: number
  outputPerMillion: number
  cacheReadPerMillion?: number
}

export interface ProviderConfig {
  /** The key under `providers`. */
  name: string
  enabled: boolean
  providerType: ProviderType
  /** http(s) URL without a trailing slash. */
  baseUrl: string
  /** Env var holding the key (normalised: "env:X" and "$X" become "X"). Absent = pass the client's credentials through. */
  apiKeyRef?: string
  /** Legacy total timeout, seconds. */
  timeoutSecs?: number
  connectTimeoutMs?: number
  firstByteTimeoutMs?: number
  idleTimeoutMs?: number
  /** Applies to non-streamed responses only. */
  totalTimeoutMs?: number
  /** 0..10, default 2. */
  maxRetries: number
  deployment?: string
  apiVersion?: string
  api?: ProviderApi
  /** Model name rewrites; keys may end in `*` (prefix match). */
  modelMap?: Record<string, string>
  defaultModel?: string
  headers?: Record<string, string>
  /** Models this provider can serve (optional). */
  models?: string[]
  pricing?: DeploymentPricing
}

export interface RoutingConfig {
  defaultProvider: string
  agentRules: Record<string, string>
  modelTierRules: Partial<Record<ModelTier, string>>
  fallbackChain: string[]
  /** x-claude-code-agent-id value -> agent type. */
  agentIdMap: Record<string, string>
  /** Substring marker in the system prompt -> agent type. */
  systemPromptMarkers: Record<string, string>
}

/** USD per million tokens. */
export interface ModelPricing {
  inputPerMillion: number
  outputPerMillion: number
  cacheWrite5mPerMillion?: number
  cacheWrite1hPerMillion?: number
  cacheWritePerMillion?: number
  cacheReadPerMillion?: number
}

export interface CostTrackingConfig {
  enabled: boolean
  pricingOverrides: Record<string, ModelPricing>
}

export interface AuditConfig {
  enabled: boolean
  logRequestBodies: boolean
  logResponseBodies: boolean
  retentionDays: number
  /** Absolute path; default `$CCO_HOME/gateway/audit.db`. */
  dbPath: string
  /** Records kept in memory while the database cannot be written; beyond it the oldest are dropped (and counted). */
  maxPendingRecords: number
}

export interface ServerConfig {
  maxBodyBytes: number
  host: string
  /** Time a client has to send the request headers (default 10 s; daemon/http_limits.ts). */
  headersTimeoutMs?: number
  /** Time a client has to send the whole request (default 60 s); responses are not limited. */
  requestTimeoutMs?: number
}

export interface GatewayConfig {
  providers: Record<string, ProviderConfig>
  routing: RoutingConfig
  costTracking: CostTrackingConfig
  audit: AuditConfig
  server: ServerConfig
  /** Where the config came from: the file path, or "default" when the file/section is absent. */
  source: string
}

export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
export const DEFAULT_MAX_RETRIES = 2
/** Audit records held in memory while the audit database cannot be written (then the oldest are dropped and counted). */
export const DEFAULT_MAX_PENDING_RECORDS = 50_000

export function defaultAuditDbPath(home: string): string {
  return join(homePaths(home).gatewayDir, 'audit.db')
}

/** The config used when orchestra-config.json or its llmGateway section is absent. */
export function defaultGatewayConfig(home: string): GatewayConfig {
  return {
    providers: {
      anthropic: {
        name: 'anthropic',
        enabled: true,
        providerType: 'anthropic',
        baseUrl: 'https://api.anthropic.com',
        maxRetries: DEFAULT_MAX_RETRIES,
      },
    },
    routing: {
      defaultProvider: 'anthropic',
      agentRules: {},
      modelTierRules: {},
      fallbackChain: ['anthropic'],
      agentIdMap: {},
      systemPromptMarkers: {},
    },
    costTracking: {enabled: true, pricingOverrides: {}},
    audit: {enabled: true, logRequestBodies: true, logResponseBodies: true, retentionDays: 30, dbPath: defaultAuditDbPath(home), maxPendingRecords: DEFAULT_MAX_PENDING_RECORDS},
    server: {maxBodyBytes: DEFAULT_MAX_BODY_BYTES, host: '127.0.0.1'},
    source: 'default',
  }
}

export class GatewayConfigError extends Error {
  constructor(
    readonly file: string,
    readonly errors: string[],
  ) {
    super(`Invalid LLM Gateway config in ${file}:\n${errors.map((e) => `  - ${e}`).join('\n')}`)
    this.name = 'GatewayConfigError'
  }
}

/** "env:X" / "$X" / "X" -> "X"; null when not a valid env var name. */
export function normalizeApiKeyRef(ref: string): string | null {
  const name = ref.startsWith('env:') ? ref.slice(4) : ref.startsWith('$') ? ref.slice(1) : ref
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : null
}

// ---------------------------------------------------------------------------
// A tiny path-tracking validator.

type Obj = Record<string, unknown>

function kind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** Values that look like credentials (Anthropic/OpenAI keys, JWTs, GitHub/AWS tokens, Azure's 32-hex keys). */
const SECRET_LIKE = /sk-[A-Za-z0-9_-]{8,}|sk_[A-Za-z0-9]{8,}|eyJ[A-Za-z0-9_-]{10,}|ghp_[A-Za-z0-9]{10,}|AKIA[A-Z0-9]{12,}|[A-Fa-f0-9]{32,}/

/** A value quoted in an error message; a key pasted into the wrong field is never echoed. */
function show(value: unknown): string {
  if (typeof value === 'string' && SECRET_LIKE.test(value)) return '(a value that looks like a secret; not shown)'
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text
}

class Checker {
  readonly errors: string[] = []

  fail(path: string, message: string): undefined {
    this.errors.push(`${path}: ${message}`)
    return undefined
  }

  object(path: string, value: unknown): Obj | undefined {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Obj
    return this.fail(path, `must be an object, got ${kind(value)}`)
  }

  /** Reports keys not in `allowed` (with a did-you-mean for case/spelling slips). */
  keys(path: string, obj: Obj, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue
      const hint = allowed.find((a) => a.toLowerCase() === key.toLowerCase().replace(/[_-]/g, ''))
      this.fail(`${path}.${key}`, `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; allowed: ${allowed.join(', ')}`)
    }
  }

  bool(path: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback
    if (typeof value === 'boolean') return value
    this.fail(path, `must be true or false, got ${show(value)}`)
    return fallback
  }

  string(path: string, value: unknown, opts: {nonEmpty?: boolean} = {}): string | undefined {
    if (value === undefined) return undefined
    if (typeof value !== 'string') return this.fail(path, `must be a string, got ${kind(value)}`)
    if (opts.nonEmpty && value.trim() === '') return this.fail(path, 'must not be empty')
    return value
  }

  number(path: string, value: unknown, opts: {min?: number; max?: number; int?: boolean; positive?: boolean} = {}): number | undefined {
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.fail(path, `must be a number, got ${show(value)}`)
    if (opts.int && !Number.isInteger(value)) return this.fail(path, `must be an integer, got ${value}`)
    if (opts.positive && value <= 0) return this.fail(path, `must be greater than 0, got ${value}`)
    if (opts.min !== undefined && value < opts.min) return this.fail(path, `must be at least ${opts.min}, got ${value}`)
    if (opts.max !== undefined && value > opts.max) return this.fail(path, `must be at most ${opts.max}, got ${value}`)
    return value
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (value === undefined) return undefined
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
    return this.fail(path, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${show(value)}`)
  }

  stringRecord(path: string, value: unknown): Record<string, string> | undefined {
    if (value === undefined) return undefined
    const obj = this.object(path, value)
    if (!obj) return undefined
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v === 'string') out[k] = v
      else this.fail(`${path}.${k}`, `must be a string, got ${kind(v)}`)
    }
    return out
  }

  stringArray(path: string, value: unknown): string[] | undefined {
    if (value === undefined) return undefined
    if (!Array.isArray(value)) return this.fail(path, `must be an array of strings, got ${kind(value)}`)
    const out: string[] = []
    value.forEach((v, i) => {
      if (typeof v === 'string') out.push(v)
      else this.fail(`${path}[${i}]`, `must be a string, got ${kind(v)}`)
    })
    return out
  }

  url(path: string, value: unknown): string | undefined {
    const text = this.string(path, value, {nonEmpty: true})
    if (text === undefined) return undefined
    let parsed: URL
    try {
      parsed = new URL(text)
    } catch {
      return this.fail(path, `must be an http(s) URL, got ${show(text)}`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return this.fail(path, `must be an http(s) URL, got ${show(text)}`)
    }
    if (parsed.username || parsed.password) return this.fail(path, 'must not contain credentials; use apiKeyRef')
    return text.replace(/\/+$/, '')
  }
}

const PROVIDER_KEYS = [
  'enabled', 'providerType', 'baseUrl', 'apiKeyRef', 'timeoutSecs', 'connectTimeoutMs', 'firstByteTimeoutMs',
  'idleTimeoutMs', 'totalTimeoutMs', 'maxRetries', 'deployment', 'apiVersion', 'api', 'modelMap', 'defaultModel',
  'headers', 'models', 'pricing',
] as const
const SECTION_KEYS = ['providers', 'routing', 'costTracking', 'audit', 'server'] as const
const ROUTING_KEYS = ['defaultProvider', 'agentRules', 'modelTierRules', 'fallbackChain', 'agentIdMap', 'systemPromptMarkers'] as const
const COST_KEYS = ['enabled', 'pricingOverrides'] as const
const MODEL_PRICING_KEYS = [
  'inputPerMillion', 'outputPerMillion', 'cacheWrite5mPerMillion', 'cacheWrite1hPerMillion', 'cacheWritePerMillion', 'cacheReadPerMillion',
] as const
const DEPLOYMENT_PRICING_KEYS = ['inputPerMillion', 'outputPerMillion', 'cacheReadPerMillion'] as const
const AUDIT_KEYS = ['enabled', 'logRequestBodies', 'logResponseBodies', 'retentionDays', 'dbPath', 'maxPendingRecords'] as const
const SERVER_KEYS = ['maxBodyBytes', 'host', 'headersTimeoutMs', 'requestTimeoutMs'] as const

function checkPricing<K extends string>(c: Checker, path: string, value: unknown, keys: readonly K[]): Record<K, number> | undefined {
  const obj = c.object(path, value)
  if (!obj) return undefined
  c.keys(path, obj, keys)
  const out: Partial<Record<K, number>> = {}
  for (const key of keys) {
    const v = c.number(`${path}.${key}`, obj[key], {min: 0})
    if (v !== undefined) out[key] = v
  }
  for (const required of ['inputPerMillion', 'outputPerMillion']) {
    if (obj[required] === undefined) c.fail(`${path}.${required}`, 'is required')
  }
  return out as Record<K, number>
}

function checkProvider(c: Checker, path: string, name: string, value: unknown): ProviderConfig | undefined {
  const obj = c.object(path, value)
  if (!obj) return undefined
  c.keys(path, obj, PROVIDER_KEYS)
  const providerType = obj.providerType === undefined ? c.fail(`${path}.providerType`, `is required (one of ${PROVIDER_TYPES.join(', ')})`) : c.oneOf(`${path}.providerType`, obj.providerType, PROVIDER_TYPES)
  const baseUrl = obj.baseUrl === undefined ? c.fail(`${path}.baseUrl`, 'is required (an http(s) URL)') : c.url(`${path}.baseUrl`, obj.baseUrl)
  const provider: ProviderConfig = {
    name,
    enabled: c.bool(`${path}.enabled`, obj.enabled, true),
    providerType: providerType ?? 'anthropic',
    baseUrl: baseUrl ?? '',
    maxRetries: c.number(`${path}.maxRetries`, obj.maxRetries, {int: true, min: 0, max: 10}) ?? DEFAULT_MAX_RETRIES,
  }
  const ref = c.string(`${path}.apiKeyRef`, obj.apiKeyRef, {nonEmpty: true})
  if (ref !== undefined) {
    const envName = normalizeApiKeyRef(ref)
    if (envName) provider.apiKeyRef = envName
    // Never echo the value: someone may have pasted the key itself here.
    else c.fail(`${path}.apiKeyRef`, 'must name an environment variable (e.g. "ANTHROPIC_API_KEY", "env:X" or "$X"), not hold the key itself')
  }
  const timeoutSecs = c.number(`${path}.timeoutSecs`, obj.timeoutSecs, {positive: true})
  if (timeoutSecs !== undefined) provider.timeoutSecs = timeoutSecs
  for (const key of ['connectTimeoutMs', 'firstByteTimeoutMs', 'idleTimeoutMs', 'totalTimeoutMs'] as const) {
    const v = c.number(`${path}.${key}`, obj[key], {positive: true})
    if (v !== undefined) provider[key] = v
  }
  for (const key of ['deployment', 'apiVersion', 'defaultModel'] as const) {
    const v = c.string(`${path}.${key}`, obj[key], {nonEmpty: true})
    if (v !== undefined) provider[key] = v
  }
  const api = c.oneOf(`${path}.api`, obj.api, PROVIDER_APIS)
  if (api !== undefined) provider.api = api
  const modelMap = c.stringRecord(`${path}.modelMap`, obj.modelMap)
  if (modelMap !== undefined) provider.modelMap = modelMap
  const headers = c.stringRecord(`${path}.headers`, obj.headers)
  if (headers !== undefined) provider.headers = headers
  const models = c.stringArray(`${path}.models`, obj.models)
  if (models !== undefined) provider.models = models
  if (obj.pricing !== undefined) {
    const pricing = checkPricing(c, `${path}.pricing`, obj.pricing, DEPLOYMENT_PRICING_KEYS)
    if (pricing) provider.pricing = pricing
  }
  return provider
}

function checkProviderRef(c: Checker, path: string, value: unknown, providers: Record<string, ProviderConfig>): string | undefined {
  const name = c.string(path, value, {nonEmpty: true})
  if (name === undefined) return undefined
  if (!(name in providers)) {
    const known = Object.keys(providers)
    return c.fail(path, `unknown provider ${show(name)}${known.length ? ` (configured: ${known.join(', ')})` : ''}`)
  }
  return name
}

function resolvePath(home: string, path: string): string {
  if (path === '~') return homedir()
  if (path.startsWith('~/')) return join(homedir(), path.slice(2))
  return isAbsolute(path) ? path : resolve(home, path)
}

/**
 * Validates the `llmGateway` section (the value, not the whole file). Returns the
 * config with defaults filled in, or the list of errors (each "path: message").
 */
export function validateGatewayConfig(
  section: unknown,
  home: string,
  source: string,
): {config: GatewayConfig; errors: []} | {config: undefined; errors: string[]} {
  const c = new Checker()
  const root = 'llmGateway'
  const obj = c.object(root, section)
  if (!obj) return {config: undefined, errors: c.errors}
  c.keys(root, obj, SECTION_KEYS)

  const providers: Record<string, ProviderConfig> = {}
  const providersObj = obj.providers === undefined ? c.fail(`${root}.providers`, 'is required (at least one provider)') : c.object(`${root}.providers`, obj.providers)
  if (providersObj) {
    if (Object.keys(providersObj).length === 0) c.fail(`${root}.providers`, 'must configure at least one provider')
    for (const [name, value] of Object.entries(providersObj)) {
      const path = `${root}.providers.${name}`
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
        c.fail(path, 'provider names may contain only letters, digits, ".", "_" and "-"')
        continue
      }
      const provider = checkProvider(c, path, name, value)
      if (provider) providers[name] = provider
    }
  }

  const routing: RoutingConfig = {defaultProvider: '', agentRules: {}, modelTierRules: {}, fallbackChain: [], agentIdMap: {}, systemPromptMarkers: {}}
  const routingObj = obj.routing === undefined ? c.fail(`${root}.routing`, 'is required (at least routing.defaultProvider)') : c.object(`${root}.routing`, obj.routing)
  if (routingObj) {
    const path = `${root}.routing`
    c.keys(path, routingObj, ROUTING_KEYS)
    if (routingObj.defaultProvider === undefined) c.fail(`${path}.defaultProvider`, 'is required')
    else {
      const def = checkProviderRef(c, `${path}.defaultProvider`, routingObj.defaultProvider, providers)
      if (def !== undefined) {
        if (!providers[def]?.enabled) c.fail(`${path}.defaultProvider`, `provider "${def}" is disabled; the default provider must be enabled`)
        routing.defaultProvider = def
      }
    }
    const agentRules = c.stringRecord(`${path}.agentRules`, routingObj.agentRules) ?? {}
    for (const [agent, provider] of Object.entries(agentRules)) {
      if (checkProviderRef(c, `${path}.agentRules.${agent}`, provider, providers) !== undefined) routing.agentRules[agent] = provider
    }
    const tierObj = routingObj.modelTierRules === undefined ? undefined : c.object(`${path}.modelTierRules`, routingObj.modelTierRules)
    if (tierObj) {
      c.keys(`${path}.modelTierRules`, tierObj, MODEL_TIERS)
      for (const tier of MODEL_TIERS) {
        if (tierObj[tier] === undefined) continue
        const p = checkProviderRef(c, `${path}.modelTierRules.${tier}`, tierObj[tier], providers)
        if (p !== undefined) routing.modelTierRules[tier] = p
      }
    }
    const chain = c.stringArray(`${path}.fallbackChain`, routingObj.fallbackChain) ?? []
    chain.forEach((name, i) => {
      if (checkProviderRef(c, `${path}.fallbackChain[${i}]`, name, providers) !== undefined) routing.fallbackChain.push(name)
    })
    routing.agentIdMap = c.stringRecord(`${path}.agentIdMap`, routingObj.agentIdMap) ?? {}
    routing.systemPromptMarkers = c.stringRecord(`${path}.systemPromptMarkers`, routingObj.systemPromptMarkers) ?? {}
  }

  const costTracking: CostTrackingConfig = {enabled: true, pricingOverrides: {}}
  if (obj.costTracking !== undefined) {
    const path = `${root}.costTracking`
    const cost = c.object(path, obj.costTracking)
    if (cost) {
      c.keys(path, cost, COST_KEYS)
      costTracking.enabled = c.bool(`${path}.enabled`, cost.enabled, true)
      if (cost.pricingOverrides !== undefined) {
        const overrides = c.object(`${path}.pricingOverrides`, cost.pricingOverrides)
        for (const [model, pricing] of Object.entries(overrides ?? {})) {
          const checked = checkPricing(c, `${path}.pricingOverrides.${model}`, pricing, MODEL_PRICING_KEYS)
          if (checked) costTracking.pricingOverrides[model] = checked
        }
      }
    }
  }

  const audit: AuditConfig = {enabled: true, logRequestBodies: true, logResponseBodies: true, retentionDays: 30, dbPath: defaultAuditDbPath(home), maxPendingRecords: DEFAULT_MAX_PENDING_RECORDS}
  if (obj.audit !== undefined) {
    const path = `${root}.audit`
    const a = c.object(path, obj.audit)
    if (a) {
      c.keys(path, a, AUDIT_KEYS)
      audit.enabled = c.bool(`${path}.enabled`, a.enabled, true)
      audit.logRequestBodies = c.bool(`${path}.logRequestBodies`, a.logRequestBodies, true)
      audit.logResponseBodies = c.bool(`${path}.logResponseBodies`, a.logResponseBodies, true)
      audit.retentionDays = c.number(`${path}.retentionDays`, a.retentionDays, {int: true, min: 0}) ?? 30
      audit.maxPendingRecords = c.number(`${path}.maxPendingRecords`, a.maxPendingRecords, {int: true, min: 1}) ?? DEFAULT_MAX_PENDING_RECORDS
      const dbPath = c.string(`${path}.dbPath`, a.dbPath, {nonEmpty: true})
      if (dbPath !== undefined) audit.dbPath = resolvePath(home, dbPath)
    }
  }

  const server: ServerConfig = {maxBodyBytes: DEFAULT_MAX_BODY_BYTES, host: '127.0.0.1'}
  if (obj.server !== undefined) {
    const path = `${root}.server`
    const s = c.object(path, obj.server)
    if (s) {
      c.keys(path, s, SERVER_KEYS)
      server.maxBodyBytes = c.number(`${path}.maxBodyBytes`, s.maxBodyBytes, {int: true, positive: true}) ?? DEFAULT_MAX_BODY_BYTES
      server.host = c.string(`${path}.host`, s.host, {nonEmpty: true}) ?? '127.0.0.1'
      for (const key of ['headersTimeoutMs', 'requestTimeoutMs'] as const) {
        const ms = c.number(`${path}.${key}`, s[key], {int: true, positive: true})
        if (ms !== undefined) server[key] = ms
      }
    }
  }

  if (c.errors.length > 0) return {config: undefined, errors: c.errors}
  return {config: {providers, routing, costTracking, audit, server, source}, errors: []}
}

/**
 * Loads `$CCO_HOME/orchestra-config.json`'s `llmGateway` section. An absent file or
 * section gives `defaultGatewayConfig`. Throws GatewayConfigError (listing every
 * error with its JSON path) on invalid JSON or schema errors.
 */
export function loadGatewayConfig(home: string): GatewayConfig {
  const file = homePaths(home).gatewayConfigFile
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return defaultGatewayConfig(home)
    throw new GatewayConfigError(file, [`cannot read the file (${(error as Error).message})`])
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new GatewayConfigError(file, [`invalid JSON (${(error as Error).message})`])
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GatewayConfigError(file, [`the file must contain a JSON object, got ${kind(raw)}`])
  }
  const section = (raw as Obj).llmGateway
  if (section === undefined) return defaultGatewayConfig(home)
  const result = validateGatewayConfig(section, home, file)
  if (result.config === undefined) throw new GatewayConfigError(file, result.errors)
  return result.config
}

/** The env var a provider's key comes from, and whether it is set (never the value). */
export function apiKeyStatus(provider: ProviderConfig, env: NodeJS.ProcessEnv = process.env): {envVar: string | null; present: boolean} {
  if (!provider.apiKeyRef) return {envVar: null, present: true}
  const value = env[provider.apiKeyRef]
  return {envVar: provider.apiKeyRef, present: typeof value === 'string' && value !== ''}
}
