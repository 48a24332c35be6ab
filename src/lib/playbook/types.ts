/**
 * The playbook: a cutover plan as data. One YAML file holds what must hold in each phase
 * (checks), how to make each change (apply steps), how to get back (rollback procedures with
 * recovery-time objectives), when to move on (gates), when to go back (rollback triggers),
 * what success means (KPIs), when things happen (timeline) and what to tell people
 * (communications). Field names are the YAML keys (snake_case), so `--json` shows the file's shape.
 *
 * Durations are kept as written (`30s`, `10m`, `2d`); use `durationMs()` from `util/duration.ts`.
 * `plan_ref` quotes the plan line an item implements: `§1.2 Success Criteria: "..."`.
 */
import type {Operator, Statistic} from '../evaluate/types.js'

/** A duration as written in the playbook: parts `<number><unit>` largest unit first (ms, s, m, h, d, w; see util/duration.ts). */
export type Duration = string

/** `percent` (0..100) is the unit of every ratio-like metric the sources report (error rate, uptime,
 * audit coverage, feedback and fleet shares); `ratio` (0..1) exists for other playbooks' metrics. */
export type Unit = 'ratio' | 'percent' | 'ms' | 's' | 'count' | 'usd' | 'rps'
export type {Operator, Statistic}
/** Where a criterion's value comes from: the target's own evidence (audit log, metrics, monitor
 * samples), PromQL over a fleet, the human records (approvals, incidents, feedback, rehearsals,
 * validation runs), or the outcome of a library check run on the spot. */
export type MetricSource = 'gateway' | 'prometheus' | 'records' | 'check'
export type RollbackKind = 'flag' | 'git' | 'fastest' | 'manual'
export type TriggerAction = 'rollback' | 'alert' | 'none'
export type DaemonAction = 'restart' | 'start' | 'stop'
export type Impact = 'HIGH' | 'MEDIUM' | 'LOW'

/** Any JSON-like value (check parameters). */
export type ParamValue = string | number | boolean | null | ParamValue[] | {[key: string]: ParamValue}

/** A playbook. Only name, version, target and phases are required in the YAML; the lists below
 * default to empty, so a small cutover can be written in a few lines. */
export interface Playbook {
  name: string
  version: string
  description?: string
  /** The document this playbook was made from. */
  source?: SourceDocument
  target: TargetDefaults
  /** The plan's comparison of the old and new systems (executive summary). */
  key_differences?: KeyDifference[]
  phases: Phase[]
  gates: Gate[]
  rollback_triggers: RollbackTrigger[]
  do_not_rollback_for: DoNotRollbackItem[]
  /** Procedures usable from any phase ("Emergency Rollback (All Phases)"). */
  emergency_rollback: RollbackProcedure[]
  kpis: Kpi[]
  timeline?: Timeline
  communications?: Communications
  risks: Risk[]
  post_migration_review?: ReviewPeriod[]
}

export interface SourceDocument {
  title: string
  path?: string
  version?: string
  date?: string
  status?: string
}

/**
 * The target the playbook acts on by default, in the same shape as a target file (`--target`,
 * see src/lib/target/spec.ts), so `targetSpecFromDocument(doc, file, lineCounter, home, ['target'])`
 * accepts this section as is. Commands are argv arrays run without a shell; a relative command
 * path or `repo` resolves against the playbook file's directory.
 */
export interface TargetDefaults {
  name: string
  /** The target's home; `--home` / `$CCO_HOME` win over it. `~` means the user's home directory. */
  home?: string
  /** The target's executable (argv prefix); daemon and launcher commands default to `<cco> daemon <action>` / `<cco> launch`. */
  cco?: string[]
  daemon?: {start?: string[]; stop?: string[]; restart?: string[]; status?: string[]}
  launcher?: string[]
  /** The source repository the git steps, builds and tests act on. */
  repo?: string
  build?: string[]
  test?: string[]
  /** Text of the commit message that marks the last stable commit (matched as a fixed string). */
  stable_commit_marker?: string
  env?: {[name: string]: string}
  timeouts?: {[name in 'start' | 'stop' | 'restart' | 'status' | 'launcher' | 'build' | 'test' | 'http']?: Duration}
}

export interface KeyDifference {
  feature: string
  old: string
  new: string
}

