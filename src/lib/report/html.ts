/**
 * The report as one self-contained HTML file: inline CSS, inline SVG charts, no script, no fonts,
 * images or links to fetch. All text from the store or the gateway goes through esc().
 */
import {COLORS, costChart, esc, formatters, healthStrip, type LineSeries, rollbackChart, timeChart} from './charts.js'
import {fmtMs, fmtNumber, fmtPct, fmtSpan, fmtTime, fmtUsd, fmtWithUnit} from './format.js'
import {clientSummary, kpiNote, reviewPeriodText} from './markdown.js'
import type {BreakdownRow, KpiResult, KpiStatus, ReportData} from './types.js'

const CSS = `
:root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;--green:#15803d;--green-bg:#dcfce7;--red:#b91c1c;--red-bg:#fee2e2;--gray-bg:#f3f4f6;--amber:#b45309;--amber-bg:#fef3c7;--blue:#1d4ed8}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
main{max-width:1040px;margin:0 auto;padding:32px 28px 56px}
header.top{border-bottom:1px solid var(--line);padding-bottom:20px;margin-bottom:24px}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:11px;color:var(--muted);font-weight:600}
h1{font-size:26px;line-height:1.25;margin:6px 0 10px;font-weight:700}
h2{font-size:18px;margin:36px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:20px 0 8px}
.meta{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:8px 24px;margin-top:12px}
.meta div{font-size:13px}.meta b{display:block;font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;font-weight:600}
.pill{display:inline-block;padding:2px 10px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.met,.GO,.pass,.ok{background:var(--green-bg);color:var(--green)}
.missed,.NO-GO,.fail,.open-critical{background:var(--red-bg);color:var(--red)}
.unknown,.INCONCLUSIVE,.inconclusive,.error,.ERROR,.not_enough_data,.resolved{background:var(--gray-bg);color:var(--muted)}
.AWAITING_APPROVAL,.open{background:var(--amber-bg);color:var(--amber)}
.overall{margin-top:14px;font-size:15px}
.verdict{margin:8px 0 0;padding:10px 14px;border-left:4px solid var(--blue);background:var(--card);font-size:14px}
.clients{margin-top:6px;font-weight:600}.clients.bad{color:var(--red)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;position:relative}
.card.met{border-top:4px solid var(--green)}.card.missed{border-top:4px solid var(--red)}.card.unknown{border-top:4px solid #9ca3af}
.card .label{font-size:12px;color:var(--muted);font-weight:600}
.card .value{font-size:26px;font-weight:700;margin:4px 0 2px;font-variant-numeric:tabular-nums;color:var(--ink)}
.card .target{font-size:12px;color:var(--muted)}
.card .head{display:flex;justify-content:space-between;align-items:flex-start;gap:8px}
.card.met .value,.card.missed .value{background:none}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:12px 0}
.panel h3{margin-top:0}
.chart{display:block;max-width:100%;height:auto}
.caption{font-size:12px;color:var(--muted);margin:6px 0 0}
table{width:100%;border-collapse:collapse;font-size:13px;background:var(--card)}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600;background:#fafafa}
td.t{white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.tablewrap{border:1px solid var(--line);border-radius:10px;overflow:hidden;margin:10px 0}
.tablewrap table td:first-child,.tablewrap table th:first-child{padding-left:14px}
.review{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:14px}
.review ul{list-style:none;margin:0;padding:0}
.review li{display:flex;justify-content:space-between;gap:12px;padding:8px 0;border-bottom:1px solid var(--line)}
.review li:last-child{border-bottom:0}
.review .m{font-weight:600}.review .n{font-size:12px;color:var(--muted)}
.review .v{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.review .nodata{color:var(--muted);font-style:italic}
.period{font-size:12px;color:var(--muted);margin:-4px 0 8px}
details.gate{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:10px 0;padding:0 16px}
details.gate summary{cursor:pointer;padding:12px 0;font-weight:600;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
details.gate summary .when{font-weight:400;color:var(--muted);font-size:12px}
details.gate .body{padding-bottom:14px}
.hash{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;color:var(--muted)}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:8px 0}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px}
.stat b{display:block;font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.stat span{font-size:18px;font-weight:700;font-variant-numeric:tabular-nums}
.notes li{margin:4px 0;color:#374151}
.empty{color:var(--muted);font-style:italic}
footer{margin-top:40px;font-size:12px;color:var(--muted);border-top:1px solid var(--line);padding-top:12px}
@media print{body{background:#fff}main{padding:0}.panel,.card,details.gate,.tablewrap{break-inside:avoid}details.gate{display:block}}
`

