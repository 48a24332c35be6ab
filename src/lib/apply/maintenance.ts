/**
 * Maintenance windows around the daemon restarts cutover itself performs (journaled advance steps,
 * rollback drills, the test-gateway script, rehearsal drills). Availability leaves planned windows
 * out (standard SLO practice) and reports them separately; unplanned downtime always counts.
 *
 * A window opens just before the daemon goes down and ends when the daemon is verified back up
 * (GET /gateway/health answers, whatever its status; with the gateway disabled by the flags, the
 * control endpoint answers) plus a grace of 2 monitor intervals: the monitor's next sample after
 * the restart may still be the one that saw it down. When the daemon does not come back within the
 * verification time, the window ends at once with no grace: from then on the downtime counts.
 * A window a crash leaves open is capped by the state store (see StateStore.listMaintenance).
 */
import {HEALTH_SOURCE} from '../gate/measure.js'
import type {StateStore} from '../state/store.js'
import type {MaintenanceKind, MaintenanceWindow} from '../state/types.js'
import type {Target} from '../target/target.js'
import {pollUntil} from './wait.js'

/** What a window records: its kind, why, and whether it is planned (default: every kind but `rollback`). */
export interface MaintenancePlan {
  kind: MaintenanceKind
  reason: string
  planned?: boolean
  operationId?: string | null
}

/** Monitor intervals of grace after the daemon is verified up. */
export const GRACE_INTERVALS = 2
/** Grace when no monitor sample says its interval. */
export const DEFAULT_GRACE_MS = 2000
/** How long to wait for the daemon to answer after it was (re)started. */
export const VERIFY_TIMEOUT_MS = 15_000

/** 2 x the monitor's sampling interval (from its latest health sample), else 2 s. */
export function maintenanceGraceMs(state: StateStore): number {
  const interval = Number((state.latestSample<{interval_ms?: unknown}>(HEALTH_SOURCE)?.metrics.interval_ms) ?? Number.NaN)
  return Number.isFinite(interval) && interval > 0 ? GRACE_INTERVALS * interval : DEFAULT_GRACE_MS
}

/**
 * A rollback is a drill (planned maintenance, left out of availability) only when declared one
 * (`rollback --drill`) and not fired by a trigger. Everything else (a trigger, an operator's
 * emergency rollback, whatever its reason says) is unplanned: its downtime counts (#11 item 7).
 */
export function isRollbackDrill(input: {drill?: boolean; reason?: string | null; trigger?: unknown}): boolean {
  // Planned only when declared (rollback --drill): free-text reasons never decide what counts as downtime.
  if (input.trigger !== undefined && input.trigger !== null) return false
  return input.drill === true
}

/** Wait until the daemon answers again: gateway health when the gateway is enabled, else the control endpoint. */
export async function waitDaemonAnswers(target: Target, timeoutMs = VERIFY_TIMEOUT_MS): Promise<{ok: boolean; via: 'gateway' | 'control'; waitedMs: number}> {
  const started = performance.now()
  let gatewayEnabled = true
  try {
    gatewayEnabled = target.readFlags().gatewayEnabled !== false
  } catch {
    // unreadable flags: the gateway is expected (the stricter check)
  }
  const via = gatewayEnabled ? 'gateway' : 'control'
  // Any answer counts (an 'unhealthy' gateway is up and failing: after the grace, the monitor counts it down).
  const ok = await pollUntil(async () => (gatewayEnabled ? typeof (await target.gateway.health()).body.status === 'string' : Boolean((await target.gateway.status()).body)), {timeoutMs, intervalMs: 50})
  return {ok: ok === true, via, waitedMs: Math.round(performance.now() - started)}
}

/** One maintenance window at a time, opened and closed around daemon actions. A null state or plan records nothing. */
export class MaintenanceTracker {
  private window: MaintenanceWindow | null = null

  constructor(
    private readonly state: StateStore | null,
    private readonly target: Target,
    private readonly plan: MaintenancePlan | null | undefined,
  ) {}

  get current(): MaintenanceWindow | null {
    return this.window
  }

  /** Open the window (no-op when one is open or nothing is to be recorded). */
  begin(detail?: Record<string, unknown>): void {
    if (!this.state || !this.plan || this.window) return
    this.window = this.state.beginMaintenance({kind: this.plan.kind, reason: this.plan.reason, ...(this.plan.planned === undefined ? {} : {planned: this.plan.planned}), operationId: this.plan.operationId ?? null, ...(detail ? {detail} : {})})
  }

  /** Verify the daemon answers, then end the window with the grace; not answering ends it at once. */
  async endVerified(timeoutMs = VERIFY_TIMEOUT_MS): Promise<void> {
    if (!this.state || !this.window) return
    const check = await waitDaemonAnswers(this.target, timeoutMs)
    this.close(check.ok ? 'verified_up' : 'not_verified', check.ok ? maintenanceGraceMs(this.state) : 0, {via: check.via, waited_ms: check.waitedMs})
  }

  /** End the window now, without grace (a failure, or the operation ended). */
  end(outcome: string): void {
    this.close(outcome, 0)
  }

  private close(outcome: string, graceMs: number, detail?: Record<string, unknown>): void {
    if (!this.state || !this.window) return
    const id = this.window.id
    this.window = null
    this.state.endMaintenance(id, {graceMs, outcome, ...(detail ? {detail} : {})})
  }
}

/** Run a daemon action inside a maintenance window; `verify` (default: it resolved) says whether to verify and grace. */
export async function withMaintenance<T>(state: StateStore | null, target: Target, plan: MaintenancePlan | null | undefined, fn: () => Promise<T>, succeeded: (result: T) => boolean = () => true): Promise<T> {
  const tracker = new MaintenanceTracker(state, target, plan)
  tracker.begin()
  try {
    const result = await fn()
    if (succeeded(result)) await tracker.endVerified()
    else tracker.end('failed')
    return result
  } catch (error) {
    tracker.end('failed')
    throw error
  }
}
