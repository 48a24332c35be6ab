/**
 * `cutover phase validate` end to end: the built CLI (bin/run.js) against a freshly started
 * reference daemon (bin/cco) pointed at the mock upstream, with --json, --junit and every exit code.
 */
import {expect} from 'chai'
import {execa} from 'execa'
import fs from 'node:fs'
import path from 'node:path'

import {StateStore} from '../../src/lib/state/store.js'
import type {ValidationReport} from '../../src/lib/validate/types.js'
import {REPO_ROOT} from '../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../helpers/tmp.js'
import {DaemonHome, MockUpstream, PROBE_ENV} from '../helpers/checks.js'

const RUN = path.join(REPO_ROOT, 'bin', 'run.js')

async function cutover(args: string[]) {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && key !== 'CCO_HOME' && key !== 'NODE_ENV') env[key] = value
  return execa(process.execPath, [RUN, ...args], {env: {...env, ...PROBE_ENV}, extendEnv: false, reject: false, timeout: 120_000, stdin: 'ignore'})
}

interface TestCase {
  attrs: Record<string, string>
  child: 'failure' | 'error' | 'skipped' | null
  message: string | null
}

/** Enough of an XML reader for a JUnit file: the root, every testsuite's counts and every testcase. */
function parseJUnit(xml: string): {root: Record<string, string>; suites: Record<string, string>[]; cases: TestCase[]} {
  const attrs = (text: string) => Object.fromEntries([...text.matchAll(/([\w:-]+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]))
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).to.equal(true)
  expect(xml.trimEnd().endsWith('</testsuites>')).to.equal(true)
  expect(xml.match(/<testsuite /g)?.length).to.equal(xml.match(/<\/testsuite>/g)?.length)
  const root = attrs(/<testsuites ([^>]*)>/.exec(xml)?.[1] ?? '')
  const suites = [...xml.matchAll(/<testsuite ([^>]*)>/g)].map((m) => attrs(m[1] as string))
  const cases = [...xml.matchAll(/<testcase ([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => {
    const body = m[2] ?? ''
    const child = /<(failure|error|skipped)\b/.exec(body)?.[1] as TestCase['child'] | undefined
    return {attrs: attrs(m[1] as string), child: child ?? null, message: /message="([^"]*)"/.exec(body)?.[1] ?? null}
  })
  return {root, suites, cases}
}

const SMALL_PLAYBOOK = `name: e2e
version: "1"
target: {name: demo, cco: [cco]}
phases:
  - {id: one, number: 1, title: One, goal: g, plan_ref: 'x: "y"', checks: [{id: daemon.running, plan_ref: 'a: "b"'}, {id: gateway.health, plan_ref: 'a: "b"'}]}
  - {id: two, number: 2, title: Two, goal: g, plan_ref: 'x: "y"', checks: [{id: proxy.listening, plan_ref: 'a: "b"'}]}
  - {id: three, number: 3, title: Three, goal: g, plan_ref: 'x: "y"', checks: [{id: records.approval, plan_ref: 'a: "b"'}]}
`

describe('e2e: cutover phase validate against the reference daemon and the mock upstream', function () {
  this.timeout(180_000)
  let mock: MockUpstream
  let h: DaemonHome

  before(async function () {
    if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'commands', 'phase', 'validate.js')) || !fs.existsSync(path.join(REPO_ROOT, 'gateway', 'dist', 'cli.js'))) this.skip()
    const manifest = path.join(REPO_ROOT, 'oclif.manifest.json')
    if (fs.existsSync(manifest)) {
      const commands = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as {commands: Record<string, unknown>}).commands
      if (!commands['phase:validate']) throw new Error(`${manifest} is stale (no phase:validate): run npm run build`)
    }
    mock = await MockUpstream.start()
    h = new DaemonHome(mock.url)
    await h.start()
  })

  after(async () => {
    await h?.dispose()
    await mock?.stop()
    cleanupTempDirs()
  })

  it('phase 1 of the seed playbook passes on a fresh daemon: exit 0, a clean --json document, a valid JUnit file', async () => {
    const junit = path.join(makeTempDir(), 'phase1.xml')
    const run = await cutover(['phase', 'validate', '--phase', '1', '--home', h.home, '--json', '--junit', junit])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).to.equal(0)
    const doc = JSON.parse(run.stdout) as ValidationReport
    expect(doc.outcome).to.equal('pass')
    expect(doc.phase).to.deep.equal({number: 1, id: 'validation', title: 'Validation (Current State)'})
    expect(doc.counts.required.fail + doc.counts.required.error + doc.counts.required.inconclusive).to.equal(0)
    const failing = doc.results.filter((r) => r.required && r.outcome !== 'pass')
    expect(failing, JSON.stringify(failing, null, 2)).to.deep.equal([])
    expect(doc.results.map((r) => r.name)).to.include.members(['traffic.routes_through_gateway', 'traffic.streaming_sse', 'cost.records_request', 'script.test_gateway'])
    expect(doc.junit).to.equal(junit)
    expect(doc.scope).to.deep.equal({complete: true, phase_checks: doc.results.length, run_checks: doc.results.length, left_out: []})

    const {root, suites, cases} = parseJUnit(fs.readFileSync(junit, 'utf8'))
    expect(Number(root.tests)).to.equal(doc.results.length)
    expect(root).to.include({failures: '0', errors: '0'})
    expect(suites).to.have.length(1)
    expect(suites[0]?.name).to.equal('cutover phase 1: Validation (Current State)')
    expect(cases.map((c) => c.attrs.name)).to.deep.equal(doc.results.map((r) => r.name))
    // The optional proxy check fails on a default (proxy off) daemon: skipped, so CI stays green.
    const proxy = cases.find((c) => c.attrs.name === 'proxy.listening')
    expect(proxy?.child).to.equal('skipped')
    expect(proxy?.message).to.match(/^inconclusive: not required, fail/)

    const store = StateStore.open(path.join(h.home, 'cutover', 'state.db'))
    try {
      expect(store.getRun(doc.run_id)?.outcome).to.equal('pass')
    } finally {
      store.close()
    }
  })

  it('#11.10: a stopped daemon fails daemon.running although the plan\'s script (run last) starts it again', async () => {
    expect((await h.target.daemon('stop')).ok).to.equal(true)
    try {
      const run = await cutover(['phase', 'validate', '--phase', '1', '--home', h.home, '--json'])
      expect(run.exitCode, run.stderr).to.equal(1)
      const doc = JSON.parse(run.stdout) as ValidationReport
      expect(doc.results.find((r) => r.name === 'daemon.running')?.outcome).to.equal('fail')
      expect(doc.scope.complete).to.equal(true)
    } finally {
      await h.target.daemon('stop')
      await h.start()
    }
    // --no-disturb: the CI health gate leaves the script out (nothing restarted) and is a partial run.
    const pidBefore = h.target.readPidFile().pid
    const gate = await cutover(['phase', 'validate', '--phase', '1', '--no-disturb', '--home', h.home, '--json'])
    const doc = JSON.parse(gate.stdout) as ValidationReport
    expect(doc.results.map((r) => r.name)).to.not.include('script.test_gateway')
    expect(doc.scope).to.deep.include({complete: false, left_out: ['script.test_gateway']})
    expect(h.target.readPidFile().pid, 'nothing restarted the daemon').to.equal(pidBefore)
  })

  it('without --json: the listr task lines, then the summary table (no JSON on stdout)', async () => {
    const run = await cutover(['phase', 'validate', '--phase', '1', '--check', 'daemon.running', '--check', 'gateway.health', '--home', h.home])
    expect(run.exitCode, run.stderr).to.equal(0)
    expect(run.stdout).to.match(/\[COMPLETED\] gateway\.health: PASS/)
    expect(run.stdout).to.match(/gateway\.health\s+PASS\s+"status": "healthy"/)
    expect(run.stdout).to.contain('PASS: every required check passed (2/2 required passed')
  })

  describe('exit codes for each outcome (a small playbook)', () => {
    let playbook: string
    before(() => {
      playbook = path.join(makeTempDir(), 'e2e.yaml')
      fs.writeFileSync(playbook, SMALL_PLAYBOOK)
    })

    it('1 when a required check fails (--junit: <failure>)', async () => {
      const junit = path.join(makeTempDir(), 'fail.xml')
      const run = await cutover(['phase', 'validate', '--playbook', playbook, '--phase', '2', '--home', h.home, '--json', '--junit', junit])
      expect(run.exitCode, run.stderr).to.equal(1)
      expect((JSON.parse(run.stdout) as ValidationReport).outcome).to.equal('fail')
      const {root, cases} = parseJUnit(fs.readFileSync(junit, 'utf8'))
      expect(root).to.include({tests: '1', failures: '1', errors: '0'})
      expect(cases[0]?.child).to.equal('failure')
    })

    it('3 when a required check is inconclusive (awaiting approval)', async () => {
      const run = await cutover(['phase', 'validate', '--playbook', playbook, '--phase', '3', '--home', h.home, '--json'])
      expect(run.exitCode, run.stderr).to.equal(3)
      const doc = JSON.parse(run.stdout) as ValidationReport
      expect(doc.outcome).to.equal('inconclusive')
      expect(doc.results[0]?.remediation).to.contain('cutover approve --phase 3')
    })

    it('2 for a usage error (unknown check)', async () => {
      const run = await cutover(['phase', 'validate', '--playbook', playbook, '--phase', '1', '--check', 'nope', '--home', h.home])
      expect(run.exitCode).to.equal(2)
      expect(run.stderr).to.contain('phase 1 has no check "nope"')
    })

    it('4 when the target cannot be measured (daemon stopped), `cutover validate` on the current phase (--junit: <error>)', async () => {
      const store = StateStore.open(path.join(h.home, 'cutover', 'state.db'))
      store.setPhase(1, {reason: 'e2e'})
      store.close()
      await h.stop()
      const junit = path.join(makeTempDir(), 'error.xml')
      const run = await cutover(['validate', '--playbook', playbook, '--check', 'gateway.health', '--home', h.home, '--json', '--junit', junit])
      expect(run.exitCode, run.stderr).to.equal(4)
      const doc = JSON.parse(run.stdout) as ValidationReport
      expect(doc.phase.number).to.equal(1)
      expect(doc.outcome).to.equal('error')
      const {root, cases} = parseJUnit(fs.readFileSync(junit, 'utf8'))
      expect(root).to.include({tests: '1', failures: '0', errors: '1'})
      expect(cases[0]?.child).to.equal('error')
      // ... and the daemon being down is a fail for daemon.running (exit 1).
      const down = await cutover(['phase', 'validate', '--playbook', playbook, '--phase', '1', '--home', h.home, '--json'])
      expect(down.exitCode).to.equal(1)
    })
  })
})
