import {expect} from 'chai'
import path from 'node:path'

import {loadPlaybook, defaultPlaybookPath} from '../../../src/lib/playbook/index.js'
import {StateStore} from '../../../src/lib/state/store.js'
import {phaseStatus, renderPhaseStatus} from '../../../src/lib/validate/status.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

// Found by the reliability suite: after kill -9 of an advance, `phase status` said "validate phase 1" and nothing about it.
describe('phase status: an interrupted operation is shown first, never silently', () => {
  afterEach(() => cleanupTempDirs())

  it('names the interrupted advance, the step that was running, and how to resume or abort it', async () => {
    const playbook = await loadPlaybook(defaultPlaybookPath())
    const state = StateStore.open(path.join(makeTempDir(), 'state.db'), {actor: 'alice'})
    try {
      expect(phaseStatus(playbook, 'p.yaml', state).interrupted).to.equal(null)
      const op = state.beginOperation({kind: 'advance', params: {}, steps: ['set-flags (set_flags)', 'restart-daemon (daemon restart)']})
      state.beginStep(op.operation.id, 0)
      state.markStep(op.operation.id, 0, 'done')
      state.beginStep(op.operation.id, 1)
      const status = phaseStatus(playbook, 'p.yaml', state)
      expect(status.interrupted).to.deep.include({operation_id: op.operation.id, kind: 'advance', step: 'restart-daemon (daemon restart)', actor: 'alice'})
      expect(status.interrupted!.steps.map((s) => s.state)).to.deep.equal(['done', 'running'])
      expect(status.next).to.match(/interrupted phase advance is pending \(step "restart-daemon \(daemon restart\)" was running.*cutover phase advance --abort/)
      expect(renderPhaseStatus(status).join('\n')).to.contain(`Interrupted advance ${op.operation.id}`)
      state.finishOperation(op.operation.id, 'rolled_back')
      expect(phaseStatus(playbook, 'p.yaml', state).interrupted).to.equal(null)
    } finally {
      state.close()
    }
  })
})
