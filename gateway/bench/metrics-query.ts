/**
 * GET /gateway/metrics latency over a large audit log (issue 4: < 50 ms with one million rows).
 *
 *   npx tsx gateway/bench/metrics-query.ts [rows=1000000] [db=<tmp>/audit.db]
 *
 * Fills an audit database with synthetic rows spread over the last 3 days (through the same
 * AuditStore.insert the gateway uses, so the aggregate tables are maintained as in production),
 * then times the metrics document (query + JSON) for all-time and every window, and one
 * /gateway/audit page with its total.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {type AuditRow, AuditStore, MINUTE_BUCKET_RETENTION_MS, MINUTE} from '../src/llm_gateway/audit.js'
import {buildMetrics, parseAuditQuery, parseMetricsQuery, queryAudit} from '../src/llm_gateway/metrics.js'

const rows = Number(process.argv[2] ?? 1_000_000)
const dir = process.argv[3] ? undefined : mkdtempSync(join(tmpdir(), 'metrics-bench-'))
const dbPath = process.argv[3] ?? join(dir as string, 'audit.db')
const now = Date.now()
const span = 3 * 24 * 3_600_000

const agents = ['main', 'code-reviewer', 'test-engineer', 'python-specialist', 'technical-researcher', 'rust-specialist']
const routes = [
  {provider: 'anthropic', type: 'anthropic', model: 'claude-sonnet-4-5-20250929'},
  {provider: 'anthropic', type: 'anthropic', model: 'claude-opus-4-5-20251101'},
  {provider: 'anthropic', type: 'anthropic', model: 'claude-haiku-4-5-20251001'},
  {provider: 'azure', type: 'azure', model: 'gpt-5.1-codex-mini'},
  {provider: 'deepseek', type: 'deepseek', model: 'deepseek-flash'},
  {provider: 'ollama', type: 'ollama', model: 'qwen2.5-coder'},
]

function synthetic(i: number): AuditRow {
  const received = now - span + Math.floor((i / rows) * span)
  const route = routes[i % routes.length] as (typeof routes)[number]
  const failed = i % 50 === 0
  const stream = i % 10 !== 0
  const latency = 200 + ((i * 7919) % 30_000)
  return {
    request_id: `req_${i}`, received_at: received, first_byte_at: received + 150, done_at: received + latency, method: 'POST', path: '/v1/messages',
    agent_type: agents[i % agents.length] as string, provider: route.provider, provider_type: route.type, model_requested: route.model, model_served: route.model,
    routing_reason: 'default', stream: stream ? 1 : 0, status: failed ? 529 : 200, success: failed ? 0 : 1, error_type: failed ? 'overloaded_error' : null,
    error_message: null, stop_reason: 'end_turn', attempts: 1, fallback_used: 0, latency_ms: latency, ttfb_ms: 150, overhead_ms: 2,
    input_tokens: 400, output_tokens: 90, cache_write_tokens: 1800, cache_write_5m_tokens: 1800, cache_write_1h_tokens: 0, cache_read_tokens: 9000,
    usage_missing: 0, usage_estimated: 0, cost_micros: 11991, cost_status: 'priced', pricing: 'claude-sonnet-4-5@1970-01-01', price_tier: 'standard',
    request_body: null, request_body_parts: null, response_body: null,
  }
}

const store = new AuditStore(dbPath)
let t0 = performance.now()
const batch = 10_000
for (let i = 0; i < rows; i += batch) {
  const chunk: AuditRow[] = []
  for (let j = i; j < Math.min(rows, i + batch); j++) chunk.push(synthetic(j))
  store.insert(chunk)
}
console.log(`inserted ${rows} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s (${Math.round(rows / ((performance.now() - t0) / 1000))} rows/s)`)
const minuteFloor = Math.floor((now - MINUTE_BUCKET_RETENTION_MS) / MINUTE) * MINUTE
store.pruneMinuteBuckets(minuteFloor)
store.db.pragma("wal_checkpoint(TRUNCATE)")

const status = {records_received: 0, audit_pending: 0, audit_write_errors: 0, audit_dropped: 0}
function time(label: string, fn: () => unknown, runs = 20): void {
  fn()
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    t0 = performance.now()
    fn()
    samples.push(performance.now() - t0)
  }
  samples.sort((a, b) => a - b)
  const p50 = samples[Math.floor(runs / 2)] as number
  const max = samples[runs - 1] as number
  console.log(`${label.padEnd(34)} p50 ${p50.toFixed(1).padStart(6)} ms   max ${max.toFixed(1).padStart(6)} ms${p50 < 50 ? '' : '   (over the 50 ms target)'}`)
}

for (const w of ['', '30s', '15m', '1h', '1h30m', '24h', '3d', '4d']) {
  const q = parseMetricsQuery(new URLSearchParams(w ? {window: w} : {}))
  time(`GET /gateway/metrics${w ? `?window=${w}` : ''}`, () => JSON.stringify(buildMetrics(store.db, q, {now, minuteFloor, resetAt: null, status})))
}
const first = buildMetrics(store.db, parseMetricsQuery(new URLSearchParams()), {now, minuteFloor, resetAt: null, status}) as {summary: {total_requests: number; audit_records: number}}
console.log(`check: summary.total_requests=${first.summary.total_requests} audit_records=${first.summary.audit_records}`)
time('GET /gateway/audit?limit=100', () => JSON.stringify(queryAudit(store.db, parseAuditQuery(new URLSearchParams({limit: '100'})))), 5)
time('GET /gateway/audit?provider=azure', () => JSON.stringify(queryAudit(store.db, parseAuditQuery(new URLSearchParams({provider: 'azure', limit: '100'})))), 5)
store.close()
// A database path given on the command line is kept for inspection; the temporary one is removed.
if (dir) rmSync(dir, {recursive: true, force: true})
