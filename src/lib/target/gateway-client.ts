import {CutoverError, ExitCode, TargetUnavailableError} from '../errors.js'
import {redactText} from '../util/redact.js'
import {GATEWAY_STATUSES, type GatewayHealthStatus, isGatewayStatus} from '../evaluate/types.js'

/** One HTTP answer from the target: status, parsed JSON body, and how long it took. */
export interface HttpAnswer<T> {
  httpStatus: number
  body: T
  durationMs: number
}

export type {GatewayHealthStatus}

export interface GatewayHealth {
  status: GatewayHealthStatus
  version?: string
  uptime_seconds?: number
  providers?: Record<string, {healthy: boolean; [key: string]: unknown}>
  [key: string]: unknown
}

export interface GatewayProvidersList {
  providers: {name: string; type?: string; enabled?: boolean; healthy?: boolean; base_url?: string; [key: string]: unknown}[]
}

export interface GatewayMetricsSummary {
  total_requests: number
  successful_requests?: number
  failed_requests?: number
  success_rate?: number
  error_rate?: number
  streaming_requests?: number
  streaming_failures?: number
  avg_latency_ms?: number
  p50_latency_ms?: number
  p95_latency_ms?: number
  p99_latency_ms?: number
  avg_ttfb_ms?: number
  total_cost_usd?: number
  audit_records?: number
  since?: string | number | null
  [key: string]: unknown
}

export interface GatewayMetrics {
  summary: GatewayMetricsSummary
  by_agent?: unknown
  by_provider?: unknown
  by_model?: unknown
  recent?: unknown
  [key: string]: unknown
}

export interface AuditQuery {
  start_time?: string | number
  end_time?: string | number
  agent_type?: string
  provider?: string
  model?: string
  success?: boolean
  stream?: boolean
  limit?: number
  offset?: number
  include_bodies?: boolean
}

export interface GatewayAuditPage {
  entries: Record<string, unknown>[]
  total: number
}

/** Raised when the target answered, but not as documented (wrong status, not JSON). Exit 4. */
export class TargetResponseError extends CutoverError {
  readonly httpStatus: number | null
  constructor(message: string, httpStatus: number | null, suggestions: string[] = []) {
    super(message, {code: 'TARGET_BAD_RESPONSE', exit: ExitCode.CouldNotEvaluate, suggestions})
    this.name = 'TargetResponseError'
    this.httpStatus = httpStatus
  }
}

export interface GatewayClientOptions {
  /** Resolved lazily so a restart (new port) is picked up: e.g. from the PID file. */
  gatewayUrl: () => string
  controlUrl: () => string
  timeoutMs: number
  /** The command an operator should run when the target is unreachable. */
  restartHint: string
}

/** HTTP client for the daemon's control port and the gateway. Loopback only; never sends credentials. */
export class GatewayClient {
  constructor(private readonly opts: GatewayClientOptions) {}

  /** GET /gateway/health. 503 (unhealthy) is an answer, not an error. */
  health(): Promise<HttpAnswer<GatewayHealth>> {
    return this.getJson<GatewayHealth>(this.opts.gatewayUrl(), '/gateway/health', [200, 503], (body) => {
      const status = (body as GatewayHealth | null)?.status
      return isGatewayStatus(status) ? null : `"status" must be one of ${GATEWAY_STATUSES.join(', ')}`
    })
  }

  providers(): Promise<HttpAnswer<GatewayProvidersList>> {
    return this.getJson<GatewayProvidersList>(this.opts.gatewayUrl(), '/gateway/providers', [200], (body) =>
      Array.isArray((body as GatewayProvidersList | null)?.providers) ? null : '"providers" must be a list',
    )
  }

  /** GET /gateway/metrics, all-time or over a trailing window such as `15m`. */
  metrics(window?: string): Promise<HttpAnswer<GatewayMetrics>> {
    const query = window ? `?window=${encodeURIComponent(window)}` : ''
    return this.getJson<GatewayMetrics>(this.opts.gatewayUrl(), `/gateway/metrics${query}`, [200], (body) => {
      const summary = (body as GatewayMetrics | null)?.summary
      return summary && typeof summary === 'object' && typeof summary.total_requests === 'number' ? null : '"summary.total_requests" must be a number'
    })
  }

  audit(query: AuditQuery = {}): Promise<HttpAnswer<GatewayAuditPage>> {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
    const qs = params.toString()
    return this.getJson<GatewayAuditPage>(this.opts.gatewayUrl(), `/gateway/audit${qs ? `?${qs}` : ''}`, [200], (body) => {
      const page = body as GatewayAuditPage | null
      return Array.isArray(page?.entries) && typeof page?.total === 'number' ? null : '"entries" must be a list and "total" a number'
    })
  }

  /** GET /daemon/status on the daemon's control port. */
  status(): Promise<HttpAnswer<Record<string, unknown>>> {
    return this.getJson<Record<string, unknown>>(this.opts.controlUrl(), '/daemon/status', [200], (body) =>
      body !== null && typeof body === 'object' && !Array.isArray(body) ? null : 'must be a JSON object',
    )
  }

  /** GET any path on the gateway and parse JSON (for checks that need an endpoint not wrapped above). */
  getGatewayJson<T>(pathAndQuery: string, okStatuses: number[] = [200]): Promise<HttpAnswer<T>> {
    return this.getJson<T>(this.opts.gatewayUrl(), pathAndQuery, okStatuses, () => null)
  }

  private async getJson<T>(base: string, pathAndQuery: string, okStatuses: number[], validate: (body: unknown) => string | null): Promise<HttpAnswer<T>> {
    const url = `${base}${pathAndQuery}`
    const started = performance.now()
    let response: Response
    let text: string
    try {
      response = await fetch(url, {headers: {accept: 'application/json'}, redirect: 'error', signal: AbortSignal.timeout(this.opts.timeoutMs)})
      text = await response.text()
    } catch (error) {
      throw this.unreachable(url, error)
    }
    const durationMs = performance.now() - started
    if (!okStatuses.includes(response.status)) {
      throw new TargetResponseError(`GET ${url} answered HTTP ${response.status}: ${excerpt(text)}`, response.status, [`Check the daemon log, or try: ${this.opts.restartHint}`])
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw new TargetResponseError(`GET ${url} answered HTTP ${response.status} with a body that is not JSON: ${excerpt(text)}`, response.status)
    }
    const problem = validate(body)
    if (problem) throw new TargetResponseError(`GET ${url} answered an unexpected shape: ${problem}`, response.status)
    return {httpStatus: response.status, body: body as T, durationMs}
  }

  private unreachable(url: string, error: unknown): TargetUnavailableError {
    const err = error as Error & {cause?: {code?: string; message?: string}}
    const timedOut = err.name === 'TimeoutError' || err.name === 'AbortError'
    const reason = timedOut ? `no answer within ${this.opts.timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message)
    return new TargetUnavailableError(`cannot reach ${url}: ${reason}`, [`Try: ${this.opts.restartHint}`], timedOut ? 'TARGET_TIMEOUT' : 'TARGET_UNREACHABLE')
  }
}

function excerpt(text: string): string {
  const oneLine = redactText(text).replace(/\s+/g, ' ').trim()
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine || '(empty body)'
}
