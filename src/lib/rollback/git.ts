/**
 * The git rollback (plan §2.4 Option 1 / §3.5): revert the cutover commit(s) in the target repo, or
 * check out --to REF on a rollback branch; then rebuild, run the tests, restart, verify. Journaled
 * with the same step runner as an advance, timed against the 10-minute objective.
 */
import path from 'node:path'

import {ConfigError, ExitCode, type ExitCodeValue} from '../errors.js'
import {lastAdvanceCommits} from '../apply/advance.js'
import * as g from '../apply/git.js'
import {isRollbackDrill} from '../apply/maintenance.js'
import {journalNames, runSteps, type StepReport} from '../apply/runner.js'
import {checkPlannable} from '../apply/steps.js'
import {defaultValidator, type PhaseValidator} from '../apply/validator.js'
import type {ApplyStep, Playbook} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import type {PhaseState, RollbackRecord} from '../state/types.js'
import type {Target} from '../target/target.js'
import {supersedePending} from './pending.js'

export const GIT_OBJECTIVE_MS = 10 * 60_000
export const ROLLBACK_BRANCH = 'rollback-gateway-cutover'

export interface GitRollbackOptions {
  target: Target
  state: StateStore
  playbook: Playbook
  playbookFile: string
  /** Check out this ref on a rollback branch instead of reverting the cutover commits. */
  to?: string
  decidedAt?: number
  objectiveMs?: number
  reason?: string
  /** A declared drill (`rollback --drill`, planned maintenance); default false: an emergency rollback's downtime counts. */
  drill?: boolean
  validator?: PhaseValidator
  log?: (line: string) => void
}

export interface GitRollbackResult {
  kind: 'git'
  outcome: 'success' | 'failed'
  exitCode: ExitCodeValue
  message: string
  target: {name: string; home: string; repo: string}
  mode: 'revert' | 'checkout'
  /** Reverted commits (revert) or the ref checked out (checkout). */
  commits: string[]
  ref: string | null
  headBefore: string
  headAfter: string
  objectiveMs: number
  totalMs: number
  withinObjective: boolean
  stages: {stage: string; ms: number}[]
  steps: StepReport[]
  operationId: string
  rollback: RollbackRecord
  superseded: {operationId: string; kind: string} | null
  phase: PhaseState | null
  error?: string
}

