/**
 * The monitor: samples the target into the state store on a fixed grid.
 *
 * Each tick takes a health sample (GET /gateway/health; unreachable = 'down') and a metrics sample
 * (GET /gateway/metrics?window=15m, for the live display); every `probeEvery` ticks a streaming
 * probe runs alongside (it never delays the health cadence). Timestamps are the tick's slot on the
 * grid (floor(now / interval) * interval), and the store keeps one sample per (source, ts): a
 * monitor restarted within a slot, or a cron `--once` overlapping a running monitor, never counts
 * the same slot twice. Each health sample carries interval_ms, which the uptime criterion needs
 * to tell a gap (nobody looked) from a sample.
 */
import {UP_STATUSES} from '../evaluate/types.js'
import type {StateStore} from '../state/store.js'
import type {Target} from '../target/target.js'
import {HEALTH_SOURCE, METRICS_SOURCE, PROBE_SOURCE} from '../gate/measure.js'
import {type ProbeResult, streamingProbe} from './probe.js'
import {type ChangeContext, cleanShutdownLine, type SeenDaemon, daemonChanged, type DaemonWatch, judgeDaemonChange, observeDaemon, watchFromSample, watchToSample} from './daemon-events.js'
import type {IncidentRecord} from '../state/types.js'

export const LIVE_METRICS_WINDOW = '15m'

export interface HealthSampleMetrics {
  /** healthy | degraded | unhealthy | down */
  status: string
  http_status: number | null
  latency_ms: number | null
  interval_ms: number
  error?: string
}

export interface MetricsSampleMetrics {
  window: string
  total_requests: number
  failed_requests: number | null
  error_rate: number | null
  avg_latency_ms: number | null
  p95_latency_ms: number | null
  streaming_requests: number | null
  streaming_failures: number | null
}

export interface MonitorTick {
  ts: number
  health: HealthSampleMetrics
  metrics: MetricsSampleMetrics | null
  probe?: ProbeResult
  /** False when this slot was already sampled (another monitor, or a restart). */
  stored: boolean
}

export interface LiveStatus {
  tick: MonitorTick
  /** This run so far. */
  samples: number
  up: number
  uptimePct: number | null
  probesOk: number
  probesFailed: number
}

export interface MonitorOptions {
  intervalMs: number
  /** Stop after this long (default: until stopped). */
  durationMs?: number
  /** One tick, then stop (for cron). */
  once?: boolean
  /** A streaming probe every N ticks; 0 = never. */
  probeEvery: number
  probeModel?: string
  probeTimeoutMs?: number
  signal?: AbortSignal
  onTick?: (live: LiveStatus) => void
  /** Called when a probe finishes (it may finish after later ticks). */
  onProbe?: (probe: ProbeResult, ts: number) => void
  /** Called when the monitor records a crash or an unplanned restart as an incident. */
  onIncident?: (incident: IncidentRecord) => void
}

export interface MonitorSummary {
  startedAt: string
  endedAt: string
  intervalMs: number
  ticks: number
  stored: {health: number; metrics: number; probe: number}
  /** Ticks whose slot was already sampled (by another monitor, or before a restart): not stored again. */
  duplicates: number
  up: number
  down: number
  uptimePct: number | null
  lastHealth: HealthSampleMetrics | null
  errorRatePct: number | null
  avgLatencyMs: number | null
  metricsWindow: string
  probes: {ok: number; failed: number; lastError?: string}
  /** Crashes and unplanned restarts this run recorded as incidents. */
  incidents: Array<{id: number; severity: string; title: string}>
  stoppedBy: 'once' | 'duration' | 'signal'
}


export async function sampleHealth(target: Target, intervalMs: number): Promise<HealthSampleMetrics> {
  try {
    const answer = await target.gateway.health()
    return {status: answer.body.status, http_status: answer.httpStatus, latency_ms: Math.round(answer.durationMs), interval_ms: intervalMs}
  } catch (error) {
    return {status: 'down', http_status: (error as {httpStatus?: number | null}).httpStatus ?? null, latency_ms: null, interval_ms: intervalMs, error: (error as Error).message}
  }
}

