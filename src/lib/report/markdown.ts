/** The report as Markdown: the KPI table first, then the review, totals, timeline and records. */
import {fmtMs, fmtNumber, fmtPct, fmtSpan, fmtTime, fmtUsd, fmtWithUnit} from './format.js'
import {clientFinished} from './kpis.js'
import type {BreakdownRow, ClientTraffic, KpiResult, KpiStatus, ReportData, ReviewSection} from './types.js'

/**
 * Table-cell safe: no pipes or line breaks, and no raw HTML (Markdown renderers would render it):
 * a '<' that could open a tag or comment becomes &lt;, while '< 500 ms' stays readable.
 */
export function mdCell(text: string | number | null | undefined): string {
  if (text === null || text === undefined || text === '') return '–'
  return String(text).replace(/<(?=[A-Za-z/!?])/g, '&lt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

function table(headers: string[], rows: (string | number | null | undefined)[][]): string[] {
  return [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map((c) => mdCell(c)).join(' | ')} |`)]
}

export const STATUS_TEXT: Record<KpiStatus, string> = {met: '✅ met', missed: '❌ missed', unknown: '❔ unknown'}
const OVERALL_TEXT: Record<KpiStatus, string> = {met: 'every KPI met its target', missed: 'at least one KPI missed its target', unknown: 'not every KPI could be measured yet'}

/** "Failed requests seen by clients: 20 of 1,500 (rehearsal traffic generator): HTTP 502 ×12, connection ×8". */
export function clientSummary(c: ClientTraffic): string {
  const kinds = Object.entries(c.errors)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, n]) => `${k} ×${n}`)
  const unfinished = c.sent - clientFinished(c)
  return `Failed requests seen by clients: ${fmtNumber(c.failed)} of ${fmtNumber(clientFinished(c))} (${c.source})${kinds.length > 0 ? `: ${kinds.join(', ')}` : ''}${unfinished > 0 ? `; ${fmtNumber(unfinished)} more sent but not finished (in flight or stopped), not counted` : ''}`
}

/** The KPI's note, and every figure it was judged on when there are several (the worse one marked). */
export function kpiNote(k: KpiResult): string {
  const figures = k.figures?.map((f) => `${f.source}: ${f.display}${f.failed === undefined ? '' : ` (${fmtNumber(f.failed)} of ${fmtNumber(f.samples)} failed)`}${f.judged ? ' ← judged' : ''}`)
  return [k.note ?? '', figures ? `worse of: ${figures.join('; ')}` : ''].filter(Boolean).join(' · ')
}

export function reviewPeriodText(s: ReviewSection): string {
  if (!s.periodStart) return 'no evidence recorded yet'
  const days = s.week * 7
  return s.complete
    ? `${fmtTime(s.periodStart)} – ${fmtTime(s.periodEnd)} (complete)`
    : `from ${fmtTime(s.periodStart)}; in progress: ${fmtSpan(s.observedMs)} of ${days} days observed`
}

function breakdown(title: string, rows: BreakdownRow[]): string[] {
  if (rows.length === 0) return []
  return [
    `**${title}**`,
    '',
    ...table(
      ['Name', 'Requests', 'Failed', 'Cost', 'Input tokens', 'Output tokens'],
      rows.map((r) => [r.name, fmtNumber(r.requests), fmtNumber(r.failedRequests), fmtUsd(r.costUsd), fmtNumber(r.inputTokens), fmtNumber(r.outputTokens)]),
    ),
    '',
  ]
}

export function renderMarkdown(r: ReportData): string {
  const out: string[] = []
  out.push(`# ${mdCell(r.title)}`, '')
  out.push(`**Verdict:** ${mdCell(r.verdict)}`, '')
  out.push(
    `Generated ${fmtTime(r.generatedAt)} from playbook \`${mdCell(r.playbook.name)}\` ${mdCell(r.playbook.version)}. ` +
      `Current phase: ${r.phase ? `${mdCell(r.phase.title)} (since ${fmtTime(r.phase.since)})` : 'not recorded'}. ` +
      `Evidence from ${r.span.start ? fmtTime(r.span.start) : 'n/a'} to ${fmtTime(r.span.end)}.`,
    '',
  )
  out.push(`**Overall: ${OVERALL_TEXT[r.overall]}.** ${mdCell(r.live.note.replace(/\.$/, ''))}.`, '')
  if (r.clientTraffic) out.push(`**${mdCell(clientSummary(r.clientTraffic))}**`, '')

  out.push('## Key performance indicators', '')
  out.push(...table(['KPI', 'Target', 'Measured', 'Status', 'Source', 'Note'], r.kpis.map((k) => [k.title, k.target?.text ?? 'no target', k.display, STATUS_TEXT[k.status], k.source, kpiNote(k)])), '')

  out.push('## Post-migration review', '')
  for (const s of r.review) {
    out.push(`### ${mdCell(s.title)}`, '', `Period: ${reviewPeriodText(s)}.`, '')
    out.push(...table(['Metric', 'Value', 'Note'], s.items.map((i) => [i.metric, i.display, i.note ?? ''])), '')
  }

  out.push('## Traffic and cost', '')
  if (r.totals) {
    const t = r.totals
    out.push(
      ...table(
        ['Requests', 'Failed', 'Total cost', 'Input tokens', 'Output tokens', 'Cache write', 'Cache read', 'Audit records', 'Since'],
        [[fmtNumber(t.requests), fmtNumber(t.failedRequests), fmtUsd(t.costUsd), fmtNumber(t.tokens.input), fmtNumber(t.tokens.output), fmtNumber(t.tokens.cacheWrite), fmtNumber(t.tokens.cacheRead), fmtNumber(t.auditRecords), t.since ? fmtTime(t.since) : '']],
      ),
      '',
    )
    out.push(...breakdown('By model', t.byModel), ...breakdown('By provider', t.byProvider), ...breakdown('By agent', t.byAgent))
  } else out.push('Live gateway metrics were unavailable: no totals.', '')
  if (r.series.costPerDay.length > 0) {
    out.push('**Cost per day**', '', ...table(['Day (UTC)', 'Requests', 'Cost'], r.series.costPerDay.map((p) => [p.label, fmtNumber(p.requests), fmtUsd(p.costUsd)])), '')
  }

  out.push('## Streaming usage', '')
  const s = r.streaming
  out.push(
    ...table(
      ['Streamed requests', 'Share of requests', 'Streaming failures', 'Streaming failure rate', 'Streaming probes (ok / failed)', 'Source'],
      [[fmtNumber(s.streamed), fmtPct(s.sharePct), fmtNumber(s.failures), fmtPct(s.failureRatePct), `${s.probes.ok} / ${s.probes.failed}`, s.source]],
    ),
    '',
  )

  out.push('## Phase timeline', '')
  if (r.phases.length === 0) out.push('No phase recorded yet.', '')
  else out.push(...table(['Phase', 'Started', 'Ended', 'Duration', 'By', 'Reason'], r.phases.map((p) => [p.title, fmtTime(p.start), p.end ? fmtTime(p.end) : 'current', fmtSpan(p.durationMs), p.actor, p.reason ?? ''])), '')

  out.push('## Gate evaluations', '')
  if (r.gates.length === 0) out.push('No gate evaluated yet (cutover gonogo).', '')
  for (const g of r.gates) {
    out.push(`### ${mdCell(g.gateTitle)}: ${mdCell(g.verdict)} (${fmtTime(g.ts)})`, '')
    out.push(
      `Evaluated by ${mdCell(g.actor)}; ${g.passed} passed, ${g.failed} failed, ${g.other} inconclusive or error. Evidence hash \`${g.evidenceHash.slice(0, 16)}\`.` +
        (g.approval?.required ? ` Approval: ${mdCell(g.approval.status)}${g.approval.by ? ` by ${mdCell(g.approval.by)}` : ''}.` : ''),
      '',
    )
    if (g.criteria.length > 0) {
      out.push(
        ...table(
          ['Criterion', 'Key', 'Outcome', 'Value', 'Threshold', 'Samples', 'Reason'],
          g.criteria.map((c) => [c.title, c.key ? 'yes' : 'no', c.outcome, c.value === null ? 'n/a' : fmtWithUnit(c.value, c.unit ?? ''), c.threshold === null ? '' : `${c.operator ?? ''} ${fmtWithUnit(c.threshold, c.unit ?? '')}`, c.samples, c.reason]),
        ),
        '',
      )
    }
  }

  out.push('## Approvals', '')
  if (r.approvals.length === 0) out.push('No approvals recorded.', '')
  else out.push(...table(['When', 'Phase', 'By', 'Reason', 'Evaluation'], r.approvals.map((a) => [fmtTime(a.ts), a.phase, a.by, a.reason ?? '', a.evaluationId ? `${a.evaluationId.slice(0, 8)} (${a.evaluationVerdict ?? 'gone'})` : ''])), '')

  out.push('## Incidents', '')
  if (r.incidents.items.length === 0) out.push('No incidents recorded.', '')
  else {
    out.push(`${r.incidents.open} open (${r.incidents.openCritical} critical) of ${r.incidents.items.length}.`, '')
    out.push(
      ...table(
        ['#', 'Opened', 'Severity', 'Title', 'State', 'Resolved', 'Time to resolve'],
        r.incidents.items.map((i) => [i.id, fmtTime(i.ts), i.severity, i.title, i.state, i.resolvedAt ? `${fmtTime(i.resolvedAt)} by ${i.resolvedBy ?? '?'}${i.resolution ? `: ${i.resolution}` : ''}` : '', i.timeToResolveMs === null ? '' : fmtSpan(i.timeToResolveMs)]),
      ),
      '',
    )
  }

  out.push('## Maintenance windows', '')
  if (r.maintenance.items.length === 0) out.push('No maintenance window recorded.', '')
  else {
    out.push(`${r.maintenance.items.filter((w) => w.planned).length} planned window(s), ${fmtSpan(r.maintenance.plannedDowntimeMs)} in all; ${r.maintenance.excludedSamples} health sample(s) in them are left out of availability. Unplanned windows are shown, their downtime counts.`, '')
    out.push(
      ...table(
        ['#', 'Start', 'Duration', 'Kind', 'Planned', 'Reason', 'Actor'],
        r.maintenance.items.map((w) => [w.id, fmtTime(w.start), `${fmtMs(w.durationMs)}${w.unterminated ? ' (capped: never closed)' : w.open ? ' (in progress)' : ''}`, w.kind, w.planned ? 'yes' : 'no (counted)', w.reason, w.actor]),
      ),
      '',
    )
  }

  out.push('## Rollbacks', '')
  if (r.rollbacks.items.length === 0) out.push('No rollback or rollback rehearsal recorded.', '')
  else {
    out.push(`${r.rollbacks.real} real rollback(s), ${r.rollbacks.rehearsals} rehearsal(s); ${r.rollbacks.withinObjective} within objective.`, '')
    out.push(
      ...table(
        ['#', 'When', 'Kind', 'Outcome', 'Recovery time', 'Objective', 'Within objective', 'Timings'],
        r.rollbacks.items.map((b) => [
          b.id,
          fmtTime(b.ts),
          b.kind,
          b.outcome,
          fmtMs(b.totalMs),
          b.objectiveMs === null ? 'none' : `${fmtMs(b.objectiveMs)}${b.objectiveSource === 'playbook' ? ' (playbook RTO)' : ''}`,
          b.withinObjective ? 'yes' : 'no',
          Object.entries(b.timings)
            .map(([k, v]) => `${k} ${fmtMs(v)}`)
            .join(', '),
        ]),
      ),
      '',
    )
  }

  if (r.notes.length > 0) {
    out.push('## Notes', '', ...r.notes.map((n) => `- ${mdCell(n)}`), '')
  }
  return `${out.join('\n').trimEnd()}\n`
}
