/**
 * The checks library: every check a playbook may name, registered here and nowhere else.
 * `checkCatalog` is what the playbook loader validates ids and parameters against.
 */
import {auditComplete} from './audit/complete.js'
import {costRecordsRequest} from './cost/records-request.js'
import {daemonRunning} from './daemon/running.js'
import {flagsRollbackAvailable} from './flags/rollback-available.js'
import {gatewayHealth} from './gateway/health.js'
import {gatewayMetricsValid} from './gateway/metrics-valid.js'
import {gatewayProvidersListed} from './gateway/providers-listed.js'
import {gatewayStartedLog} from './gateway/started-log.js'
import {launcherFailsWithoutGateway} from './launcher/fails-without-gateway.js'
import {launcherGatewayEnv} from './launcher/gateway-env.js'
import {launcherNoProxyFallback} from './launcher/no-proxy-fallback.js'
import {type ParamIssue, validateParams} from './params.js'
import {pidfileGatewayPort} from './pidfile/gateway-port.js'
import {pidfileNoProxyPort} from './pidfile/no-proxy-port.js'
import {pidfileValid} from './pidfile/valid.js'
import {proxyListening} from './proxy/listening.js'
import {proxyNotListening} from './proxy/not-listening.js'
import {recordsApproval} from './records/approval.js'
import {recordsFeedbackPositive} from './records/feedback-positive.js'
import {recordsNoCriticalIncidents} from './records/no-critical-incidents.js'
import {rollbackRehearsed} from './records/rollback-rehearsed.js'
import {repoBuilds} from './repo/builds.js'
import {repoDocsNoProxy} from './repo/docs-no-proxy.js'
import {repoNoProxyReferences} from './repo/no-proxy-references.js'
import {repoTestsPass} from './repo/tests-pass.js'
import {scriptTestGateway} from './script/test-gateway.js'
import {trafficRoutesThroughGateway} from './traffic/routes-through-gateway.js'
import {trafficStreamingSse} from './traffic/streaming-sse.js'
import type {AnyCheck} from './types.js'

export * from './types.js'
export {describeSchema, type ParamIssue, type ParamSpec, type ParamsSchema} from './params.js'

export const CHECKS: readonly AnyCheck[] = [
  daemonRunning,
  gatewayStartedLog,
  pidfileValid,
  pidfileGatewayPort,
  pidfileNoProxyPort,
  proxyNotListening,
  proxyListening,
  launcherGatewayEnv,
  launcherFailsWithoutGateway,
  launcherNoProxyFallback,
  gatewayHealth,
  gatewayMetricsValid,
  gatewayProvidersListed,
  trafficRoutesThroughGateway,
  trafficStreamingSse,
  costRecordsRequest,
  auditComplete,
  repoNoProxyReferences,
  repoBuilds,
  repoTestsPass,
  repoDocsNoProxy,
  flagsRollbackAvailable,
  scriptTestGateway,
  recordsApproval,
  recordsFeedbackPositive,
  recordsNoCriticalIncidents,
  rollbackRehearsed,
]

const byId = new Map(CHECKS.map((check) => [check.id, check]))
if (byId.size !== CHECKS.length) throw new Error('duplicate check id in src/checks/index.ts')

export function getCheck(id: string): AnyCheck | undefined {
  return byId.get(id)
}

export type CheckParamsResult = {ok: true; params: Record<string, unknown>} | {ok: false; issues: ParamIssue[]}

/** Validate a check's params (schema, then the check's own cross-parameter rules) and apply defaults. */
export function resolveCheckParams(id: string, raw: unknown): CheckParamsResult {
  const check = byId.get(id)
  if (!check) return {ok: false, issues: [{param: null, message: `unknown check "${id}"`}]}
  const validated = validateParams(check.params, raw)
  if (!validated.ok) return {ok: false, issues: validated.issues}
  const extra = check.validate?.(validated.value) ?? []
  return extra.length > 0 ? {ok: false, issues: extra} : {ok: true, params: validated.value}
}

/** The catalog the playbook loader uses: ids plus parameter validation (errors at lint time). */
export const checkCatalog = {
  has: (id: string): boolean => byId.has(id),
  ids: (): string[] => [...byId.keys()].sort(),
  validateParams: (id: string, raw: unknown): ParamIssue[] => {
    const result = resolveCheckParams(id, raw)
    return result.ok ? [] : result.issues
  },
}
