/*
 * e2e: `cutover audit verify` through bin/run.js on a state file written by the StateStore API and
 * then edited directly with better-sqlite3, as someone holding state.db would (no daemon needed).
 * Needs `npm run build` (dist/).
 */
import Database from 'better-sqlite3'
import {expect} from 'chai'
import {execa} from 'execa'
import path from 'node:path'

import type {AuditVerifyResult} from '../../src/commands/audit/verify.js'
import {StateStore} from '../../src/lib/state/store.js'
import {REPO_ROOT} from '../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../helpers/tmp.js'

const RUN = path.join(REPO_ROOT, 'bin', 'run.js')

function childEnv(): Record<string, string> {
  const drop = new Set(['CCO_HOME', 'NODE_ENV', 'CUTOVER_TARGET', 'CUTOVER_STATE', 'CUTOVER_PLAYBOOK', 'CUTOVER_HOME'])
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !drop.has(key)) env[key] = value
  return {...env, NO_COLOR: '1', CUTOVER_ACTOR: 'audit-e2e'}
}

const verify = async (state: string, json = true) => {
  const out = await execa(process.execPath, [RUN, 'audit', 'verify', '--state', state, ...(json ? ['--json'] : [])], {env: childEnv(), extendEnv: false, reject: false, timeout: 60_000})
  return {code: out.exitCode, stdout: out.stdout, doc: json ? (JSON.parse(out.stdout) as AuditVerifyResult) : null}
}

describe('e2e: cutover audit verify (bin/run.js) on a state file edited behind cutover', function () {
  this.timeout(120_000)
  afterEach(() => cleanupTempDirs())

  it('exit 0 on the untouched file; exit 1 naming the sample whose metrics were edited; trail fields kept', async () => {
    const state = path.join(makeTempDir(), 'state.db')
    const store = StateStore.open(state, {actor: 'alice'})
    store.setPhase(1)
    store.addSamples([1, 2, 3].map((i) => ({source: 'gateway', ts: i * 30_000, metrics: {error_rate: i === 2 ? 0.4 : 0.01}})))
    store.addIncident({severity: 'major', title: 'slow'})
    const bad = store.listSamples().find((s) => s.ts === 60_000)!
    store.close()

    const intact = await verify(state)
    expect(intact.code).to.equal(0)
    expect(intact.doc).to.deep.include({ok: true, count: 2, state})
    expect(intact.doc!.records).to.deep.include({ok: true, rows: 5, issueCount: 0})

    const raw = new Database(state)
    raw.prepare('UPDATE samples SET metrics = ? WHERE id = ?').run(JSON.stringify({error_rate: 0.01}), bad.id)
    raw.close()

    const broken = await verify(state)
    expect(broken.code).to.equal(1)
    expect(broken.doc).to.deep.include({ok: false, count: 2})
    expect(broken.doc!.trail.ok).to.equal(true)
    expect(broken.doc!.records.issues.map((i) => [i.table, i.rowKey, i.problem])).to.deep.equal([['samples', String(bad.id), 'edited']])
    const human = await verify(state, false)
    expect(human.code).to.equal(1)
    expect(human.stdout).to.contain(`records TAMPERED: samples row ${bad.id} edited (changed after it was written`)
  })
})
