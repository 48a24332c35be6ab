import {Flags} from '@oclif/core'
import path from 'node:path'

import {BaseCommand} from '../base-command.js'
import {defaultPlaybookPath, loadPlaybook} from '../lib/playbook/index.js'
import {buildReport, gatherGatewayEvidence, renderHtml, renderMarkdown, type ReportData} from '../lib/report/index.js'
import {PUBLIC_OUTPUT, writeFileAtomic} from '../lib/util/atomic-write.js'

export const REPORT_FORMATS = ['md', 'html', 'json'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

export default class Report extends BaseCommand<typeof Report> {
  static override description = `The post-migration review: KPIs against the plan's targets, totals, the phase timeline, every gate evaluation, approvals, incidents, rollbacks with measured recovery times, streaming usage, and the plan's week 1 / week 4 review metrics.
Built from the state store and, when the daemon answers, the gateway's metrics and audit log (when it does not, the report still renders and says so).
md and json print to stdout unless --out is given; html is one self-contained file (inline CSS and SVG charts, nothing fetched when viewed) written to --out or <home>/cutover/report.html.
--json prints the report data (the same as --format json).`

  static override examples = [
    '<%= config.bin %> report',
    '<%= config.bin %> report --format html --out review.html',
    '<%= config.bin %> report --format json > review.json',
  ]

  static override flags = {
    format: Flags.string({char: 'f', description: 'Output format.', options: [...REPORT_FORMATS], default: 'md'}),
    out: Flags.string({char: 'o', description: 'Write the report to this file (atomically) instead of stdout.'}),
    playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
  }

  async run(): Promise<ReportData> {
    const {flags} = this
    const format = flags.format as ReportFormat
    const playbook = await loadPlaybook(flags.playbook ?? defaultPlaybookPath())
    const target = await this.target()
    const state = await this.state()
    const live = await gatherGatewayEvidence(target)
    const report = buildReport({
      state,
      playbook,
      gatewayMetrics: live.gatewayMetrics,
      requests: live.requests,
      ...(live.liveNote ? {liveNote: live.liveNote} : {}),
      now: new Date(),
    })
    const text = format === 'html' ? renderHtml(report) : format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report)
    const file = flags.out ? path.resolve(flags.out) : format === 'html' ? path.join(target.home, 'cutover', 'report.html') : null
    if (file) {
      // A report is meant to be shared: world-readable, unlike the state files.
      writeFileAtomic(file, text, PUBLIC_OUTPUT)
      this.log(file)
    } else if (!this.jsonEnabled()) {
      process.stdout.write(text)
    }
    if (!report.live.available) this.logToStderr(`note: ${report.live.note}`)
    return report
  }
}
