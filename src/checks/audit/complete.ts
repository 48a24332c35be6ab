import {durationMs} from '../../lib/util/duration.js'
import {defineCheck, type CheckResult} from '../types.js'
import {fail, gatewayUrlHint, inconclusive, pass} from '../util.js'
import {gatewayFailure, httpStatusOf} from '../gateway/common.js'
import {probeParams} from '../traffic/routes-through-gateway.js'
import {findAuditEntry, probeApiKey, probeLedger, sharedJsonProbe} from '../traffic/probe.js'

interface Params {
  window: '15m' | '1h' | '24h' | '3d'
  min_requests: number
  settle: number
  agent_type: string
  model: string
  timeout: number
  audit_timeout: number
  api_key_env: string
}

/** The gateway's own counters, kept in its memory as requests finish, before any database write. */
export interface GatewayRecordCounters {
  records_received: number
  audit_pending: number
  audit_write_errors: number
  audit_dropped: number
}

/** Three counts from three places: the audit database, the gateway's memory, cutover's own client. */
export interface AuditCompleteness {
  window: string
  /** summary.total_requests and the /gateway/audit total over the same window: both from the audit database. */
  requests: number
  audit_rows: number
  /** null when the gateway does not expose them. */
  counters: GatewayRecordCounters | null
  /** Probes this run sent and got an answer for, looked up in the audit log by request id. */
  probes: {sent: number; looked_up: number; found: string[]; missing: string[]; without_request_id: number; unanswered: number}
}

type Verdict = Pick<CheckResult, 'outcome' | 'detail' | 'measured' | 'remediation'>

const COUNTER_FIELDS = ['records_received', 'audit_pending', 'audit_write_errors', 'audit_dropped'] as const

export function countersOf(summary: Record<string, unknown>): GatewayRecordCounters | null {
  const values = COUNTER_FIELDS.map((f) => summary[f])
  if (!values.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) return null
  return Object.fromEntries(COUNTER_FIELDS.map((f, i) => [f, values[i]])) as unknown as GatewayRecordCounters
}

/**
 * The verdict on evidence that does not all come from one database: a record the gateway never
 * wrote is missing from both database counts alike, but not from its in-memory counters, and a
 * probe cutover sent is missing from the audit log whichever way it was lost.
 */
export function judgeAuditCompleteness(e: AuditCompleteness, minRequests: number): Verdict {
  const measured = `${e.requests} requests, ${e.audit_rows} audit records; ${e.counters ? `gateway: ${e.counters.records_received} received, ${e.counters.audit_dropped} dropped, ${e.counters.audit_pending} pending` : 'gateway counters not exposed'}; probes ${e.probes.found.length}/${e.probes.looked_up} found`
  const losses: string[] = []
  if (e.probes.missing.length > 0) losses.push(`${e.probes.missing.length} of ${e.probes.looked_up} probe request(s) cutover sent and got an answer for have no audit row (${e.probes.missing.slice(0, 5).join(', ')})`)
  if (e.counters && e.counters.audit_dropped > 0) losses.push(`the gateway dropped ${e.counters.audit_dropped} record(s) since it started (its own counter audit_dropped)`)
  if (e.counters && e.counters.audit_pending > 0) losses.push(`${e.counters.audit_pending} record(s) are still not written (audit_pending, ${e.counters.audit_write_errors} write error(s))`)
  if (e.requests !== e.audit_rows) {
    const missing = e.requests - e.audit_rows
    losses.push(`${missing > 0 ? `${missing} request(s) not audited` : `${-missing} audit record(s) without a counted request`} over the last ${e.window}`)
  }
  if (losses.length > 0) {
    return {outcome: 'fail', detail: losses.join('; '), measured, remediation: 'Audit records are being lost: read the daemon log for "audit log write failed" (disk full, database locked), fix the cause, then restart the daemon so its counters start again, and validate again.'}
  }
  if (!e.counters) {
    return {outcome: 'inconclusive', detail: 'the gateway does not expose its own record counters (records_received, audit_dropped, audit_pending in /gateway/metrics), so completeness would rest on one database counting itself', measured, remediation: 'Run a gateway that reports its record counters on /gateway/metrics (the bundled reference gateway does), then validate again.'}
  }
  if (e.probes.looked_up === 0) {
    return {outcome: 'inconclusive', detail: `no probe request could be looked up by request id (${e.probes.sent} sent, ${e.probes.unanswered} unanswered, ${e.probes.without_request_id} without x-gateway-request-id)`, measured, remediation: 'Make sure probe requests reach the gateway (cutover phase validate --check traffic.routes_through_gateway) and that it returns x-gateway-request-id, then validate again.'}
  }
  if (e.requests < minRequests) {
    return {outcome: 'inconclusive', detail: `only ${e.requests} request(s) in the last ${e.window}`, measured, remediation: 'Send traffic through the gateway (or run the probes: cutover phase validate --check traffic.routes_through_gateway) and validate again.'}
  }
  return {
    outcome: 'pass',
    detail: `all ${e.requests} request(s) of the last ${e.window} are audited; the gateway received ${e.counters.records_received} record(s) and dropped none; ${e.probes.found.length} probe(s) found by request id`,
    measured,
    remediation: null,
  }
}

