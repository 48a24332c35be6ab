/**
 * Appendix B test-gateway.sh as a playbook `script` step: runs the zx script (with --json) against
 * the target's home and turns its exit code and JSON report into a check result. The script
 * restarts the daemon (as the plan's does) unless its args say --no-restart, so it runs alone.
 * That restart is planned maintenance: recorded as a `validate-restart` window (excluded from
 * availability) from the script's start until the daemon answers again after it, plus the grace.
 */
import {createRequire} from 'node:module'
import fs from 'node:fs'
import path from 'node:path'

import {MaintenanceTracker} from '../../lib/apply/maintenance.js'
import type {Target} from '../../lib/target/target.js'
import {defineCheck} from '../types.js'
import {couldNotMeasure, errorFromException, fail, pass, tail} from '../util.js'

interface Params {
  script: string
  args: string[]
  timeout: number
}

interface ScriptReport {
  ok?: boolean
  error?: string
  steps?: {step: string; ok: boolean; detail: string}[]
  gateway_port?: number | null
  health?: unknown
  total_requests?: number | null
  providers?: unknown
}

/** zx's CLI, resolved from this package (the script's imports resolve from its own location). */
function zxCli(): string {
  const require = createRequire(import.meta.url)
  const pkgFile = require.resolve('zx/package.json')
  const bin = (JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as {bin: {zx: string}}).bin.zx
  return path.join(path.dirname(pkgFile), bin)
}

/** CCO_BIN for the script: the target's restart command minus "daemon restart" (quoted for the script's splitter). */
export function ccoBinFor(target: Target): string | null {
  const restart = target.spec.daemon.restart
  if (restart.length < 3 || restart.at(-2) !== 'daemon' || restart.at(-1) !== 'restart') return null
  return restart
    .slice(0, -2)
    .map((part) => (/[\s"']/.test(part) ? `"${part.replace(/"/g, '')}"` : part))
    .join(' ')
}

export const scriptTestGateway = defineCheck<Params>({
  id: 'script.test_gateway',
  title: "The plan's gateway validation script passes",
  verifies: 'Appendix B "test-gateway.sh - Validate gateway functionality"',
  params: {
    script: {type: 'string', default: 'scripts/test-gateway.mjs', description: 'zx script, relative to the playbook file'},
    args: {type: 'string[]', default: ['--json'], description: 'arguments (keep --json: its report becomes the evidence)'},
    timeout: {type: 'duration', default: '90s', description: 'time limit for the script'},
  },
  exclusive: true,
  timeoutMs: (p) => p.timeout + 5000,
  touches: ({target, params, baseDir}) => ({
    commands: [`zx ${path.resolve(baseDir, params.script)} ${params.args.join(' ')} (CCO_HOME=${target.home})`],
    effects: params.args.includes('--no-restart') ? [] : ['restarts the daemon (cco daemon restart), as the plan script does'],
  }),
  async run({target, params, baseDir, signal, state, phase}) {
    const script = path.resolve(baseDir, params.script)
    const expected = `${path.basename(script)} ${params.args.join(' ')} exits 0 and reports ok`
    if (!fs.existsSync(script)) {
      return couldNotMeasure({detail: `script ${script} not found`, expected, evidence: {script}, remediation: 'Fix "script" (relative to the playbook file).'})
    }
    const env: Record<string, string> = {...target.commandEnv(), CCO_HOME: target.home}
    const ccoBin = ccoBinFor(target)
    if (ccoBin) env.CCO_BIN = ccoBin
    const restarts = !params.args.includes('--no-restart')
    const maintenance = new MaintenanceTracker(state, target, restarts ? {kind: 'validate-restart', reason: `phase ${phase} validation: ${path.basename(script)} restarts the daemon`} : null)
    maintenance.begin({check: 'script.test_gateway'})
    let run
    try {
      const {execa} = await import('execa')
      run = await execa(process.execPath, [zxCli(), script, ...params.args], {env, extendEnv: false, reject: false, stdin: 'ignore', timeout: params.timeout, cancelSignal: signal, forceKillAfterDelay: 2000, cwd: baseDir, maxBuffer: 10_000_000})
    } catch (error) {
      maintenance.end('failed')
      return errorFromException(error, expected, {script})
    }
    // Passed: the daemon is back (verified, then the grace). Failed: downtime from here on counts.
    if (run.exitCode === 0 && !run.timedOut) await maintenance.endVerified()
    else maintenance.end('failed')
    const stdout = target.redact(String(run.stdout ?? ''))
    const stderr = target.redact(String(run.stderr ?? ''))
    let report: ScriptReport | null = null
    try {
      report = JSON.parse(stdout) as ScriptReport
    } catch {
      report = null
    }
    const evidence = {script, args: params.args, exit_code: run.exitCode ?? null, timed_out: Boolean(run.timedOut), duration_ms: run.durationMs, report, output_tail: tail(report ? stderr : `${stdout}\n${stderr}`, 30)}
    const failedStep = report?.steps?.find((s) => !s.ok)
    if (run.timedOut) {
      return fail({detail: `${path.basename(script)} did not finish within ${params.timeout} ms`, expected, measured: 'timed out', evidence, remediation: 'See the output tail; the daemon may not have come back after the restart.'})
    }
    if (run.exitCode === 0 && (report === null || report.ok !== false)) {
      return pass({detail: `${path.basename(script)} passed${report ? `: ${report.steps?.length ?? 0} steps, gateway port ${report.gateway_port ?? '?'}` : ''}`, expected, measured: `exit 0${report?.steps ? `, ${report.steps.length} steps ok` : ''}`, evidence})
    }
    if (run.exitCode === 2) {
      return couldNotMeasure({detail: `${path.basename(script)}: bad input: ${report?.error ?? tail(stdout + '\n' + stderr, 1)[0] ?? 'exit 2'}`, expected, measured: 'exit 2', evidence, remediation: `Check CCO_HOME (${target.home}) and CCO_BIN (${ccoBin ?? 'default'}).`})
    }
    return fail({
      detail: `${path.basename(script)} exited ${run.exitCode ?? run.signal}: ${failedStep ? `${failedStep.step}: ${failedStep.detail}` : (report?.error ?? tail(stdout + '\n' + stderr, 1)[0] ?? '')}`,
      expected,
      measured: `exit ${run.exitCode ?? run.signal}${failedStep ? ` at ${failedStep.step}` : ''}`,
      evidence,
      remediation: failedStep ? `Fix what the "${failedStep.step}" step reports, then validate again.` : 'See the output tail in the evidence.',
    })
  },
})
