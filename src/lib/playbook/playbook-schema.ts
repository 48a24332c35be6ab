/** The playbook's schema: one validator per type in types.ts, plus the cross-field rules. */
import {describeResolutionRule, resolutionMinSamples} from '../evaluate/evidence.js'
import {OPERATORS, STATISTICS} from '../evaluate/types.js'
import {durationMs} from '../util/duration.js'
import {
  bool,
  checkId,
  child,
  type Ctx,
  duration,
  either,
  fileRef,
  id,
  INVALID,
  isScalarNode,
  jsonValue,
  list,
  num,
  obj,
  oneOf,
  opt,
  record,
  type Shape,
  str,
  tagged,
  type Validator,
  withDefault,
} from './schema.js'
import type {
  ApplyStep,
  Bands,
  CheckRef,
  ChangeNote,
  Communications,
  CommsTemplate,
  Criterion,
  DaemonStep,
  DoNotRollbackItem,
  Gate,
  GitStep,
  KeyDifference,
  Kpi,
  ManualStep,
  Measurement,
  MonitoringMetric,
  ParamValue,
  Phase,
  Playbook,
  RelativeToBaseline,
  ReviewPeriod,
  Risk,
  RollbackProcedure,
  RollbackTrigger,
  RunStep,
  ScriptStep,
  SetFlagsStep,
  SourceDocument,
  Stakeholder,
  TargetDefaults,
  Timeline,
  TimelineItem,
  TimelineWeek,
  Unit,
  ValidateStep,
} from './types.js'

export const UNITS = ['ratio', 'percent', 'ms', 's', 'count', 'usd', 'rps'] as const satisfies readonly Unit[]
export {OPERATORS, STATISTICS}
export const SOURCES = ['gateway', 'prometheus', 'records', 'check'] as const
export const ROLLBACK_KINDS = ['flag', 'git', 'fastest', 'manual'] as const

const text = () => str()
const planRef = () => str({patternText: 'a plan reference (section and a short quote)'})
const argv = () => list(str(), {minItems: 1})
const params = () => record(jsonValue() as Validator<ParamValue>, {keyText: 'parameter names'})

// ---------- steps ----------

const stepBase = {
  id: id(),
  title: text(),
  timeout: opt(duration()),
  plan_ref: opt(planRef()),
}

const setFlags = obj<SetFlagsStep>('a set_flags step', {
  ...stepBase,
  type: oneOf(['set_flags']),
  flags: record(bool(), {keyPattern: /^[A-Za-z][A-Za-z0-9_]*$/, keyText: 'flag names (e.g. gatewayEnabled)'}),
}, (step, at, ctx) => {
  if (Object.keys(step.flags).length === 0) ctx.reportAt(child(at, 'flags'), 'expected at least one flag')
})

const daemon = obj<DaemonStep>('a daemon step', {...stepBase, type: oneOf(['daemon']), action: oneOf(['restart', 'start', 'stop'])})

const gitRef = () => str({patternText: 'a git ref ("pre_phase", "last_stable", or a branch/commit)'})
type GitOf<A extends GitStep['action']> = Extract<GitStep, {action: A}>
const gitBase = {...stepBase, type: oneOf(['git'])}
const git = tagged<GitStep>('a git step', 'action', {
  branch: obj<GitOf<'branch'>>('a git branch step', {...gitBase, action: oneOf(['branch']), name: text(), from: opt(gitRef())}),
  remove_paths: obj<GitOf<'remove_paths'>>('a git remove_paths step', {...gitBase, action: oneOf(['remove_paths']), paths: list(text(), {minItems: 1})}),
  delete_lines: obj<GitOf<'delete_lines'>>('a git delete_lines step', {
    ...gitBase,
    action: oneOf(['delete_lines']),
    files: list(text(), {minItems: 1}),
    pattern: regex(),
    expect: oneOf(['one', 'at_least_one', 'any']),
  }),
  apply_patch: obj<GitOf<'apply_patch'>>('a git apply_patch step', {...gitBase, action: oneOf(['apply_patch']), patch: fileRef('patch file')}),
  commit: obj<GitOf<'commit'>>('a git commit step', {...gitBase, action: oneOf(['commit']), message: text()}),
  revert: obj<GitOf<'revert'>>('a git revert step', {...gitBase, action: oneOf(['revert']), ref: gitRef()}),
  checkout: obj<GitOf<'checkout'>>('a git checkout step', {...gitBase, action: oneOf(['checkout']), ref: gitRef()}),
})

