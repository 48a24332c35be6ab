/** Render a playbook as the operators' runbook, so the document is generated from the executable one. */
import {humanDuration} from '../util/duration.js'
import type {
  ApplyStep,
  CheckRef,
  Criterion,
  Measurement,
  Operator,
  Phase,
  Playbook,
  RollbackProcedure,
  RollbackTrigger,
  Unit,
} from './types.js'

export type RunbookFormat = 'md'
export const RUNBOOK_FORMATS: readonly RunbookFormat[] = ['md']

export function renderRunbook(playbook: Playbook, format: RunbookFormat = 'md'): string {
  if (format !== 'md') throw new Error(`unsupported runbook format "${String(format)}"`)
  return renderMarkdown(playbook)
}

/** A threshold as people read it: ratio 0.999 -> "99.9%", ms 500 -> "500 ms". */
export function formatValue(value: number, unit: Unit): string {
  switch (unit) {
    case 'ratio':
      return `${trimNumber(value * 100)}%`
    case 'percent':
      return `${trimNumber(value)}%`
    case 'ms':
      return `${trimNumber(value)} ms`
    case 's':
      return `${trimNumber(value)} s`
    case 'usd':
      return `$${trimNumber(value)}`
    case 'rps':
      return `${trimNumber(value)} req/s`
    case 'count':
      return trimNumber(value)
  }
}

function trimNumber(n: number): string {
  return String(Number(n.toPrecision(10)))
}

const OP_TEXT: Record<Operator, string> = {'>': '>', '>=': '≥', '<': '<', '<=': '≤', '==': '='}

function cell(text: string | number | undefined): string {
  return String(text ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

function table(headers: string[], rows: Array<Array<string | number | undefined>>): string[] {
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)]
}

function windowText(m: Measurement): string {
  return m.window === 'phase' ? 'since the phase began' : humanDuration(m.window)
}

function condition(m: Measurement & {relative_to_baseline?: unknown}): string {
  return `${m.statistic}(${m.metric}) ${OP_TEXT[m.operator]} ${formatValue(m.threshold, m.unit)}`
}

function stepLine(step: ApplyStep): string {
  const detail = ((): string => {
    switch (step.type) {
      case 'set_flags':
        return `write flags ${Object.entries(step.flags).map(([k, v]) => `\`${k}: ${v}\``).join(', ')}`
      case 'daemon':
        return `\`cco daemon ${step.action}\``
      case 'run':
        return `run the target's ${step.command} command`
      case 'script':
        return `run \`${[step.path, ...(step.args ?? [])].join(' ')}\``
      case 'validate':
        return `validate ${step.phase ? `phase ${step.phase} ` : ''}${step.checks ? `checks ${step.checks.map((c) => `\`${c}\``).join(', ')}` : 'all checks'}`
      case 'manual':
        return `by hand: ${step.instructions}`
      case 'git':
        switch (step.action) {
          case 'branch':
            return `git: new branch \`${step.name}\`${step.from ? ` from \`${step.from}\`` : ''}`
          case 'remove_paths':
            return `git: remove ${step.paths.map((p) => `\`${p}\``).join(', ')}`
          case 'delete_lines':
            return `git: delete lines matching \`${step.pattern}\` in ${step.files.map((f) => `\`${f}\``).join(', ')} (expect ${step.expect.replace(/_/g, ' ')})`
          case 'apply_patch':
            return `git: apply patch \`${step.patch}\``
          case 'commit':
            return `git: commit "${step.message}"`
          case 'revert':
            return `git: revert \`${step.ref}\``
          case 'checkout':
            return `git: check out \`${step.ref}\``
        }
    }
  })()
  return `${step.title} — ${detail}${step.timeout ? ` (timeout ${humanDuration(step.timeout)})` : ''}`
}

function steps(list: ApplyStep[]): string[] {
  return list.map((s, i) => `${i + 1}. ${stepLine(s)}`)
}

function checkLine(c: CheckRef): string {
  const name = c.name && c.name !== c.id ? `${c.name}: ` : ''
  const optional = c.required === false ? ' _(advisory: does not decide the verdict)_' : ''
  return `- [ ] ${c.title ?? c.id} — \`${name}${c.id}\`${optional}  \n  _Plan: ${c.plan_ref}_`
}

