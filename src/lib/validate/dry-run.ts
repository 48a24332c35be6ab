import {getCheck} from '../../checks/index.js'
import type {Phase, Playbook} from '../playbook/types.js'
import type {Target} from '../target/target.js'
import {checkTimeoutMs} from './run.js'
import {disturbsTarget, runsAfter} from './select.js'
import type {DryRunReport, PlannedCheck} from './types.js'

/** What `phase validate` would run and what each check would touch; reads and runs nothing. */
export function dryRun(opts: {playbook: Playbook; playbookFile: string; baseDir: string; phase: Phase; checks: PlannedCheck[]; target: Target}): DryRunReport {
  return {
    dry_run: true,
    playbook: {name: opts.playbook.name, version: opts.playbook.version, file: opts.playbookFile},
    target: {name: opts.target.name, home: opts.target.home, source: opts.target.spec.source},
    phase: {number: opts.phase.number, id: opts.phase.id, title: opts.phase.title},
    checks: opts.checks.map((c) => {
      const check = getCheck(c.id)!
      const after = runsAfter(c, opts.checks)
      return {
        ...c,
        verifies: check.verifies,
        touches: check.touches({target: opts.target, params: c.params, baseDir: opts.baseDir, phase: opts.phase.number}),
        runs: disturbsTarget(c) ? 'alone, last (disturbs the target)' : 'concurrently',
        after,
        timeout_ms: checkTimeoutMs(check, c.params, opts.target),
      }
    }),
  }
}
