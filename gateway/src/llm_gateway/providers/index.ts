/**
 * Provider adapters: where and how a request is sent for each provider type.
 *  - anthropic: native passthrough (client body bytes unchanged, all client headers).
 *  - deepseek / ollama: passthrough to their Anthropic endpoints, or `api: "openai"` through the translator.
 *  - azure: translated, chat completions (deployment path) or the Responses API.
 */
import type {IncomingHttpHeaders} from 'node:http'
import {mapModel} from '../router.js'
import {type GatewaySettings, type ProviderSettings, type ProviderType, providerWireApi, resolveApiKey} from '../settings.js'
import type {ChatFlavor, Json, ToolNameMap} from '../translate/common.js'
import {anthropicToChat, anthropicToResponses} from '../translate/request.js'
import {replaceTopLevelString} from '../translate/splice.js'
import type {Timeouts, UpstreamRequest} from '../upstream.js'
import {forwardClientHeaders, translatedHeaders} from './headers.js'

export interface Inbound {
  rawHeaders: string[]
  headers: IncomingHttpHeaders
  /** Raw client body bytes. */
  body: Buffer
  /** Parsed copy (translation only; may be computed lazily on first access). */
  readonly parsed: Json
  /** The body's top-level `model` value (decoded), so passthrough never needs the parsed copy. */
  readonly model?: unknown
  /** True when `model` occurs more than once at the top level (or that is unknown): the body is then rewritten to one value. */
  readonly modelDuplicated?: boolean
}

export type ModelResolution = {ok: true; model: string} | {ok: false; message: string}

export interface BuiltMessagesRequest {
  request: UpstreamRequest
  /** Present for translated providers (maps shortened tool names back). */
  toolNames?: ToolNameMap
}

export class ProviderAdapter {
  readonly wire: 'anthropic' | 'chat' | 'responses'
  readonly type: ProviderType
  readonly flavor: ChatFlavor
  readonly timeouts: Timeouts
  readonly maxRetries: number
  private readonly base: URL

  constructor(
    readonly name: string,
    readonly settings: ProviderSettings,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.type = settings.providerType
    this.wire = providerWireApi(settings)
    this.flavor = settings.providerType === 'azure' ? 'azure' : settings.providerType === 'deepseek' ? 'deepseek' : settings.providerType === 'ollama' ? 'ollama' : 'openai'
    this.base = new URL(settings.baseUrl)
    const legacy = settings.timeoutSecs && settings.timeoutSecs > 0 ? settings.timeoutSecs * 1000 : undefined
    this.timeouts = {
      connectMs: settings.connectTimeoutMs ?? 10_000,
      firstByteMs: settings.firstByteTimeoutMs ?? legacy ?? 300_000,
      idleMs: settings.idleTimeoutMs ?? 300_000,
      totalMs: settings.totalTimeoutMs ?? legacy ?? 600_000,
    }
    this.maxRetries = Math.max(0, settings.maxRetries ?? 2)
  }

  /** True when the provider speaks the Anthropic Messages format (passthrough). */
  get passthrough(): boolean {
    return this.wire === 'anthropic'
  }

  /** count_tokens can be forwarded (Ollama's Anthropic endpoint has none; translated providers are estimated). */
  get forwardsCountTokens(): boolean {
    return this.passthrough && this.type !== 'ollama'
  }

  /** Problem with the provider's own configuration that makes it unusable now (e.g. key env var unset). */
  configProblem(): string | undefined {
    if (this.settings.apiKeyRef && !resolveApiKey(this.settings.apiKeyRef, this.env)) {
      return `provider "${this.name}": the API key environment variable named by apiKeyRef (${this.settings.apiKeyRef}) is not set`
    }
    return undefined
  }

  resolveModel(requested: string): ModelResolution {
    const mapped = mapModel(this.settings, requested)
    let model: string | undefined = mapped
    if (model === undefined) {
      if (this.passthrough) model = requested
      else if (this.type === 'azure') model = this.settings.deployment ?? this.settings.defaultModel
      else if (this.settings.defaultModel) model = this.settings.defaultModel
      else if (!/^(claude|anthropic)/i.test(requested)) model = requested // a native model name asked for directly
    }
    if (model === undefined || model === '') {
      return {ok: false, message: `model "${requested}" is not available on provider "${this.name}" (${this.type}); add a modelMap entry (e.g. "${requested.split('-').slice(0, 3).join('-')}*") or a defaultModel`}
    }
    const list = this.settings.models
    if (list && list.length > 0 && !list.includes(model) && !(this.type === 'azure' && model === this.settings.deployment)) {
      return {ok: false, message: `model "${model}" is not served by provider "${this.name}"; its models are: ${list.join(', ')}`}
    }
    return {ok: true, model}
  }

