/**
 * The feature-flag rollback (plan §2.4 Option 2, "Feature Flag Rollback (30 seconds)"), measured:
 *   decision -> flags written -> daemon up (restarted, the proxy answers on its port) -> verified
 *   (the launcher selects proxy mode). Each stage's time is recorded against the objective.
 */
import {ExitCode, type ExitCodeValue} from '../errors.js'
import {isRollbackDrill, MaintenanceTracker} from '../apply/maintenance.js'
import {journalNames} from '../apply/runner.js'
import {pollUntil, tcpConnects} from '../apply/wait.js'
import type {ApplyStep} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import type {PhaseState, RollbackRecord} from '../state/types.js'
import type {DaemonFlags} from '../target/files.js'
import type {Target} from '../target/target.js'
import {supersedePending} from './pending.js'

export const FLAG_ROLLBACK_FLAGS: DaemonFlags = {gatewayEnabled: false, proxyEnabled: true}
export const FLAG_OBJECTIVE_MS = 30_000

export interface FlagRollbackOptions {
  target: Target
  state: StateStore
  /** performance.now() when the rollback was decided (default: now). */
  decidedAt?: number
  objectiveMs?: number
  /** Why (operator's reason, or the trigger that fired). */
  reason?: string
  trigger?: Record<string, unknown>
  /** How long to wait for the proxy and the launcher (default: max(objective, 10 s)). */
  waitMs?: number
  /**
   * A declared drill (`rollback --drill`): planned maintenance, its restart excluded from availability.
   * Default false; never when a trigger fired it (see isRollbackDrill). A real (emergency) rollback is
   * recorded as an unplanned window: its downtime counts.
   */
  drill?: boolean
  /**
   * Roll back even when the target already is rolled back (see alreadyRolledBack): restart the daemon
   * and record a rollback again. Without it a repeated rollback changes nothing.
   */
  force?: boolean
  log?: (line: string) => void
}

export interface StageTiming {
  stage: string
  ms: number
}

export interface FlagRollbackResult {
  kind: 'flag'
  /** already_rolled_back: the target already was where the rollback leads; nothing was changed or recorded. */
  outcome: 'success' | 'failed' | 'already_rolled_back'
  exitCode: ExitCodeValue
  message: string
  target: {name: string; home: string}
  objectiveMs: number
  totalMs: number
  withinObjective: boolean
  stages: StageTiming[]
  flags: {before: DaemonFlags; after: DaemonFlags}
  daemon: {pid: number | null; proxy_port: number | null; gateway_port: number | null}
  launcher: {mode: string; url: string | null; output: string} | null
  /** Null when nothing ran (already_rolled_back). */
  operationId: string | null
  rollback: RollbackRecord | null
  superseded: {operationId: string; kind: string} | null
  phase: PhaseState | null
  error?: string
}

const STEPS: ApplyStep[] = [
  {id: 'write-flags', type: 'set_flags', title: 'Write {"gatewayEnabled": false, "proxyEnabled": true}', flags: {...FLAG_ROLLBACK_FLAGS}},
  {id: 'restart-daemon', type: 'daemon', action: 'restart', title: 'Restart the daemon; wait until the proxy answers'},
  {id: 'verify-launcher', type: 'validate', title: 'The launcher selects proxy mode', checks: ['launcher.proxy_mode']},
]

export type AlreadyRolledBack =
  | {rolledBack: true; flags: DaemonFlags; daemon: FlagRollbackResult['daemon']; launcher: NonNullable<FlagRollbackResult['launcher']>}
  | {rolledBack: false; why: string}

/**
 * Is the target already where a flag rollback takes it? All of: the flags file says
 * {"gatewayEnabled": false, "proxyEnabled": true}; the daemon runs (PID file, live process) in that
 * mode: the proxy accepts connections on its port and no gateway port is open; the launcher selects
 * proxy mode. Anything else (flags written but the daemon not restarted, a proxy that does not
 * answer) is not rolled back, and the rollback runs.
 */