/** The caller holds the operation lock. */
export async function gitRollback(opts: GitRollbackOptions): Promise<GitRollbackResult> {
  const t0 = opts.decidedAt ?? performance.now()
  const log = opts.log ?? (() => undefined)
  const {target, state} = opts
  const objectiveMs = opts.objectiveMs ?? GIT_OBJECTIVE_MS
  const repo = await g.openTargetRepo(target)
  await g.requireClean(repo, 'the git rollback')
  const headBefore = await g.head(repo)

  let commits: string[] = []
  let backTo: number | null = null
  let first: ApplyStep
  if (opts.to) {
    const sha = await g.resolveCommit(repo, opts.to)
    commits = [sha]
    first = {id: 'rollback-branch', type: 'git', action: 'branch', name: ROLLBACK_BRANCH, from: sha, title: `Create ${ROLLBACK_BRANCH} at ${opts.to} (${sha.slice(0, 12)})`}
  } else {
    const found = await lastAdvanceCommits(state, repo)
    if (!found) {
      throw new ConfigError(`no cutover commit to revert in ${repo.dir}: no completed advance made a commit that is still in HEAD's history`, [
        `Name the commit to go back to: cutover rollback --git --to <ref> (git -C ${repo.dir} log --oneline -20)`,
      ], 'NOTHING_TO_REVERT')
    }
    commits = found.commits
    backTo = found.from
    first = {id: 'revert', type: 'git', action: 'revert', ref: 'phase_commits', title: `Revert the phase ${found.to} commit(s) ${commits.map((c) => c.slice(0, 12)).join(', ')}`}
  }
  const current = state.getPhase()
  const restoredPhase = backTo ?? (current && current.phase > 1 ? current.phase - 1 : null)
  const verifyPhase = restoredPhase ?? 1
  const steps: ApplyStep[] = [
    first,
    {id: 'build', type: 'run', command: 'build', title: 'Rebuild'},
    {id: 'test', type: 'run', command: 'test', title: 'Run the tests'},
    {id: 'restart-daemon', type: 'daemon', action: 'restart', title: 'Restart the daemon from the restored build'},
    {id: 'verify', type: 'validate', phase: verifyPhase, title: 'The daemon runs from the restored build', checks: ['daemon.running', 'pidfile.valid']},
  ]
  checkPlannable(steps, target)
  const superseded = supersedePending(state, 'rollback --git', log)
  const op = state.beginOperation({kind: 'rollback.git', params: {mode: opts.to ? 'checkout' : 'revert', to: opts.to ?? null, commits, head_before: headBefore, reason: opts.reason ?? null, objective_ms: objectiveMs, steps}, steps: journalNames(steps)})
  const validator = opts.validator ?? (await defaultValidator())
  const outcome = await runSteps(state, op.operation.id, steps, {
    target,
    playbook: opts.playbook,
    playbookDir: path.dirname(path.resolve(opts.playbookFile)),
    state,
    phase: verifyPhase,
    validator,
    preHead: headBefore,
    phaseCommits: commits,
    log,
    maintenance: isRollbackDrill({...(opts.drill === undefined ? {} : {drill: opts.drill}), reason: opts.reason ?? null})
      ? {kind: 'rollback-drill', reason: `git rollback drill: ${opts.reason}`, planned: true}
      : {kind: 'rollback', reason: `git rollback: ${opts.reason ?? 'no reason given'}`, planned: false},
  }, {compensateOnFailure: false})
  const totalMs = Math.round(performance.now() - t0)
  const stages = [{stage: 'decision_to_start', ms: Math.max(0, totalMs - outcome.steps.reduce((sum, s) => sum + (s.durationMs ?? 0), 0))}, ...outcome.steps.filter((s) => s.durationMs !== null).map((s) => ({stage: s.id, ms: s.durationMs!}))]
  const error = outcome.failure ? `step "${outcome.failure.id}" failed: ${outcome.failure.error}` : undefined
  if (!error) state.finishOperation(op.operation.id, 'done', {commits, total_ms: totalMs})
  const headAfter = await g.head(repo)
  const rollback = state.recordRollback({
    kind: 'git',
    outcome: error ? 'failed' : 'success',
    timings: Object.fromEntries(stages.map((s) => [s.stage, s.ms])),
    objectiveMs,
    totalMs,
    operationId: op.operation.id,
    detail: {mode: opts.to ? 'checkout' : 'revert', commits, head_before: headBefore, head_after: headAfter, reason: opts.reason ?? null, ...(error ? {error} : {})},
  })
  const phase = !error && restoredPhase !== null && current && current.phase > restoredPhase ? state.setPhase(restoredPhase, {reason: `rollback --git from phase ${current.phase}`}) : state.getPhase()
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  return {
    kind: 'git',
    outcome: error ? 'failed' : 'success',
    exitCode: error || !rollback.withinObjective ? ExitCode.Fail : ExitCode.Ok,
    message: error ? `git rollback FAILED after ${seconds(totalMs)}: ${error.split('\n')[0]}` : `git rollback done in ${seconds(totalMs)} (objective ${seconds(objectiveMs)}: ${rollback.withinObjective ? 'met' : 'MISSED'}); HEAD ${headBefore.slice(0, 12)} -> ${headAfter.slice(0, 12)}`,
    target: {name: target.name, home: target.home, repo: repo.dir},
    mode: opts.to ? 'checkout' : 'revert',
    commits,
    ref: opts.to ?? null,
    headBefore,
    headAfter,
    objectiveMs,
    totalMs,
    withinObjective: rollback.withinObjective,
    stages,
    steps: outcome.steps,
    operationId: op.operation.id,
    rollback,
    superseded,
    phase,
    ...(error ? {error} : {}),
  }
}
