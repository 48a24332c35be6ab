import {Command, Flags} from '@oclif/core'
import chalk from 'chalk'

import {CutoverError, ExitCode} from '../lib/errors.js'
import {DEFAULT_TIME_SCALE, Rehearsal, type RehearsalResult, SCENARIO_DEFS, SCENARIOS, type ScenarioName} from '../lib/rehearse/index.js'

type ErrorWithExit = Error & {exitCode?: number; oclif?: {exit?: number}}

export default class Rehearse extends Command {
  static override description = `Run the whole cutover plan end to end in a sandbox, in about a minute.
Creates a sandbox (a git repo holding a copy of the reference daemon's gateway/ whose history has "feat: add unified LLM Gateway", built offline; a temporary CCO_HOME whose gateway routes to a mock provider with a dummy key; the daemon started from the sandbox build), sends Claude Code-like traffic through the official SDK for the whole run, and acts as the operator: Phase 1 validation, the baseline window, gonogo -> approve -> GO, advance to Phase 2, validation, a watch of the rollback triggers, the flag-rollback drill (recovery time measured), back to Phase 2, the git rollback rehearsal, gonogo 2 -> 3, advance to Phase 3 (the proxy module removed from the sandbox repo, built, tested, restarted), validation, and the HTML report.
Time is compressed: --time-scale plan seconds pass per second (default ${DEFAULT_TIME_SCALE}: a plan day takes ${(86_400 / DEFAULT_TIME_SCALE).toFixed(0)} s); windows never shrink below 5 s. Recovery objectives (30 s, 10 min) stay real.
Scenarios:
${Object.values(SCENARIO_DEFS).map((s) => `  ${s.name}: ${s.summary}`).join('\n')}
Every step's evidence goes to the state store in the sandbox home. The daemon, the mock provider and the traffic are always stopped (also on failure or Ctrl-C); the sandbox is removed unless --keep.
Exit codes: 0 the rehearsal ended as the scenario expects, 1 a step deviated (the result names it), 2 usage error.`

  static override examples = [
    '<%= config.bin %> rehearse',
    '<%= config.bin %> rehearse --scenario streaming-outage',
    '<%= config.bin %> rehearse --scenario slow-provider --keep --report review.html',
    '<%= config.bin %> rehearse --json > rehearsal.json',
  ]

  static override enableJsonFlag = true

  static override flags = {
    scenario: Flags.string({description: 'What happens during Phase 2.', options: [...SCENARIOS], default: 'happy'}),
    'time-scale': Flags.string({description: `Plan seconds per rehearsal second (default ${DEFAULT_TIME_SCALE}: one plan day = ${(86_400 / DEFAULT_TIME_SCALE).toFixed(0)} s).`}),
    keep: Flags.boolean({description: 'Keep the sandbox (repo, home, state store, report) and print where it is.'}),
    report: Flags.string({description: 'Write the HTML report here (default: <sandbox>/report.html with --keep, else a file in the OS temp directory).'}),
  }

  public override async init(): Promise<void> {
    await super.init()
    // chalk does not look at NO_COLOR by itself.
    if ('NO_COLOR' in process.env) chalk.level = 0
  }

