import {expect} from 'chai'

import {type CriterionOutcome, type CriterionSpec, type Measurement, decideGate, evaluateCriterion, evidenceHash} from '../../../src/lib/evaluate/index.js'
import {measurement, spec} from './fixtures.js'

// The Phase 1 -> 2 gate of the plan, reduced to what the gate logic needs.
const SPECS: CriterionSpec[] = [
  spec({id: 'error_rate', title: 'Error rate < 0.1 %'}),
  spec({id: 'avg_latency', title: 'Average latency < 500 ms', metric: 'avg_latency_ms', statistic: 'avg', threshold: 500, unit: 'ms'}),
  spec({id: 'uptime', title: 'Gateway uptime > 99.9 %', metric: 'uptime', statistic: 'ratio', operator: '>', threshold: 99.9, min_samples: 10}),
  spec({id: 'critical_incidents', title: 'Zero critical bugs', source: 'records', metric: 'open_critical_incidents', statistic: 'count', operator: '==', threshold: 0, unit: undefined, min_samples: 1}),
  spec({id: 'p99_latency', title: 'p99 latency < 2 s (informational)', metric: 'p99_latency_ms', statistic: 'p99', threshold: 2000, unit: 'ms', key: false}),
]
const GOOD: Record<string, number> = {error_rate: 0.01, avg_latency: 320, uptime: 99.95, critical_incidents: 0, p99_latency: 1500}

function evaluate(values: Partial<Record<string, Partial<Measurement>>> = {}, specs: CriterionSpec[] = SPECS): CriterionOutcome[] {
  return specs.map((s) => evaluateCriterion(s, measurement({criterionId: s.id, value: GOOD[s.id]!, ...values[s.id]})))
}

