import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {ACTIVE_USERS_KIND} from '../../lib/gate/records.js'
import {type FeedbackRecord, SENTIMENTS} from '../../lib/state/types.js'

export type FeedbackAddResult = FeedbackRecord & {activeUsers?: number}

export default class FeedbackAdd extends BaseCommand<typeof FeedbackAdd> {
  static override description = `Record one user's feedback (append-only, with author and time). A user's latest feedback counts.
Gate criteria use it for "user feedback positive" and "user complaints exceed 10% of active users"; --active-users records how many users are active (the denominator of the complaint ratio).`

  static override examples = [
    '<%= config.bin %> feedback add --user u-1042 --sentiment negative --comment "streaming stalls" --active-users 40',
    '<%= config.bin %> feedback add --user u-7 --sentiment positive',
  ]

  static override flags = {
    user: Flags.string({description: 'The user the feedback is from (an id, not a secret).', required: true}),
    sentiment: Flags.string({description: 'Positive or negative.', options: [...SENTIMENTS], required: true}),
    comment: Flags.string({description: 'What they said.'}),
    'active-users': Flags.integer({description: 'How many users are active now (recorded with the feedback).', min: 0}),
    by: Flags.string({description: 'Who records it (default: $CUTOVER_ACTOR, else the OS user).'}),
  }

  async run(): Promise<FeedbackAddResult> {
    const {flags} = this
    const state = await this.state()
    const record = state.addFeedback({
      user: flags.user,
      sentiment: flags.sentiment as FeedbackRecord['sentiment'],
      ...(flags.comment ? {comment: flags.comment} : {}),
      ...(flags.by ? {by: flags.by} : {}),
    })
    if (flags['active-users'] !== undefined) state.appendTrail({kind: ACTIVE_USERS_KIND, payload: {active_users: flags['active-users'], feedback_id: record.id}, ...(flags.by ? {actor: flags.by} : {})})
    this.log(`feedback ${record.id}: ${record.user} ${record.sentiment}${record.comment ? ` ("${record.comment}")` : ''}, recorded by ${record.author} at ${record.ts}`)
    if (flags['active-users'] !== undefined) this.log(`active users: ${flags['active-users']}`)
    return {...record, ...(flags['active-users'] === undefined ? {} : {activeUsers: flags['active-users']})}
  }
}