function rollbackSection(proc: RollbackProcedure, level: string): string[] {
  const out = [`${level} ${proc.title}`, '']
  const facts = [`Kind: **${proc.kind}**`]
  if (proc.rto) facts.push(`Recovery-time objective: **${humanDuration(proc.rto)}** (\`${proc.rto}\`)`)
  if (proc.rpo) facts.push(`Recovery-point objective: ${proc.rpo}`)
  out.push(facts.join(' · '), '')
  for (const w of proc.warnings ?? []) out.push(`> ⚠️ ${w}`, '')
  out.push(...steps(proc.steps), '', `_Plan: ${proc.plan_ref}_`, '')
  return out
}

function phaseSection(p: Phase): string[] {
  const out = [`## Phase ${p.number}: ${p.title}`, '', `**Goal:** ${p.goal}`, '']
  const timing: string[] = []
  if (p.min_duration) timing.push(`Minimum duration: ${humanDuration(p.min_duration)}`)
  if (p.baseline_window) timing.push(`Baseline window: ${humanDuration(p.baseline_window.min)} to ${humanDuration(p.baseline_window.max)}`)
  if (timing.length > 0) out.push(timing.join(' · '), '')

  if (p.changes?.length) {
    out.push(`### Changes`, '', ...table(['Change', 'Files', 'How this playbook does it'], p.changes.map((c) => [c.title, (c.files ?? []).join(', '), c.realised_by])), '')
  }
  if (p.monitoring?.length) {
    out.push(`### Monitoring`, '', ...table(['Metric', 'Source', 'Where'], p.monitoring.map((m) => [m.title, m.source, [m.endpoint, m.field].filter(Boolean).join(' → ')])), '')
  }
  out.push(`### Checklist`, '', `Run: \`cutover phase validate --phase ${p.number}\``, '', ...p.checks.map(checkLine), '')
  if (p.apply.length > 0) {
    out.push(`### Steps to enter Phase ${p.number}`, '', `Run: \`cutover phase advance --to ${p.number}\` (each step is journaled; \`--dry-run\` shows them)`, '', ...steps(p.apply), '')
  }
  if (p.rollback.length > 0) {
    out.push(`### Rollback from Phase ${p.number}`, '')
    for (const proc of p.rollback) out.push(...rollbackSection(proc, '####'))
  }
  return out
}

function criteriaTable(criteria: Criterion[]): string[] {
  return table(
    ['Criterion', 'Source', 'Condition', 'Window', 'Min samples', 'Key', 'Baseline'],
    criteria.map((c) => [
      `${c.title}${c.requires_approval ? ' (approval)' : ''}`,
      c.source + (c.check ? ` (${c.check})` : ''),
      condition(c),
      windowText(c),
      c.min_samples,
      c.key ? 'yes' : 'no',
      c.relative_to_baseline?.max_increase_pct !== undefined
        ? `≤ +${c.relative_to_baseline.max_increase_pct}%`
        : c.relative_to_baseline?.max_decrease_pct !== undefined
          ? `≥ −${c.relative_to_baseline.max_decrease_pct}%`
          : '',
    ]),
  )
}

function triggerCondition(t: RollbackTrigger): string {
  if (t.bands) {
    const dir = (t.worse_when ?? 'higher') === 'higher' ? 'worse (higher)' : 'worse (lower)'
    return `${t.metric} ${dir} than baseline: < ${t.bands.no_action_below}% none · ${t.bands.alert_between[0]}–${t.bands.alert_between[1]}% alert · > ${t.bands.rollback_above}% ${t.action}`
  }
  if (t.min_hosts !== undefined) {
    return `share of hosts failing \`${t.metric}\` ${OP_TEXT[t.operator]} ${formatValue(t.threshold, t.unit)} (fleet, at least ${t.min_hosts} hosts)`
  }
  return condition(t)
}

