/** The shared body of `cutover phase validate` and `cutover validate`: flags in, typed result out. */
import path from 'node:path'

import {ConfigError} from '../errors.js'
import {defaultPlaybookPath, displayPath, loadPlaybook} from '../playbook/index.js'
import {PUBLIC_OUTPUT, writeFileAtomic} from '../util/atomic-write.js'
import type {StateStore} from '../state/store.js'
import type {Target} from '../target/target.js'
import {dryRun} from './dry-run.js'
import {renderDryRun, renderReport, validationJUnit} from './output.js'
import {runValidation} from './run.js'
import {disturbsTarget, findPhase, planChecks} from './select.js'
import type {DryRunReport, ValidationReport} from './types.js'

export interface ValidateInput {
  playbook?: string
  phase?: number
  checks: string[]
  /** Leave out the checks that disturb the target (recorded as a partial run). */
  noDisturb?: boolean
  dryRun: boolean
  junit?: string
  json: boolean
  target: () => Promise<Target>
  state: () => Promise<StateStore>
  log: (line: string) => void
  setExitCode: (code: number) => void
}

export async function validateCommand(input: ValidateInput): Promise<ValidationReport | DryRunReport> {
  const file = input.playbook ?? defaultPlaybookPath()
  const playbook = await loadPlaybook(file)
  const shown = displayPath(file)
  const baseDir = path.dirname(path.resolve(file))
  const target = await input.target()
  let number = input.phase
  if (number === undefined) number = (await input.state()).getPhase()?.phase ?? 1
  const phase = findPhase(playbook, number)
  const checks = planChecks(phase, input.checks).filter((c) => !(input.noDisturb && disturbsTarget(c)))
  if (input.dryRun) {
    const report = dryRun({playbook, playbookFile: shown, baseDir, phase, checks, target})
    if (!input.json) for (const line of renderDryRun(report)) input.log(line)
    return report
  }
  if (checks.length === 0) throw new ConfigError(`phase ${phase.number} of playbook "${playbook.name}" has no checks to run`, ['Add checks to the phase in the playbook.'], 'PHASE_NO_CHECKS')
  const state = await input.state()
  const report = await runValidation({playbook, playbookFile: shown, baseDir, phase, checks, target, state, renderer: input.json ? 'silent' : 'auto'})
  if (input.junit) {
    const junitFile = path.resolve(input.junit)
    try {
      writeFileAtomic(junitFile, validationJUnit(report), PUBLIC_OUTPUT)
    } catch (error) {
      throw new ConfigError(`cannot write the JUnit file ${junitFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (the run was recorded: ${report.run_id})`, ['Pass a writable path to --junit.'], 'JUNIT_UNWRITABLE')
    }
    report.junit = junitFile
  }
  if (!input.json) {
    for (const line of renderReport(report)) input.log(line)
    if (report.junit) input.log(`JUnit: ${report.junit}`)
  }
  input.setExitCode(report.exit_code)
  return report
}