describe('evaluate/decideGate', () => {
  it('GO (exit 0) when every key criterion passes', () => {
    const v = decideGate(evaluate(), {approvalRequired: false})
    expect(v.verdict).to.equal('GO')
    expect(v.exitCode).to.equal(0)
    expect(v.blocking).to.deep.equal([])
    expect(v.approval.status).to.equal('not_required')
    expect(v.evidenceHash).to.match(/^[0-9a-f]{64}$/)
    expect(v.summary).to.match(/^GO: all 4 key criteria pass/)
  })

  const failing: Record<string, number> = {error_rate: 0.5, avg_latency: 800, uptime: 99.5, critical_incidents: 1}
  for (const [id, value] of Object.entries(failing)) {
    it(`NO-GO (exit 1) when key criterion ${id} fails, naming it`, () => {
      const v = decideGate(evaluate({[id]: {value}}), {approvalRequired: false})
      expect(v.verdict).to.equal('NO-GO')
      expect(v.exitCode).to.equal(1)
      expect(v.blocking).to.deep.equal([id])
      expect(v.summary).to.contain(`1 key criterion(s) failed: ${id}`)
    })
  }

  it('a failing non-key criterion does not block; it is listed as a warning', () => {
    const v = decideGate(evaluate({p99_latency: {value: 4000}}), {approvalRequired: false})
    expect(v.verdict).to.equal('GO')
    expect(v.warnings).to.deep.equal(['p99_latency'])
    expect(v.summary).to.contain('warnings (non-key, not blocking): 1').and.contain('p99_latency fail')
  })

  it('INCONCLUSIVE (exit 3) with too few samples on a key criterion', () => {
    const v = decideGate(evaluate({error_rate: {samples: 12}}), {approvalRequired: false})
    expect(v.verdict).to.equal('INCONCLUSIVE')
    expect(v.exitCode).to.equal(3)
    expect(v.blocking).to.deep.equal(['error_rate'])
  })

  it('INCONCLUSIVE (exit 3) while a key window has not elapsed', () => {
    const v = decideGate(evaluate({uptime: {windowElapsed: false}}), {approvalRequired: false})
    expect(v.verdict).to.equal('INCONCLUSIVE')
    expect(v.summary).to.contain('uptime inconclusive')
  })

  it('ERROR (exit 4) when a key source failed and nothing failed', () => {
    const v = decideGate(evaluate({avg_latency: {value: null, samples: 0, error: 'timeout'}}), {approvalRequired: false})
    expect(v.verdict).to.equal('ERROR')
    expect(v.exitCode).to.equal(4)
    expect(v.blocking).to.deep.equal(['avg_latency'])
  })

  it('a failure outranks an error, and an error outranks an inconclusive', () => {
    const both = evaluate({avg_latency: {error: 'down'}, error_rate: {value: 9}, uptime: {samples: 1}})
    expect(decideGate(both, {approvalRequired: false}).verdict).to.equal('NO-GO')
    const errAndInc = evaluate({avg_latency: {error: 'down'}, uptime: {samples: 1}})
    expect(decideGate(errAndInc, {approvalRequired: false}).verdict).to.equal('ERROR')
  })

  it('ERROR when the gate has no key criteria (a GO on nothing proves nothing)', () => {
    const v = decideGate(evaluate({}, SPECS.map((s) => ({...s, key: false}))), {approvalRequired: false})
    expect(v.verdict).to.equal('ERROR')
    expect(v.summary).to.contain('no key criteria')
  })

  describe('approval', () => {
    const outcomes = evaluate()
    const hash = evidenceHash(outcomes)

    it('AWAITING_APPROVAL (exit 3) when approval is required and none is recorded', () => {
      const v = decideGate(outcomes, {approvalRequired: true})
      expect(v.verdict).to.equal('AWAITING_APPROVAL')
      expect(v.exitCode).to.equal(3)
      expect(v.approval).to.deep.equal({required: true, status: 'missing'})
      expect(v.summary).to.contain(`approval of evaluation ${hash.slice(0, 12)} is required`)
    })

    it('GO with an approval of exactly this evaluation, naming the approver', () => {
      const v = decideGate(outcomes, {approvalRequired: true, approval: {evaluationHash: hash, by: 'alice', at: '2026-01-02T10:00:00Z'}})
      expect(v.verdict).to.equal('GO')
      expect(v.approval).to.include({status: 'valid', by: 'alice'})
      expect(v.summary).to.contain('approved by alice')
    })

    it('a stale approval (of an older evaluation) does not count', () => {
      const older = evidenceHash(evaluate({error_rate: {value: 0.02}}))
      expect(older).to.not.equal(hash)
      const v = decideGate(outcomes, {approvalRequired: true, approval: {evaluationHash: older, by: 'bob', at: '2026-01-01T09:00:00Z'}})
      expect(v.verdict).to.equal('AWAITING_APPROVAL')
      expect(v.approval.status).to.equal('stale')
      expect(v.summary).to.contain('recorded approval (by bob').and.contain('not this one')
    })

    it('any matching approval among several counts', () => {
      const v = decideGate(outcomes, {
        approvalRequired: true,
        approvals: [
          {evaluationHash: 'f'.repeat(64), by: 'bob', at: '2026-01-01T09:00:00Z'},
          {evaluationHash: hash, by: 'carol', at: '2026-01-02T11:00:00Z'},
        ],
      })
      expect(v.verdict).to.equal('GO')
      expect(v.approval.by).to.equal('carol')
    })

    it('an approval never overrides a failing key criterion', () => {
      const bad = evaluate({error_rate: {value: 1}})
      const v = decideGate(bad, {approvalRequired: true, approval: {evaluationHash: evidenceHash(bad), by: 'alice', at: 'x'}})
      expect(v.verdict).to.equal('NO-GO')
      expect(v.approval.status).to.equal('valid')
    })

    it('the approval is not part of the hash it approves', () => {
      const approved = decideGate(outcomes, {approvalRequired: true, approval: {evaluationHash: hash, by: 'alice', at: 'now'}})
      expect(approved.evidenceHash).to.equal(decideGate(outcomes, {approvalRequired: false}).evidenceHash)
      expect(approved.evidenceHash).to.equal(hash)
    })
  })

  describe('evidence hash', () => {
    it('is stable under key reordering in specs and measurements, and under criteria order', () => {
      const reordered = SPECS.map((s) => Object.fromEntries(Object.entries(s).reverse()) as unknown as CriterionSpec)
      const a = evaluate()
      const b = reordered
        .map((s) => {
          const m = measurement({criterionId: s.id, value: GOOD[s.id]!})
          return evaluateCriterion(s, Object.fromEntries(Object.entries(m).reverse()) as unknown as Measurement)
        })
        .reverse()
      expect(evidenceHash(b)).to.equal(evidenceHash(a))
    })

    it('ignores free-form measurement detail', () => {
      const a = evaluate()
      const b = evaluate({error_rate: {detail: {fetchedInMs: 12}}})
      expect(evidenceHash(b)).to.equal(evidenceHash(a))
    })

    it('differs when a measured value, sample count, window bound, threshold or baseline differs', () => {
      const base = evidenceHash(evaluate())
      expect(evidenceHash(evaluate({error_rate: {value: 0.011}}))).to.not.equal(base)
      expect(evidenceHash(evaluate({error_rate: {samples: 2001}}))).to.not.equal(base)
      expect(evidenceHash(evaluate({error_rate: {windowEnd: '2026-01-01T00:15:01.000Z'}}))).to.not.equal(base)
      expect(evidenceHash(evaluate({}, SPECS.map((s) => (s.id === 'avg_latency' ? {...s, threshold: 501} : s))))).to.not.equal(base)
      const rel = SPECS.map((s) => (s.id === 'avg_latency' ? {...s, relative_to_baseline: {max_increase_pct: 25}} : s))
      const withBaseline = (b: number) => rel.map((s) => evaluateCriterion(s, measurement({criterionId: s.id, value: GOOD[s.id]!}), {value: b}))
      expect(evidenceHash(withBaseline(300))).to.not.equal(evidenceHash(withBaseline(301)))
    })

    it('includes the context (e.g. which gate) when given', () => {
      const o = evaluate()
      expect(evidenceHash(o, {gate: '1->2'})).to.not.equal(evidenceHash(o, {gate: '2->3'}))
      expect(evidenceHash(o, {gate: '1->2', playbook: 'x'})).to.equal(evidenceHash(o, {playbook: 'x', gate: '1->2'}))
    })
  })
})
