/**
 * #20.3: cost.records_request on a model the gateway has no price for is inconclusive (cost tracking
 * worked, the price is missing), naming the model and the exact pricingOverrides entry to add; a
 * recorded cost passes; a missing cost for any other reason still fails.
 */
import {expect} from 'chai'

import {type CostEvidence, judgeCostEvidence, pricingOverrideEntry} from '../../../src/checks/cost/records-request.js'

const CONFIG = '~/.cco/orchestra-config.json'

function evidence(overrides: Partial<CostEvidence> = {}): CostEvidence {
  return {input: 120, output: 20, cost: 0.00054, status: 'priced', model: 'claude-sonnet-5-5', source: 'audit log', evidence: {}, configPath: CONFIG, restartHint: 'restart the daemon (cco daemon restart)', ...overrides}
}

describe('cost.records_request verdict', () => {
  it('passes when tokens and a cost > 0 are recorded', () => {
    const r = judgeCostEvidence(evidence())
    expect(r.outcome).to.equal('pass')
    expect(r.measured).to.equal('in 120 / out 20 tokens, $0.00054 (priced)')
  })

  it('an unpriced model is inconclusive, not a failure: "model X has no price" and the pricingOverrides entry to add', () => {
    const r = judgeCostEvidence(evidence({model: 'claude-opus-5-5', cost: null, status: 'unpriced'}))
    expect(r.outcome).to.equal('inconclusive')
    expect(r.detail).to.match(/^inconclusive: model claude-opus-5-5 has no price/)
    const entry = '"llmGateway": {"costTracking": {"pricingOverrides": {"claude-opus-5-5": {"inputPerMillion": <input USD/MTok>, "outputPerMillion": <output USD/MTok>, "cacheReadPerMillion": <cache read USD/MTok>, "cacheWrite5mPerMillion": <5-minute cache write USD/MTok>, "cacheWrite1hPerMillion": <1-hour cache write USD/MTok>}}}}'
    expect(pricingOverrideEntry('claude-opus-5-5')).to.equal(entry)
    expect(r.remediation).to.contain('Model claude-opus-5-5 has no price')
    expect(r.remediation).to.contain(`add ${entry} to ${CONFIG}`)
    expect(r.evidence.pricing_override).to.equal(entry)
    expect(r.evidence.unpriced_model).to.equal('claude-opus-5-5')
  })

  it('the override names the model as JSON (quotes escaped)', () => {
    expect(pricingOverrideEntry('odd"model')).to.contain('{"odd\\"model": {')
  })

  it('cost tracking disabled still fails, with the setting to change', () => {
    const r = judgeCostEvidence(evidence({cost: null, status: 'disabled'}))
    expect(r.outcome).to.equal('fail')
    expect(r.remediation).to.contain('costTracking.enabled true')
  })

  it('a priced row with a zero cost fails (cost tracking shows incorrect data)', () => {
    expect(judgeCostEvidence(evidence({cost: 0})).outcome).to.equal('fail')
  })

  it('tokens not recorded fails before any price question', () => {
    const r = judgeCostEvidence(evidence({input: 0, cost: null, status: 'unpriced'}))
    expect(r.outcome).to.equal('fail')
    expect(r.detail).to.match(/^tokens not recorded/)
  })
})