  async run(): Promise<RehearsalResult> {
    const {flags} = await this.parse(Rehearse)
    let timeScale: number | undefined
    if (flags['time-scale'] !== undefined) {
      timeScale = Number(flags['time-scale'])
      if (!Number.isFinite(timeScale)) throw new CutoverError(`--time-scale must be a number, got "${flags['time-scale']}"`, {code: 'TIME_SCALE_INVALID', exit: ExitCode.Usage, suggestions: [`e.g. cutover rehearse --time-scale ${DEFAULT_TIME_SCALE * 2}`]})
    }
    const json = this.jsonEnabled()
    const controller = new AbortController()
    const rehearsal = new Rehearsal({
      scenario: flags.scenario as ScenarioName,
      ...(timeScale === undefined ? {} : {timeScale}),
      keep: flags.keep,
      ...(flags.report ? {reportFile: flags.report} : {}),
      renderer: json ? 'silent' : 'auto',
      signal: controller.signal,
    })
    let interrupts = 0
    const onSignal = (signal: NodeJS.Signals) => {
      interrupts++
      if (interrupts === 1) {
        controller.abort()
        if (!json) process.stderr.write(`\n${signal}: stopping after the current step and cleaning up (press Ctrl-C again to stop at once)\n`)
        return
      }
      // Second signal: kill what the rehearsal started, synchronously, and leave.
      rehearsal.emergencyStop()
      process.exit(130)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    let result: RehearsalResult
    try {
      result = await rehearsal.run()
    } finally {
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
    }
    if (!json) this.summarise(result)
    process.exitCode = result.exitCode
    return result
  }

  private summarise(r: RehearsalResult): void {
    const ok = (text: string) => chalk.green(text)
    const bad = (text: string) => chalk.red(text)
    this.log('')
    for (const d of r.decisions.filter((x) => ['gate', 'approval', 'advance', 'rollback', 'trigger', 'recovery'].includes(x.kind))) this.log(`  ${d.kind.padEnd(9)} ${d.decision.padEnd(17)} ${d.detail}`)
    for (const rt of r.recoveryTimes) {
      this.log(`  recovery  ${rt.kind.padEnd(17)} ${(rt.totalMs / 1000).toFixed(2)} s${rt.objectiveMs === null ? '' : ` (objective ${(rt.objectiveMs / 1000).toFixed(0)} s: ${rt.withinObjective ? 'met' : 'MISSED'})`}`)
    }
    // Named, never hidden: forced gates, synthetic records, evidence minimums the compressed windows could not hold.
    for (const g of r.provenance.gates) this.log(`  gate      ${`${g.from} -> ${g.to} ${g.passed}`.padEnd(17)} ${g.passed === 'FORCED' ? `past ${g.verdict}: ${g.why}` : `(${g.step})`}`)
    for (const what of r.provenance.synthetic) this.log(`  synthetic ${''.padEnd(17)} ${what}`)
    for (const w of r.compression.waivedEvidence) this.log(`  evidence  waived            ${w.at}: min_samples ${w.plannedMinSamples} -> ${w.rehearsalMinSamples} (${w.waiver})`)
    this.log(`  traffic   ${r.traffic.sent} requests (${r.traffic.streamed} streamed), ${r.traffic.ok} ok, ${r.traffic.failed} failed, models: ${Object.keys(r.traffic.byModel).join(', ')}`)
    this.log('')
    if (r.report) this.log(`Report: ${r.report}`)
    if (r.sandbox.kept && r.sandbox.root) this.log(`Sandbox kept: ${r.sandbox.root} (state ${r.sandbox.state}; target file ${r.sandbox.targetFile})`)
    if (r.ok) {
      this.log(ok(`✔ ${r.message}`))
      return
    }
    this.logToStderr(bad(`✖ ${r.message}`))
    if (r.sandbox.kept && r.sandbox.targetFile) this.logToStderr(`Inspect it: cutover phase status --target ${r.sandbox.targetFile}   (and cutover audit verify, cutover report, with the same --target)`)
    else this.logToStderr(`To inspect the evidence, run it again keeping the sandbox: cutover rehearse --scenario ${r.scenario} --keep`)
  }

  // Typed library errors become oclif errors with their exit code and suggestions.
  protected override async catch(err: ErrorWithExit): Promise<unknown> {
    if (err instanceof CutoverError) {
      const wrapped = Object.assign(new Error(err.message), {code: err.code, exitCode: err.exit, oclif: {exit: err.exit}, suggestions: err.suggestions})
      process.exitCode = err.exit
      return super.catch(wrapped)
    }
    process.exitCode = err.oclif?.exit ?? err.exitCode ?? ExitCode.Fail
    return super.catch(err)
  }
}