const run = obj<RunStep>('a run step', {...stepBase, type: oneOf(['run']), command: oneOf(['build', 'test'])})
const script = obj<ScriptStep>('a script step', {
  ...stepBase,
  type: oneOf(['script']),
  path: fileRef('script'),
  args: opt(list(str({nonEmpty: false}))),
  env: opt(record(str({nonEmpty: false}), {keyPattern: /^[A-Za-z_][A-Za-z0-9_]*$/, keyText: 'environment variable names'})),
})
const validate = obj<ValidateStep>('a validate step', {
  ...stepBase,
  type: oneOf(['validate']),
  phase: opt(num({integer: true, min: 1})),
  checks: opt(list(text(), {minItems: 1})),
})
const manual = obj<ManualStep>('a manual step', {...stepBase, type: oneOf(['manual']), instructions: text()})

const step: Validator<ApplyStep> = tagged<ApplyStep>('a step', 'type', {
  set_flags: setFlags,
  daemon,
  git,
  run,
  script,
  validate,
  manual,
})

function regex(): Validator<string> {
  const inner = str({patternText: 'a regular expression'})
  return {
    expected: inner.expected,
    check(node, at, ctx) {
      const v = inner.check(node, at, ctx)
      if (typeof v !== 'string') return v
      try {
        new RegExp(v)
      } catch (error) {
        ctx.reportAt(at, `invalid regular expression: ${(error as Error).message}`)
        return INVALID
      }
      return v
    },
  }
}

const steps = () => list(step, {uniqueBy: (s) => s.id})

const rollbackProcedure = obj<RollbackProcedure>('a rollback procedure', {
  id: id(),
  kind: oneOf(ROLLBACK_KINDS),
  title: text(),
  rto: opt(duration()),
  rpo: opt(text()),
  warnings: opt(list(text())),
  steps: steps(),
  plan_ref: planRef(),
}, (proc, at, ctx) => {
  if (proc.kind !== 'manual' && proc.rto === undefined) ctx.reportAt(at, `missing required field "rto" (a ${proc.kind} rollback needs a recovery-time objective, e.g. "30s")`)
  if (proc.kind !== 'manual' && proc.steps.length === 0) ctx.reportAt(child(at, 'steps'), `a ${proc.kind} rollback needs at least one step`)
})

// ---------- measurements ----------

const windowV = either<string, 'phase'>(
  'a duration longer than 0 such as "4d", or "phase"',
  (node) => (isScalarNode(node) && (node as {value?: unknown}).value === 'phase' ? 'b' : 'a'),
  // positive: a zero window measures nothing, and the evaluator refuses it; lint says so first.
  duration({positive: true}),
  oneOf(['phase']),
)

const measurementShape = {
  source: oneOf(SOURCES),
  metric: text(),
  statistic: oneOf(STATISTICS),
  window: windowV,
  operator: oneOf(OPERATORS),
  threshold: num(),
  unit: oneOf(UNITS),
  min_samples: num({integer: true, min: 0}),
  host_label: opt(text()),
  min_hosts: opt(num({integer: true, min: 1})),
  check: opt(checkId()),
  params: opt(params()),
}

const METRIC_NAME = /^[A-Za-z0-9_.:-]+$/

