/**
 * What the report reads from the live daemon: the all-time /gateway/metrics document and the audit
 * log's requests (for cost over time and the review periods). Never throws: when the daemon cannot
 * be reached the report is built from the state store alone and says so.
 */
import type {GatewayMetrics} from '../target/gateway-client.js'
import type {Target} from '../target/target.js'
import {redactText} from '../util/redact.js'
import type {RequestRow} from './types.js'

const PAGE = 1000
/** Reading more rows than this takes too long for a report; cost over time is then left out. */
export const MAX_AUDIT_ROWS = 50_000

export interface GatewayEvidence {
  gatewayMetrics: GatewayMetrics | null
  requests: RequestRow[] | null
  /** Why something is missing. */
  liveNote?: string
}

export async function gatherGatewayEvidence(target: Pick<Target, 'gateway'>, opts: {maxRows?: number} = {}): Promise<GatewayEvidence> {
  let gatewayMetrics: GatewayMetrics
  try {
    gatewayMetrics = (await target.gateway.metrics()).body
  } catch (error) {
    return {
      gatewayMetrics: null,
      requests: null,
      liveNote: `Live gateway metrics were unavailable (${redactText((error as Error).message)}); this report is built from the state store only. Start the daemon (cutover daemon start) and run the report again for totals, costs and live KPIs.`,
    }
  }
  const maxRows = opts.maxRows ?? MAX_AUDIT_ROWS
  try {
    const first = await target.gateway.audit({limit: PAGE, offset: 0})
    const total = first.body.total
    if (total > maxRows) {
      return {gatewayMetrics, requests: null, liveNote: `The audit log holds ${total} requests, more than the ${maxRows} the report reads; cost over time and the review periods use the all-time totals.`}
    }
    const entries = [...first.body.entries]
    for (let offset = PAGE; offset < total; offset += PAGE) {
      const page = await target.gateway.audit({limit: PAGE, offset})
      entries.push(...page.body.entries)
      if (page.body.entries.length < PAGE) break
    }
    // Pages are newest first; a request arriving while we page shifts the offsets, so drop repeats.
    const seen = new Set<unknown>()
    const unique = entries.filter((e) => (e.id === undefined ? true : seen.has(e.id) ? false : (seen.add(e.id), true)))
    return {gatewayMetrics, requests: unique.map(toRow).filter((r): r is RequestRow => r !== null)}
  } catch (error) {
    return {gatewayMetrics, requests: null, liveNote: `The gateway's audit log could not be read (${redactText((error as Error).message)}); cost over time is left out.`}
  }
}

function toRow(e: Record<string, unknown>): RequestRow | null {
  const at = typeof e.received_at === 'string' ? Date.parse(e.received_at) : typeof e.received_at === 'number' ? e.received_at : Number.NaN
  if (!Number.isFinite(at)) return null
  const n = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
  return {t: at, success: e.success === true, stream: e.stream === true, latencyMs: n(e.latency_ms), costUsd: n(e.cost_usd) ?? (n(e.cost_micros) === null ? null : n(e.cost_micros)! / 1_000_000)}
}
