import {runCommand} from '@oclif/test'
import Database from 'better-sqlite3'
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import type {AuditVerifyResult} from '../../../src/commands/audit/verify.js'
import type {FeedbackListResult} from '../../../src/commands/feedback/list.js'
import type {GonogoCommandResult} from '../../../src/commands/gonogo.js'
import type {IncidentListResult} from '../../../src/commands/incident/list.js'
import type {ApproveResult} from '../../../src/lib/gate/approve.js'
import {VALIDATION_RUN_KIND} from '../../../src/lib/gate/records.js'
import {StateStore} from '../../../src/lib/state/store.js'
import type {IncidentRecord} from '../../../src/lib/state/types.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

/**
 * The human-evidence side of the gate through the real commands (runCommand) and a real state
 * file. The gate here has only records criteria, so no daemon is needed; the gateway and
 * monitor side runs against the reference daemon in test/e2e/gate.test.ts.
 */
const PLAYBOOK = `name: records-gate
version: "1"
target: {name: reference, cco: [cco]}
phases:
  - {id: one, number: 1, title: One, goal: Baseline., plan_ref: 't: "1"', checks: [{id: gateway.health, plan_ref: 't: "h"'}]}
  - {id: two, number: 2, title: Two, goal: Soft., plan_ref: 't: "2"', checks: [{id: gateway.health, plan_ref: 't: "h"'}]}
gates:
  - id: one-to-two
    from: 1
    to: 2
    title: Go/No-Go 1 -> 2
    plan_ref: 't: "gate"'
    criteria:
      - {id: zero-critical-bugs, title: No open critical incident, source: records, metric: open_critical_incidents, statistic: count, window: phase, operator: '==', threshold: 0, unit: count, min_samples: 0, key: true, plan_ref: 't: "bugs"'}
      - {id: all-success-criteria-met, title: Last phase 1 validation passed, source: records, metric: last_validation_passed, params: {phase: 1}, statistic: last, window: phase, operator: '==', threshold: 1, unit: count, min_samples: 1, key: true, plan_ref: 't: "all"'}
      - {id: rollback-rehearsed, title: Flag rollback rehearsed within 30 s, source: records, metric: last_rehearsal_within_objective, params: {kind: flag, objective: 30s}, statistic: last, window: 7d, operator: '==', threshold: 1, unit: count, min_samples: 1, key: true, plan_ref: 't: "rehearsed"'}
      - {id: feedback-seen, title: Feedback from at least one user, source: records, metric: feedback_responses, statistic: count, window: phase, operator: '>=', threshold: 1, unit: count, min_samples: 0, key: true, plan_ref: 't: "feedback"'}
      - {id: complaints, title: Complaints at most 10% of active users, source: records, metric: complaint_ratio, statistic: ratio, window: phase, operator: '<=', threshold: 10, unit: percent, min_samples: 1, key: false, evidence_waiver: 'test: one user', plan_ref: 't: "complaints"'}
      - {id: team-approval, title: Team approval, source: records, metric: approvals, statistic: count, window: phase, operator: '>=', threshold: 1, unit: count, min_samples: 0, key: true, requires_approval: true, plan_ref: 't: "approval"'}
`

