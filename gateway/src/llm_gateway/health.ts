import {apiKeyStatus, type GatewayConfig, type ProviderType} from '../daemon/config.js'
import {VERSION} from '../version.js'

/** Consecutive failed requests after which a provider counts as unhealthy (until one succeeds). */
export const UNHEALTHY_AFTER_FAILURES = 3

export interface ProviderHealthEntry {
  healthy: boolean
  type: ProviderType
  enabled: boolean
  reason?: string
  consecutive_failures: number
  last_latency_ms: number | null
  last_error: string | null
  last_outcome_at: string | null
}

export type GatewayStatus = 'healthy' | 'degraded' | 'unhealthy'

interface Outcomes {
  consecutiveFailures: number
  lastLatencyMs: number | null
  lastError: string | null
  /** Epoch ms (formatted only when a report is built: this runs per request). */
  lastOutcomeAt: number | null
}

/** A non-provider health check (e.g. the audit log): degraded never makes the gateway unhealthy. */
export type HealthCheck = () => {degraded: boolean; reason?: string}

export interface HealthCheckResult {
  ok: boolean
  reason?: string
}

/**
 * Provider health: static checks from config + env (enabled? API key env var set?)
 * combined with real outcomes the request path reports through `recordOutcome`, plus
 * extra checks (the audit log) that can turn a healthy gateway into a degraded one.
 */
export class ProviderHealth {
  private readonly outcomes = new Map<string, Outcomes>()
  private readonly checks = new Map<string, HealthCheck>()
  private readonly listeners: Array<(provider: string, healthy: boolean) => void> = []
  private readonly notified = new Map<string, boolean>()

  constructor(
    private readonly config: GatewayConfig,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Called by the request path after each upstream attempt. `error` must not contain secrets. */
  recordOutcome(provider: string, ok: boolean, latencyMs: number, error?: string): void {
    if (!(provider in this.config.providers)) return
    const o = this.outcomes.get(provider) ?? {consecutiveFailures: 0, lastLatencyMs: null, lastError: null, lastOutcomeAt: null}
    o.lastLatencyMs = Math.round(latencyMs)
    o.lastOutcomeAt = Date.now()
    if (ok) {
      o.consecutiveFailures = 0
    } else {
      o.consecutiveFailures++
      o.lastError = error ?? 'request failed'
    }
    this.outcomes.set(provider, o)
    if (this.listeners.length > 0) {
      // Listeners hear changes only (this runs per request); the first outcome always counts as one.
      const healthy = this.isHealthy(provider)
      if (this.notified.get(provider) !== healthy) {
        this.notified.set(provider, healthy)
        for (const listener of this.listeners) listener(provider, healthy)
      }
    }
  }

  /** Called when a recorded outcome changes a provider's health (and on its first outcome). */
  onProviderChange(listener: (provider: string, healthy: boolean) => void): void {
    this.listeners.push(listener)
  }

  addCheck(name: string, check: HealthCheck): void {
    this.checks.set(name, check)
  }

  checkResults(): Record<string, HealthCheckResult> {
    const out: Record<string, HealthCheckResult> = {}
    for (const [name, check] of this.checks) {
      let result: {degraded: boolean; reason?: string}
      try {
        result = check()
      } catch (error) {
        result = {degraded: true, reason: `health check failed: ${(error as Error).message}`}
      }
      out[name] = result.degraded ? {ok: false, reason: result.reason ?? 'degraded'} : {ok: true}
    }
    return out
  }

  provider(name: string): ProviderHealthEntry | undefined {
    const p = this.config.providers[name]
    if (!p) return undefined
    const o = this.outcomes.get(name)
    const entry: ProviderHealthEntry = {
      healthy: true,
      type: p.providerType,
      enabled: p.enabled,
      consecutive_failures: o?.consecutiveFailures ?? 0,
      last_latency_ms: o?.lastLatencyMs ?? null,
      last_error: o?.lastError ?? null,
      last_outcome_at: o?.lastOutcomeAt != null ? new Date(o.lastOutcomeAt).toISOString() : null,
    }
    const key = apiKeyStatus(p, this.env)
    if (!p.enabled) {
      entry.healthy = false
      entry.reason = 'disabled'
    } else if (!key.present) {
      entry.healthy = false
      entry.reason = `API key env var ${key.envVar} is not set`
    } else if (o && o.consecutiveFailures >= UNHEALTHY_AFTER_FAILURES) {
      entry.healthy = false
      entry.reason = `${o.consecutiveFailures} consecutive failures (last: ${o.lastError})`
    }
    return entry
  }

  isHealthy(name: string): boolean {
    return this.provider(name)?.healthy ?? false
  }

  snapshot(): Record<string, ProviderHealthEntry> {
    const out: Record<string, ProviderHealthEntry> = {}
    for (const name of Object.keys(this.config.providers)) out[name] = this.provider(name) as ProviderHealthEntry
    return out
  }

  /** healthy: every enabled provider healthy and every check ok; degraded: some; unhealthy: no provider healthy (or none enabled). */
  status(checks: Record<string, HealthCheckResult> = this.checkResults()): GatewayStatus {
    const enabled = Object.values(this.snapshot()).filter((p) => p.enabled)
    const healthy = enabled.filter((p) => p.healthy).length
    if (enabled.length === 0 || healthy === 0) return 'unhealthy'
    if (healthy < enabled.length) return 'degraded'
    return Object.values(checks).every((c) => c.ok) ? 'healthy' : 'degraded'
  }
}

export interface HealthReport {
  status: GatewayStatus
  version: string
  uptime_seconds: number
  providers: Record<string, ProviderHealthEntry>
  routing: {default_provider: string; fallback_chain: string[]}
  /** Non-provider checks (e.g. "audit"), when any are registered. */
  checks?: Record<string, HealthCheckResult>
}

export function buildHealthReport(config: GatewayConfig, health: ProviderHealth, startedAt: number): HealthReport {
  const checks = health.checkResults()
  const report: HealthReport = {
    status: health.status(checks),
    version: VERSION,
    uptime_seconds: Math.floor((Date.now() - startedAt) / 1000),
    providers: health.snapshot(),
    routing: {default_provider: config.routing.defaultProvider, fallback_chain: config.routing.fallbackChain},
  }
  if (Object.keys(checks).length > 0) report.checks = checks
  return report
}

export interface ProvidersReport {
  providers: Array<{name: string; type: ProviderType; enabled: boolean; healthy: boolean; base_url: string; reason?: string}>
}

/** No key values, ever: only whether one is configured shows up (through `healthy`/`reason`). */
export function buildProvidersReport(config: GatewayConfig, health: ProviderHealth): ProvidersReport {
  return {
    providers: Object.values(config.providers).map((p) => {
      const h = health.provider(p.name)
      const row: ProvidersReport['providers'][number] = {name: p.name, type: p.providerType, enabled: p.enabled, healthy: h?.healthy ?? false, base_url: p.baseUrl}
      if (h?.reason) row.reason = h.reason
      return row
    }),
  }
}
