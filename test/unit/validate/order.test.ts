import {expect} from 'chai'

import {defaultPlaybookPath, loadPlaybook} from '../../../src/lib/playbook/index.js'
import {disturbsTarget, findPhase, planChecks, runsAfter} from '../../../src/lib/validate/select.js'

describe('validate: the order of a run (#11.10)', () => {
  it('checks that leave the target alone wait for nothing they do not require; the disturbing script waits for all of them', async () => {
    const playbook = await loadPlaybook(defaultPlaybookPath())
    const checks = planChecks(findPhase(playbook, 1))
    const script = checks.find((c) => c.id === 'script.test_gateway')!
    expect(disturbsTarget(script)).to.equal(true)
    const others = checks.filter((c) => !disturbsTarget(c))
    expect(others.length).to.be.greaterThan(5)
    expect(runsAfter(script, checks)).to.have.members(others.map((c) => c.name))
    const daemonRunning = checks.find((c) => c.id === 'daemon.running')!
    expect(runsAfter(daemonRunning, checks)).to.deep.equal([])
    for (const c of others) expect(runsAfter(c, checks), c.name).to.not.include(script.name)
    const phase2 = planChecks(findPhase(playbook, 2))
    const audit = phase2.find((c) => c.id === 'audit.complete')!
    expect(runsAfter(audit, phase2)).to.include.members(phase2.filter((c) => c.id === 'traffic.streaming_sse').map((c) => c.name)).and.not.include('script.test_gateway')
  })
})