  private credential(): {name: string; value: string} | undefined {
    const key = resolveApiKey(this.settings.apiKeyRef, this.env)
    if (!key) return undefined
    if (this.type === 'azure') return {name: 'api-key', value: key}
    if (this.passthrough && this.type !== 'ollama') return {name: 'x-api-key', value: key}
    return {name: 'authorization', value: `Bearer ${key}`}
  }

  /** Base path without trailing slash (and, for passthrough to api.deepseek.com, its /anthropic prefix). */
  private basePath(): string {
    let p = this.base.pathname.replace(/\/+$/, '')
    if (this.passthrough && this.type === 'deepseek' && this.base.hostname === 'api.deepseek.com' && !p.endsWith('/anthropic')) p += '/anthropic'
    if (!this.passthrough && this.type === 'deepseek' && p.endsWith('/anthropic')) p = p.slice(0, -'/anthropic'.length)
    if (this.type === 'azure' && p.endsWith('/openai')) p = p.slice(0, -'/openai'.length)
    return p
  }

  private url(path: string, query = ''): string {
    return `${this.base.origin}${this.basePath()}${path}${query}`
  }

  /** `/v1/...` joined to the base, without doubling a base that already ends in /v1. */
  private v1(path: string): string {
    return this.basePath().endsWith('/v1') ? this.url(path) : this.url(`/v1${path}`)
  }

  private passthroughHeaders(inb: Inbound): Record<string, string> {
    const credential = this.credential()
    return forwardClientHeaders(inb.rawHeaders, {
      // A client credential only ever reaches an anthropic provider that has no key of its own.
      passClientCredentials: this.type === 'anthropic' && !this.settings.apiKeyRef,
      credential,
      extra: this.settings.headers,
    })
  }

  /**
   * Body for passthrough: the client's bytes, with only the model value replaced when modelMap renamed it
   * or the key occurs more than once (every occurrence, however escaped, then carries the model decided
   * here, which is what the audit row and the cost header record).
   */
  private passthroughBody(inb: Inbound, model: string): Buffer {
    return inb.model === model && inb.modelDuplicated !== true ? inb.body : replaceTopLevelString(inb.body, 'model', model)
  }

  messagesRequest(inb: Inbound, model: string, stream: boolean): BuiltMessagesRequest {
    if (this.passthrough) {
      return {request: {url: this.v1('/messages'), method: 'POST', headers: this.passthroughHeaders(inb), body: this.passthroughBody(inb, model)}}
    }
    const headers = translatedHeaders(stream, this.credential(), this.settings.headers)
    if (this.wire === 'responses') {
      const t = anthropicToResponses(inb.parsed, {model, stream})
      const url = this.type === 'azure' ? this.url('/openai/v1/responses') : this.v1('/responses')
      return {request: {url, method: 'POST', headers, body: JSON.stringify(t.body)}, toolNames: t.toolNames}
    }
    const t = anthropicToChat(inb.parsed, {model, flavor: this.flavor, stream})
    let url: string
    if (this.type === 'azure') {
      const deployment = this.settings.deployment ?? model
      url = this.settings.apiVersion
        ? this.url(`/openai/deployments/${encodeURIComponent(deployment)}/chat/completions`, `?api-version=${encodeURIComponent(this.settings.apiVersion)}`)
        : this.url('/openai/v1/chat/completions')
    } else {
      url = this.v1('/chat/completions')
    }
    return {request: {url, method: 'POST', headers, body: JSON.stringify(t.body)}, toolNames: t.toolNames}
  }

  countTokensRequest(inb: Inbound, model: string): UpstreamRequest {
    return {url: this.v1('/messages/count_tokens'), method: 'POST', headers: this.passthroughHeaders(inb), body: this.passthroughBody(inb, model)}
  }

  /** GET /v1/models (query kept: limit/before_id/after_id matter here). */
  modelsRequest(inb: Omit<Inbound, 'body' | 'parsed' | 'model'>, subPath: string, query: string): UpstreamRequest {
    const headers = forwardClientHeaders(inb.rawHeaders, {
      passClientCredentials: this.type === 'anthropic' && !this.settings.apiKeyRef,
      credential: this.credential(),
      extra: this.settings.headers,
    })
    delete headers['content-type']
    return {url: `${this.v1(subPath)}${query}`, method: 'GET', headers}
  }
}

export function createAdapters(settings: GatewaySettings, env: NodeJS.ProcessEnv = process.env): Map<string, ProviderAdapter> {
  const adapters = new Map<string, ProviderAdapter>()
  for (const [name, p] of Object.entries(settings.providers)) {
    if (!p.enabled) continue
    adapters.set(name, new ProviderAdapter(name, p, env))
  }
  return adapters
}
