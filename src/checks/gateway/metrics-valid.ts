import type {Target} from '../../lib/target/target.js'
import {defineCheck} from '../types.js'
import {fail, gatewayUrlHint, pass} from '../util.js'
import {gatewayFailure, httpStatusOf} from './common.js'

/** The summary fields of issue 4's /gateway/metrics (a superset of the original daemon's shape). */
export const SUMMARY_COUNTS = ['total_requests', 'successful_requests', 'failed_requests', 'streaming_requests', 'streaming_failures', 'total_input_tokens', 'total_output_tokens', 'total_cache_write_tokens', 'total_cache_read_tokens', 'audit_records'] as const
export const SUMMARY_RATIOS = ['success_rate', 'error_rate'] as const
export const SUMMARY_AMOUNTS = ['avg_latency_ms', 'p50_latency_ms', 'p95_latency_ms', 'p99_latency_ms', 'avg_ttfb_ms', 'total_cost_usd'] as const
export const BREAKDOWNS = ['by_agent', 'by_provider', 'by_model'] as const

/** Problems with a /gateway/metrics document, in words; empty when it is valid. */
export function metricsProblems(doc: unknown, opts: {strict: boolean}): string[] {
  const problems: string[] = []
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return ['the body is not a JSON object']
  const body = doc as Record<string, unknown>
  const summary = body.summary
  if (summary === null || typeof summary !== 'object' || Array.isArray(summary)) return ['"summary" is missing or not an object']
  const s = summary as Record<string, unknown>
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
  if (!isNum(s.total_requests)) problems.push(`summary.total_requests must be a number, got ${JSON.stringify(s.total_requests) ?? 'nothing'}`)
  const required = opts.strict ? [...SUMMARY_COUNTS, ...SUMMARY_RATIOS, ...SUMMARY_AMOUNTS] : []
  for (const key of [...SUMMARY_COUNTS, ...SUMMARY_RATIOS, ...SUMMARY_AMOUNTS]) {
    const v = s[key]
    if (v === undefined || v === null) {
      if ((required as string[]).includes(key) && key !== 'total_requests') problems.push(`summary.${key} is missing`)
      continue
    }
    if (!isNum(v)) {
      if (key !== 'total_requests') problems.push(`summary.${key} must be a number, got ${JSON.stringify(v)}`)
      continue
    }
    if (v < 0) problems.push(`summary.${key} is negative (${v})`)
    if ((SUMMARY_COUNTS as readonly string[]).includes(key) && !Number.isInteger(v)) problems.push(`summary.${key} must be a whole number, got ${v}`)
    if ((SUMMARY_RATIOS as readonly string[]).includes(key) && v > 1) problems.push(`summary.${key} must be a ratio from 0 to 1, got ${v}`)
  }
  if (isNum(s.total_requests) && isNum(s.successful_requests) && isNum(s.failed_requests) && s.successful_requests + s.failed_requests !== s.total_requests) {
    problems.push(`successful_requests (${s.successful_requests}) + failed_requests (${s.failed_requests}) != total_requests (${s.total_requests})`)
  }
  if (isNum(s.total_requests) && isNum(s.streaming_requests) && s.streaming_requests > s.total_requests) problems.push(`streaming_requests (${s.streaming_requests}) > total_requests (${s.total_requests})`)
  if (opts.strict) {
    for (const key of BREAKDOWNS) {
      const v = body[key]
      if (v === undefined) problems.push(`"${key}" is missing`)
      else if (v === null || typeof v !== 'object' || Array.isArray(v)) problems.push(`"${key}" must be an object`)
    }
    if (body.recent !== undefined && !Array.isArray(body.recent)) problems.push('"recent" must be a list')
  }
  return problems
}

interface Params {
  strict: boolean
}

function remediationFor(target: Target, status: number | null): string {
  if (status === 404) return 'This gateway does not serve /gateway/metrics: deploy a build with the evidence layer (metrics and audit log) enabled.'
  return `The gateway's metrics are inconsistent: read ${target.paths.log} and report the body above; restarting (${target.restartHint()}) does not lose audited data.`
}

/** §1.2 "Metrics endpoint returns valid data"; §1.1 Expected {"summary":{"total_requests":...},...}. */
export const gatewayMetricsValid = defineCheck<Params>({
  id: 'gateway.metrics_valid',
  title: 'Metrics endpoint returns valid data',
  verifies: '§1.1 "curl .../gateway/metrics" Expected {"summary":{"total_requests":...},...}; §1.2 "Metrics endpoint returns valid data"; §1.3 monitoring fields',
  params: {
    strict: {type: 'boolean', default: true, description: 'require every summary field and breakdown of the evidence layer (false: only summary.total_requests and the types of the fields present)'},
  },
  touches: ({target}) => ({files: [target.paths.pidFile], urls: [gatewayUrlHint(target, '/gateway/metrics')]}),
  async run({target, params}) {
    const expected = params.strict ? 'GET /gateway/metrics answers a summary with every documented field, consistent counts and by_agent/by_provider/by_model' : 'GET /gateway/metrics answers {"summary": {"total_requests": <number>, ...}}'
    let answer
    try {
      answer = await target.gateway.getGatewayJson<Record<string, unknown>>('/gateway/metrics')
    } catch (error) {
      const status = httpStatusOf(error)
      if (status !== null) {
        return fail({detail: (error as Error).message, expected, measured: `HTTP ${status}`, evidence: {url: `${safeUrl(target)}/gateway/metrics`, http_status: status}, remediation: remediationFor(target, status)})
      }
      return gatewayFailure(error, target, expected)
    }
    const problems = metricsProblems(answer.body, {strict: params.strict})
    const summary = (answer.body.summary ?? {}) as Record<string, unknown>
    const evidence = {url: `${safeUrl(target)}/gateway/metrics`, http_status: answer.httpStatus, duration_ms: Math.round(answer.durationMs), summary, problems}
    if (problems.length > 0) {
      return fail({detail: `invalid metrics: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`, expected, measured: `${problems.length} problem${problems.length === 1 ? '' : 's'}`, evidence, remediation: remediationFor(target, null)})
    }
    return pass({
      detail: `valid metrics: total_requests ${String(summary.total_requests)}, success_rate ${String(summary.success_rate ?? 'n/a')}, avg_latency_ms ${String(summary.avg_latency_ms ?? 'n/a')}, total_cost_usd ${String(summary.total_cost_usd ?? 'n/a')}`,
      expected,
      measured: `total_requests ${String(summary.total_requests)}`,
      evidence,
    })
  },
})

function safeUrl(target: Target): string {
  try {
    return target.gatewayUrl()
  } catch {
    return '(gateway url unknown)'
  }
}