export interface Phase {
  id: string
  number: number
  title: string
  goal: string
  plan_ref: string
  /** Least time the phase must run before its exit gate can pass. */
  min_duration?: Duration
  /** Baseline window (Phase 1: "2-3 days of normal usage"). */
  baseline_window?: {min: Duration; max: Duration; plan_ref: string}
  /** Metrics to watch during the phase (Phase 1: section 1.3). */
  monitoring?: MonitoringMetric[]
  /** Code/config changes the phase stands for, and how this playbook realises them. */
  changes?: ChangeNote[]
  checks: CheckRef[]
  /** Steps that move the target INTO this phase. */
  apply: ApplyStep[]
  /** Ways back out of this phase, preferred first. */
  rollback: RollbackProcedure[]
}

export interface MonitoringMetric {
  id: string
  title: string
  source: MetricSource
  /** HTTP endpoint on the gateway, e.g. `/gateway/metrics`. */
  endpoint?: string
  /** JSON path in the endpoint's answer, e.g. `summary.total_requests`. */
  field?: string
  unit?: Unit
  plan_ref: string
}

export interface ChangeNote {
  id: string
  title: string
  files?: string[]
  realised_by: string
  plan_ref: string
}

/** One checklist item: a library check with its parameters. */
export interface CheckRef {
  /** The library check id, e.g. `gateway.health`. */
  id: string
  /** Instance name, unique in the phase (defaults to `id`); lets one check run twice with other params. */
  name?: string
  title?: string
  params?: {[key: string]: ParamValue}
  /** `false`: reported, but does not decide the phase verdict. Default true. */
  required?: boolean
  plan_ref: string
}

interface StepBase {
  id: string
  title: string
  /** Step timeout; the executor's default applies when absent. */
  timeout?: Duration
  plan_ref?: string
}

export interface SetFlagsStep extends StepBase {
  type: 'set_flags'
  flags: {[flag: string]: boolean}
}

export interface DaemonStep extends StepBase {
  type: 'daemon'
  action: DaemonAction
}

/**
 * A git ref: `pre_phase` (the commit the target ran before this phase's changes), `phase_commits`
 * (the commits this phase's steps made; for `revert`), `last_stable` (the commit whose message
 * contains `target.repo.stable_commit_marker`), or a literal branch/commit.
 */
export type GitRef = string

export type GitStep = StepBase & {type: 'git'} & (
  | {action: 'branch'; name: string; from?: GitRef}
  | {action: 'remove_paths'; paths: string[]}
  | {action: 'delete_lines'; files: string[]; pattern: string; expect: 'one' | 'at_least_one' | 'any'}
  | {action: 'apply_patch'; patch: string}
  | {action: 'commit'; message: string}
  | {action: 'revert'; ref: GitRef}
  | {action: 'checkout'; ref: GitRef}
)

export interface RunStep extends StepBase {
  type: 'run'
  /** Which of the target repo's commands to run. */
  command: 'build' | 'test'
}

export interface ScriptStep extends StepBase {
  type: 'script'
  /** zx script, relative to the playbook file's directory. */
  path: string
  args?: string[]
  env?: {[name: string]: string}
}

export interface ValidateStep extends StepBase {
  type: 'validate'
  /** The phase whose checks to run (default: the phase the step belongs to). */
  phase?: number
  /** Restrict to these check instance names. */
  checks?: string[]
}

export interface ManualStep extends StepBase {
  type: 'manual'
  instructions: string
}

export type ApplyStep = SetFlagsStep | DaemonStep | GitStep | RunStep | ScriptStep | ValidateStep | ManualStep

export interface RollbackProcedure {
  id: string
  kind: RollbackKind
  title: string
  /** Recovery-time objective. */
  rto?: Duration
  /** Recovery-point objective, in words. */
  rpo?: string
  /** What to know before running it (e.g. coordination with the team). */
  warnings?: string[]
  steps: ApplyStep[]
  plan_ref: string
}

export interface RelativeToBaseline {
  /** Fails when the value exceeds the pinned baseline by more than this many percent. */
  max_increase_pct?: number
  /** Fails when the value falls below the pinned baseline by more than this many percent. */
  max_decrease_pct?: number
}

