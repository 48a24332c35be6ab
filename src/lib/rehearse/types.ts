/** The `cutover rehearse --json` contract: one result document per rehearsal. */
import type {TrafficStats} from './traffic.js'
import type {ScaledDuration, WaivedEvidence} from './scale.js'

export const SCENARIOS = ['happy', 'streaming-outage', 'slow-provider', 'gateway-crash'] as const
export type ScenarioName = (typeof SCENARIOS)[number]

export type StepOutcome = 'done' | 'deviated' | 'skipped'

export interface StepRecord {
  id: string
  title: string
  outcome: StepOutcome
  startedAt: string
  durationMs: number
  /** One line: what happened. */
  detail: string
  /** Ids of the state-store records this step produced (run, evaluation, operation, rollback...). */
  evidence?: Record<string, unknown>
}

export type DecisionKind = 'validation' | 'gate' | 'approval' | 'advance' | 'rollback' | 'trigger' | 'incident' | 'recovery' | 'fault'

export interface Decision {
  at: string
  step: string
  kind: DecisionKind
  /** GO / AWAITING_APPROVAL / advanced / rolled_back / alert / rollback / pass ... */
  decision: string
  detail: string
}

export interface RecoveryTime {
  step: string
  /** flag-rehearsal (disposable daemon), flag (drill or automatic), git-rehearsal, daemon-restart (crash). */
  kind: string
  totalMs: number
  objectiveMs: number | null
  withinObjective: boolean | null
  stages: {stage: string; ms: number}[]
}

/** How the rehearsal went through a gate: on its own GO, or forced past another verdict (and why). */
export interface GatePassage {
  step: string
  from: number
  to: number
  /** What the gate said when the advance evaluated it. */
  verdict: string
  passed: 'GO' | 'FORCED'
  why?: string
}

/** What the summary must not pass off as real: forced gates, evidence the rehearsal itself wrote, waived minimums. */
export interface RehearsalProvenance {
  gates: GatePassage[]
  /** Records the rehearsal wrote that no operator command would have produced as they are (scripted users, approvals). */
  synthetic: string[]
  /** Evidence minimums lowered for the compressed windows. */
  waived: string[]
}

export interface RehearsalResult {
  scenario: ScenarioName
  /** What this scenario is expected to end in. */
  expected: string
  ok: boolean
  exitCode: 0 | 1
  message: string
  /** The first step that did not go as the scenario expects. */
  deviation: {step: string; reason: string} | null
  timeScale: number
  startedAt: string
  finishedAt: string
  durationMs: number
  /** The phase the target ended in. */
  finalPhase: number | null
  steps: StepRecord[]
  decisions: Decision[]
  recoveryTimes: RecoveryTime[]
  traffic: TrafficStats
  /** Which gates were GO and which forced (with why), what was synthetic or waived: the summary says exactly this. */
  provenance: RehearsalProvenance
  compression: {timeScale: number; minWindowMs: number; monitorIntervalMs: number; durations: ScaledDuration[]; waivedEvidence: WaivedEvidence[]}
  sandbox: {root: string | null; home: string | null; repo: string | null; targetFile: string | null; state: string | null; kept: boolean}
  report: string | null
  /** Processes the rehearsal started, and any found still running after the cleanup (should be none). */
  processes: {daemonPids: number[]; mockPid: number | null; leftRunning: number[]}
}
