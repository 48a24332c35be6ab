/** Human output of `phase validate`: the summary table, details of what did not pass, dry-run listing, JUnit. */
import chalk from 'chalk'

import {renderJUnit} from '../output/junit.js'
import type {CheckRunResult, DryRunReport, ValidationReport} from './types.js'
import {disturbsTarget} from './select.js'

const OUTCOME_LABEL: Record<CheckRunResult['outcome'], string> = {pass: 'PASS', fail: 'FAIL', inconclusive: 'INCONCLUSIVE', error: 'ERROR'}

function colorOutcome(outcome: CheckRunResult['outcome'], text: string): string {
  return {pass: chalk.green, fail: chalk.red, inconclusive: chalk.yellow, error: chalk.magenta}[outcome](text)
}

function cut(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim()
  const chars = [...one]
  return chars.length <= max ? one : `${chars.slice(0, max - 1).join('')}…`
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length))
}

/** A padded plain-text table; widths adapt to the terminal (COLUMNS), long cells are cut with an ellipsis. */
export function renderTable(results: CheckRunResult[], columns = Number(process.env.COLUMNS) || process.stdout.columns || 160): string[] {
  const headers = ['Check', 'Outcome', 'Measured', 'Expected', 'Remediation']
  const rows = results.map((r) => [r.required ? r.name : `${r.name} (optional)`, OUTCOME_LABEL[r.outcome], r.measured, r.expected, r.remediation ?? ''])
  const fixed = [Math.min(40, Math.max(5, ...rows.map((row) => [...(row[0] as string)].length))), 12]
  const rest = Math.max(60, columns - fixed[0]! - fixed[1]! - 8)
  const limits = [...fixed, Math.floor(rest * 0.28), Math.floor(rest * 0.36), Math.floor(rest * 0.36)]
  const cells = rows.map((row) => row.map((cell, i) => cut(cell, limits[i]!)))
  const widths = headers.map((h, i) => Math.max([...h].length, ...cells.map((row) => [...(row[i] as string)].length)))
  const line = (row: string[], color?: (i: number, text: string) => string) => row.map((cell, i) => (color ? color(i, pad(cell, widths[i]!)) : pad(cell, widths[i]!))).join('  ').trimEnd()
  const out = [chalk.bold(line(headers)), line(widths.map((w) => '─'.repeat(w)))]
  cells.forEach((row, k) => out.push(line(row, (i, text) => (i === 1 ? colorOutcome(results[k]!.outcome, text) : text))))
  return out
}

/** The whole human report: header, table, then every non-pass check in full. */
export function renderReport(report: ValidationReport): string[] {
  const {all, required} = report.counts
  const out = [
    '',
    chalk.bold(`Phase ${report.phase.number} (${report.phase.title}) on ${report.target.name} (home ${report.target.home})`),
    '',
    ...renderTable(report.results),
    '',
  ]
  const notPassed = report.results.filter((r) => r.outcome !== 'pass')
  for (const r of notPassed) {
    out.push(`${colorOutcome(r.outcome, OUTCOME_LABEL[r.outcome])} ${r.name}${r.required ? '' : ' (optional)'}: ${r.detail}`)
    out.push(`  expected:    ${r.expected}`)
    out.push(`  measured:    ${r.measured}`)
    if (r.remediation) out.push(`  remediation: ${r.remediation}`)
  }
  if (notPassed.length > 0) out.push('')
  const verdict = {pass: 'PASS: every required check passed', fail: 'FAIL: a required check failed', inconclusive: 'INCONCLUSIVE: not enough evidence yet for a required check', error: 'ERROR: a required check could not be measured'}[report.outcome]
  const disturbing = report.results.filter((r) => disturbsTarget(r))
  if (disturbing.length > 0) out.push(`${disturbing.map((r) => r.name).join(', ')} disturbed the target (restarts the daemon) and ran last: every other check saw the target as it was found.`)
  if (!report.scope.complete) {
    out.push(chalk.yellow(`PARTIAL RUN: ${report.scope.run_checks} of ${report.scope.phase_checks} checks (left out: ${report.scope.left_out.join(', ')}); recorded, but only a run of the whole checklist counts for the gate ("all success criteria met")`))
  }
  out.push(
    `${colorOutcome(report.outcome, verdict)} (${required.pass}/${required.total} required passed; all checks: ${all.pass} pass, ${all.fail} fail, ${all.inconclusive} inconclusive, ${all.error} error; ${(report.duration_ms / 1000).toFixed(1)} s; run ${report.run_id})`,
  )
  return out
}

export function renderDryRun(report: DryRunReport): string[] {
  const out = [chalk.bold(`Dry run: phase ${report.phase.number} (${report.phase.title}) on ${report.target.name} (home ${report.target.home}); nothing is touched`), '']
  for (const c of report.checks) {
    out.push(`${chalk.bold(c.name)}${c.name === c.id ? '' : ` (${c.id})`}${c.required ? '' : ' (optional)'}: ${c.title}`)
    out.push(`  verifies: ${c.verifies}`)
    out.push(`  runs:     ${c.runs}${c.after.length > 0 ? `, after ${c.after.join(', ')}` : ''}; time limit ${Math.round(c.timeout_ms / 1000)} s`)
    if (Object.keys(c.params).length > 0) out.push(`  params:   ${JSON.stringify(c.params)}`)
    const t = c.touches
    for (const [label, items] of [['urls', t.urls], ['files', t.files], ['commands', t.commands], ['records', t.records], ['effects', t.effects]] as const) {
      for (const item of items ?? []) out.push(`  ${pad(`${label}:`, 9)} ${item}`)
    }
  }
  out.push('', `${report.checks.length} check${report.checks.length === 1 ? '' : 's'} would run.`)
  return out
}

/** JUnit XML: one testcase per check; fail -> <failure>, error -> <error>, inconclusive (and any non-pass of an optional check) -> <skipped>. */
export function validationJUnit(report: ValidationReport): string {
  return renderJUnit([
    {
      name: `cutover phase ${report.phase.number}: ${report.phase.title}`,
      timestamp: report.started_at,
      properties: {playbook: report.playbook.name, target: report.target.name, home: report.target.home, run_id: report.run_id, outcome: report.outcome},
      cases: report.results.map((r) => ({
        name: r.name,
        classname: `phase${report.phase.number}.${r.id}`,
        // An optional check does not decide the verdict, so it must not turn a CI run red: reported as skipped.
        outcome: r.required || r.outcome === 'pass' ? r.outcome : 'inconclusive',
        time: r.duration_ms / 1000,
        message: r.required || r.outcome === 'pass' ? r.detail : `not required, ${r.outcome}: ${r.detail}`,
        detail: [`check: ${r.id} (${r.required ? 'required' : 'optional'})`, `plan: ${r.plan_ref}`, `expected: ${r.expected}`, `measured: ${r.measured}`, `remediation: ${r.remediation ?? '-'}`, `evidence: ${JSON.stringify(r.evidence, null, 2)}`].join('\n'),
      })),
    },
  ])
}
