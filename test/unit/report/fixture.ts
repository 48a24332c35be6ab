/**
 * A state store populated through the StateStore API with a controlled clock: three phases an
 * hour apart, monitor samples in each (with gaps between them), gate evaluations, an approval,
 * incidents (one with a planted <script> title), feedback, a baseline and rollbacks.
 * The expected KPI and review figures are worked out by hand in report.test.ts.
 */
import path from 'node:path'

import type {GatewayMetrics} from '../../../src/lib/target/gateway-client.js'
import type {RequestRow} from '../../../src/lib/report/types.js'
import {StateStore} from '../../../src/lib/state/store.js'

export const T0 = Date.parse('2025-12-01T00:00:00.000Z')
export const MIN = 60_000
export const HOUR = 3_600_000
export const NOW = new Date(T0 + 3 * HOUR)
export const SCRIPT_TITLE = '<script>alert("pwned")</script> streaming drops on long answers'

export interface Fixture {
  state: StateStore
  file: string
  evaluationIds: string[]
}

/** Health samples (interval 1 min): phase 1 minutes 0-9 (minute 5 down), phase 2 minutes 60-69 (minute 62 degraded), phase 3 minutes 120-124. */
export function healthSamples(base = T0): {ts: number; status: string}[] {
  const out: {ts: number; status: string}[] = []
  for (let m = 0; m < 10; m++) out.push({ts: base + m * MIN, status: m === 5 ? 'down' : 'healthy'})
  for (let m = 60; m < 70; m++) out.push({ts: base + m * MIN, status: m === 62 ? 'degraded' : 'healthy'})
  for (let m = 120; m < 125; m++) out.push({ts: base + m * MIN, status: 'healthy'})
  return out
}

export const metricsSamples = (base = T0) => [
  {ts: base + 1 * MIN, total_requests: 10, failed_requests: 0, error_rate: 0, avg_latency_ms: 300, p95_latency_ms: 500, streaming_requests: 4, streaming_failures: 0},
  {ts: base + 9 * MIN, total_requests: 20, failed_requests: 1, error_rate: 5, avg_latency_ms: 350, p95_latency_ms: 600, streaming_requests: 8, streaming_failures: 1},
  {ts: base + 65 * MIN, total_requests: 30, failed_requests: 0, error_rate: 0, avg_latency_ms: 380, p95_latency_ms: 700, streaming_requests: 12, streaming_failures: 0},
  {ts: base + 124 * MIN, total_requests: 40, failed_requests: 2, error_rate: 5, avg_latency_ms: 410, p95_latency_ms: 800, streaming_requests: 16, streaming_failures: 1},
]

/** Populate <dir>/state.db; `base` is when Phase 1 starts (the unit tests use T0, the e2e test a recent time). */
export function populate(dir: string, base = T0): Fixture {
  const file = path.join(dir, 'state.db')
  let clock = base
  const state = StateStore.open(file, {actor: 'report-test', now: () => new Date(clock)})
  const at = (ms: number) => {
    clock = ms
  }
  const evaluationIds: string[] = []

  at(base)
  state.setPhase(1, {reason: 'validation starts'})
  for (const h of healthSamples(base)) state.addSample({source: 'health', ts: h.ts, metrics: {status: h.status, http_status: h.status === 'down' ? null : 200, latency_ms: 3, interval_ms: MIN}})
  for (const m of metricsSamples(base)) {
    const {ts, ...metrics} = m
    state.addSample({source: 'metrics', ts, metrics: {window: '15m', ...metrics}})
  }
  for (const [i, ok] of [true, true, false, true].entries()) {
    state.addSample({source: 'probe', ts: base + i * 2 * MIN, metrics: {ok, http_status: 200, ttfb_ms: 20, duration_ms: 50, events: ok ? 6 : 2, ...(ok ? {} : {error: 'the stream ended without message_stop'})}})
  }

  at(base + 50 * MIN)
  const gate12 = state.recordEvaluation({
    from: 1,
    to: 2,
    verdict: 'GO',
    inputs: {
      v: 1,
      gate: {id: 'phase-1-to-2', from: 1, to: 2, title: 'Go/No-Go Phase 1 → Phase 2'},
      outcomes: [
        {id: 'uptime', title: 'Gateway uptime >99.9%', outcome: 'pass', value: 99.95, threshold: 99.9, effectiveThreshold: 99.9, operator: '>', unit: '%', samples: 10, reason: '99.95% > 99.9%', key: true},
        {id: 'latency-vs-baseline', title: 'Average latency no worse than +25%', outcome: 'inconclusive', value: null, threshold: 500, effectiveThreshold: null, operator: '<', unit: 'ms', samples: 0, reason: 'no baseline pinned', key: false},
      ],
      approval: {required: true, status: 'valid', by: 'alice', at: new Date(base + 52 * MIN).toISOString(), message: 'approved'},
    },
  })
  evaluationIds.push(gate12.id)
  at(base + 52 * MIN)
  state.addApproval({phase: 1, by: 'alice', reason: 'baseline week clean', evaluationId: gate12.id})
  at(base + 55 * MIN)
  state.pinBaseline({phase: 1, metrics: {'gateway:latency_ms:avg': 400}, sampleCount: 10})

  at(base + HOUR)
  state.setPhase(2, {reason: 'gonogo GO'})
  at(base + 70 * MIN)
  state.addIncident({severity: 'major', title: 'Launcher fell back to proxy on one laptop', detail: 'stale PID file'})
  at(base + 80 * MIN)
  state.resolveIncident(1, {resolution: 'PID file rewritten', by: 'bob'})
  at(base + 85 * MIN)
  state.addIncident({severity: 'minor', title: SCRIPT_TITLE})
  at(base + 90 * MIN)
  state.recordRollback({kind: 'flag', outcome: 'success', timings: {decision_to_flag: 12, flag_to_daemon_up: 840, verify: 120}, objectiveMs: 30_000})
  at(base + 95 * MIN)
  state.recordRollback({kind: 'git-rehearsal', outcome: 'success', timings: {build: 200_000, test: 500_000}, objectiveMs: 600_000})
  at(base + 100 * MIN)
  // No objective recorded: the playbook's flag RTO (30s) applies.
  state.recordRollback({kind: 'flag', outcome: 'success', timings: {decision_to_flag: 10, flag_to_daemon_up: 1290, verify: 200}})
  at(base + 110 * MIN)
  const gate23no = state.recordEvaluation({
    from: 2,
    to: 3,
    verdict: 'NO-GO',
    inputs: {v: 1, gate: {id: 'phase-2-to-3', from: 2, to: 3, title: 'Go/No-Go Phase 2 → Phase 3'}, outcomes: [{id: 'no-rollbacks', title: 'No rollbacks required', outcome: 'fail', value: 2, threshold: 0, operator: '==', samples: 2, reason: '2 rollbacks in phase', key: true}], approval: {required: false, status: 'not_required', message: ''}},
  })
  evaluationIds.push(gate23no.id)
  at(base + 115 * MIN)
  const gate23 = state.recordEvaluation({
    from: 2,
    to: 3,
    verdict: 'GO',
    inputs: {v: 1, gate: {id: 'phase-2-to-3', from: 2, to: 3, title: 'Go/No-Go Phase 2 → Phase 3'}, outcomes: [{id: 'no-rollbacks', title: 'No rollbacks required', outcome: 'pass', value: 0, threshold: 0, operator: '==', samples: 0, reason: 'none', key: true}], approval: {required: false, status: 'not_required', message: ''}},
  })
  evaluationIds.push(gate23.id)
  at(base + 2 * HOUR)
  state.setPhase(3, {reason: 'gonogo GO'})
  for (const [i, sentiment] of (['positive', 'positive', 'negative', 'positive'] as const).entries()) {
    at(base + 2 * HOUR + (i + 1) * MIN)
    state.addFeedback({user: `user-${i}`, sentiment, comment: 'streaming feels faster'})
  }
  at(base + 3 * HOUR)
  return {state, file, evaluationIds}
}

