/**
 * Crashes and unplanned restarts seen by the monitor become incidents (#11 item 4): the plan lists
 * crashes among the critical bugs, and "Zero critical bugs discovered" must not depend on someone
 * remembering to type `cutover incident add` after a 3 a.m. crash.
 *
 * Each health sample carries the daemon it saw (PID and start time from the PID file). Comparing
 * a tick with the last daemon seen (kept in the samples, so `monitor --once` from cron works too):
 *   - the process is gone, or another PID runs, and the daemon log has no "Received SIG..., shutting
 *     down" line since it was last seen: it died without shutting down, a crash (critical);
 *   - it shut down cleanly but neither cutover (a maintenance window, or `cutover daemon
 *     start|restart|stop` in the trail) nor anything else recorded why: stopped or restarted
 *     outside cutover (major: its downtime counts, the cause is for a human to find);
 *   - cutover did it, with a clean shutdown: nothing to record.
 * One incident per lost daemon: the sample after it carries `recorded_for` = that PID, and the
 * recovery (the next PID) is not a second incident.
 */
import type {PidFile} from '../target/files.js'

export interface SeenDaemon {
  pid: number
  started_at: string
  /** Sample slot (epoch ms) it was last seen at. */
  ts: number
}

/** What the monitor remembers between ticks (and reads back from its latest health sample). */
export interface DaemonWatch {
  last: SeenDaemon | null
  /** PID of the last daemon whose loss was already recorded. */
  recordedFor: number | null
}

export type DaemonObservation = {alive: true; pid: number; started_at: string} | {alive: false; problem: string}

export interface DaemonIncidentDraft {
  kind: 'crash' | 'outside_cutover'
  severity: 'critical' | 'major'
  title: string
  detail: string
}

/** What explains a change between `since` and now, read only when a change is seen. */
export interface ChangeContext {
  /** A clean-shutdown line of the daemon log in the interval. */
  cleanShutdown: string | null
  /** What cutover itself did in the interval (maintenance windows, daemon actions), if anything. */
  byCutover: string | null
}

export function observeDaemon(read: () => PidFile): DaemonObservation {
  try {
    const pid = read()
    return {alive: true, pid: pid.pid, started_at: pid.started_at}
  } catch (error) {
    return {alive: false, problem: (error as Error).message}
  }
}

/** The monitor's memory as stored in a health sample's metrics (pid, daemon_started_at, recorded_for). */
export function watchFromSample(sample: {ts: number; metrics: Record<string, unknown>} | null): DaemonWatch {
  if (!sample) return {last: null, recordedFor: null}
  const {pid, daemon_started_at: startedAt, last_pid: lastPid, last_started_at: lastStartedAt, last_seen_ts: lastSeenTs, recorded_for: recordedFor} = sample.metrics
  const recorded = typeof recordedFor === 'number' ? recordedFor : null
  if (typeof pid === 'number' && typeof startedAt === 'string') return {last: {pid, started_at: startedAt, ts: sample.ts}, recordedFor: recorded}
  // A sample that saw no daemon keeps the last one seen, so a crash is judged against it.
  if (typeof lastPid === 'number' && typeof lastStartedAt === 'string' && typeof lastSeenTs === 'number') return {last: {pid: lastPid, started_at: lastStartedAt, ts: lastSeenTs}, recordedFor: recorded}
  return {last: null, recordedFor: recorded}
}

/** The fields a health sample stores so the next tick (or the next monitor) can compare. */
export function watchToSample(observation: DaemonObservation, watch: DaemonWatch): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (observation.alive) {
    out.pid = observation.pid
    out.daemon_started_at = observation.started_at
  } else if (watch.last) {
    out.last_pid = watch.last.pid
    out.last_started_at = watch.last.started_at
    out.last_seen_ts = watch.last.ts
  }
  if (watch.recordedFor !== null) out.recorded_for = watch.recordedFor
  return out
}

/** True when the observation differs from the last daemon seen (the only case that needs context). */
export function daemonChanged(watch: DaemonWatch, observation: DaemonObservation): boolean {
  if (!watch.last) return false
  if (!observation.alive) return watch.recordedFor !== watch.last.pid
  return observation.pid !== watch.last.pid || observation.started_at !== watch.last.started_at
}

/** Pure: the next memory and, when the change is not explained, the incident to record. */
export function judgeDaemonChange(watch: DaemonWatch, observation: DaemonObservation, slot: number, context: ChangeContext | null): {watch: DaemonWatch; incident: DaemonIncidentDraft | null} {
  const last = watch.last
  if (observation.alive) {
    const seen: SeenDaemon = {pid: observation.pid, started_at: observation.started_at, ts: slot}
    if (!last || !daemonChanged(watch, observation)) return {watch: {last: seen, recordedFor: watch.recordedFor}, incident: null}
    // The loss of the previous daemon was recorded when it was seen gone: this is the recovery.
    if (watch.recordedFor === last.pid) return {watch: {last: seen, recordedFor: null}, incident: null}
    const incident = draft(last, context, `pid ${observation.pid} runs since ${observation.started_at}`, 'restarted')
    return {watch: {last: seen, recordedFor: null}, incident}
  }
  if (!last || !daemonChanged(watch, observation)) return {watch, incident: null}
  const incident = draft(last, context, `no daemon runs (${observation.problem})`, 'stopped')
  // Recorded, or explained by cutover: either way this loss is settled and not judged again.
  return {watch: {last, recordedFor: last.pid}, incident}
}

function draft(last: SeenDaemon, context: ChangeContext | null, now: string, verb: 'restarted' | 'stopped'): DaemonIncidentDraft | null {
  const lastSeen = `pid ${last.pid} (started ${last.started_at}) was last seen at ${new Date(last.ts).toISOString()}`
  if (!context?.cleanShutdown) {
    return {
      kind: 'crash',
      severity: 'critical',
      title: `cco daemon crashed: pid ${last.pid} died without shutting down`,
      detail: `${lastSeen}; now ${now}. The daemon log has no clean-shutdown line since then${context?.byCutover ? ` (cutover: ${context.byCutover})` : ''}. Recorded by cutover monitor: the plan counts crashes as critical bugs.`,
    }
  }
  if (context.byCutover) return null
  return {
    kind: 'outside_cutover',
    severity: 'major',
    title: `cco daemon ${verb} outside cutover (pid ${last.pid})`,
    detail: `${lastSeen}; now ${now}. It shut down cleanly (${context.cleanShutdown}), but no cutover command or maintenance window explains it. Recorded by cutover monitor: find who or what ${verb === 'stopped' ? 'stopped' : 'restarted'} it.`,
  }
}

const CLEAN_SHUTDOWN = /Received SIG[A-Z]+, shutting down/

/** The first clean-shutdown line of the daemon log stamped after `sinceMs` (lines start with an ISO time). */
export function cleanShutdownLine(lines: readonly string[], sinceMs: number): string | null {
  for (const line of lines) {
    if (!CLEAN_SHUTDOWN.test(line)) continue
    const at = Date.parse(line.slice(0, line.indexOf(' ')))
    if (Number.isFinite(at) && at >= sinceMs) return line.trim()
  }
  return null
}
