/**
 * npx tsx bench/state-samples.ts
 *
 * What the state store's per-row hash chain costs on its hottest write path, as figures rather
 * than test assertions: inserts BENCH_SAMPLES monitor samples (default 10,000) into a fresh state
 * file twice, once as one monitor tick per sample (one transaction each, as `cutover monitor`
 * writes them) and once as a single batch (addSamples), then times `verifyRecords()` over the
 * result when the store has it. Prints medians of BENCH_ROUNDS rounds (default 3).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {StateStore} from '../src/lib/state/store.js'

const count = Math.max(1, Number(process.env.BENCH_SAMPLES ?? 10_000))
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))
const metrics = (i: number) => ({
  healthy: 1,
  requests_total: 1000 + i,
  errors_total: i % 7,
  error_rate: (i % 7) / (1000 + i),
  latency_ms: {p50: 1.2 + (i % 5) / 10, p95: 3.4, p99: 9.1},
  ttfb_ms: {p50: 110, p95: 240, p99: 420},
  providers: {anthropic: {requests: 900 + i, errors: i % 3}, openai: {requests: 100, errors: 0}},
})

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

function round(): {tickMs: number; batchMs: number; verifyMs: number | null; fileBytes: number} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-'))
  try {
    const t0 = Date.parse('2026-01-01T00:00:00Z')
    const ticks = StateStore.open(path.join(dir, 'ticks.db'), {actor: 'bench'})
    let start = performance.now()
    for (let i = 0; i < count; i++) ticks.addSample({source: 'gateway', ts: t0 + i * 30_000, metrics: metrics(i)})
    const tickMs = performance.now() - start
    ticks.close()

    const batch = StateStore.open(path.join(dir, 'batch.db'), {actor: 'bench'})
    const samples = Array.from({length: count}, (_, i) => ({source: 'gateway', ts: t0 + i * 30_000, metrics: metrics(i)}))
    start = performance.now()
    batch.addSamples(samples)
    const batchMs = performance.now() - start
    let verifyMs: number | null = null
    const verify = (batch as unknown as {verifyRecords?: () => {ok: boolean}}).verifyRecords
    if (typeof verify === 'function') {
      start = performance.now()
      const result = verify.call(batch)
      verifyMs = performance.now() - start
      if (!result.ok) throw new Error('verifyRecords failed on an untouched store')
    }
    batch.close()
    const fileBytes = fs.statSync(path.join(dir, 'batch.db')).size + (fs.existsSync(path.join(dir, 'batch.db-wal')) ? fs.statSync(path.join(dir, 'batch.db-wal')).size : 0)
    return {tickMs, batchMs, verifyMs, fileBytes}
  } finally {
    fs.rmSync(dir, {recursive: true, force: true})
  }
}

const results = Array.from({length: rounds}, () => round())
const fmt = (ms: number) => `${ms.toFixed(0)} ms (${((ms * 1000) / count).toFixed(1)} µs/sample)`
console.log(`${count} samples, median of ${rounds} round(s), node ${process.version}, ${os.cpus().length} cpu(s)`)
console.log(`  one transaction per sample (monitor ticks): ${fmt(median(results.map((r) => r.tickMs)))}`)
console.log(`  one batch (addSamples):                     ${fmt(median(results.map((r) => r.batchMs)))}`)
const verifies = results.map((r) => r.verifyMs).filter((v): v is number => v !== null)
if (verifies.length > 0) console.log(`  verifyRecords over the batch:               ${median(verifies).toFixed(0)} ms`)
console.log(`  state file after the batch:                 ${(median(results.map((r) => r.fileBytes)) / 1024).toFixed(0)} KiB`)
