/** #11.5: the minimum evidence a gate's pass needs, as a rule (and the lint and gate that apply it). */
import {expect} from 'chai'
import path from 'node:path'

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
