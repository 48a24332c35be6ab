import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ConfigError} from '../lib/errors.js'
import {defaultPlaybookPath, displayPath, durationMs, loadPlaybook} from '../lib/playbook/index.js'
import {flagRollback, type FlagRollbackResult, gitRollback, type GitRollbackResult, rehearseGitRollback, type RehearseResult} from '../lib/rollback/index.js'
import {parseFlagDuration} from '../lib/util/duration.js'

export type RollbackCommandResult = FlagRollbackResult | GitRollbackResult | RehearseResult

export default class Rollback extends BaseCommand<typeof Rollback> {
  static override description = `Get back, and measure how fast.
--flag: write {"gatewayEnabled": false, "proxyEnabled": true}, restart the daemon, wait until the proxy answers and the launcher selects proxy mode; report the recovery time per stage (decision -> flags written -> daemon up -> verified) against the 30 s objective.
--git: revert the cutover commit(s) in the target repo (or check out --to REF on the branch rollback-gateway-cutover), rebuild, run the tests, restart, verify; against the 10-minute objective.
--rehearse: build and test the last stable commit in a temporary git worktree, touching neither the working tree nor the running daemon.
A --flag rollback of a target that already is rolled back (flags gateway off / proxy on, the daemon serving the proxy with the gateway off, the launcher in proxy mode) reports "already rolled back" and changes nothing: no restart, no record (--force restarts and records anyway).
Every rollback and rehearsal is recorded with its timings (gonogo's "rollback rehearsed within objective" reads them). Objectives are strict, as the plan writes them ("< 1 minute"): a recovery that takes exactly the objective missed it.
Exit codes: 0 done within the objective (or already rolled back), 1 failed or over the objective, 2 usage error, 4 target unreachable.`

  static override examples = ['<%= config.bin %> rollback --flag', '<%= config.bin %> rollback --flag --force', '<%= config.bin %> rollback --git', '<%= config.bin %> rollback --git --to v1.4.2', '<%= config.bin %> rollback --rehearse --json']

  static override flags = {
    flag: Flags.boolean({description: 'Feature-flag rollback: gateway off, proxy on, restart (RTO 30 s).', exactlyOne: ['flag', 'git', 'rehearse']}),
    git: Flags.boolean({description: 'Git rollback: revert the cutover commits, rebuild, test, restart (RTO 10 min).', exactlyOne: ['flag', 'git', 'rehearse']}),
    rehearse: Flags.boolean({description: 'Rehearse the git rollback in a temporary worktree (changes nothing).', exactlyOne: ['flag', 'git', 'rehearse']}),
    to: Flags.string({description: 'With --git: the commit or branch to go back to (on a new branch rollback-gateway-cutover).', dependsOn: ['git']}),
    reason: Flags.string({description: 'Why (recorded with the rollback).'}),
    drill: Flags.boolean({description: 'A planned drill: its downtime is planned maintenance, left out of availability. Without it a rollback is an emergency and its downtime counts, whatever --reason says.', exclusive: ['rehearse']}),
    objective: Flags.string({description: 'Recovery-time objective (default: 30s for --flag, 10m for --git and --rehearse).'}),
    playbook: Flags.string({char: 'p', description: 'Playbook file (default: the bundled playbooks/llm-gateway-cutover.yaml).', env: 'CUTOVER_PLAYBOOK'}),
    force: Flags.boolean({description: 'With --flag: roll back even when the target already is rolled back (restarts the daemon and records a rollback again).', dependsOn: ['flag']}),
    wait: Flags.string({description: 'How long to wait for another cutover command that is changing the target.', default: '30s'}),
  }

  async run(): Promise<RollbackCommandResult> {
    const decidedAt = performance.now()
    const {flags} = this
    const objectiveMs = flags.objective === undefined ? undefined : parseFlagDuration(flags.objective, '--objective')
    if (objectiveMs !== undefined && objectiveMs <= 0) throw new ConfigError('--objective must be greater than zero, e.g. 30s')
    const quiet = this.jsonEnabled()
    const log = (line: string) => {
      if (!quiet) this.log(line)
    }
    const target = await this.target()
    const state = await this.state()
    let result: RollbackCommandResult
    if (flags.rehearse) {
      result = await rehearseGitRollback({target, state, ...(objectiveMs === undefined ? {} : {objectiveMs}), log})
    } else {
      const lock = await state.acquireOperationLock(flags.flag ? 'rollback --flag' : 'rollback --git', {waitMs: parseFlagDuration(flags.wait, '--wait')})
      try {
        if (flags.flag) {
          result = await flagRollback({target, state, decidedAt, drill: flags.drill, force: flags.force, ...(objectiveMs === undefined ? {} : {objectiveMs}), ...(flags.reason ? {reason: flags.reason} : {}), log})
        } else {
          const file = flags.playbook ?? defaultPlaybookPath()
          const playbook = await loadPlaybook(file)
          const procedure = playbook.phases.flatMap((p) => p.rollback).find((r) => r.kind === 'git' && r.rto)
          result = await gitRollback({
            target,
            state,
            playbook,
            playbookFile: displayPath(file),
            decidedAt,
            ...(flags.to ? {to: flags.to} : {}),
            ...(flags.reason ? {reason: flags.reason} : {}),
            drill: flags.drill,
            objectiveMs: objectiveMs ?? (procedure?.rto ? durationMs(procedure.rto) : undefined),
            log,
          })
        }
      } finally {
        lock.release()
      }
    }
    for (const s of result.stages) log(`  ${s.stage.padEnd(28)} ${String(s.ms).padStart(7)} ms`)
    if (result.exitCode === 0) this.log(result.message)
    else this.logToStderr(result.message)
    this.setExitCode(result.exitCode)
    return result
  }
}