export async function sampleMetrics(target: Target): Promise<MetricsSampleMetrics | null> {
  try {
    const s = (await target.gateway.metrics(LIVE_METRICS_WINDOW)).body.summary
    const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
    const failed = num(s.failed_requests)
    return {
      window: LIVE_METRICS_WINDOW,
      total_requests: s.total_requests,
      failed_requests: failed,
      error_rate: failed === null || s.total_requests === 0 ? null : (failed * 100) / s.total_requests,
      avg_latency_ms: s.total_requests === 0 ? null : num(s.avg_latency_ms),
      p95_latency_ms: s.total_requests === 0 ? null : num(s.p95_latency_ms),
      streaming_requests: num(s.streaming_requests),
      streaming_failures: num(s.streaming_failures),
    }
  } catch {
    // The health sample already says whether the gateway answers; metrics are for display.
    return null
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}

export async function runMonitor(target: Target, state: StateStore, opts: MonitorOptions): Promise<MonitorSummary> {
  if (!(Number.isInteger(opts.intervalMs) && opts.intervalMs >= 100)) throw new RangeError(`the sampling interval must be at least 100ms, got ${opts.intervalMs}ms`)
  const interval = opts.intervalMs
  const startedAt = new Date()
  const deadline = opts.durationMs === undefined ? Number.POSITIVE_INFINITY : startedAt.getTime() + opts.durationMs
  const stored = {health: 0, metrics: 0, probe: 0}
  const probes: MonitorSummary['probes'] = {ok: 0, failed: 0}
  const pendingProbes: Promise<void>[] = []
  let duplicates = 0
  let ticks = 0
  let up = 0
  let lastHealth: HealthSampleMetrics | null = null
  let lastMetrics: MetricsSampleMetrics | null = null
  let stoppedBy: MonitorSummary['stoppedBy'] = opts.once ? 'once' : 'duration'
  const incidents: MonitorSummary['incidents'] = []
  // The daemon the previous sample saw (this monitor's or an earlier one's: cron --once compares too).
  let watch: DaemonWatch = watchFromSample(state.latestSample(HEALTH_SOURCE))
  // After a long pause nobody watched: what happened then is not judged (its gap counts as down time).
  if (watch.last && Date.now() - watch.last.ts > UNWATCHED_AFTER_INTERVALS * interval) watch = {last: null, recordedFor: null}

  const store = (source: string, ts: number, metrics: object): boolean => {
    const fresh = state.addSample({source, ts, metrics: metrics as Record<string, unknown>})
    // A slot counts once, by its health sample.
    if (!fresh && source === HEALTH_SOURCE) duplicates++
    return fresh
  }

  for (;;) {
    const slot = Math.floor(Date.now() / interval) * interval
    const [health, metrics] = await Promise.all([sampleHealth(target, interval), sampleMetrics(target)])
    const observation = observeDaemon(() => target.readPidFile())
    const context = watch.last && daemonChanged(watch, observation) ? changeContext(target, state, watch.last, Date.now()) : null
    const judged = judgeDaemonChange(watch, observation, slot, context)
    watch = judged.watch
    if (judged.incident) {
      const incident = state.addIncident({severity: judged.incident.severity, title: judged.incident.title, detail: judged.incident.detail, by: MONITOR_ACTOR})
      incidents.push({id: incident.id, severity: incident.severity, title: incident.title})
      opts.onIncident?.(incident)
    }
    const fresh = store(HEALTH_SOURCE, slot, {...health, ...watchToSample(observation, watch)})
    if (fresh) stored.health++
    if (metrics && store(METRICS_SOURCE, slot, metrics)) stored.metrics++
    ticks++
    if (UP_STATUSES.has(health.status)) up++
    lastHealth = health
    if (metrics) lastMetrics = metrics
    if (opts.probeEvery > 0 && (ticks - 1) % opts.probeEvery === 0) {
      pendingProbes.push(
        streamingProbe(target, {...(opts.probeModel ? {model: opts.probeModel} : {}), ...(opts.probeTimeoutMs ? {timeoutMs: opts.probeTimeoutMs} : {})}).then((probe) => {
          if (store(PROBE_SOURCE, slot, probe)) stored.probe++
          if (probe.ok) probes.ok++
          else {
            probes.failed++
            if (probe.error) probes.lastError = probe.error
          }
          opts.onProbe?.(probe, slot)
        }),
      )
    }
    opts.onTick?.({tick: {ts: slot, health, metrics, stored: fresh}, samples: ticks, up, uptimePct: (up * 100) / ticks, probesOk: probes.ok, probesFailed: probes.failed})

    if (opts.once) break
    if (opts.signal?.aborted) {
      stoppedBy = 'signal'
      break
    }
    const next = slot + interval
    if (next > deadline) break
    await sleep(next - Date.now(), opts.signal)
    if (opts.signal?.aborted) {
      stoppedBy = 'signal'
      break
    }
  }
  await Promise.all(pendingProbes)

  return {
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    intervalMs: interval,
    ticks,
    stored,
    duplicates,
    up,
    down: ticks - up,
    uptimePct: ticks === 0 ? null : (up * 100) / ticks,
    lastHealth,
    errorRatePct: lastMetrics?.error_rate ?? null,
    avgLatencyMs: lastMetrics?.avg_latency_ms ?? null,
    metricsWindow: LIVE_METRICS_WINDOW,
    probes,
    incidents,
    stoppedBy,
  }
}

/** A previous sample older than this many intervals is too old to compare the daemon against. */
const UNWATCHED_AFTER_INTERVALS = 10

/** Who records the incidents the monitor finds. */
export const MONITOR_ACTOR = 'cutover monitor'

/** Daemon actions cutover records in its trail when they end (cutover daemon start|restart|stop). */
const DAEMON_ACTIONS = ['daemon.start', 'daemon.restart', 'daemon.stop']

/**
 * What explains the loss of the daemon `last`: its clean-shutdown line, cutover's own maintenance or
 * daemon actions. Everything since that daemon started belongs to it: a shutdown may begin before the
 * last sample that still saw its PID (it drains for a while).
 */
function changeContext(target: Target, state: StateStore, last: SeenDaemon, nowMs: number): ChangeContext {
  const started = Date.parse(last.started_at)
  const sinceMs = Number.isFinite(started) ? Math.min(started, last.ts) : last.ts
  const windows = state.listMaintenance(sinceMs, nowMs)
  // Not the action that started `last` itself (its record names that PID).
  const actions = DAEMON_ACTIONS.flatMap((kind) => state.listTrail({kind})).filter((t) => Date.parse(t.ts) >= sinceMs && Date.parse(t.ts) <= nowMs && (t.payload as {pid?: unknown} | null)?.pid !== last.pid)
  // A daemon action in progress holds the operation lock; its trail record is written when it ends.
  const holder = state.lockHolder()
  const byCutover = windows[0]
    ? `maintenance window #${windows[0].id} (${windows[0].kind}: ${windows[0].reason})`
    : actions[0]
      ? `cutover ${actions[0].kind.replace('.', ' ')} at ${actions[0].ts}`
      : holder
        ? `cutover operation in progress: ${holder.name} (pid ${holder.pid}, since ${holder.acquiredAt})`
        : null
  return {cleanShutdown: cleanShutdownLine(target.tailLog(5000), sinceMs), byCutover}
}

export function isUp(status: string | undefined): boolean {
  return status !== undefined && UP_STATUSES.has(status)
}
