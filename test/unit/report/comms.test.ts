import {expect} from 'chai'
import path from 'node:path'

import {CutoverError, ExitCode} from '../../../src/lib/errors.js'
import {defaultPlaybookPath, loadPlaybook} from '../../../src/lib/playbook/index.js'
import type {Playbook} from '../../../src/lib/playbook/types.js'
import {renderComms} from '../../../src/lib/report/index.js'
import {StateStore} from '../../../src/lib/state/store.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'
import {type Fixture, populate, SCRIPT_TITLE} from './fixture.js'

function thrown(fn: () => unknown): CutoverError {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(CutoverError)
    return error as CutoverError
  }
  throw new Error('expected an error')
}

describe('comms: the plan\'s communication templates with real values', () => {
  let playbook: Playbook
  let fx: Fixture
  let empty: StateStore

  before(async () => {
    playbook = await loadPlaybook(defaultPlaybookPath())
  })
  beforeEach(() => {
    fx = populate(makeTempDir('cutover-comms-'))
    empty = StateStore.open(path.join(makeTempDir('cutover-comms-empty-'), 'state.db'))
  })
  afterEach(() => {
    fx.state.close()
    empty.close()
    cleanupTempDirs()
  })

  it('pre: the date, the contact and the measured flag-rollback time of the latest drill', () => {
    const message = renderComms('pre', fx.state, playbook, {date: '2025-12-09', contact: '#llm-gateway'})
    expect(message.subject).to.equal('LLM Gateway Migration - Scheduled for 2025-12-09')
    // The latest flag rollback took 10 + 1290 + 200 ms.
    expect(message.body).to.contain('Rollback plan: Fully tested, 1.5 s recovery')
    expect(message.body).to.contain('Questions? Contact: #llm-gateway')
    expect(message.body).to.contain('- ✅ Streaming support (real-time responses)')
    expect(message.body).to.not.match(/\{\{|\}\}/)
  })

  it('pre: a missing --date or --contact names the flag (exit 2)', () => {
    const noDate = thrown(() => renderComms('pre', fx.state, playbook, {contact: 'x'}))
    expect(noDate.exit).to.equal(ExitCode.Usage)
    expect(noDate.message).to.contain('pass --date')
    const noContact = thrown(() => renderComms('pre', fx.state, playbook, {date: '2025-12-09', contact: '  '}))
    expect(noContact.exit).to.equal(ExitCode.Usage)
    expect(noContact.message).to.contain('pass --contact')
  })

  it('pre: without a measured flag rollback it refuses to claim a tested rollback and says how to measure one', () => {
    const err = thrown(() => renderComms('pre', empty, playbook, {date: '2025-12-09', contact: 'x'}))
    expect(err.exit).to.equal(ExitCode.Usage)
    expect(err.code).to.equal('COMMS_NO_ROLLBACK_MEASURED')
    expect(err.suggestions.join(' ')).to.contain('cutover rollback --flag')
  })

  it('pre: a flag rollback over its objective is not "fully tested"', () => {
    empty.recordRollback({kind: 'flag', outcome: 'success', timings: {restart: 45_000}, objectiveMs: 30_000})
    const err = thrown(() => renderComms('pre', empty, playbook, {date: '2025-12-09', contact: 'x'}))
    expect(err.code).to.equal('COMMS_ROLLBACK_NOT_WITHIN_OBJECTIVE')
    expect(err.message).to.contain('45 s, over its 30 s objective')
  })

  it('post: completion time from the phase history, open incidents as known issues', () => {
    const message = renderComms('post', fx.state, playbook, {contact: 'ops@example.com'})
    expect(message.subject).to.equal('LLM Gateway Migration - Complete ✅')
    // Phase 3 was entered at T0 + 2 h.
    expect(message.body).to.contain('completed successfully at 2025-12-01 02:00 UTC.')
    expect(message.body).to.contain(`Known issues: #2 (minor) ${SCRIPT_TITLE}`)
    expect(message.body).to.not.contain('Launcher fell back')
  })

  it('post: "None" without open incidents; several open incidents become a list; --completed-at wins', () => {
    fx.state.resolveIncident(2, {resolution: 'fixed'})
    expect(renderComms('post', fx.state, playbook, {contact: 'x'}).body).to.contain('Known issues: None')
    fx.state.addIncident({severity: 'critical', title: 'Streaming stalls'})
    fx.state.addIncident({severity: 'minor', title: 'Cost off by a cent'})
    const body = renderComms('post', fx.state, playbook, {contact: 'x', completedAt: '2025-12-23T10:00:00Z'}).body
    expect(body).to.contain('Known issues:\n- #3 (critical) Streaming stalls\n- #4 (minor) Cost off by a cent')
    expect(body).to.contain('completed successfully at 2025-12-23 10:00 UTC.')
  })

  it('post: before the last phase is reached, --completed-at is required (exit 2)', () => {
    empty.setPhase(2)
    const err = thrown(() => renderComms('post', empty, playbook, {contact: 'x'}))
    expect(err.exit).to.equal(ExitCode.Usage)
    expect(err.message).to.contain('pass --completed-at')
  })
})