/** Range of a threshold for its unit. */
export function thresholdRange(unit: Unit): {min: number; max?: number; what: string} {
  switch (unit) {
    case 'ratio':
      return {min: 0, max: 1, what: 'a ratio is a fraction from 0 to 1 (99.9% = 0.999)'}
    case 'percent':
      return {min: 0, max: 100, what: 'a percentage from 0 to 100'}
    default:
      return {min: 0, what: `a ${unit} value cannot be negative`}
  }
}

function checkMeasurement(m: Measurement, at: string, ctx: Ctx): void {
  const range = thresholdRange(m.unit)
  if (m.threshold < range.min || (range.max !== undefined && m.threshold > range.max)) {
    ctx.reportAt(child(at, 'threshold'), `threshold ${m.threshold} is out of range for unit "${m.unit}": ${range.what}`)
  }
  if (m.statistic === 'ratio' && m.unit !== 'ratio' && m.unit !== 'percent') {
    ctx.reportAt(child(at, 'unit'), `statistic "ratio" needs unit "ratio" or "percent", got "${m.unit}"`)
  }
  if (m.source !== 'prometheus' && !METRIC_NAME.test(m.metric)) {
    ctx.reportAt(child(at, 'metric'), `"${m.metric}" is not a metric name (letters, digits, ".", "_", ":" or "-"); only source "prometheus" takes a PromQL expression`)
  }
  if (m.source === 'check' && !m.check) ctx.reportAt(at, 'missing required field "check" (source "check" needs the id of the library check to run)')
  if (m.min_hosts !== undefined && m.source !== 'prometheus') ctx.reportAt(child(at, 'min_hosts'), 'min_hosts applies to fleet criteria only (source "prometheus")')
  if (m.host_label !== undefined && m.source !== 'prometheus') ctx.reportAt(child(at, 'host_label'), 'host_label applies to fleet criteria only (source "prometheus")')
}

const relativeToBaseline = obj<RelativeToBaseline>('a baseline comparison', {
  max_increase_pct: opt(num({min: 0})),
  max_decrease_pct: opt(num({min: 0, max: 100})),
}, (r, at, ctx) => {
  if ((r.max_increase_pct === undefined) === (r.max_decrease_pct === undefined)) {
    ctx.reportAt(at, 'expected exactly one of "max_increase_pct" or "max_decrease_pct"')
  }
})

const criterion = obj<Criterion>('a gate criterion', {
  id: id(),
  title: text(),
  ...measurementShape,
  key: bool(),
  relative_to_baseline: opt(relativeToBaseline),
  requires_approval: opt(bool()),
  anchor: opt(oneOf(['trailing', 'phase_entry'] as const)),
  evidence_waiver: opt(text()),
  plan_ref: planRef(),
}, (c, at, ctx) => {
  checkMeasurement(c, at, ctx)
  // A gate's pass is a claim: its evidence must be able to contradict it (see evaluate/evidence.ts).
  const needed = resolutionMinSamples(c)
  if (needed !== null && c.min_samples < needed && c.evidence_waiver === undefined) {
    ctx.reportAt(child(at, 'min_samples'), `min_samples ${c.min_samples} cannot support "${c.operator} ${c.threshold} %": one sample is ${+(100 / Math.max(1, c.min_samples)).toFixed(3)} %, more than the claim's margin; the evidence rule needs ${describeResolutionRule(c)}, so set min_samples: ${needed} or more (or state why not with evidence_waiver: TEXT, shown with every verdict)`)
  }
  if (c.anchor === 'phase_entry' && c.window === 'phase') ctx.reportAt(child(at, 'anchor'), 'window "phase" already begins at the phase\'s entry; anchor: phase_entry needs a duration window ("for 4d of the phase")')
  if (c.requires_approval && c.source !== 'records') ctx.reportAt(child(at, 'requires_approval'), 'an approval criterion must use source "records"')
})

const gate = obj<Gate>('a gate', {
  id: id(),
  from: num({integer: true, min: 1}),
  to: num({integer: true, min: 1}),
  title: text(),
  criteria: list(criterion, {minItems: 1, uniqueBy: (c) => c.id}),
  plan_ref: planRef(),
}, (g, at, ctx) => {
  if (g.to <= g.from) ctx.reportAt(child(at, 'to'), `a gate goes forward: "to" (${g.to}) must be greater than "from" (${g.from})`)
})