/** A measurable condition, shared by gate criteria and rollback triggers. */
export interface Measurement {
  source: MetricSource
  /** Metric name in the source (`uptime`, `latency_ms`, `open_critical_incidents`, ...); for
   * source `prometheus` a PromQL expression (`$window` stands for the window). */
  metric: string
  statistic: Statistic
  /** Time window: a duration, or `phase` (since the current phase began). */
  window: Duration | 'phase'
  operator: Operator
  threshold: number
  unit: Unit
  /** Fewer samples than this gives "inconclusive", never pass or fail. */
  min_samples: number
  /** Label naming the host in PromQL results (fleet criteria list failing hosts by it). */
  host_label?: string
  /** Fleet criteria: fewer hosts than this gives "inconclusive". */
  min_hosts?: number
  /** Library check (source `check`, or a records criterion evaluated by a check). */
  check?: string
  /** Extra source parameters (e.g. the phase whose validation counts). */
  params?: {[key: string]: ParamValue}
}

export interface Criterion extends Measurement {
  id: string
  title: string
  /** The verdict is GO only if every key criterion passes. */
  key: boolean
  relative_to_baseline?: RelativeToBaseline
  /** The criterion is a human approval (recorded with `cutover approve`). */
  requires_approval?: boolean
  /**
   * `phase_entry`: the window must lie wholly inside the gate's phase ("uptime > 99.9% for 4+
   * days" of Phase 2): INCONCLUSIVE until that long has passed since the phase's latest entry,
   * so evidence from an earlier phase never counts. Default `trailing`: the last `window`, whatever phase.
   */
  anchor?: WindowAnchor
  /**
   * Why the minimum-evidence rule (evaluate/evidence.ts) does not hold this criterion (short test
   * windows, a compressed rehearsal). Named wherever the criterion's verdict is shown.
   */
  evidence_waiver?: string
  plan_ref: string
}

export type WindowAnchor = 'trailing' | 'phase_entry'

export interface Gate {
  id: string
  from: number
  to: number
  title: string
  criteria: Criterion[]
  plan_ref: string
}

/** Decision bands for relative degradation, in percent of the pinned baseline. */
export interface Bands {
  no_action_below: number
  alert_between: [number, number]
  rollback_above: number
}

export interface RollbackTrigger extends Measurement {
  id: string
  title: string
  /** What to do when the threshold is crossed (with bands: the most it may do). */
  action: TriggerAction
  /** With bands: which direction is a degradation vs the pinned baseline (latency `higher`, throughput `lower`). */
  worse_when?: 'higher' | 'lower'
  bands?: Bands
  /** Which rollback procedure to run (`flag`, `git`, `fastest`). */
  rollback_kind?: RollbackKind
  plan_ref: string
}

export interface DoNotRollbackItem {
  id: string
  title: string
  /** What to do instead. */
  instead: string
  /** Triggers this item restrains. */
  applies_to?: string[]
  plan_ref: string
}

export interface Kpi {
  id: string
  title: string
  target: {operator: Operator; threshold: number; unit: Unit}
  measurement: string
  source: MetricSource
  metric: string
  statistic: Statistic
  plan_ref: string
}

export interface Timeline {
  total_duration: Duration
  weeks: TimelineWeek[]
}

export interface TimelineWeek {
  week: number
  phase: number
  title: string
  items: TimelineItem[]
}

export interface TimelineItem {
  /** Day or day range within the week: `1`, `1-2`. */
  days: string
  title: string
  /** How long the activity lasts when the plan gives a number (Phase 2 monitoring `4d`). */
  duration?: Duration
  plan_ref: string
}

export interface Communications {
  stakeholders: Stakeholder[]
  templates: CommsTemplate[]
}

export interface Stakeholder {
  audience: 'internal' | 'external'
  group: string
  what: string
  plan_ref: string
}

export interface CommsTemplate {
  id: string
  title: string
  /** Offset from the deployment: `-48h` = 48 hours before. */
  send_at: string
  subject: string
  body: string
  /** Every `{{name}}` used in subject/body, with what it stands for. */
  placeholders: {[name: string]: {description: string; default?: string}}
  plan_ref: string
}

export interface Risk {
  id: string
  risk: string
  impact: Impact
  /** The plan's table the row comes from. */
  level: 'high' | 'low'
  mitigation: string
  /** Checks or triggers that cover the risk. */
  covered_by?: string[]
  plan_ref: string
}

export interface ReviewPeriod {
  week: number
  metrics: string[]
  plan_ref: string
}