const OVERALL: Record<KpiStatus, string> = {met: 'All KPIs met', missed: 'KPI target missed', unknown: 'KPIs not fully measured'}
const STATUS: Record<KpiStatus, string> = {met: 'met', missed: 'missed', unknown: 'unknown'}

/** A CSS class from a status word (only known words become classes). */
function cls(status: string): string {
  return /^[A-Za-z_-]+$/.test(status) ? status : 'unknown'
}

function pill(text: string, status: string): string {
  return `<span class="pill ${cls(status)}">${esc(text)}</span>`
}

interface Col<T> {
  header: string
  get: (row: T) => string
  num?: boolean
  /** A timestamp: kept on one line. */
  time?: boolean
  /** get() already returns HTML (escaped by the caller). */
  html?: boolean
}

function htmlTable<T>(rows: T[], cols: Col<T>[]): string {
  const head = cols.map((c) => `<th${c.num ? ' class="num"' : ''}>${esc(c.header)}</th>`).join('')
  const body = rows.map((r) => `<tr>${cols.map((c) => `<td${c.num ? ' class="num"' : c.time ? ' class="t"' : ''}>${c.html ? c.get(r) : esc(c.get(r))}</td>`).join('')}</tr>`).join('')
  return `<div class="tablewrap"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`
}

function kpiCard(k: KpiResult): string {
  return `<div class="card ${cls(k.status)}" data-kpi="${esc(k.id)}"><div class="head"><div class="label">${esc(k.title)}</div>${pill(STATUS[k.status], k.status)}</div><div class="value">${esc(k.display)}</div><div class="target">${esc(k.target ? `target ${k.target.text}` : 'no target in the plan')}</div></div>`
}

function breakdownTable(title: string, rows: BreakdownRow[]): string {
  if (rows.length === 0) return ''
  return `<h3>${esc(title)}</h3>${htmlTable(rows, [
    {header: 'Name', get: (r) => r.name},
    {header: 'Requests', get: (r) => fmtNumber(r.requests), num: true},
    {header: 'Failed', get: (r) => fmtNumber(r.failedRequests), num: true},
    {header: 'Cost', get: (r) => fmtUsd(r.costUsd), num: true},
    {header: 'Input tokens', get: (r) => fmtNumber(r.inputTokens), num: true},
    {header: 'Output tokens', get: (r) => fmtNumber(r.outputTokens), num: true},
  ])}`
}

function kpiTarget(r: ReportData, id: string): {value: number; label: string} | undefined {
  const k = r.kpis.find((x) => x.id === id)
  return k?.target ? {value: k.target.threshold, label: `target ${k.target.text}`} : undefined
}