const bands = obj<Bands>('decision bands', {
  no_action_below: num({min: 0}),
  alert_between: tuple2(num({min: 0})),
  rollback_above: num({min: 0}),
}, (b, at, ctx) => {
  const [lo, hi] = b.alert_between
  if (!(b.no_action_below <= lo && lo < hi && hi <= b.rollback_above)) {
    ctx.reportAt(at, `bands must ascend: no_action_below (${b.no_action_below}) <= alert_between[0] (${lo}) < alert_between[1] (${hi}) <= rollback_above (${b.rollback_above})`)
  } else if (b.no_action_below !== lo || hi !== b.rollback_above) {
    ctx.reportAt(at, 'bands must leave no gap: alert_between must start at no_action_below and end at rollback_above')
  }
})

function tuple2(item: Validator<number>): Validator<[number, number]> {
  const inner = list(item)
  return {
    expected: `a pair [low, high] of ${item.expected}`,
    check(node, at, ctx) {
      const v = inner.check(node, at, ctx)
      if (typeof v === 'symbol') return v
      if (v.length !== 2) {
        ctx.reportAt(at, `expected a pair [low, high], got ${v.length} item${v.length === 1 ? '' : 's'}`)
        return INVALID
      }
      return [v[0] as number, v[1] as number]
    },
  }
}

const trigger = obj<RollbackTrigger>('a rollback trigger', {
  id: id(),
  title: text(),
  ...measurementShape,
  action: oneOf(['rollback', 'alert', 'none']),
  worse_when: opt(oneOf(['higher', 'lower'])),
  bands: opt(bands),
  rollback_kind: opt(oneOf(ROLLBACK_KINDS)),
  plan_ref: planRef(),
}, (t, at, ctx) => {
  checkMeasurement(t, at, ctx)
  if (t.bands) {
    if (t.unit !== 'percent') ctx.reportAt(child(at, 'unit'), `bands are percentages: unit must be "percent", got "${t.unit}"`)
    if (t.threshold !== t.bands.rollback_above) ctx.reportAt(child(at, 'threshold'), `threshold (${t.threshold}) must equal bands.rollback_above (${t.bands.rollback_above})`)
  }
  if (t.worse_when && !t.bands) ctx.reportAt(child(at, 'worse_when'), 'worse_when applies to banded triggers only (add "bands")')
  if (t.rollback_kind && t.action === 'none') ctx.reportAt(child(at, 'rollback_kind'), 'rollback_kind given but action is "none"')
})

// ---------- phases ----------

const checkRef = obj<CheckRef>('a check', {
  id: checkId(),
  name: opt(id()),
  title: opt(text()),
  params: opt(params()),
  required: opt(bool()),
  plan_ref: planRef(),
})

