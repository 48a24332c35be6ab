/**
 * The report's one-line verdict (#11 item 6), at the top of every format: what the KPIs say, what
 * the clients saw, and what the evidence is not (forced, synthetic, skipped, waived). It never
 * says every KPI was met while one is unknown.
 */
import type {StateStore} from '../state/store.js'
import {fmtNumber} from './format.js'
import {clientFinished} from './kpis.js'
import type {ClientTraffic, KpiResult, Provenance} from './types.js'

/** Forced advances recorded in the trail (`phase advance --force --reason`: kind advance.force), then the caller's, without repeats. */
export function gatherProvenance(state: StateStore, given: Partial<Provenance> | undefined): Provenance {
  const recorded = state.listTrail({kind: 'advance.force'}).map((r) => {
    const p = (r.payload ?? {}) as {from?: unknown; to?: unknown; reason?: unknown; verdict?: unknown}
    const why = [typeof p.reason === 'string' ? p.reason : '', typeof p.verdict === 'string' ? `the gate said ${p.verdict}` : ''].filter(Boolean).join('; ')
    return {what: `gate ${String(p.from ?? '?')}->${String(p.to ?? '?')}`, why: why || 'no reason recorded'}
  })
  const forced: Provenance['forced'] = []
  for (const f of [...recorded, ...(given?.forced ?? [])]) if (!forced.some((x) => x.what === f.what && x.why === f.why)) forced.push({what: f.what, why: f.why})
  const unique = (xs: string[] | undefined) => [...new Set((xs ?? []).filter((x) => x.trim() !== ''))]
  return {forced, synthetic: unique(given?.synthetic), skipped: unique(given?.skipped), waived: unique(given?.waived)}
}

export function verdictLine(kpis: KpiResult[], client: ClientTraffic | null, provenance: Provenance): string {
  const judged = kpis.filter((k) => k.target !== null)
  const met = judged.filter((k) => k.status === 'met')
  const missed = judged.filter((k) => k.status === 'missed')
  const unknown = judged.filter((k) => k.status === 'unknown')
  let line: string
  if (judged.length === 0) line = 'KPIs: none with a target in the plan'
  else if (met.length === judged.length) line = `KPIs: all ${met.length} met`
  else {
    const parts = [`${met.length} met`]
    if (missed.length > 0) parts.push(`${missed.length} missed (${missed.map((k) => k.id).join(', ')})`)
    if (unknown.length > 0) parts.push(`${unknown.length} unknown (${unknown.map((k) => `${k.id}: ${k.unknownBecause ?? k.note ?? 'not measured'}`).join('; ')})`)
    line = `KPIs: ${parts.join(', ')}`
  }
  const sections: string[] = [line]
  if (client) {
    sections.push(`failed requests seen by clients: ${fmtNumber(client.failed)} of ${fmtNumber(clientFinished(client))} (${client.source})`)
  }
  const named: string[] = []
  if (provenance.forced.length > 0) named.push(`forced: ${provenance.forced.map((f) => `${f.what} (${f.why})`).join(', ')}`)
  if (provenance.synthetic.length > 0) named.push(`synthetic: ${provenance.synthetic.join(', ')}`)
  if (provenance.skipped.length > 0) named.push(`skipped: ${provenance.skipped.join(', ')}`)
  if (provenance.waived.length > 0) named.push(`waived: ${provenance.waived.join(', ')}`)
  if (named.length > 0) sections.push(named.join('; '))
  return sections.join(' — ').replace(/\r?\n/g, ' ')
}