/** §2.3 "Audit logs still work"; KPI "100% of requests logged (compare request count vs audit log count)". */
export const auditComplete = defineCheck<Params>({
  id: 'audit.complete',
  title: 'Audit log is complete (independent counts: database, gateway counters, cutover probes)',
  verifies: '§2.3 "Audit logs still work"; Success Metrics "100% of requests logged"',
  params: {
    window: {type: 'enum', values: ['15m', '1h', '24h', '3d'], default: '1h', description: 'trailing window compared (a /gateway/metrics window)'},
    min_requests: {type: 'number', integer: true, min: 0, default: 1, description: 'fewer requests than this in the window gives inconclusive'},
    settle: {type: 'duration', default: '3s', description: 'how long to re-measure while in-flight requests are still being written'},
    ...probeParams,
  },
  // Count after this run's own probes have been served and audited.
  requires: ['traffic.routes_through_gateway', 'traffic.streaming_sse', 'cost.records_request'],
  touches: ({target, params}) => ({
    urls: [
      `GET ${gatewayUrlHint(target, `/gateway/metrics?window=${params.window}`)}`,
      `GET ${gatewayUrlHint(target, '/gateway/audit?start_time=...&end_time=...&limit=1')}`,
      `GET ${gatewayUrlHint(target, '/gateway/audit?request_id=...')} (each probe this run sent)`,
    ],
    files: [target.paths.pidFile],
    effects: ['one probe request when no other check of the run sent one (billed by real providers)'],
  }),
  timeoutMs: (p) => p.timeout + 2 * p.settle + p.audit_timeout + 15_000,
  async run({target, params, shared, signal}) {
    const expected = `three independent counts agree: over the last ${params.window} requests (summary.total_requests) == audit records (/gateway/audit total); the gateway's own counters show no dropped or unwritten record; every probe cutover sent is in the audit log by request id; at least ${params.min_requests} request(s)`
    const ledger = await probeLedger(shared)
    if (!ledger.sent.some(({probe}) => probe.status > 0 && probe.request_id)) {
      await sharedJsonProbe(target, shared, {agentType: params.agent_type, model: params.model, timeoutMs: params.timeout, signal, apiKey: probeApiKey(target, params.api_key_env)})
    }
    const measure = async () => {
      const metrics = await target.gateway.metrics(params.window)
      const s = metrics.body.summary
      // The audit count over exactly the window the metrics used (its since / window_end), else our own clock.
      const until = typeof s.window_end === 'string' ? s.window_end : new Date().toISOString()
      const since = typeof s.since === 'string' ? s.since : new Date(Date.parse(until) - durationMs(params.window)).toISOString()
      const page = await target.gateway.audit({start_time: since, end_time: until, limit: 1})
      return {requests: s.total_requests, audit_rows: page.body.total, counters: countersOf(s), since, until}
    }
    const attempts: Array<Awaited<ReturnType<typeof measure>>> = []
    const settled = (c: (typeof attempts)[number]) => c.requests === c.audit_rows && (c.counters === null || c.counters.audit_pending === 0)
    const deadline = Date.now() + params.settle
    const probes: AuditCompleteness['probes'] = {sent: ledger.sent.length, looked_up: 0, found: [], missing: [], without_request_id: 0, unanswered: 0}
    try {
      for (;;) {
        const count = await measure()
        attempts.push(count)
        if (settled(count) || Date.now() >= deadline) break
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
      for (const {agent_type, probe} of ledger.sent) {
        if (probe.status === 0) probes.unanswered++
        else if (!probe.request_id) probes.without_request_id++
        else {
          probes.looked_up++
          const lookup = await findAuditEntry(target, probe, {agentType: agent_type, timeoutMs: Math.max(500, params.audit_timeout), signal})
          if (lookup.found) probes.found.push(probe.request_id)
          else if (lookup.reason === 'not_found') probes.missing.push(probe.request_id)
          else throw Object.assign(new Error(`${lookup.url}: ${lookup.detail}`), {httpStatus: lookup.http_status ?? undefined})
        }
      }
    } catch (error) {
      const status = httpStatusOf(error)
      if (status === 404) {
        const what = (error as Error).message.includes('/gateway/audit') ? 'the audit log is disabled (GET /gateway/audit answered 404)' : 'the gateway does not serve /gateway/metrics'
        return fail({
          detail: what,
          expected,
          measured: 'audit log unavailable',
          evidence: {attempts, error: (error as Error).message},
          remediation: `Enable the audit log ("llmGateway": {"audit": {"enabled": true}} in ${target.paths.orchestraConfig}), then ${target.restartHint()}.`,
        })
      }
      return gatewayFailure(error, target, expected)
    }
    const last = attempts.at(-1) as (typeof attempts)[number]
    const completeness: AuditCompleteness = {window: params.window, requests: last.requests, audit_rows: last.audit_rows, counters: last.counters, probes}
    const verdict = judgeAuditCompleteness(completeness, params.min_requests)
    const evidence = {...completeness, since: last.since, until: last.until, attempts: attempts.length}
    const remediation = verdict.remediation ?? ''
    if (verdict.outcome === 'fail') return fail({detail: verdict.detail, expected, measured: verdict.measured, evidence, remediation: `${remediation} Audit database: ${target.paths.auditDb}; log: ${target.paths.log}.`})
    if (verdict.outcome === 'inconclusive') return inconclusive({detail: verdict.detail, expected, measured: verdict.measured, evidence, remediation})
    return pass({detail: verdict.detail, expected, measured: verdict.measured, evidence})
  },
})
