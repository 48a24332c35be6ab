import {BaseCommand} from '../../base-command.js'
import {formatNumber} from '../../lib/evaluate/criterion.js'
import {latestActiveUsers} from '../../lib/gate/records.js'
import {renderTable} from '../../lib/output/table.js'
import type {FeedbackRecord} from '../../lib/state/types.js'

export interface FeedbackListResult {
  feedback: FeedbackRecord[]
  /** Users by their latest feedback. */
  users: {total: number; positive: number; negative: number}
  activeUsers: number | null
  positivePct: number | null
  /** Negative users / active users (or users who gave feedback when no active-user count is recorded). */
  complaintPct: number | null
}

export default class FeedbackList extends BaseCommand<typeof FeedbackList> {
  static override description = 'List recorded user feedback, oldest first, with the positive share and the complaint ratio the gates use.'
  static override examples = ['<%= config.bin %> feedback list', '<%= config.bin %> feedback list --json']

  async run(): Promise<FeedbackListResult> {
    const state = await this.state()
    const feedback = state.listFeedback()
    const latest = new Map<string, FeedbackRecord['sentiment']>()
    for (const f of feedback) latest.set(f.user, f.sentiment)
    const positive = [...latest.values()].filter((s) => s === 'positive').length
    const negative = latest.size - positive
    const activeUsers = latestActiveUsers(state)
    const denominator = activeUsers ?? latest.size
    const result: FeedbackListResult = {
      feedback,
      users: {total: latest.size, positive, negative},
      activeUsers,
      positivePct: latest.size === 0 ? null : (positive * 100) / latest.size,
      complaintPct: denominator === 0 ? null : (negative * 100) / denominator,
    }
    if (feedback.length === 0) this.log('no feedback recorded')
    else {
      for (const line of renderTable(feedback, [
        {header: 'ID', get: (f) => String(f.id), align: 'right'},
        {header: 'WHEN', get: (f) => f.ts},
        {header: 'USER', get: (f) => f.user},
        {header: 'SENTIMENT', get: (f) => f.sentiment},
        {header: 'BY', get: (f) => f.author},
        {header: 'COMMENT', get: (f) => f.comment ?? '', maxWidth: 60},
      ]))
        this.log(line)
    }
    const pct = (n: number | null) => (n === null ? 'n/a' : `${formatNumber(n)}%`)
    this.log(`${latest.size} user(s): ${positive} positive, ${negative} negative (positive ${pct(result.positivePct)}); complaints ${pct(result.complaintPct)} of ${activeUsers === null ? `${latest.size} user(s) who gave feedback` : `${activeUsers} active user(s)`}`)
    return result
  }
}