export async function alreadyRolledBack(target: Target): Promise<AlreadyRolledBack> {
  const reading = target.readFlagsDetailed()
  if (!reading.exists || reading.flags.gatewayEnabled !== FLAG_ROLLBACK_FLAGS.gatewayEnabled || reading.flags.proxyEnabled !== FLAG_ROLLBACK_FLAGS.proxyEnabled) {
    return {rolledBack: false, why: `the flags are ${JSON.stringify(reading.flags)}`}
  }
  let pid
  try {
    pid = target.readPidFile()
  } catch (error) {
    return {rolledBack: false, why: `the daemon does not run: ${(error as Error).message}`}
  }
  if (pid.gateway_port !== null) return {rolledBack: false, why: `the daemon still runs the gateway (gateway_port ${pid.gateway_port}): it was not restarted since the flags were written`}
  if (pid.proxy_port === undefined || !(await tcpConnects(pid.proxy_port, 500))) return {rolledBack: false, why: 'the daemon does not serve the legacy proxy'}
  const probe = await target.launcherProbe()
  if (probe.mode !== 'proxy') return {rolledBack: false, why: `the launcher selects ${probe.mode} mode`}
  return {rolledBack: true, flags: reading.flags, daemon: {pid: pid.pid, proxy_port: pid.proxy_port, gateway_port: pid.gateway_port}, launcher: {mode: probe.mode, url: probe.url ?? null, output: probe.output}}
}

