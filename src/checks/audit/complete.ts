import {defineCheck} from '../types.js'
import {fail, gatewayUrlHint, inconclusive, pass} from '../util.js'
import {gatewayFailure, httpStatusOf} from '../gateway/common.js'

interface Params {
  window: '15m' | '1h' | '24h' | '3d'
  min_requests: number
  settle: number
}

interface Count {
  requests: number
  audit_rows: number
  audit_records_field: number | null
  since: string | null
  until: string | null
}

/** §2.3 "Audit logs still work"; KPI "100% of requests logged (compare request count vs audit log count)". */
export const auditComplete = defineCheck<Params>({
  id: 'audit.complete',
  title: 'Audit log is complete (requests == audit records)',
  verifies: '§2.3 "Audit logs still work"; Success Metrics "100% of requests logged"',
  params: {
    window: {type: 'enum', values: ['15m', '1h', '24h', '3d'], default: '1h', description: 'trailing window compared (a /gateway/metrics window)'},
    min_requests: {type: 'number', integer: true, min: 0, default: 1, description: 'fewer requests than this in the window gives inconclusive'},
    settle: {type: 'duration', default: '3s', description: 'how long to re-measure while in-flight requests are still being written'},
  },
  // Count after this run's own probes have been served and audited.
  requires: ['traffic.routes_through_gateway', 'traffic.streaming_sse', 'cost.records_request'],
  touches: ({target, params}) => ({urls: [`GET ${gatewayUrlHint(target, `/gateway/metrics?window=${params.window}`)}`, `GET ${gatewayUrlHint(target, '/gateway/audit?start_time=...&end_time=...&limit=1')}`], files: [target.paths.pidFile]}),
  timeoutMs: (p) => p.settle + 15_000,
  async run({target, params}) {
    const expected = `over the last ${params.window}: request count (summary.total_requests) == audit record count (/gateway/audit total), at least ${params.min_requests} request(s)`
    const measure = async (): Promise<Count> => {
      const metrics = await target.gateway.metrics(params.window)
      const s = metrics.body.summary
      // The audit count over exactly the window the metrics used (its since / window_end), else our own clock.
      const until = typeof s.window_end === 'string' ? s.window_end : new Date().toISOString()
      const since = typeof s.since === 'string' ? s.since : new Date(Date.parse(until) - windowMs(params.window)).toISOString()
      const page = await target.gateway.audit({start_time: since, end_time: until, limit: 1})
      return {requests: s.total_requests, audit_rows: page.body.total, audit_records_field: typeof s.audit_records === 'number' ? s.audit_records : null, since, until}
    }
    const attempts: Count[] = []
    const deadline = Date.now() + params.settle
    try {
      for (;;) {
        const count = await measure()
        attempts.push(count)
        if (count.requests === count.audit_rows || Date.now() >= deadline) break
        await new Promise((resolve) => setTimeout(resolve, 250))
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
    const last = attempts.at(-1) as Count
    const evidence = {window: params.window, attempts, ...last}
    const measured = `${last.requests} requests, ${last.audit_rows} audit records`
    if (last.requests !== last.audit_rows) {
      const missing = last.requests - last.audit_rows
      return fail({
        detail: `${missing > 0 ? `${missing} request(s) not audited` : `${-missing} audit record(s) without a counted request`} over the last ${params.window}`,
        expected,
        measured,
        evidence,
        remediation: `Audit rows are being lost: check ${target.paths.log} for audit write errors (disk full, database locked) and ${target.paths.auditDb}.`,
      })
    }
    if (last.requests < params.min_requests) {
      return inconclusive({detail: `only ${last.requests} request(s) in the last ${params.window}`, expected, measured, evidence, remediation: 'Send traffic through the gateway (or run the probes: cutover phase validate --check traffic.routes_through_gateway) and validate again.'})
    }
    return pass({detail: `all ${last.requests} request(s) of the last ${params.window} are audited`, expected, measured, evidence})
  },
})

function windowMs(window: Params['window']): number {
  return {'15m': 15 * 60_000, '1h': 3_600_000, '24h': 86_400_000, '3d': 3 * 86_400_000}[window]
}
