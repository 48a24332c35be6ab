/** Human and CI renderings of a gonogo result. */
import chalk from 'chalk'

import {renderJUnit, type JUnitCase} from '../output/junit.js'
import {colorOutcome, renderTable} from '../output/table.js'
import {describeThreshold, describeValue, type CriterionReport, type GonogoResult} from './gonogo.js'

export function gonogoLines(r: GonogoResult): string[] {
  const lines = [`Gate ${r.gate.from} -> ${r.gate.to}: ${r.gate.title}   (${r.playbook.name}@${r.playbook.version}, target ${r.target.name})`, '']
  lines.push(
    ...renderTable<CriterionReport>(r.criteria, [
      {header: 'CRITERION', get: (c) => `${c.id}${c.key ? '' : ' (advisory)'}`},
      {header: 'OUTCOME', get: (c) => c.outcome, color: (text, c) => colorOutcome(text, c.outcome)},
      {header: 'VALUE', get: (c) => describeValue(c), align: 'right'},
      {header: 'STAT', get: (c) => (c.approval ? '-' : c.statistic)},
      {header: 'WINDOW', get: (c) => (c.approval ? '-' : c.window)},
      {header: 'SAMPLES', get: (c) => (c.approval ? '-' : `${c.samples}/${c.minSamples}`), align: 'right'},
      {header: 'THRESHOLD', get: (c) => describeThreshold(c)},
    ]),
  )
  const notes = r.criteria.filter((c) => c.outcome !== 'pass')
  if (notes.length > 0) {
    lines.push('')
    for (const c of notes) lines.push(`  ${colorOutcome(c.outcome.toUpperCase(), c.outcome)} ${c.reason}`)
  }
  const rules = r.criteria.filter((c) => c.evidenceRule)
  if (rules.length > 0) {
    lines.push('', 'Evidence rules:')
    for (const c of rules) lines.push(`  ${c.id}: ${c.evidenceRule}${c.evidenceWaiver ? ` ${chalk.yellow(`WAIVED: ${c.evidenceWaiver}`)}` : ''}`)
  }
  lines.push('', `${chalk.bold('Verdict:')} ${colorOutcome(r.verdict, r.verdict)} (exit ${r.exitCode})`)
  for (const line of r.summary.split('\n').slice(1)) lines.push(`  ${line}`)
  if (r.reusedEvaluation) lines.push(`  measurements identical to approved evaluation ${r.reusedEvaluation.id} (${r.reusedEvaluation.ts}); its evidence is the basis of this verdict`)
  lines.push(`  evaluation ${r.evaluation.id} recorded; evidence ${r.evidenceHash.slice(0, 16)}`)
  if (r.next.length > 0) {
    lines.push('', 'Next:')
    for (const step of r.next) lines.push(`  ${step}`)
  }
  return lines
}

function caseDetail(c: CriterionReport): string {
  const parts = [
    c.reason,
    `value=${c.value ?? 'null'}${c.unit ? ` ${c.unit}` : ''} statistic=${c.statistic} window=${c.window} (${c.windowStart} .. ${c.windowEnd}) samples=${c.samples} min_samples=${c.minSamples}`,
    `threshold: ${c.operator} ${c.threshold}${c.effectiveThreshold !== null && c.effectiveThreshold !== c.threshold ? ` (effective ${c.effectiveThreshold})` : ''}`,
  ]
  if (c.failingHosts && c.failingHosts.length > 0) parts.push(`failing hosts: ${c.failingHosts.join(', ')}`)
  return parts.join('\n')
}

/** JUnit XML: one testcase per criterion (the approval included); fail/error/inconclusive kept apart. */
export function gonogoJUnit(r: GonogoResult): string {
  const cases: JUnitCase[] = r.criteria.map((c) => ({
    name: c.id,
    classname: `gate ${r.gate.from}->${r.gate.to}`,
    outcome: c.outcome,
    message: c.reason,
    detail: caseDetail(c),
  }))
  return renderJUnit([
    {
      name: `gonogo ${r.gate.id}`,
      timestamp: r.evaluatedAt,
      cases,
      properties: {verdict: r.verdict, exit_code: String(r.exitCode), evidence_hash: r.evidenceHash, evaluation_id: r.evaluation.id, playbook: `${r.playbook.name}@${r.playbook.version}`},
    },
  ])
}
