/** #11.5: the minimum evidence a gate's pass needs, as a rule (and the lint and gate that apply it). */
import {expect} from 'chai'
import path from 'node:path'

import {bestCaseRatio, evaluateCriterion} from '../../../src/lib/evaluate/criterion.js'
import {describeResolutionRule, maxTrustedIntervalMs, resolutionMinSamples} from '../../../src/lib/evaluate/evidence.js'
import {formatIssue, parsePlaybook} from '../../../src/lib/playbook/index.js'

const subject = (operator: string, threshold: number, over: Record<string, unknown> = {}) => ({statistic: 'ratio', unit: 'percent', operator, threshold, ...over})

describe('evidence rule: one sample must be able to fail the claim (#11.5)', () => {
  it('n >= 100 / margin: 1000 for > 99.9 % and < 0.1 %, 2 for > 50 %, 20 for < 5 %', () => {
    expect(resolutionMinSamples(subject('>', 99.9))).to.equal(1000)
    expect(resolutionMinSamples(subject('>=', 99.9))).to.equal(1000)
    expect(resolutionMinSamples(subject('<', 0.1))).to.equal(1000)
    expect(resolutionMinSamples(subject('<=', 1))).to.equal(100)
    expect(resolutionMinSamples(subject('>', 50))).to.equal(2)
    expect(resolutionMinSamples(subject('<', 5))).to.equal(20)
    expect(resolutionMinSamples(subject('>', 99))).to.equal(100)
    expect(resolutionMinSamples(subject('>', 99.95))).to.equal(2000)
  })

  it('does not apply to counts, latencies, exact comparisons or margins of 0 or 100', () => {
    expect(resolutionMinSamples(subject('==', 100))).to.equal(null)
    expect(resolutionMinSamples(subject('>', 100))).to.equal(null)
    expect(resolutionMinSamples(subject('<', 0))).to.equal(null)
    expect(resolutionMinSamples(subject('>', 0))).to.equal(null)
    expect(resolutionMinSamples(subject('<', 500, {unit: 'ms', statistic: 'avg'}))).to.equal(null)
    expect(resolutionMinSamples(subject('>', 99.9, {statistic: 'avg'}))).to.equal(null)
    expect(resolutionMinSamples(subject('>', 0.999, {unit: 'ratio'}))).to.equal(null)
  })

  it('says the rule in words', () => {
    expect(describeResolutionRule(subject('>', 99.9))).to.equal('>= 1000 samples: one sample (100 / n %) must be at most the 0.1 % margin of "> 99.9 %"')
    expect(describeResolutionRule(subject('==', 100))).to.equal(null)
  })

  it('the longest trusted sampling interval is window / min_samples', () => {
    expect(maxTrustedIntervalMs(2 * 86_400_000, 1000)).to.equal(172_800)
    expect(maxTrustedIntervalMs(60_000, 0)).to.equal(null)
  })

  const gatePlaybook = (criterion: string) => `name: evidence
version: "1"
target: {name: demo, cco: [cco]}
phases:
  - {id: one, number: 1, title: One, goal: g, plan_ref: 'd: "1"', checks: [{id: gateway.health, plan_ref: 'd: "h"'}]}
  - {id: two, number: 2, title: Two, goal: g, plan_ref: 'd: "2"', checks: [{id: gateway.health, plan_ref: 'd: "h"'}]}
gates:
  - id: one-to-two
    from: 1
    to: 2
    title: One to two
    plan_ref: 'd: "gate"'
    criteria:
      - ${criterion}
`
  const lint = (criterion: string) => parsePlaybook(gatePlaybook(criterion), 'evidence.yaml', {baseDir: path.resolve('test/fixtures/playbooks')}).issues.map(formatIssue)
  const uptime = (extra: string) => `{id: uptime, title: Uptime, source: gateway, metric: uptime, statistic: ratio, window: 2d, operator: '>', threshold: 99.9, unit: percent, key: true, plan_ref: 'd: "u"', ${extra}}`

  it('lint refuses a gate criterion whose min_samples cannot support its threshold, naming the rule and the fix', () => {
    const issues = lint(uptime('min_samples: 30'))
    expect(issues).to.have.length(1)
    expect(issues[0]).to.match(/gates\[0\]\.criteria\[0\]\.min_samples: min_samples 30 cannot support "> 99\.9 %": one sample is 3\.333 %, more than the claim's margin; the evidence rule needs >= 1000 samples: .* so set min_samples: 1000 or more \(or state why not with evidence_waiver: TEXT, shown with every verdict\)$/)
    expect(lint(uptime('min_samples: 999'))).to.have.length(1)
    expect(lint(uptime('min_samples: 1000'))).to.deep.equal([])
    expect(lint(uptime("min_samples: 30, evidence_waiver: 'lab soak, 30 samples accepted'"))).to.deep.equal([])
  })
})

describe('evidence rule: too few samples can still rule a claim out (#11.5)', () => {
  const spec = (operator: '>' | '<', threshold: number) => ({id: 'c', title: 'c', source: 'gateway' as const, metric: 'uptime', statistic: 'ratio' as const, window: '2d', operator, threshold, unit: 'percent', min_samples: 1000, key: true})
  const measured = (value: number, samples: number) => ({criterionId: 'c', value, samples, windowStart: '2026-12-01T00:00:00.000Z', windowEnd: '2026-12-03T00:00:00.000Z', windowElapsed: true})

  it('2 down of 30: even 970 more up samples give 99.8 %, not > 99.9 %: fail, not inconclusive', () => {
    const r = evaluateCriterion(spec('>', 99.9), measured((28 * 100) / 30, 30))
    expect(r.outcome).to.equal('fail')
    expect(r.reason).to.contain('even if the 970 more the evidence rule needs were all good it would be 99.8 percent, not > 99.9 percent')
  })

  it('30 of 30 up stays inconclusive; 998 of 999 up is already a fail (one more good sample makes 99.9 %, not more)', () => {
    expect(evaluateCriterion(spec('>', 99.9), measured(100, 30)).outcome).to.equal('inconclusive')
    expect(evaluateCriterion(spec('>', 99.9), measured((998 * 100) / 999, 999)).outcome).to.equal('fail')
    expect(evaluateCriterion(spec('>', 99.9), measured((999 * 100) / 1000, 1000)).outcome).to.equal('fail')
  })

  it('"below" claims pad with zeros: 22 failures of 150 requests can never be < 0.1 % of 1000', () => {
    const r = evaluateCriterion(spec('<', 0.1), measured((22 * 100) / 150, 150))
    expect(r.outcome).to.equal('fail')
    expect(r.reason).to.contain('it would be 2.2 percent, not < 0.1 percent')
    expect(evaluateCriterion(spec('<', 0.1), measured(0, 150)).outcome).to.equal('inconclusive')
  })

  it('pads toward the claim', () => {
    expect(bestCaseRatio(50, 10, 20, '>')).to.equal(75)
    expect(bestCaseRatio(50, 10, 20, '<')).to.equal(25)
    expect(bestCaseRatio(50, 20, 20, '>')).to.equal(null)
    expect(bestCaseRatio(50, 10, 20, '==')).to.equal(null)
  })
})
