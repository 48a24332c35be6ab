/**
 * #11.3: audit.complete decides on three counts from three places. Each kind of loss fails on its
 * own, with the other two counts agreeing, so dropping any one comparison fails a test.
 */
import {expect} from 'chai'

import {type AuditCompleteness, countersOf, judgeAuditCompleteness} from '../../../src/checks/audit/complete.js'

function evidence(overrides: Partial<AuditCompleteness> = {}): AuditCompleteness {
  return {
    window: '1h',
    requests: 40,
    audit_rows: 40,
    counters: {records_received: 40, audit_pending: 0, audit_write_errors: 0, audit_dropped: 0},
    probes: {sent: 3, looked_up: 3, found: ['r1', 'r2', 'r3'], missing: [], without_request_id: 0, unanswered: 0},
    ...overrides,
  }
}

describe('audit.complete verdict (independent counts)', () => {
  it('passes when the database, the gateway counters and the probes all agree', () => {
    const v = judgeAuditCompleteness(evidence(), 1)
    expect(v.outcome).to.equal('pass')
    expect(v.detail).to.equal('all 40 request(s) of the last 1h are audited; the gateway received 40 record(s) and dropped none; 3 probe(s) found by request id')
    expect(v.measured).to.equal('40 requests, 40 audit records; gateway: 40 received, 0 dropped, 0 pending; probes 3/3 found')
  })

  it('fails on records the gateway dropped, though the database counts agree', () => {
    const v = judgeAuditCompleteness(evidence({counters: {records_received: 41, audit_pending: 0, audit_write_errors: 7, audit_dropped: 1}}), 1)
    expect(v.outcome).to.equal('fail')
    expect(v.detail).to.equal('the gateway dropped 1 record(s) since it started (its own counter audit_dropped)')
  })

  it('fails on records still unwritten after the settle time', () => {
    const v = judgeAuditCompleteness(evidence({counters: {records_received: 42, audit_pending: 2, audit_write_errors: 3, audit_dropped: 0}}), 1)
    expect(v.outcome).to.equal('fail')
    expect(v.detail).to.equal('2 record(s) are still not written (audit_pending, 3 write error(s))')
  })

  it('fails on a probe cutover sent that has no audit row, naming it', () => {
    const v = judgeAuditCompleteness(evidence({probes: {sent: 3, looked_up: 3, found: ['r1', 'r2'], missing: ['r3'], without_request_id: 0, unanswered: 0}}), 1)
    expect(v.outcome).to.equal('fail')
    expect(v.detail).to.equal('1 of 3 probe request(s) cutover sent and got an answer for have no audit row (r3)')
  })

  it('fails when the two database counts disagree, either way', () => {
    expect(judgeAuditCompleteness(evidence({audit_rows: 38}), 1).detail).to.equal('2 request(s) not audited over the last 1h')
    expect(judgeAuditCompleteness(evidence({audit_rows: 41}), 1).detail).to.equal('1 audit record(s) without a counted request over the last 1h')
  })

  it('names every loss at once', () => {
    const v = judgeAuditCompleteness(evidence({audit_rows: 39, counters: {records_received: 41, audit_pending: 1, audit_write_errors: 1, audit_dropped: 1}, probes: {sent: 1, looked_up: 1, found: [], missing: ['x'], without_request_id: 0, unanswered: 0}}), 1)
    expect(v.outcome).to.equal('fail')
    expect(v.detail.split('; ')).to.have.length(4)
  })

  it('is inconclusive without the gateway counters: one database cannot vouch for itself', () => {
    const v = judgeAuditCompleteness(evidence({counters: null}), 1)
    expect(v.outcome).to.equal('inconclusive')
    expect(v.detail).to.match(/does not expose its own record counters/)
  })

  it('is inconclusive when no probe could be looked up, and below min_requests', () => {
    expect(judgeAuditCompleteness(evidence({probes: {sent: 1, looked_up: 0, found: [], missing: [], without_request_id: 0, unanswered: 1}}), 1).outcome).to.equal('inconclusive')
    expect(judgeAuditCompleteness(evidence({requests: 4, audit_rows: 4}), 5).outcome).to.equal('inconclusive')
    expect(judgeAuditCompleteness(evidence({requests: 5, audit_rows: 5}), 5).outcome).to.equal('pass')
  })

  it('reads the counters only when all four are non-negative numbers', () => {
    expect(countersOf({records_received: 3, audit_pending: 0, audit_write_errors: 0, audit_dropped: 0})).to.deep.equal({records_received: 3, audit_pending: 0, audit_write_errors: 0, audit_dropped: 0})
    expect(countersOf({records_received: 3, audit_pending: 0, audit_write_errors: 0})).to.equal(null)
    expect(countersOf({records_received: 3, audit_pending: -1, audit_write_errors: 0, audit_dropped: 0})).to.equal(null)
    expect(countersOf({records_received: '3', audit_pending: 0, audit_write_errors: 0, audit_dropped: 0})).to.equal(null)
  })
})