const monitoringMetric = obj<MonitoringMetric>('a monitoring metric', {
  id: id(),
  title: text(),
  source: oneOf(SOURCES),
  endpoint: opt(str({pattern: /^\//, patternText: 'an HTTP path starting with "/"'})),
  field: opt(text()),
  unit: opt(oneOf(UNITS)),
  plan_ref: planRef(),
})

const changeNote = obj<ChangeNote>('a change note', {
  id: id(),
  title: text(),
  files: opt(list(text())),
  realised_by: text(),
  plan_ref: planRef(),
})

const phase = obj<Phase>('a phase', {
  id: id(),
  number: num({integer: true, min: 1}),
  title: text(),
  goal: text(),
  plan_ref: planRef(),
  min_duration: opt(duration()),
  baseline_window: opt(obj<NonNullable<Phase['baseline_window']>>('a baseline window', {min: duration(), max: duration(), plan_ref: planRef()}, (w, at, ctx) => {
    if (durationMs(w.min) > durationMs(w.max)) ctx.reportAt(child(at, 'max'), `max (${w.max}) is shorter than min (${w.min})`)
  })),
  monitoring: opt(list(monitoringMetric, {uniqueBy: (m) => m.id})),
  changes: opt(list(changeNote, {uniqueBy: (c) => c.id})),
  checks: list(checkRef, {uniqueBy: (c) => c.name ?? c.id, uniqueWhat: 'name'}),
  apply: withDefault(steps(), () => []),
  rollback: withDefault(list(rollbackProcedure, {uniqueBy: (r) => r.id}), () => []),
})

// ---------- the rest ----------

const source = obj<SourceDocument>('a source document', {title: text(), path: opt(text()), version: opt(text()), date: opt(text()), status: opt(text())})

const TIMEOUT_KEYS = ['start', 'stop', 'restart', 'status', 'launcher', 'build', 'test', 'http'] as const

const target = obj<TargetDefaults>('a target (same keys as a target file)', {
  name: text(),
  home: opt(text()),
  cco: opt(argv()),
  daemon: opt(obj<NonNullable<TargetDefaults['daemon']>>('daemon commands', {start: opt(argv()), stop: opt(argv()), restart: opt(argv()), status: opt(argv())})),
  launcher: opt(argv()),
  repo: opt(text()),
  build: opt(argv()),
  test: opt(argv()),
  stable_commit_marker: opt(text()),
  env: opt(record(str({nonEmpty: false}), {keyPattern: /^[A-Za-z_][A-Za-z0-9_]*$/, keyText: 'environment variable names'})),
  timeouts: opt(obj<NonNullable<TargetDefaults['timeouts']>>('target timeouts', Object.fromEntries(TIMEOUT_KEYS.map((k) => [k, opt(duration())])) as unknown as Shape<NonNullable<TargetDefaults['timeouts']>>)),
}, (t, at, ctx) => {
  for (const action of ['start', 'stop', 'restart', 'status'] as const) {
    if (!t.cco && !t.daemon?.[action]) ctx.reportAt(at, `missing daemon.${action} (give it as an argv list, or give "cco" so it defaults to <cco> daemon ${action})`)
  }
  if (!t.cco && !t.launcher) ctx.reportAt(at, 'missing "launcher" (an argv list such as [cco, launch], or give "cco")')
  if ((t.build || t.test) && !t.repo) ctx.reportAt(at, 'build/test commands need "repo" (the directory they run in)')
})

const keyDifference = obj<KeyDifference>('a key difference', {feature: text(), old: text(), new: text()})

const doNotRollback = obj<DoNotRollbackItem>('a do-not-rollback item', {
  id: id(),
  title: text(),
  instead: text(),
  applies_to: opt(list(id())),
  plan_ref: planRef(),
})

const kpi = obj<Kpi>('a KPI', {
  id: id(),
  title: text(),
  target: obj<Kpi['target']>('a KPI target', {operator: oneOf(OPERATORS), threshold: num(), unit: oneOf(UNITS)}, (t, at, ctx) => {
    const range = thresholdRange(t.unit)
    if (t.threshold < range.min || (range.max !== undefined && t.threshold > range.max)) {
      ctx.reportAt(child(at, 'threshold'), `threshold ${t.threshold} is out of range for unit "${t.unit}": ${range.what}`)
    }
  }),
  measurement: text(),
  source: oneOf(SOURCES),
  metric: text(),
  statistic: oneOf(STATISTICS),
  plan_ref: planRef(),
})

const timelineItem = obj<TimelineItem>('a timeline item', {
  days: str({pattern: /^\d+(-\d+)?$/, patternText: 'a day or day range such as "1" or "2-5"'}),
  title: text(),
  duration: opt(duration()),
  plan_ref: planRef(),
}, (item, at, ctx) => {
  const [from, to] = item.days.split('-').map(Number) as [number, number | undefined]
  if (from < 1 || from > 7 || (to !== undefined && (to < from || to > 7))) ctx.reportAt(child(at, 'days'), `days "${item.days}" must lie within a week (1-7) and ascend`)
})

const timelineWeek = obj<TimelineWeek>('a timeline week', {
  week: num({integer: true, min: 1}),
  phase: num({integer: true, min: 1}),
  title: text(),
  items: list(timelineItem, {minItems: 1}),
})

const timeline = obj<Timeline>('a timeline', {
  total_duration: duration(),
  weeks: list(timelineWeek, {minItems: 1, uniqueBy: (w) => String(w.week), uniqueWhat: 'week'}),
})

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g

export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string)
}

const template = obj<CommsTemplate>('a communication template', {
  id: id(),
  title: text(),
  send_at: duration({signed: true}),
  subject: text(),
  body: text(),
  placeholders: record(obj<CommsTemplate['placeholders'][string]>('a placeholder', {description: text(), default: opt(str({nonEmpty: false}))}), {
    keyPattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
    keyText: 'placeholder names',
  }),
  plan_ref: planRef(),
}, (t, at, ctx) => {
  const used = new Set([...placeholdersIn(t.subject), ...placeholdersIn(t.body)])
  const declared = Object.keys(t.placeholders)
  for (const name of used) {
    if (!declared.includes(name)) ctx.reportAt(child(at, 'body'), `placeholder {{${name}}} is used but not declared under "placeholders"`)
  }
  for (const name of declared) {
    if (!used.has(name)) ctx.reportAt(child(child(at, 'placeholders'), name), `placeholder "${name}" is declared but never used in subject or body`)
  }
})

const stakeholder = obj<Stakeholder>('a stakeholder', {audience: oneOf(['internal', 'external']), group: text(), what: text(), plan_ref: planRef()})

const communications = obj<Communications>('communications', {
  stakeholders: list(stakeholder),
  templates: list(template, {uniqueBy: (t) => t.id}),
})

const risk = obj<Risk>('a risk', {
  id: id(),
  risk: text(),
  impact: oneOf(['HIGH', 'MEDIUM', 'LOW']),
  level: oneOf(['high', 'low']),
  mitigation: text(),
  covered_by: opt(list(text())),
  plan_ref: planRef(),
})

const review = obj<ReviewPeriod>('a review period', {week: num({integer: true, min: 1}), metrics: list(text(), {minItems: 1}), plan_ref: planRef()})

const playbookShape: Shape<Playbook> = {
  name: text(),
  version: str({patternText: 'a version string (quote numbers: "1.0")'}),
  description: opt(text()),
  source: opt(source),
  target,
  key_differences: opt(list(keyDifference)),
  phases: list(phase, {minItems: 1, uniqueBy: (p) => p.id}),
  gates: withDefault(list(gate, {uniqueBy: (g) => g.id}), () => []),
  rollback_triggers: withDefault(list(trigger, {uniqueBy: (t) => t.id}), () => []),
  do_not_rollback_for: withDefault(list(doNotRollback, {uniqueBy: (d) => d.id}), () => []),
  emergency_rollback: withDefault(list(rollbackProcedure, {uniqueBy: (r) => r.id}), () => []),
  kpis: withDefault(list(kpi, {uniqueBy: (k) => k.id}), () => []),
  timeline: opt(timeline),
  communications: opt(communications),
  risks: withDefault(list(risk, {uniqueBy: (r) => r.id}), () => []),
  post_migration_review: opt(list(review)),
}

export const playbookSchema: Validator<Playbook> = obj<Playbook>('a playbook', playbookShape, crossChecks)

/** Rules that span sections: phase numbering, references between gates, phases, steps and triggers. */
function crossChecks(pb: Playbook, _at: string, ctx: Ctx): void {
  const numbers = new Map<number, number>()
  pb.phases.forEach((p, i) => {
    if (p.number !== i + 1) ctx.reportAt(`phases[${i}].number`, `phases must be numbered 1, 2, 3... in order: expected ${i + 1}, got ${p.number}`)
    numbers.set(p.number, i)
  })
  const phaseList = [...numbers.keys()].join(', ')

  pb.gates.forEach((g, i) => {
    for (const end of ['from', 'to'] as const) {
      if (!numbers.has(g[end])) ctx.reportAt(`gates[${i}].${end}`, `no phase number ${g[end]} (phases: ${phaseList})`)
    }
  })

  const stepLists: Array<{at: string; steps: ApplyStep[]; phase?: Phase}> = []
  pb.phases.forEach((p, i) => {
    stepLists.push({at: `phases[${i}].apply`, steps: p.apply, phase: p})
    p.rollback.forEach((r, j) => stepLists.push({at: `phases[${i}].rollback[${j}].steps`, steps: r.steps, phase: p}))
  })
  pb.emergency_rollback.forEach((r, j) => stepLists.push({at: `emergency_rollback[${j}].steps`, steps: r.steps}))
  for (const {at, steps: list, phase: owner} of stepLists) {
    list.forEach((s, k) => {
      if (s.type !== 'validate') return
      const num = s.phase ?? owner?.number
      const stepAt = `${at}[${k}]`
      if (num === undefined) {
        ctx.reportAt(stepAt, 'a validate step outside a phase needs "phase"')
        return
      }
      const idx = numbers.get(num)
      if (idx === undefined) {
        ctx.reportAt(`${stepAt}.phase`, `no phase number ${num} (phases: ${phaseList})`)
        return
      }
      const target = pb.phases[idx] as Phase
      const names = target.checks.map((c) => c.name ?? c.id)
      s.checks?.forEach((name, n) => {
        if (!names.includes(name)) ctx.reportAt(`${stepAt}.checks[${n}]`, `phase ${num} has no check named "${name}" (its checks: ${names.join(', ')})`)
      })
    })
  }

  const triggerIds = pb.rollback_triggers.map((t) => t.id)
  pb.do_not_rollback_for.forEach((d, i) => {
    d.applies_to?.forEach((t, j) => {
      if (!triggerIds.includes(t)) ctx.reportAt(`do_not_rollback_for[${i}].applies_to[${j}]`, `no rollback trigger "${t}" (triggers: ${triggerIds.join(', ')})`)
    })
  })

  pb.timeline?.weeks.forEach((w, i) => {
    if (!numbers.has(w.phase)) ctx.reportAt(`timeline.weeks[${i}].phase`, `no phase number ${w.phase} (phases: ${phaseList})`)
  })

  // Check parameters, validated by the check that takes them (unknown names, types, values).
  const checkParams = (at: string, id: string | undefined, params: unknown) => {
    if (!id || !ctx.catalog.has(id) || !ctx.catalog.validateParams) return
    for (const issue of ctx.catalog.validateParams(id, params ?? {})) {
      ctx.reportAt(issue.param ? `${at}.params.${issue.param}` : `${at}.params`, `check ${id}: ${issue.param && !issue.message.includes(`"${issue.param}"`) ? `parameter "${issue.param}": ` : ''}${issue.message}`)
    }
  }
  pb.phases.forEach((p, i) => p.checks.forEach((c, j) => checkParams(`phases[${i}].checks[${j}]`, c.id, c.params)))
  pb.gates.forEach((g, i) => g.criteria.forEach((c, j) => c.check && c.params && checkParams(`gates[${i}].criteria[${j}]`, c.check, c.params)))
  pb.rollback_triggers.forEach((t, i) => t.check && t.params && checkParams(`rollback_triggers[${i}]`, t.check, t.params))

  const coverable = new Set([...ctx.catalog.ids(), ...triggerIds, ...pb.kpis.map((k) => k.id), ...pb.gates.flatMap((g) => g.criteria.map((c) => c.id))])
  pb.risks.forEach((r, i) => {
    r.covered_by?.forEach((c, j) => {
      if (!coverable.has(c)) ctx.reportAt(`risks[${i}].covered_by[${j}]`, `"${c}" is not a check id, trigger, KPI or gate criterion of this playbook`)
    })
  })
}
