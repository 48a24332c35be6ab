/**
 * #11.4: "Zero critical bugs discovered" counts the critical incidents opened during the phase,
 * resolved or not. Before, the criterion counted only incidents still open: a crash recorded and
 * resolved an hour before the gate left it GO.
 */
import {expect} from 'chai'
import path from 'node:path'

import {runGonogo} from '../../../src/lib/gate/gonogo.js'
import {loadPlaybook, type Playbook} from '../../../src/lib/playbook/index.js'
import {StateStore} from '../../../src/lib/state/store.js'
import type {Target} from '../../../src/lib/target/target.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

const HOUR = 3_600_000

describe('gate: zero critical bugs discovered during the phase (#11.4, bundled playbook)', () => {
  const T0 = Date.parse('2026-11-01T00:00:00Z')
  let clock: number
  let state: StateStore
  let seed: Playbook
  const target = {name: 'demo', home: '/nonexistent'} as unknown as Target

  before(async () => {
    const full = await loadPlaybook(path.resolve('playbooks/llm-gateway-cutover.yaml'))
    // Only the criterion under test (the others need a live target).
    seed = {...full, gates: full.gates.map((g) => ({...g, criteria: g.criteria.filter((c) => c.id === 'zero-critical-bugs')}))}
  })
  beforeEach(() => {
    clock = T0
    state = StateStore.open(path.join(makeTempDir(), 'state.db'), {actor: 'ops', now: () => new Date(clock)})
  })
  afterEach(() => {
    state.close()
    cleanupTempDirs()
  })

  const row = async (from: number) => {
    const r = await runGonogo({playbook: seed, playbookFile: 'seed.yaml', state, target, now: new Date(clock), from})
    return {result: r, row: r.criteria.find((c) => c.id === 'zero-critical-bugs')!}
  }

  for (const from of [1, 2]) {
    it(`gate ${from} -> ${from + 1}: a critical incident opened and resolved in the phase fails it; one from before the entry does not count`, async () => {
      state.setPhase(from)
      clock += HOUR
      const before = state.addIncident({severity: 'critical', title: 'before the entry'})
      state.resolveIncident(before.id, {resolution: 'fixed'})
      clock += HOUR
      state.setPhase(from, {reason: 're-entry after the fix'})
      clock += HOUR
      expect((await row(from)).row).to.include({outcome: 'pass', value: 0})

      const crash = state.addIncident({severity: 'critical', title: 'cco daemon crashed: pid 7 died without shutting down', by: 'cutover monitor'})
      clock += HOUR
      state.resolveIncident(crash.id, {resolution: 'restarted'})
      // A major incident is not a critical bug.
      state.addIncident({severity: 'major', title: 'slow'})
      clock += HOUR
      const {result, row: r} = await row(from)
      expect(r).to.include({outcome: 'fail', value: 1})
      expect(result.verdict).to.equal('NO-GO')
      expect(result.next.join('\n')).to.contain(`a critical bug was discovered during phase ${from}: resolved or not, it counts until the phase is entered again`)
    })
  }
})