export function renderHtml(r: ReportData): string {
  const parts: string[] = []
  const markers = r.series.phaseMarkers.map((m) => ({t: m.t, label: m.label}))
  const perfKpi = r.kpis.find((k) => k.unit === 'ms' && k.target)
  const errKpi = r.kpis.find((k) => /error/i.test(k.title) && k.target)

  // ------------------------------------------------------------ header
  parts.push(`<header class="top"><div class="eyebrow">Post-migration review · ${esc(r.playbook.name)} ${esc(r.playbook.version)}</div>`)
  parts.push(`<h1>${esc(r.title)}</h1>`)
  parts.push(`<p class="verdict" id="verdict"><b>Verdict:</b> ${esc(r.verdict)}</p>`)
  parts.push(
    `<div class="meta"><div><b>Generated</b>${esc(fmtTime(r.generatedAt))}</div><div><b>Current phase</b>${esc(r.phase ? `${r.phase.title}` : 'not recorded')}${r.phase ? `<br><span class="n">since ${esc(fmtTime(r.phase.since))}</span>` : ''}</div><div><b>Evidence</b>${esc(r.span.start ? `${fmtTime(r.span.start)} → ${fmtTime(r.span.end)}` : 'none recorded yet')}</div><div><b>Plan</b>${esc(r.playbook.source ? `${r.playbook.source.title}${r.playbook.source.version ? ` v${r.playbook.source.version}` : ''}${r.playbook.source.date ? ` (${r.playbook.source.date})` : ''}` : r.playbook.name)}</div></div>`,
  )
  parts.push(`<div class="overall">${pill(OVERALL[r.overall], r.overall)} <span class="n">${esc(r.live.available ? 'Live gateway metrics included.' : 'Live gateway metrics were unavailable: built from the state store only.')}</span>${r.clientTraffic ? `<div class="clients${r.clientTraffic.failed > 0 ? ' bad' : ''}">${esc(clientSummary(r.clientTraffic))}</div>` : ''}</div></header>`)

  // ------------------------------------------------------------ KPIs
  parts.push('<section id="kpis"><h2>Key performance indicators</h2>')
  parts.push(`<div class="cards">${r.kpis.map(kpiCard).join('')}</div>`)
  parts.push(
    htmlTable(r.kpis, [
      {header: 'KPI', get: (k) => k.title},
      {header: 'Target', get: (k) => k.target?.text ?? 'none'},
      {header: 'Measured', get: (k) => k.display, num: true},
      {header: 'Status', get: (k) => pill(STATUS[k.status], k.status), html: true},
      {header: 'Based on', get: (k) => `${k.source}${k.samples ? ` · ${fmtNumber(k.samples)} ${/health/.test(k.source) ? 'samples' : 'requests'}` : ''}${kpiNote(k) ? ` · ${kpiNote(k)}` : ''}`},
    ]),
  )
  parts.push('</section>')

  // ------------------------------------------------------------ charts
  const latencySeries: LineSeries[] = [
    {name: 'average latency', color: COLORS.blue, points: r.series.latencyAvg},
    {name: 'p95 latency', color: COLORS.violet, points: r.series.latencyP95, dashed: true},
  ]
  parts.push('<section id="charts"><h2>Over time</h2>')
  parts.push(
    `<div class="panel"><h3>Latency</h3>${timeChart({id: 'chart-latency', title: 'Latency over time', series: latencySeries, markers, format: formatters.ms, shaded: r.series.maintenance ?? [], ...(perfKpi?.target ? {reference: kpiTarget(r, perfKpi.id)!} : {}), emptyMessage: 'No monitor metrics samples yet: run cutover monitor'})}${healthStrip('chart-health', r.series.health, markers, latencySeries)}<p class="caption">From the monitor's metrics samples (each a trailing ${esc('15-minute')} window of /gateway/metrics); times in UTC; dashed vertical lines mark phase changes; the strip below shows each health sample (green up, red down, blank: no monitor running); amber bands are planned maintenance (cutover's own restarts and drills), left out of availability.</p></div>`,
  )
  parts.push(
    `<div class="panel"><h3>Error rate</h3>${timeChart({id: 'chart-errors', title: 'Error rate over time', series: [{name: 'error rate', color: COLORS.red, points: r.series.errorRate}], markers, format: formatters.pct, shaded: r.series.maintenance ?? [], ...(errKpi?.target ? {reference: kpiTarget(r, errKpi.id)!} : {}), emptyMessage: 'No monitor metrics samples yet: run cutover monitor', height: 220})}<p class="caption">Failed requests as a percentage of requests in each sample's window.</p></div>`,
  )
  const bucketTitle = {day: 'Cost per day', hour: 'Cost per hour', minute: 'Cost per minute'}[r.series.cost.bucket]
  parts.push(
    `<div class="panel"><h3>${esc(bucketTitle)}</h3>${costChart('chart-cost', bucketTitle, r.series.cost.points, r.series.cost.note ?? 'No requests recorded by the gateway yet')}<p class="caption">${esc(r.series.cost.bucket === 'day' ? 'Per UTC day, from the gateway audit log (exact per-request cost).' : `The evidence spans less than two ${r.series.cost.bucket === 'hour' ? 'days' : 'hours'}, so cost is shown per ${r.series.cost.bucket} (UTC); per-day totals are in the table below.`)}</p></div>`,
  )
  parts.push(`<div class="panel"><h3>Rollback timings</h3>${rollbackChart('chart-rollbacks', r.rollbacks.items)}</div>`)
  parts.push('</section>')

  // ------------------------------------------------------------ review
  parts.push('<section id="review"><h2>Post-migration review</h2><div class="review">')
  for (const s of r.review) {
    parts.push(`<div class="panel"><h3>${esc(s.title)}</h3><p class="period">${esc(reviewPeriodText(s))}</p><ul>`)
    for (const i of s.items) {
      parts.push(
        `<li><div><div class="m">${esc(i.metric)}</div>${i.note ? `<div class="n">${esc(i.note)}</div>` : ''}</div><div class="v${i.status === 'not_enough_data' ? ' nodata' : ''}">${esc(i.display)}</div></li>`,
      )
    }
    parts.push('</ul></div>')
  }
  parts.push('</div></section>')

  // ------------------------------------------------------------ traffic and cost
  parts.push('<section id="totals"><h2>Traffic and cost</h2>')
  if (r.totals) {
    const t = r.totals
    const stat = (label: string, value: string) => `<div class="stat"><b>${esc(label)}</b><span>${esc(value)}</span></div>`
    parts.push(
      `<div class="stats">${stat('Requests', fmtNumber(t.requests))}${stat('Failed', fmtNumber(t.failedRequests))}${stat('Total cost', fmtUsd(t.costUsd))}${stat('Input tokens', fmtNumber(t.tokens.input))}${stat('Output tokens', fmtNumber(t.tokens.output))}${stat('Cache read tokens', fmtNumber(t.tokens.cacheRead))}${stat('Cache write tokens', fmtNumber(t.tokens.cacheWrite))}${stat('Audit records', fmtNumber(t.auditRecords))}</div>`,
    )
    parts.push(breakdownTable('By model', t.byModel), breakdownTable('By provider', t.byProvider), breakdownTable('By agent', t.byAgent))
  } else parts.push(`<p class="empty">${esc(r.live.note)}</p>`)
  if (r.series.costPerDay.length > 0) {
    parts.push(
      `<h3>Cost per day</h3>${htmlTable(r.series.costPerDay, [
        {header: 'Day (UTC)', get: (p) => p.label},
        {header: 'Requests', get: (p) => fmtNumber(p.requests), num: true},
        {header: 'Cost', get: (p) => fmtUsd(p.costUsd), num: true},
      ])}`,
    )
  }
  parts.push('</section>')

  // ------------------------------------------------------------ streaming
  const s = r.streaming
  parts.push('<section id="streaming"><h2>Streaming usage</h2>')
  parts.push(
    `<div class="stats"><div class="stat"><b>Streamed requests</b><span>${esc(fmtNumber(s.streamed))}</span></div><div class="stat"><b>Share of requests</b><span>${esc(fmtPct(s.sharePct))}</span></div><div class="stat"><b>Streaming failures</b><span>${esc(fmtNumber(s.failures))}</span></div><div class="stat"><b>Streaming failure rate</b><span>${esc(fmtPct(s.failureRatePct))}</span></div><div class="stat"><b>Streaming probes ok / failed</b><span>${esc(`${s.probes.ok} / ${s.probes.failed}`)}</span></div></div><p class="caption">Source: ${esc(s.source)}.${s.probes.lastError ? ` Last probe failure: ${esc(s.probes.lastError)}` : ''}</p>`,
  )
  parts.push('</section>')

  // ------------------------------------------------------------ timeline
  parts.push('<section id="timeline"><h2>Phase timeline</h2>')
  parts.push(
    r.phases.length === 0
      ? '<p class="empty">No phase recorded yet.</p>'
      : htmlTable(r.phases, [
          {header: 'Phase', get: (p) => p.title},
          {header: 'Started', get: (p) => fmtTime(p.start), time: true},
          {header: 'Ended', get: (p) => (p.end ? fmtTime(p.end) : 'current'), time: true},
          {header: 'Duration', get: (p) => fmtSpan(p.durationMs), num: true},
          {header: 'By', get: (p) => p.actor},
          {header: 'Reason', get: (p) => p.reason ?? ''},
        ]),
  )
  parts.push('</section>')

  // ------------------------------------------------------------ gates
  parts.push('<section id="gates"><h2>Gate evaluations</h2>')
  if (r.gates.length === 0) parts.push('<p class="empty">No gate evaluated yet (cutover gonogo).</p>')
  r.gates.forEach((g, i) => {
    const approval = g.approval?.required ? ` · approval ${g.approval.status}${g.approval.by ? ` by ${g.approval.by}` : ''}` : ''
    parts.push(
      `<details class="gate"${i === r.gates.length - 1 ? ' open' : ''}><summary>${pill(g.verdict, g.verdict)} ${esc(g.gateTitle)} <span class="when">${esc(`${fmtTime(g.ts)} · by ${g.actor} · ${g.passed} passed, ${g.failed} failed, ${g.other} other${approval}`)}</span></summary><div class="body">`,
    )
    if (g.criteria.length > 0) {
      parts.push(
        htmlTable(g.criteria, [
          {header: 'Criterion', get: (c) => `${esc(c.title)}${c.key ? '' : ' <span class="n">(advisory)</span>'}`, html: true},
          {header: 'Outcome', get: (c) => pill(c.outcome, c.outcome), html: true},
          {header: 'Value', get: (c) => (c.value === null ? 'n/a' : fmtWithUnit(c.value, c.unit ?? '')), num: true},
          {header: 'Threshold', get: (c) => (c.threshold === null ? '' : `${c.operator ?? ''} ${fmtWithUnit(c.threshold, c.unit ?? '')}`), num: true},
          {header: 'Samples', get: (c) => fmtNumber(c.samples), num: true},
          {header: 'Reason', get: (c) => c.reason},
        ]),
      )
    }
    parts.push(`<p class="hash">evaluation ${esc(g.id)} · evidence ${esc(g.evidenceHash)}</p></div></details>`)
  })
  parts.push('</section>')

  // ------------------------------------------------------------ approvals, incidents, rollbacks
  parts.push('<section id="approvals"><h2>Approvals</h2>')
  parts.push(
    r.approvals.length === 0
      ? '<p class="empty">No approvals recorded.</p>'
      : htmlTable(r.approvals, [
          {header: 'When', get: (a) => fmtTime(a.ts), time: true},
          {header: 'Phase', get: (a) => String(a.phase), num: true},
          {header: 'By', get: (a) => a.by},
          {header: 'Reason', get: (a) => a.reason ?? ''},
          {header: 'Evaluation', get: (a) => (a.evaluationId ? `${a.evaluationId.slice(0, 8)} (${a.evaluationVerdict ?? 'gone'})` : '')},
        ]),
  )
  parts.push('</section><section id="incidents"><h2>Incidents</h2>')
  if (r.incidents.items.length === 0) parts.push('<p class="empty">No incidents recorded.</p>')
  else {
    parts.push(`<p>${esc(`${r.incidents.open} open (${r.incidents.openCritical} critical) of ${r.incidents.items.length}.`)}</p>`)
    parts.push(
      htmlTable(r.incidents.items, [
        {header: '#', get: (i) => String(i.id), num: true},
        {header: 'Opened', get: (i) => fmtTime(i.ts), time: true},
        {header: 'Severity', get: (i) => pill(i.severity, i.severity === 'critical' && i.state === 'open' ? 'open-critical' : i.state), html: true},
        {header: 'Title', get: (i) => `${esc(i.title)}${i.detail ? `<div class="n">${esc(i.detail)}</div>` : ''}`, html: true},
        {header: 'State', get: (i) => pill(i.state, i.state), html: true},
        {header: 'Resolution', get: (i) => (i.resolvedAt ? `${fmtTime(i.resolvedAt)} by ${i.resolvedBy ?? '?'}${i.resolution ? `: ${i.resolution}` : ''}` : '')},
        {header: 'Time to resolve', get: (i) => (i.timeToResolveMs === null ? '' : fmtSpan(i.timeToResolveMs)), num: true},
      ]),
    )
  }
  parts.push('</section><section id="maintenance"><h2>Maintenance windows</h2>')
  if (r.maintenance.items.length === 0) parts.push('<p class="empty">No maintenance window recorded.</p>')
  else {
    const planned = r.maintenance.items.filter((w) => w.planned)
    parts.push(`<p>${esc(`${planned.length} planned window(s), ${fmtSpan(r.maintenance.plannedDowntimeMs)} in all; ${r.maintenance.excludedSamples} health sample(s) in them are left out of availability. Unplanned windows (emergency rollbacks) are shown but their downtime counts.`)}</p>`)
    parts.push(
      htmlTable(r.maintenance.items, [
        {header: '#', get: (w) => String(w.id), num: true},
        {header: 'Start', get: (w) => fmtTime(w.start), time: true},
        {header: 'Duration', get: (w) => `${fmtMs(w.durationMs)}${w.unterminated ? ' (capped: never closed)' : w.open ? ' (in progress)' : ''}`, num: true},
        {header: 'Kind', get: (w) => w.kind},
        {header: 'Planned', get: (w) => pill(w.planned ? 'planned' : 'unplanned', w.planned ? 'ok' : 'fail'), html: true},
        {header: 'Reason', get: (w) => w.reason},
        {header: 'Actor', get: (w) => w.actor},
      ]),
    )
  }
  parts.push('</section><section id="rollbacks"><h2>Rollbacks</h2>')
  if (r.rollbacks.items.length === 0) parts.push('<p class="empty">No rollback or rollback rehearsal recorded.</p>')
  else {
    parts.push(`<p>${esc(`${r.rollbacks.real} real rollback(s), ${r.rollbacks.rehearsals} rehearsal(s); ${r.rollbacks.withinObjective} of ${r.rollbacks.items.length} within objective.`)}</p>`)
    parts.push(
      htmlTable(r.rollbacks.items, [
        {header: '#', get: (b) => String(b.id), num: true},
        {header: 'When', get: (b) => fmtTime(b.ts), time: true},
        {header: 'Kind', get: (b) => b.kind},
        {header: 'Outcome', get: (b) => pill(b.outcome, b.outcome === 'success' ? 'ok' : 'fail'), html: true},
        {header: 'Recovery time', get: (b) => fmtMs(b.totalMs), num: true},
        {header: 'Objective', get: (b) => (b.objectiveMs === null ? 'none' : `${fmtMs(b.objectiveMs)}${b.objectiveSource === 'playbook' ? ' (playbook)' : ''}`), num: true},
        {header: 'Within', get: (b) => pill(b.withinObjective ? 'yes' : 'no', b.withinObjective ? 'ok' : 'fail'), html: true},
        {
          header: 'Timings',
          get: (b) =>
            Object.entries(b.timings)
              .map(([k, v]) => `${k} ${fmtMs(v)}`)
              .join(' · '),
        },
      ]),
    )
  }
  parts.push('</section>')

  if (r.notes.length > 0) parts.push(`<section id="notes"><h2>Notes</h2><ul class="notes">${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></section>`)
  parts.push(`<footer>Generated by cutover from its state store${r.live.available ? ' and the gateway' : ''} at ${esc(fmtTime(r.generatedAt))}. Self-contained: no scripts, no external resources.</footer>`)

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="cutover report">
<title>${esc(r.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${parts.join('\n')}
</main>
</body>
</html>
`
}