/** Run the flag rollback. The caller holds the operation lock. */
export async function flagRollback(opts: FlagRollbackOptions): Promise<FlagRollbackResult> {
  const t0 = opts.decidedAt ?? performance.now()
  const log = opts.log ?? (() => undefined)
  const {target, state} = opts
  const objectiveMs = opts.objectiveMs ?? FLAG_OBJECTIVE_MS
  if (!opts.force) {
    // Repeating a rollback restarts nothing and records nothing: a second record would count as a second rollback.
    const already = await alreadyRolledBack(target)
    if (already.rolledBack) {
      return {
        kind: 'flag',
        outcome: 'already_rolled_back',
        exitCode: ExitCode.Ok,
        message: `already rolled back: the flags are ${JSON.stringify(already.flags)}, the daemon (pid ${already.daemon.pid}) serves the legacy proxy on port ${already.daemon.proxy_port} with the gateway off, and the launcher selects proxy mode; nothing was changed (no restart, no record). To restart and record a rollback anyway: cutover rollback --flag --force`,
        target: {name: target.name, home: target.home},
        objectiveMs,
        totalMs: 0,
        withinObjective: true,
        stages: [],
        flags: {before: already.flags, after: already.flags},
        daemon: already.daemon,
        launcher: already.launcher,
        operationId: null,
        rollback: null,
        superseded: null,
        phase: state.getPhase(),
      }
    }
  }
  const waitMs = opts.waitMs ?? Math.max(objectiveMs, 10_000)
  const superseded = supersedePending(state, 'rollback --flag', log)
  const op = state.beginOperation({kind: 'rollback.flag', params: {reason: opts.reason ?? null, trigger: opts.trigger ?? null, objective_ms: objectiveMs, flags: FLAG_ROLLBACK_FLAGS}, steps: journalNames(STEPS)})
  const opId = op.operation.id
  const drill = isRollbackDrill({...(opts.drill === undefined ? {} : {drill: opts.drill}), reason: opts.reason ?? null, trigger: opts.trigger})
  const maintenance = new MaintenanceTracker(state, target, drill
    ? {kind: 'rollback-drill', reason: `flag rollback drill: ${opts.reason ?? 'no reason given'}`, planned: true, operationId: opId}
    : {kind: 'rollback', reason: `flag rollback: ${opts.reason ?? (opts.trigger ? 'fired by a trigger' : 'no reason given')}`, planned: false, operationId: opId})
  // Stage boundaries on one clock, rounded once each: the stages partition the recovery time exactly,
  // and the recovery ends when the last stage does (journaling after it is bookkeeping, not recovery).
  const stages: StageTiming[] = []
  let endedAt = 0
  const stage = (name: string) => {
    const at = Math.round(performance.now() - t0)
    stages.push({stage: name, ms: at - endedAt})
    endedAt = at
  }
  const before = target.readFlagsDetailed()
  let daemon: FlagRollbackResult['daemon'] = {pid: null, proxy_port: null, gateway_port: null}
  let launcher: FlagRollbackResult['launcher'] = null
  let error: string | undefined
  let step = 0
  try {
    state.beginStep(opId, 0, undefined, {before: {flags: before.flags, flagsExisted: before.exists}})
    target.writeFlags(FLAG_ROLLBACK_FLAGS)
    stage('decision_to_flags_written')
    state.markStep(opId, 0, 'done', {before: {flags: before.flags}, result: {written: FLAG_ROLLBACK_FLAGS}})
    log(`✔ flags written: ${JSON.stringify(FLAG_ROLLBACK_FLAGS)}`)

    step = 1
    state.beginStep(opId, 1)
    maintenance.begin({step: 'restart-daemon'})
    const restart = await target.daemon('restart')
    if (!restart.ok) throw new Error(`daemon restart failed (${restart.timedOut ? 'timed out' : `exit code ${restart.exitCode}`}): ${[restart.stdout, restart.stderr].join('\n').trim().split('\n').slice(-5).join('\n')}`)
    const up = await pollUntil(async () => {
      const pid = target.readPidFile()
      return pid.proxy_port !== undefined && (await tcpConnects(pid.proxy_port, 500)) ? pid : null
    }, {timeoutMs: waitMs, intervalMs: 25})
    if (!up) {
      const status = await target.gateway.status().then((s) => s.body.proxy, () => null)
      throw new Error(`the daemon restarted but the legacy proxy did not answer within ${waitMs} ms${status ? ` (daemon reports proxy ${JSON.stringify(status)})` : ''}; if Phase 3 removed the proxy code, only a git rollback brings it back: cutover rollback --git`)
    }
    daemon = {pid: up.pid, proxy_port: up.proxy_port ?? null, gateway_port: up.gateway_port}
    stage('flags_written_to_daemon_up')
    // The control endpoint answers (the gateway is off by design): the window ends, plus the grace.
    await maintenance.endVerified()
    state.markStep(opId, 1, 'done', {result: {restart_ms: restart.durationMs, ...daemon}})
    log(`✔ daemon up: pid ${up.pid}, proxy on port ${up.proxy_port}`)

    step = 2
    state.beginStep(opId, 2)
    const probe = await pollUntil(async () => {
      const p = await target.launcherProbe()
      return p.mode === 'proxy' ? p : null
    }, {timeoutMs: Math.min(waitMs, 15_000), intervalMs: 100})
    if (!probe) {
      const last = await target.launcherProbe()
      launcher = {mode: last.mode, url: last.url ?? null, output: last.output}
      throw new Error(`the launcher did not select proxy mode (it chose ${last.mode}: ${last.output.split('\n')[0] ?? ''})`)
    }
    launcher = {mode: probe.mode, url: probe.url ?? null, output: probe.output}
    stage('daemon_up_to_verified')
    state.markStep(opId, 2, 'done', {result: launcher})
    log(`✔ launcher in proxy mode (${probe.url})`)
  } catch (e) {
    maintenance.end('failed')
    error = (e as Error).message
    stage('until_failure')
    state.markStep(opId, step, 'failed', {error})
    log(`✖ ${error}`)
  }
  const totalMs = endedAt
  const outcome = error ? 'failed' : 'success'
  const timings = Object.fromEntries(stages.map((s) => [s.stage, s.ms]))
  const rollback = state.recordRollback({kind: 'flag', outcome, timings, objectiveMs, totalMs, operationId: opId, detail: {reason: opts.reason ?? null, trigger: opts.trigger ?? null, drill, daemon, launcher_mode: launcher?.mode ?? null, ...(error ? {error} : {})}})
  state.finishOperation(opId, error ? 'failed' : 'done', {total_ms: totalMs, within_objective: rollback.withinObjective, ...(error ? {error} : {})})
  const current = state.getPhase()
  const phase = !error && current && current.phase > 1 ? state.setPhase(1, {reason: `rollback --flag from phase ${current.phase} (the proxy serves again)`}) : current
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  const message = error
    ? `flag rollback FAILED after ${seconds(totalMs)}: ${error}`
    : `flag rollback done: recovered in ${seconds(totalMs)} (objective ${seconds(objectiveMs)}: ${rollback.withinObjective ? 'met' : 'MISSED'})`
  return {
    kind: 'flag',
    outcome,
    exitCode: error ? ExitCode.Fail : rollback.withinObjective ? ExitCode.Ok : ExitCode.Fail,
    message,
    target: {name: target.name, home: target.home},
    objectiveMs,
    totalMs,
    withinObjective: rollback.withinObjective,
    stages,
    flags: {before: before.flags, after: target.readFlags()},
    daemon,
    launcher,
    operationId: opId,
    rollback,
    superseded,
    phase,
    ...(error ? {error} : {}),
  }
}
