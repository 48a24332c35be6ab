/**
 * The registry of check ids a playbook may name. The checks library (src/checks/) provides the
 * real catalog; until it lands, this static list of the ids the seed playbook uses stands in.
 */

export interface CheckCatalog {
  has(id: string): boolean
  ids(): string[]
}

export const KNOWN_CHECK_IDS = [
  'daemon.running',
  'gateway.started_log',
  'pidfile.valid',
  'pidfile.gateway_port',
  'pidfile.no_proxy_port',
  'proxy.not_listening',
  'proxy.listening',
  'launcher.gateway_env',
  'launcher.fails_without_gateway',
  'launcher.no_proxy_fallback',
  'gateway.health',
  'gateway.metrics_valid',
  'gateway.providers_listed',
  'traffic.routes_through_gateway',
  'traffic.streaming_sse',
  'cost.records_request',
  'audit.complete',
  'repo.no_proxy_references',
  'repo.builds',
  'repo.tests_pass',
  'repo.docs_no_proxy',
  'flags.rollback_available',
  'script.test_gateway',
  'records.approval',
  'records.feedback_positive',
  'records.no_critical_incidents',
  'rollback.rehearsed',
] as const

export function catalogOf(ids: Iterable<string>): CheckCatalog {
  const set = new Set(ids)
  return {has: (id) => set.has(id), ids: () => [...set].sort()}
}

/** The catalog used when none is passed in. */
export const knownChecks: CheckCatalog = catalogOf(KNOWN_CHECK_IDS)
