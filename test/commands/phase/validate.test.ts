/** `cutover phase validate`, `cutover validate` and `cutover phase status` in process (runCommand), on hand-made target homes. */
import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import {StateStore} from '../../../src/lib/state/store.js'
import type {PhaseStatusReport} from '../../../src/lib/validate/status.js'
import type {DryRunReport, ValidationReport} from '../../../src/lib/validate/types.js'
import {writePidFile} from '../../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

describe('cutover phase validate / validate / phase status (commands)', () => {
  let home: string
  const stateFile = () => path.join(home, 'cutover', 'state.db')
  beforeEach(() => {
    home = makeTempDir('cutover-cmd-home-')
  })
  afterEach(() => {
    process.exitCode = undefined
    cleanupTempDirs()
  })

  it('--dry-run lists the checks and what each touches, without touching the target or the state', async () => {
    const {result, error} = await runCommand<DryRunReport>(['phase', 'validate', '--phase', '1', '--dry-run', '--home', home, '--json'])
    expect(error).to.equal(undefined)
    expect(process.exitCode ?? 0).to.equal(0)
    expect(result?.dry_run).to.equal(true)
    const names = result!.checks.map((c) => c.name)
    expect(names).to.include.members(['daemon.running', 'gateway.health', 'traffic.streaming_sse', 'script.test_gateway'])
    const health = result!.checks.find((c) => c.name === 'gateway.health')!
    expect(health.touches.urls?.[0]).to.contain('/gateway/health')
    const script = result!.checks.find((c) => c.name === 'script.test_gateway')!
    expect(script.runs).to.equal('alone, last (disturbs the target)')
    expect(script.touches.effects?.[0]).to.match(/restarts the daemon/)
    // The others see the target as found: they do not wait for the script; it waits for all of them.
    expect(result!.checks.find((c) => c.name === 'traffic.streaming_sse')!.after).to.deep.equal([])
    expect(script.after).to.include.members(['daemon.running', 'traffic.streaming_sse']).and.have.length(names.length - 1)
    expect(fs.readdirSync(home)).to.deep.equal([])
  })

  it('--dry-run human output names URLs, files and commands', async () => {
    const {stdout} = await runCommand(['phase', 'validate', '--phase', '3', '--dry-run', '--home', home])
    expect(stdout).to.contain('Dry run: phase 3')
    expect(stdout).to.contain('no-dead-proxy-code (repo.no_proxy_references)')
    expect(stdout).to.match(/commands: npm run build \(in .*gateway\)/)
  })

  it('an unknown phase or check is a usage error (exit 2) that lists what exists', async () => {
    const phase = await runCommand(['phase', 'validate', '--phase', '9', '--home', home])
    expect(phase.error?.message).to.contain('has no phase 9 (phases: 1 validation, 2 soft-cutover, 3 hard-cutover)')
    expect(process.exitCode).to.equal(2)
    process.exitCode = undefined
    const check = await runCommand(['phase', 'validate', '--phase', '1', '--check', 'gateway.helth', '--home', home])
    expect(check.error?.message).to.contain('phase 1 has no check "gateway.helth"')
    expect(process.exitCode).to.equal(2)
  })

  it('a playbook with a bad check parameter is refused (exit 2) with file:line:col', async () => {
    const file = path.join(makeTempDir(), 'bad.yaml')
    fs.writeFileSync(file, `name: t\nversion: "1"\ntarget: {name: demo, cco: [cco]}\nphases:\n  - id: one\n    number: 1\n    title: One\n    goal: g\n    plan_ref: 'x: "y"'\n    checks:\n      - {id: audit.complete, plan_ref: 'a: "b"', params: {window: 5m}}\n`)
    const {error} = await runCommand(['phase', 'validate', '--playbook', file, '--home', home])
    expect(process.exitCode).to.equal(2)
    expect(error?.message).to.match(/bad\.yaml:11:\d+: phases\[0\]\.checks\[0\]\.params\.window: .*expected one of 15m, 1h, 24h, 3d/)
  })

  it('runs the selected checks, prints the table, records the run before reporting: exit 0', async () => {
    writePidFile(home, {gateway_port: null})
    const {stdout, result} = await runCommand<ValidationReport>(['phase', 'validate', '--phase', '1', '--check', 'pidfile.valid', '--home', home])
    expect(process.exitCode ?? 0).to.equal(0)
    expect(stdout).to.match(/Check\s+Outcome\s+Measured\s+Expected\s+Remediation/)
    expect(stdout).to.match(/pidfile\.valid\s+PASS/)
    expect(stdout).to.contain('PASS: every required check passed')
    // #11.2: a --check run is partial, says so, and is recorded as such.
    expect(stdout).to.match(/PARTIAL RUN: 1 of \d+ checks \(left out: .*gateway\.health.*\); recorded, but only a run of the whole checklist counts/)
    expect(result?.scope).to.deep.include({complete: false, run_checks: 1})
    expect(result?.scope.left_out).to.include('gateway.health').and.not.include('pidfile.valid')
    const store = StateStore.open(stateFile())
    try {
      const runs = store.listRuns<ValidationReport>({kind: 'validate'})
      expect(runs).to.have.length(1)
      expect(runs[0]?.outcome).to.equal('pass')
      expect(runs[0]?.id).to.equal(result?.run_id)
      expect(runs[0]?.results.results.map((r) => r.name)).to.deep.equal(['pidfile.valid'])
      expect(store.listTrail({kind: 'phase.validate'})).to.have.length(1)
    } finally {
      store.close()
    }
  })

  it('a failing required check: exit 1, the remediation in the output and in --json', async () => {
    writePidFile(home, {gateway_port: null})
    const {stdout} = await runCommand(['phase', 'validate', '--phase', '1', '--check', 'pidfile.gateway_port', '--home', home])
    expect(process.exitCode).to.equal(1)
    expect(stdout).to.contain('FAIL pidfile.gateway_port')
    expect(stdout).to.contain('remediation:')
    process.exitCode = undefined
    const json = await runCommand<ValidationReport>(['phase', 'validate', '--phase', '1', '--check', 'pidfile.gateway_port', '--home', home, '--json'])
    expect(process.exitCode).to.equal(1)
    const doc = JSON.parse(json.stdout) as ValidationReport
    expect(doc.outcome).to.equal('fail')
    expect(doc.exit_code).to.equal(1)
    expect(doc.results[0]?.remediation).to.contain('LLM Gateway')
  })

  it('validate (CI shorthand) runs the current phase from the state store', async () => {
    writePidFile(home, {proxy_port: 45_999})
    const store = StateStore.open(stateFile())
    store.setPhase(2, {reason: 'test'})
    store.close()
    const {result} = await runCommand<ValidationReport>(['validate', '--check', 'pidfile.no_proxy_port', '--home', home, '--json'])
    expect(result?.phase.number).to.equal(2)
    expect(result?.outcome).to.equal('fail')
    expect(process.exitCode).to.equal(1)
  })

  it('--junit writes one testcase per check; a missing daemon is an <error>, exit 4', async () => {
    const junit = path.join(makeTempDir(), 'out', 'junit.xml')
    const {result} = await runCommand<ValidationReport>(['phase', 'validate', '--phase', '1', '--check', 'gateway.health', '--check', 'pidfile.gateway_port', '--home', home, '--junit', junit, '--json'])
    expect(process.exitCode).to.equal(4)
    expect(result?.junit).to.equal(junit)
    const xml = fs.readFileSync(junit, 'utf8')
    expect(xml.match(/<testcase /g)).to.have.length(2)
    expect(xml.match(/<error message=/g)).to.have.length(2)
  })

  it('phase status --json: current phase, since, last validation per phase, what is due next', async () => {
    writePidFile(home, {gateway_port: null})
    const store = StateStore.open(stateFile())
    store.setPhase(1, {reason: 'start'})
    store.close()
    await runCommand(['phase', 'validate', '--phase', '1', '--check', 'pidfile.valid', '--home', home])
    process.exitCode = undefined
    const {result, stdout} = await runCommand<PhaseStatusReport>(['phase', 'status', '--home', home])
    expect(process.exitCode ?? 0).to.equal(0)
    expect(result?.phase).to.include({number: 1, id: 'validation', recorded: true})
    expect(result?.validations).to.deep.equal([{phase: 1, run_id: result?.validations[0]?.run_id, outcome: 'pass', finished_at: result?.validations[0]?.finished_at, required_passed: 1, required_total: 1, complete: false}])
    const baseline = result?.due.find((d) => d.what === 'baseline_window')
    expect(baseline?.text).to.match(/^baseline window \(2d\) ends in 1d 23h$/)
    expect(stdout).to.contain('Due next:')
    expect(stdout).to.match(/Next: baseline window \(2d\) ends in 1d 23h/)
  })

  it('phase status without any record: phase 1 assumed, validate first', async () => {
    const {result} = await runCommand<PhaseStatusReport>(['phase', 'status', '--home', home, '--json'])
    expect(result?.phase.recorded).to.equal(false)
    expect(result?.next).to.equal('validate phase 1: cutover phase validate --phase 1')
  })
})