describe('cutover gonogo / approve / incident / feedback / audit verify (records gate, real state file)', function () {
  this.timeout(60_000)
  let dir: string
  let home: string
  let playbook: string
  let stateFile: string

  const run = async <T>(args: string[]) => {
    process.exitCode = undefined
    const out = await runCommand<T>([...args, '--home', home])
    const code = out.error?.oclif?.exit ?? (typeof process.exitCode === 'number' ? process.exitCode : 0)
    process.exitCode = undefined
    return {...out, code}
  }
  const gonogo = async () => {
    const out = await run<GonogoCommandResult>(['gonogo', '--playbook', playbook, '--json'])
    return {...out, doc: JSON.parse(out.stdout) as GonogoCommandResult}
  }
  const withStore = <T>(fn: (s: StateStore) => T): T => {
    const store = StateStore.open(stateFile)
    try {
      return fn(store)
    } finally {
      store.close()
    }
  }

  beforeEach(() => {
    dir = makeTempDir()
    home = path.join(dir, 'home')
    fs.mkdirSync(home)
    playbook = path.join(dir, 'playbook.yaml')
    fs.writeFileSync(playbook, PLAYBOOK)
    stateFile = path.join(home, 'cutover', 'state.db')
  })
  afterEach(() => {
    process.exitCode = undefined
    cleanupTempDirs()
  })

  function recordGoodEvidence(): void {
    withStore((s) => {
      s.recordRun({kind: VALIDATION_RUN_KIND, phase: 1, outcome: 'pass', results: {checks: 8, scope: {complete: true}}})
      s.recordRollback({kind: 'flag-rehearsal', outcome: 'success', timings: {decision_to_flag: 5, flag_to_daemon_up: 700, verify: 90}, objectiveMs: 30_000})
    })
  }

  it('incidents: add (critical) -> list --open -> resolve -> resolve again is refused; author and time kept', async () => {
    const added = await run<IncidentRecord>(['incident', 'add', '--severity', 'critical', '--title', 'streams-stall', '--by', 'alice', '--json'])
    expect(added.code).to.equal(0)
    const incident = JSON.parse(added.stdout) as IncidentRecord
    expect(incident).to.include({severity: 'critical', title: 'streams-stall', author: 'alice', resolvedAt: null})

    const listed = await run<IncidentListResult>(['incident', 'list', '--open', '--json'])
    expect((JSON.parse(listed.stdout) as IncidentListResult)).to.deep.include({open: 1, openCritical: 1})

    const resolved = await run<IncidentRecord>(['incident', 'resolve', String(incident.id), '--by', 'bob', '--resolution', 'fixed', '--json'])
    expect(resolved.code).to.equal(0)
    expect(JSON.parse(resolved.stdout) as IncidentRecord).to.include({resolvedBy: 'bob', resolution: 'fixed'})

    const again = await run(['incident', 'resolve', String(incident.id)])
    expect(again.code).to.equal(2)
    expect(again.error?.message).to.contain('already resolved')
    const bad = await run(['incident', 'resolve', 'abc'])
    expect(bad.code).to.equal(2)
    expect(bad.error?.message).to.contain('positive whole number')

    const all = JSON.parse((await run<IncidentListResult>(['incident', 'list', '--json'])).stdout) as IncidentListResult
    expect(all.incidents).to.have.length(1)
    expect(all.open).to.equal(0)
    withStore((s) => expect(s.listTrail().map((t) => t.kind)).to.include.members(['incident.add', 'incident.resolve']))
  })

  it('feedback: add with --active-users, list shows the positive share and the complaint ratio (latest feedback per user)', async () => {
    expect((await run(['feedback', 'add', '--user', 'u1', '--sentiment', 'negative', '--comment', 'slow'])).code).to.equal(0)
    expect((await run(['feedback', 'add', '--user', 'u1', '--sentiment', 'positive'])).code).to.equal(0)
    expect((await run(['feedback', 'add', '--user', 'u2', '--sentiment', 'negative', '--active-users', '20'])).code).to.equal(0)
    const bad = await run(['feedback', 'add', '--user', 'u3', '--sentiment', 'meh'])
    expect(bad.code).to.equal(2)
    const list = JSON.parse((await run<FeedbackListResult>(['feedback', 'list', '--json'])).stdout) as FeedbackListResult
    expect(list.feedback).to.have.length(3)
    expect(list.users).to.deep.equal({total: 2, positive: 1, negative: 1})
    expect(list.activeUsers).to.equal(20)
    expect(list.positivePct).to.equal(50)
    expect(list.complaintPct).to.equal(5)
  })

  it('gonogo walks NO-GO (nothing recorded) -> AWAITING_APPROVAL -> GO -> NO-GO (critical incident) -> GO -> stale approval, each stored and chained', async () => {
    // Nothing recorded yet: no validation run, no rehearsal, no feedback.
    let g = await gonogo()
    expect(g.code).to.equal(1) // never rehearsed is a fail ("not rehearsed"), and no feedback
    const byId = (doc: GonogoCommandResult, id: string) => doc.criteria.find((c) => c.id === id)!
    expect(byId(g.doc, 'rollback-rehearsed').outcome).to.equal('fail')
    expect(byId(g.doc, 'all-success-criteria-met').outcome).to.equal('inconclusive')
    expect(byId(g.doc, 'all-success-criteria-met').reason).to.contain('0 sample(s)')

    recordGoodEvidence()
    expect((await run(['feedback', 'add', '--user', 'u1', '--sentiment', 'positive', '--active-users', '10'])).code).to.equal(0)
    g = await gonogo()
    expect(g.code, g.stdout).to.equal(3)
    expect(g.doc.verdict).to.equal('AWAITING_APPROVAL')
    expect(g.doc.approval).to.include({required: true, status: 'missing'})
    expect(byId(g.doc, 'team-approval')).to.include({outcome: 'inconclusive', approval: true})
    expect(byId(g.doc, 'rollback-rehearsed')).to.include({outcome: 'pass', value: 1})
    expect(g.doc.next.join('\n')).to.contain('cutover approve --phase 1 --by NAME')
    const awaiting = g.doc

    const approved = await run<ApproveResult>(['approve', '--phase', '1', '--by', 'alice', '--reason', 'clean-week', '--playbook', playbook, '--json'])
    expect(approved.code, approved.stdout).to.equal(0)
    const approval = JSON.parse(approved.stdout) as ApproveResult
    expect(approval.evaluation.id).to.equal(awaiting.evaluation.id)
    expect(approval.evaluation.evidenceHash).to.equal(awaiting.evidenceHash)
    expect(approval.approval).to.include({by: 'alice', reason: 'clean-week', evaluationId: awaiting.evaluation.id})

    // Same evidence (the windows slid, values did not change): GO on the approved evaluation's measurements.
    g = await gonogo()
    expect(g.code, g.stdout).to.equal(0)
    expect(g.doc.verdict).to.equal('GO')
    expect(g.doc.approval).to.include({status: 'valid', by: 'alice'})
    expect(g.doc.reusedEvaluation?.id).to.equal(awaiting.evaluation.id)
    expect(g.doc.evidenceHash).to.equal(awaiting.evidenceHash)
    expect(g.doc.next).to.deep.equal(['cutover phase advance --to 2'])

    // An open critical incident: NO-GO, and the next step names the incident.
    const incident = JSON.parse((await run<IncidentRecord>(['incident', 'add', '--severity', 'critical', '--title', 'data-loss', '--json'])).stdout) as IncidentRecord
    g = await gonogo()
    expect(g.code).to.equal(1)
    expect(g.doc.verdict).to.equal('NO-GO')
    expect(g.doc.blocking).to.deep.equal(['zero-critical-bugs'])
    expect(byId(g.doc, 'zero-critical-bugs')).to.include({outcome: 'fail', value: 1})
    expect(g.doc.next.join('\n')).to.contain(`cutover incident resolve ${incident.id}`)
    // A NO-GO cannot be approved.
    const refused = await run(['approve', '--phase', '1', '--by', 'alice', '--playbook', playbook])
    expect(refused.code).to.equal(1)
    expect(refused.error?.message).to.contain('is NO-GO')

    await run(['incident', 'resolve', String(incident.id), '--by', 'alice'])
    g = await gonogo()
    expect(g.doc.verdict, g.stdout).to.equal('GO') // back to exactly the approved evidence

    // New evidence (a second user's feedback): the approval is for an older evaluation.
    await run(['feedback', 'add', '--user', 'u2', '--sentiment', 'positive'])
    g = await gonogo()
    expect(g.code).to.equal(3)
    expect(g.doc.verdict).to.equal('AWAITING_APPROVAL')
    expect(g.doc.approval.status).to.equal('stale')
    expect(g.doc.approval.message).to.contain('approval is for an older evaluation').and.contain('feedback-seen')
    expect(g.doc.summary).to.contain('approval is for an older evaluation')

    withStore((s) => {
      const evaluations = s.listEvaluations({from: 1, to: 2})
      expect(evaluations.map((e) => e.verdict)).to.deep.equal(['AWAITING_APPROVAL', 'GO', 'NO-GO', 'GO', 'AWAITING_APPROVAL', 'NO-GO'])
      expect(s.listTrail({kind: 'gate.evaluation'})).to.have.length(6)
      expect(s.listTrail({kind: 'approval'})).to.have.length(1)
      expect(s.verifyTrail().ok).to.equal(true)
      expect(s.verifyRecords()).to.deep.include({ok: true, issueCount: 0})
    })
  })

  it('approve before any evaluation, or for a phase without a gate: exit 2 with the next command', async () => {
    const early = await run(['approve', '--phase', '1', '--by', 'alice', '--playbook', playbook])
    expect(early.code).to.equal(2)
    expect(early.error?.message).to.contain('has not been evaluated yet')
    const none = await run(['approve', '--phase', '7', '--by', 'alice', '--playbook', playbook])
    expect(none.code).to.equal(2)
    expect(none.error?.message).to.contain('no gate leaving phase 7')
    const gate = await run(['gonogo', '--from', '5', '--playbook', playbook])
    expect(gate.code).to.equal(2)
    expect(gate.error?.message).to.contain('its gates: 1 -> 2 (one-to-two)')
  })

  it('audit verify: intact chain exit 0; an edited trail row exit 1 naming the record', async () => {
    await run(['incident', 'add', '--severity', 'minor', '--title', 'typo'])
    await run(['feedback', 'add', '--user', 'u1', '--sentiment', 'positive'])
    await run(['incident', 'add', '--severity', 'major', '--title', 'slow-ttfb'])
    const ok = await run<AuditVerifyResult>(['audit', 'verify', '--json'])
    expect(ok.code).to.equal(0)
    const intact = JSON.parse(ok.stdout) as AuditVerifyResult
    expect(intact.ok).to.equal(true)

    const db = new Database(stateFile)
    const target = db.prepare("SELECT seq FROM trail WHERE kind = 'feedback.add'").get() as {seq: number}
    db.exec('DROP TRIGGER trail_no_update')
    db.prepare("UPDATE trail SET payload = replace(payload, 'positive', 'negative') WHERE seq = ?").run(target.seq)
    db.close()

    const broken = await run<AuditVerifyResult>(['audit', 'verify', '--json'])
    expect(broken.code).to.equal(1)
    const doc = JSON.parse(broken.stdout) as AuditVerifyResult
    expect(doc).to.include({ok: false, firstBadSeq: target.seq})
    const human = await run(['audit', 'verify'])
    expect(human.stdout).to.contain(`BROKEN at record #${target.seq}`).and.contain('changed after it was written')
  })

  it('audit verify: a record edited behind cutover (incident severity) or forged (an approval) exits 1 naming table and row', async () => {
    const added = await run<IncidentRecord>(['incident', 'add', '--severity', 'critical', '--title', 'streams-drop', '--json'])
    expect(added.code).to.equal(0)
    const incident = JSON.parse(added.stdout) as IncidentRecord
    const ok = await run<AuditVerifyResult>(['audit', 'verify', '--json'])
    expect(ok.code).to.equal(0)
    const intact = JSON.parse(ok.stdout) as AuditVerifyResult
    expect(intact).to.deep.include({ok: true})
    expect(intact.records).to.deep.include({ok: true, issueCount: 0, firstBad: null})
    expect(intact.records.tables.incidents).to.equal(1)

    // The trail is left alone: only the incidents row changes, so a gate would stop counting it.
    let db = new Database(stateFile)
    db.prepare("UPDATE incidents SET severity = 'minor' WHERE id = ?").run(incident.id)
    db.close()
    const edited = await run<AuditVerifyResult>(['audit', 'verify', '--json'])
    expect(edited.code).to.equal(1)
    const doc = JSON.parse(edited.stdout) as AuditVerifyResult
    expect(doc.ok).to.equal(false)
    expect(doc.trail.ok).to.equal(true)
    expect(doc.count).to.equal(doc.trail.count)
    expect(doc.records.issues.map((i) => [i.table, i.rowKey, i.problem])).to.deep.equal([['incidents', String(incident.id), 'edited']])
    expect(doc.reason).to.equal(doc.records.firstBad?.reason)
    const human = await run(['audit', 'verify'])
    expect(human.code).to.equal(1)
    expect(human.stdout).to.contain('audit trail intact').and.contain(`records TAMPERED: incidents row ${incident.id} edited (changed after it was written`)

    db = new Database(stateFile)
    db.prepare("UPDATE incidents SET severity = 'critical' WHERE id = ?").run(incident.id)
    db.prepare("INSERT INTO approvals (ts, phase, approved_by, reason) VALUES ('2026-01-01T00:00:00.000Z', 1, 'cto', 'lgtm')").run()
    const forgedId = (db.prepare('SELECT max(id) AS id FROM approvals').get() as {id: number}).id
    db.close()
    const forged = await run<AuditVerifyResult>(['audit', 'verify', '--json'])
    expect(forged.code).to.equal(1)
    expect((JSON.parse(forged.stdout) as AuditVerifyResult).records.issues.map((i) => [i.table, i.rowKey, i.problem])).to.deep.equal([['approvals', String(forgedId), 'inserted']])
  })
})
