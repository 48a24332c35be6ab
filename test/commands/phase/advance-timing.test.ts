/** #11.1: `phase advance` waits for the phase's minimum duration (in process, runCommand; nothing is started). */
import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import type {AdvanceResult} from '../../../src/lib/apply/index.js'
import {StateStore} from '../../../src/lib/state/store.js'
import {REPO_ROOT} from '../../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

describe('cutover phase advance: the minimum phase duration holds the gate (commands)', () => {
  let home: string
  let playbook: string
  const stateFile = () => path.join(home, 'cutover', 'state.db')

  beforeEach(() => {
    home = makeTempDir('cutover-cmd-home-')
    const dir = makeTempDir('cutover-cmd-pb-')
    // The fixture's only criterion (no open critical incident) passes on an empty store; phase 1 gets a minimum duration.
    const source = fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'apply', 'advance.yaml'), 'utf8')
    expect(source).to.contain("    plan_ref: 'test: \"phase 1\"'\n")
    playbook = path.join(dir, 'advance.yaml')
    fs.writeFileSync(playbook, source.replace("    plan_ref: 'test: \"phase 1\"'\n", "    plan_ref: 'test: \"phase 1\"'\n    min_duration: 1h\n"))
    for (const entry of fs.readdirSync(path.join(REPO_ROOT, 'test', 'fixtures', 'apply'))) {
      if (entry !== 'advance.yaml') fs.cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'apply', entry), path.join(dir, entry), {recursive: true})
    }
    const state = StateStore.open(stateFile())
    state.setPhase(1, {reason: 'start'})
    state.close()
  })
  afterEach(() => {
    process.exitCode = undefined
    cleanupTempDirs()
  })

  it('INCONCLUSIVE (exit 3) a minute after entering phase 1: refused, nothing changed; gonogo says how long is left', async () => {
    const {result} = await runCommand<AdvanceResult>(['phase', 'advance', '--playbook', playbook, '--home', home, '--json'])
    expect(process.exitCode).to.equal(3)
    expect(result?.action).to.equal('blocked')
    expect(result?.gate?.verdict).to.equal('INCONCLUSIVE')
    expect(result?.gate?.blocking).to.include('phase-min-duration')
    expect(fs.existsSync(path.join(home, 'config', 'daemon-config.json')), 'no flag was written').to.equal(false)
    const state = StateStore.open(stateFile())
    try {
      expect(state.getPhase()?.phase).to.equal(1)
      expect(state.listOperations({kind: 'advance'})).to.deep.equal([])
    } finally {
      state.close()
    }
    process.exitCode = undefined
    const gonogo = await runCommand<{verdict: string; next: string[]; criteria: Array<{id: string; outcome: string; reason: string}>}>(['gonogo', '--playbook', playbook, '--home', home, '--json'])
    expect(process.exitCode).to.equal(3)
    const row = gonogo.result?.criteria.find((c) => c.id === 'phase-min-duration')
    expect(row?.outcome).to.equal('inconclusive')
    expect(row?.reason).to.match(/needs 1h of phase 1: phase 1 entered at .*; (59m\d\ds|1h00m) to go/)
    expect(gonogo.result?.next.join('\n')).to.contain('wait: phase-min-duration')
  })

  it('--force without --reason is a usage error', async () => {
    await runCommand(['phase', 'advance', '--playbook', playbook, '--home', home, '--force'])
    expect(process.exitCode).to.equal(2)
  })
})
