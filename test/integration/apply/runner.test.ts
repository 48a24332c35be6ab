import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'
import {simpleGit} from 'simple-git'

import {type PhaseValidator, runSteps, compensate, type RunContext} from '../../../src/lib/apply/index.js'
import type {ApplyStep, Playbook} from '../../../src/lib/playbook/types.js'
import {StateStore} from '../../../src/lib/state/store.js'
import {loadTargetFile} from '../../../src/lib/target/spec.js'
import {Target} from '../../../src/lib/target/target.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'
import {tempRepo} from './git.test.js'

const PLAYBOOK: Playbook = {
  name: 'unit',
  version: '1',
  target: {name: 'unit'},
  phases: [{id: 'p2', number: 2, title: 'p2', goal: 'g', plan_ref: 'r', checks: [{id: 'daemon.running', plan_ref: 'r'}], apply: [], rollback: []}],
  gates: [],
  rollback_triggers: [],
  do_not_rollback_for: [],
  emergency_rollback: [],
  kpis: [],
  risks: [],
}

const passing: PhaseValidator = async (r) => ({phase: r.phase, outcome: 'pass', exitCode: 0, results: [], validator: 'test', durationMs: 0})
const failing: PhaseValidator = async (r) => ({phase: r.phase, outcome: 'fail', exitCode: 1, results: [{name: 'x', id: 'x', outcome: 'fail', detail: 'forced failure', required: true}], validator: 'test', durationMs: 0})

/** A target with a home (flags) and a git repo; its build command records that it ran. */
function makeTarget(repo: string | null): {target: Target; home: string; builds: string} {
  const dir = makeTempDir('cutover-runner-')
  const home = path.join(dir, 'home')
  fs.mkdirSync(path.join(home, 'config'), {recursive: true})
  fs.writeFileSync(path.join(home, 'config', 'daemon-config.json'), JSON.stringify({gatewayEnabled: true, proxyEnabled: true}))
  const builds = path.join(dir, 'builds.log')
  const file = path.join(dir, 'target.yaml')
  fs.writeFileSync(file, [`name: unit`, `home: ${JSON.stringify(home)}`, `cco: [${JSON.stringify(process.execPath)}, -e, "process.exit(0)"]`, ...(repo ? [`repo: ${JSON.stringify(repo)}`, `build: [sh, -c, ${JSON.stringify(`echo built >> '${builds}'`)}]`, 'test: [sh, -c, "exit 3"]'] : [])].join('\n') + '\n')
  return {target: new Target(loadTargetFile(file, {defaultHome: home})), home, builds}
}

function ctx(target: Target, state: StateStore, validator: PhaseValidator, preHead: string | null = null): RunContext {
  return {target, playbook: PLAYBOOK, playbookDir: process.cwd(), state, phase: 2, validator, preHead, phaseCommits: [], log: () => undefined}
}

