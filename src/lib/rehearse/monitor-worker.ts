/**
 * The rehearsal's monitor, in a worker thread. A compressed window samples every ~200 ms and counts
 * a gap of two intervals as down time, so the sampling must not wait for the rehearsal's own event
 * loop (traffic, validations, gate evaluations, progress rendering). The worker has its own state
 * store connection (SQLite WAL) and reports each tick to the rehearsal.
 */
import {parentPort, workerData} from 'node:worker_threads'

import {runMonitor} from '../monitor/monitor.js'
import {StateStore} from '../state/store.js'
import type {TargetSpec} from '../target/spec.js'
import {Target} from '../target/target.js'

export interface MonitorWorkerData {
  spec: TargetSpec
  stateFile: string
  actor: string
  intervalMs: number
  probeEvery: number
}

/** What the worker posts per tick. */
export interface MonitorTickMessage {
  type: 'tick'
  ts: number
  status: string
  avgLatencyMs: number | null
}

const data = workerData as MonitorWorkerData
const controller = new AbortController()
parentPort?.on('message', (message: unknown) => {
  if (message === 'stop') controller.abort()
})

const state = StateStore.open(data.stateFile, {actor: data.actor})
try {
  await runMonitor(new Target(data.spec), state, {
    intervalMs: data.intervalMs,
    probeEvery: data.probeEvery,
    signal: controller.signal,
    onTick: (live) => {
      const message: MonitorTickMessage = {type: 'tick', ts: live.tick.ts, status: live.tick.health.status, avgLatencyMs: live.tick.metrics?.avg_latency_ms ?? null}
      parentPort?.postMessage(message)
    },
  })
} finally {
  state.close()
}
