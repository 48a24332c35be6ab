import type {LauncherProbeResult, Target} from '../../lib/target/target.js'
import type {SharedMeasurements} from '../types.js'

/** One launcher run per validation, shared by the launcher checks. */
export function sharedLauncherProbe(target: Target, shared: SharedMeasurements): Promise<LauncherProbeResult> {
  return shared.once(`launcher-probe:${target.home}`, () => target.launcherProbe())
}

export function launcherCommandHint(target: Target): string {
  return `${target.spec.launcher.join(' ')} -- node -e <print ANTHROPIC_BASE_URL, HTTP(S)_PROXY> (CCO_HOME=${target.home})`
}

export function probeEvidence(probe: LauncherProbeResult): Record<string, unknown> {
  return {mode: probe.mode, url: probe.url ?? null, exit_code: probe.exitCode, child_env: probe.childEnv, output: probe.output.split('\n').slice(-15), duration_ms: probe.durationMs}
}