describe('apply/runner: journaled steps, automatic rollback, resume', () => {
  let state: StateStore
  beforeEach(() => {
    state = StateStore.open(path.join(makeTempDir('cutover-state-'), 'state.db'))
  })
  afterEach(() => {
    state.close()
    cleanupTempDirs()
  })

  const flagsStep: ApplyStep = {id: 'flags', type: 'set_flags', title: 'proxy off', flags: {proxyEnabled: false}}
  const validateStep: ApplyStep = {id: 'validate', type: 'validate', title: 'validate'}

  it('journals the previous flags before writing, and marks every step done', async () => {
    const {target} = makeTarget(null)
    const steps = [flagsStep, validateStep]
    const op = state.beginOperation({kind: 'advance', params: {}, steps: steps.map((s) => s.id)})
    const outcome = await runSteps(state, op.operation.id, steps, ctx(target, state, passing), {compensateOnFailure: true})
    expect(outcome.status).to.equal('completed')
    expect(target.readFlags()).to.deep.equal({gatewayEnabled: true, proxyEnabled: false})
    const journal = state.operationSteps(op.operation.id)
    expect(journal.map((s) => s.state)).to.deep.equal(['done', 'done'])
    expect((journal[0]!.detail as {before: {flags: unknown}}).before.flags).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})
  })

  it('a failing validation undoes the flags from the journal and finishes the operation as rolled_back', async () => {
    const {target} = makeTarget(null)
    const steps = [flagsStep, validateStep]
    const op = state.beginOperation({kind: 'advance', params: {}, steps: steps.map((s) => s.id)})
    const outcome = await runSteps(state, op.operation.id, steps, ctx(target, state, failing), {compensateOnFailure: true})
    expect(outcome.status).to.equal('rolled_back')
    expect(outcome.failure).to.deep.include({id: 'validate'})
    expect(outcome.failure!.error).to.contain('forced failure')
    expect(target.readFlags()).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})
    expect(state.getOperation(op.operation.id)!.state).to.equal('rolled_back')
    expect(state.operationSteps(op.operation.id).map((s) => s.state)).to.deep.equal(['rolled_back', 'rolled_back'])
    expect(state.pendingOperation()).to.equal(null)
  })

  it('a step left "running" by a kill is run again on resume with its originally recorded state', async () => {
    const {target} = makeTarget(null)
    const steps = [flagsStep, validateStep]
    const op = state.beginOperation({kind: 'advance', params: {}, steps: steps.map((s) => s.id)})
    // As if killed right after the flags were written: journaled running, before = the original flags.
    state.beginStep(op.operation.id, 0, undefined, {before: {flags: {gatewayEnabled: true, proxyEnabled: true}, flagsExisted: true}})
    target.writeFlags({gatewayEnabled: true, proxyEnabled: false})
    expect(state.pendingOperation()!.interruptedStep!.index).to.equal(0)
    const outcome = await runSteps(state, op.operation.id, steps, ctx(target, state, failing), {compensateOnFailure: true})
    // The resumed run fails validation: the undo restores the ORIGINAL flags, not the ones found on resume.
    expect(outcome.status).to.equal('rolled_back')
    expect(target.readFlags()).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})
    expect(state.listTrail({kind: 'step.begin'}).map((t) => (t.payload as {retry: boolean}).retry)).to.deep.equal([false, true, false])
  })

  it('git steps on a branch are undone to the recorded commit and branch; the build is re-run from the restored source', async () => {
    const {pkg} = await tempRepo()
    const {target, builds} = makeTarget(pkg)
    const git = simpleGit({baseDir: pkg})
    const preHead = (await git.revparse(['HEAD'])).trim()
    const steps: ApplyStep[] = [
      {id: 'branch', type: 'git', action: 'branch', name: 'cutover/p3', title: 'branch'},
      {id: 'rm', type: 'git', action: 'remove_paths', paths: ['src/proxy/'], title: 'rm'},
      {id: 'lines', type: 'git', action: 'delete_lines', files: ['src/**/*.ts'], pattern: String.raw`\bimport\(\s*['"](\.{1,2}/)+proxy/`, expect: 'one', title: 'lines'},
      {id: 'build', type: 'run', command: 'build', title: 'build'},
      {id: 'commit', type: 'git', action: 'commit', message: 'cutover: remove proxy', title: 'commit'},
      {id: 'test', type: 'run', command: 'test', title: 'test (fails)'},
    ]
    const op = state.beginOperation({kind: 'advance', params: {}, steps: steps.map((s) => s.id)})
    const outcome = await runSteps(state, op.operation.id, steps, ctx(target, state, passing, preHead), {compensateOnFailure: true})
    expect(outcome.status).to.equal('rolled_back')
    expect(outcome.failure?.id).to.equal('test')
    expect(outcome.failure?.error).to.contain('exit code 3')
    expect((await git.revparse(['HEAD'])).trim()).to.equal(preHead)
    expect((await git.revparse(['--abbrev-ref', 'HEAD'])).trim()).to.equal('main')
    expect(await git.raw(['branch', '--list', 'cutover/p3'])).to.equal('')
    expect(fs.existsSync(path.join(pkg, 'src', 'proxy', 'index.ts'))).to.equal(true)
    expect(fs.readFileSync(path.join(pkg, 'src', 'modules.ts'), 'utf8')).to.contain("import('./proxy/index.js')")
    expect((await git.raw(['status', '--porcelain'])).trim()).to.equal('')
    expect(fs.readFileSync(builds, 'utf8').trim().split('\n')).to.have.length(2)
    expect(outcome.compensation?.actions.map((a) => a.action)).to.include('rebuild the restored source')
  })

  it('a rollback interrupted half-way is finished by the next compensation (undo restores recorded state)', async () => {
    const {target} = makeTarget(null)
    const steps = [flagsStep, validateStep]
    const op = state.beginOperation({kind: 'advance', params: {}, steps: steps.map((s) => s.id)})
    await runSteps(state, op.operation.id, steps, ctx(target, state, passing), {compensateOnFailure: true})
    expect(state.getOperation(op.operation.id)!.state).to.equal('running')
    // As if killed during a rollback: the newest step was already marked rolled_back, the flags not yet restored.
    state.markStep(op.operation.id, 1, 'rolled_back')
    const report = await compensate(state, op.operation.id, steps, ctx(target, state, passing), 'finishing an interrupted rollback')
    expect(report.ok).to.equal(true)
    expect(report.actions.map((a) => a.step)).to.deep.equal(['flags'])
    expect(target.readFlags()).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})
    expect(state.getOperation(op.operation.id)!.state).to.equal('rolled_back')
    expect(state.operationSteps(op.operation.id).map((s) => s.state)).to.deep.equal(['rolled_back', 'rolled_back'])
  })
})