function renderMarkdown(pb: Playbook): string {
  const out: string[] = [`# Runbook: ${pb.name} (v${pb.version})`, '']
  out.push('_Generated from the playbook by `cutover playbook render`; edit the playbook, not this file._', '')
  if (pb.source) {
    out.push(`Source: ${pb.source.title}${pb.source.version ? ` v${pb.source.version}` : ''}${pb.source.date ? ` (${pb.source.date})` : ''}${pb.source.status ? `, ${pb.source.status}` : ''}`, '')
  }
  if (pb.description) out.push(pb.description, '')

  out.push('## Contents', '')
  for (const p of pb.phases) out.push(`- Phase ${p.number}: ${p.title}`)
  out.push('- Go/No-Go gates', '- Rollback decision criteria', '- Emergency rollback', '- Key performance indicators')
  if (pb.timeline) out.push('- Timeline')
  if (pb.communications) out.push('- Communications')
  out.push('- Risks', '')

  if (pb.key_differences?.length) {
    out.push('## Key differences', '', ...table(['Feature', 'Old', 'New'], pb.key_differences.map((k) => [k.feature, k.old, k.new])), '')
  }

  const t = pb.target
  const cco = t.cco ?? []
  const argvText = (argv: string[] | undefined, fallback: string[]): string => (argv ?? fallback).join(' ')
  const daemonText = (['start', 'stop', 'restart', 'status'] as const)
    .map((a) => `${a}: ${argvText(t.daemon?.[a], [...cco, 'daemon', a, ...(a === 'status' ? ['--json'] : [])])}`)
    .join(' · ')
  out.push(`## Target: ${t.name}`, '', 'Defaults; `--target FILE` points the playbook at another installation.', '')
  out.push(
    ...table(
      ['Setting', 'Default'],
      [
        ['Home', `${t.home ?? '$CCO_HOME, else ~/.cco'} (override with --home or CCO_HOME)`],
        ['Executable', cco.join(' ')],
        ['Daemon', daemonText],
        ['Launcher', argvText(t.launcher, [...cco, 'launch'])],
        ['Source repo', t.repo ?? ''],
        ['Build / test', `${(t.build ?? []).join(' ')} / ${(t.test ?? []).join(' ')}`],
        ['Last stable commit marker', t.stable_commit_marker ? `"${t.stable_commit_marker}"` : ''],
      ],
    ),
    '',
  )

  for (const p of pb.phases) out.push(...phaseSection(p))

  out.push('## Go/No-Go gates', '')
  for (const g of pb.gates) {
    out.push(`### ${g.title}`, '', `Run: \`cutover gonogo --from ${g.from} --to ${g.to}\`. GO only if every key criterion passes; too few samples is inconclusive, never GO.`, '')
    out.push(...criteriaTable(g.criteria), '')
  }

  out.push('## Rollback decision criteria', '', '### Rollback if', '')
  out.push(
    ...table(
      ['Trigger', 'Source', 'Condition', 'Window', 'Min samples', 'Action'],
      pb.rollback_triggers.map((tr) => [tr.title, tr.source + (tr.check ? ` (${tr.check})` : ''), triggerCondition(tr), windowText(tr), tr.min_samples, tr.rollback_kind ? `${tr.action} (${tr.rollback_kind})` : tr.action]),
    ),
    '',
  )
  out.push('### Do NOT roll back for', '')
  for (const d of pb.do_not_rollback_for) out.push(`- **${d.title}** — ${d.instead}`)
  out.push('')

  out.push('## Emergency rollback (all phases)', '')
  for (const proc of pb.emergency_rollback) out.push(...rollbackSection(proc, '###'))

  out.push('## Key performance indicators', '')
  out.push(...table(['KPI', 'Target', 'Measurement', 'Metric'], pb.kpis.map((k) => [k.title, `${OP_TEXT[k.target.operator]} ${formatValue(k.target.threshold, k.target.unit)}`, k.measurement, `${k.statistic}(${k.metric})`])), '')

  if (pb.timeline) {
    out.push('## Timeline', '', `Total duration: ${humanDuration(pb.timeline.total_duration)}`, '')
    for (const w of pb.timeline.weeks) {
      out.push(`### ${w.title}`, '')
      for (const item of w.items) out.push(`- Day ${item.days}: ${item.title}${item.duration ? ` (${humanDuration(item.duration)})` : ''}`)
      out.push('')
    }
  }

  if (pb.communications) {
    out.push('## Communications', '', '### Stakeholders', '')
    out.push(...table(['Audience', 'Group', 'What'], pb.communications.stakeholders.map((s) => [s.audience, s.group, s.what])), '')
  }
  for (const tpl of pb.communications?.templates ?? []) {
    out.push(`### ${tpl.title}`, '', `Send at: ${tpl.send_at} relative to the deployment.`, '', '```', `Subject: ${tpl.subject}`, '', tpl.body.replace(/\n+$/, ''), '```', '')
    out.push(...table(['Placeholder', 'Meaning', 'Default'], Object.entries(tpl.placeholders).map(([name, p]) => [`{{${name}}}`, p.description, p.default ?? ''])), '')
  }

  out.push('## Risks', '')
  out.push(...table(['Risk', 'Impact', 'Mitigation', 'Covered by'], pb.risks.map((r) => [r.risk, r.impact, r.mitigation, (r.covered_by ?? []).join(', ')])), '')

  if (pb.post_migration_review?.length) {
    out.push('## Post-migration review', '')
    for (const r of pb.post_migration_review) out.push(`### Week ${r.week}`, '', ...r.metrics.map((m) => `- ${m}`), '')
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`
}

/** A short overview for `cutover playbook show` (the full document is `playbook render`). */
export function renderSummary(pb: Playbook, file: string): string {
  const out = [`${pb.name} v${pb.version}  (${file})`]
  if (pb.source) out.push(`from: ${pb.source.title}${pb.source.version ? ` v${pb.source.version}` : ''}`)
  out.push('')
  for (const p of pb.phases) {
    const timing = p.min_duration ? `, at least ${humanDuration(p.min_duration)}` : ''
    out.push(`Phase ${p.number}: ${p.title}${timing}`)
    out.push(`  goal: ${p.goal}`)
    out.push(`  checks (${p.checks.length}): ${p.checks.map((c) => (c.required === false ? `(${c.name ?? c.id})` : (c.name ?? c.id))).join(', ')}`)
    if (p.apply.length > 0) out.push(`  apply (${p.apply.length}): ${p.apply.map((s) => s.id).join(' -> ')}`)
    for (const r of p.rollback) out.push(`  rollback ${r.id} [${r.kind}]${r.rto ? ` RTO ${r.rto}` : ''}: ${r.title}`)
  }
  out.push('')
  for (const g of pb.gates) {
    out.push(`Gate ${g.from} -> ${g.to}: ${g.criteria.length} criteria (${g.criteria.filter((c) => c.key).length} key)`)
    for (const c of g.criteria) out.push(`  ${c.key ? '*' : ' '} ${c.id}: ${condition(c)} ${c.window === 'phase' ? 'since the phase began' : `over ${windowText(c)}`}`)
  }
  out.push('', `Rollback triggers (${pb.rollback_triggers.length}):`)
  for (const t of pb.rollback_triggers) out.push(`  ${t.id}: ${triggerCondition(t)} -> ${t.action}`)
  out.push(`Do not roll back for: ${pb.do_not_rollback_for.map((d) => d.title).join('; ')}`)
  out.push(`Emergency rollback: ${pb.emergency_rollback.map((r) => `${r.id} [${r.kind}]${r.rto ? ` RTO ${r.rto}` : ''}`).join(', ')}`)
  out.push(`KPIs: ${pb.kpis.map((k) => `${k.title} ${OP_TEXT[k.target.operator]} ${formatValue(k.target.threshold, k.target.unit)}`).join('; ')}`)
  if (pb.timeline) out.push(`Timeline: ${humanDuration(pb.timeline.total_duration)} over ${pb.timeline.weeks.length} weeks`)
  out.push(`Communications: ${(pb.communications?.templates ?? []).map((t) => t.id).join(', ') || 'none'}; risks: ${pb.risks.length}`)
  return out.join('\n')
}