/** What /gateway/metrics answered (all time). */
export function gatewayMetrics(): GatewayMetrics {
  return {
    summary: {
      total_requests: 200,
      successful_requests: 199,
      failed_requests: 1,
      success_rate: 0.995,
      error_rate: 0.005,
      streaming_requests: 80,
      streaming_failures: 2,
      avg_latency_ms: 420.5,
      p50_latency_ms: 380,
      p95_latency_ms: 900,
      p99_latency_ms: 1200,
      avg_ttfb_ms: 150,
      total_cost_usd: 1.2345,
      total_input_tokens: 50_000,
      total_output_tokens: 12_000,
      total_cache_write_tokens: 1000,
      total_cache_read_tokens: 4000,
      audit_records: 200,
      since: new Date(T0).toISOString(),
    },
    by_model: {'claude-haiku-4-5': 0.2345, 'claude-sonnet-4-5': 1.0},
    by_provider: {anthropic: 1.2345},
    by_agent: {'code-reviewer': 0.4, 'python-specialist': 0.8345},
    breakdown: {
      model: {
        'claude-haiku-4-5': {requests: 120, failed_requests: 1, total_cost_usd: 0.2345, input_tokens: 20_000, output_tokens: 5000},
        'claude-sonnet-4-5': {requests: 80, failed_requests: 0, total_cost_usd: 1.0, input_tokens: 30_000, output_tokens: 7000},
      },
      provider: {anthropic: {requests: 200, failed_requests: 1, total_cost_usd: 1.2345, input_tokens: 50_000, output_tokens: 12_000}},
      agent: {
        'code-reviewer': {requests: 70, failed_requests: 0, total_cost_usd: 0.4, input_tokens: 20_000, output_tokens: 4000},
        'python-specialist': {requests: 130, failed_requests: 1, total_cost_usd: 0.8345, input_tokens: 30_000, output_tokens: 8000},
      },
    },
  }
}

/**
 * Audit-log requests: 6 before the baseline was pinned (minute 10-40), 4 after it (minute 70-150).
 * Latency before: 300 each; after: 360, 340, 380, 320 (mean 350). Two failures, three streamed.
 */
export function requestRows(): RequestRow[] {
  const before = [10, 15, 20, 25, 30, 40].map((m, i) => ({t: T0 + m * MIN, success: i !== 2, stream: i < 2, latencyMs: 300, costUsd: 0.01}))
  const after = [
    {t: T0 + 70 * MIN, success: true, stream: true, latencyMs: 360, costUsd: 0.02},
    {t: T0 + 90 * MIN, success: false, stream: false, latencyMs: 340, costUsd: 0},
    {t: T0 + 130 * MIN, success: true, stream: false, latencyMs: 380, costUsd: 0.05},
    {t: T0 + 150 * MIN, success: true, stream: false, latencyMs: 320, costUsd: 0.03},
  ]
  return [...before, ...after]
}
