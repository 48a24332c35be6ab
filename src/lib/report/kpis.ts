/**
 * The report's KPIs, judged with the gate's own code (#11 item 6): one definition per concept.
 *
 * - Availability is the gate's `uptime` measurement (measureMonitorUptime: computeUptime over the
 *   monitor's health samples at their declared interval, gaps counted as down, planned maintenance
 *   left out, UP_STATUSES), over [first health sample, now].
 * - Every KPI with a target becomes a CriterionSpec and is judged by evaluateCriterion, with the
 *   evidence rule's minimum (resolutionMinSamples: 1000 samples for "> 99.9 %"): a KPI without
 *   enough evidence is 'unknown', never 'met'.
 * - The error rate is judged on the worse of the gateway's figure and, when given, the client
 *   side's (what cutover's own traffic generator saw); both are shown.
 */
import {evaluateCriterion} from '../evaluate/criterion.js'
import {resolutionMinSamples} from '../evaluate/evidence.js'
import {percentOf} from '../evaluate/stats.js'
import type {CriterionOutcome, CriterionSpec, Measurement, SourceName} from '../evaluate/types.js'
import {measureMonitorUptime} from '../gate/measure.js'
import type {Kpi, Playbook} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import {formatDuration} from '../util/duration.js'
import {fmtNumber, fmtWithUnit, UNIT_TEXT} from './format.js'
import type {ClientTraffic, KpiFigure, KpiResult, KpiStatus, KpiTarget} from './types.js'

export interface TrafficFigures {
  requests: number
  failed: number | null
  avgLatency: number | null
  p95Latency: number | null
  auditRecords: number | null
  auditCoveragePct: number | null
  source: string
  approximate: boolean
}

export interface KpiInputs {
  state: StateStore
  now: Date
  /** The first health sample (epoch ms): availability covers [it, now]. */
  firstHealthMs: number | null
  /** The report's first evidence (epoch ms): the window the other KPIs are said to cover. */
  spanStartMs: number | null
  traffic: TrafficFigures | null
  clientTraffic: ClientTraffic | null
}

/** What the availability KPI rests on: the gate's uptime measurement (null without health samples). */
export interface AvailabilityEvidence {
  measurement: Measurement | null
  /** From the measurement's detail. */
  excluded: number
  unplannedDownSamples: number
  missed: number
  gaps: {from: string; to: string; missed: number}[]
  intervalMs: number | null
}

/**
 * The clients' finished requests: ok + failed. A request sent but neither (still in flight, or
 * aborted when the generator stopped) is not counted either way; the report shows how many.
 */
export function clientFinished(c: ClientTraffic): number {
  return c.ok + c.failed
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

const STATUS_OF: Record<CriterionOutcome['outcome'], KpiStatus> = {pass: 'met', fail: 'missed', inconclusive: 'unknown', error: 'unknown'}

export function kpiTarget(kpi: Kpi | undefined): KpiTarget | null {
  if (!kpi) return null
  const unit = UNIT_TEXT[kpi.target.unit] ?? ''
  const value = unit === '%' ? `${kpi.target.threshold}%` : unit ? `${kpi.target.threshold} ${unit}` : String(kpi.target.threshold)
  return {operator: kpi.target.operator, threshold: kpi.target.threshold, unit, text: `${kpi.target.operator === '==' ? '=' : kpi.target.operator} ${value}`}
}

/** The KPI as a gate criterion over a window of windowMs ending now, with the evidence rule's minimum samples. */
export function kpiSpec(kpi: Kpi, windowMs: number): CriterionSpec {
  const unit = UNIT_TEXT[kpi.target.unit]
  const spec: CriterionSpec = {
    id: kpi.id,
    title: kpi.title,
    source: kpi.source as SourceName,
    metric: kpi.metric,
    statistic: kpi.statistic,
    window: formatDuration(Math.max(1, Math.round(windowMs))),
    operator: kpi.target.operator,
    threshold: kpi.target.threshold,
    ...(unit ? {unit} : {}),
    key: true,
  }
  return {...spec, min_samples: resolutionMinSamples(spec) ?? 1}
}

/** The availability evidence: the gate's uptime measurement over [first health sample, now]. */
export function availabilityEvidence(state: StateStore, now: Date, firstHealthMs: number | null, minSamples?: number): AvailabilityEvidence {
  if (firstHealthMs === null) return {measurement: null, excluded: 0, unplannedDownSamples: 0, missed: 0, gaps: [], intervalMs: null}
  const spec = {id: 'availability', source: 'gateway' as const, metric: 'uptime', statistic: 'ratio' as const, window: formatDuration(Math.max(1, now.getTime() - firstHealthMs))}
  const m = measureMonitorUptime(state, spec, now, minSamples === undefined ? {} : {minSamples})
  const d = m.detail ?? {}
  return {
    measurement: m,
    excluded: num(d.excluded_samples) ?? 0,
    unplannedDownSamples: num(d.unplanned_down_samples) ?? 0,
    missed: num(d.missed) ?? 0,
    gaps: Array.isArray(d.gaps) ? (d.gaps as {from: string; to: string; missed: number}[]) : [],
    intervalMs: num(d.intervalMs),
  }
}

interface Figure {
  measurement: Measurement
  source: string
  /** Failed requests behind the figure (error rate). */
  failed?: number
  note?: string
}

function measurementOf(id: string, now: Date, windowMs: number, value: number | null, samples: number): Measurement {
  return {criterionId: id, value, samples, windowStart: new Date(now.getTime() - windowMs).toISOString(), windowEnd: now.toISOString(), windowElapsed: true}
}

/** The figures a KPI is judged on (more than one only for the error rate with client traffic); null: not measured by the report. */
function figuresFor(kpi: Pick<Kpi, 'id' | 'metric' | 'statistic'>, m: KpiInputs, windowMs: number, availability: AvailabilityEvidence): Figure[] | null {
  const t = m.traffic
  const noTraffic = t === null ? 'no traffic data: live gateway metrics unavailable and no monitor metrics samples' : t.requests === 0 ? 'no requests yet' : undefined
  const traffic = (value: number | null, extra: Partial<Figure> = {}): Figure => ({
    measurement: measurementOf(kpi.id, m.now, windowMs, value, t?.requests ?? 0),
    source: t?.source ?? 'gateway',
    ...(noTraffic ? {note: noTraffic} : {}),
    ...extra,
  })
  switch (`${kpi.metric}:${kpi.statistic}`) {
    case 'uptime:ratio':
    case 'uptime:avg': {
      const a = availability.measurement
      const source = 'monitor health samples (GET /gateway/health), judged as the gate judges uptime'
      if (!a) return [{measurement: {...measurementOf(kpi.id, m.now, windowMs, null, 0), error: 'no health samples: run cutover monitor'}, source, note: 'no health samples: run cutover monitor'}]
      const note =
        a.samples === 0 && availability.excluded > 0
          ? 'every health sample fell in planned maintenance'
          : [
              availability.missed > 0 ? `${availability.missed} missed sample slot(s) in ${availability.gaps.length} monitoring gap(s) counted as down` : '',
              availability.excluded > 0 ? `${availability.excluded} sample(s) in planned maintenance left out` : '',
            ]
              .filter(Boolean)
              .join('; ')
      return [{measurement: {...a, criterionId: kpi.id}, source, ...(note ? {note} : {})}]
    }
    case 'latency_ms:avg':
    case 'avg_latency_ms:avg':
      return [traffic(t && t.requests > 0 ? t.avgLatency : null)]
    case 'latency_ms:p95':
    case 'p95_latency_ms:p95':
      return [traffic(t && t.requests > 0 ? t.p95Latency : null)]
    case 'error_rate:ratio':
    case 'error_rate:avg': {
      const out: Figure[] = [traffic(t && t.failed !== null ? percentOf(t.failed, t.requests) : null, t && t.failed !== null ? {failed: t.failed} : {})]
      const c = m.clientTraffic
      if (c) {
        const finished = clientFinished(c)
        out.push({measurement: measurementOf(kpi.id, m.now, windowMs, percentOf(c.failed, finished), finished), source: `client side: ${c.source}`, failed: c.failed, ...(finished === 0 ? {note: 'the clients finished no requests'} : {})})
      }
      return out
    }
    case 'audit_coverage:ratio':
      return [
        {
          measurement: measurementOf(kpi.id, m.now, windowMs, t && !t.approximate ? t.auditCoveragePct : null, t?.requests ?? 0),
          source: "audit records / requests (/gateway/metrics), and the gateway's own received / dropped / pending counters when it reports them (the lower figure)",
          ...(t === null || t.approximate ? {note: 'needs live gateway metrics (audit record count)'} : t.requests === 0 ? {note: 'no requests yet'} : {}),
        },
      ]
    default:
      return null
  }
}

/** The figure a KPI is judged on: the worst value in the KPI's bad direction (ties: the one with more evidence). */
function judgedIndex(figures: Figure[], operator: string): number {
  const higherIsWorse = operator === '<' || operator === '<='
  let best = 0
  for (let i = 1; i < figures.length; i++) {
    const a = figures[best]!.measurement
    const b = figures[i]!.measurement
    if (b.value === null) continue
    if (a.value === null) {
      best = i
      continue
    }
    const worse = higherIsWorse ? b.value > a.value : b.value < a.value
    if (worse || (b.value === a.value && b.samples > a.samples)) best = i
  }
  return best
}

/** Why the evaluator did not decide, shortly ("25 samples, 1,000 needed, currently 96%"). */
export function shortReason(o: CriterionOutcome, minSamples: number, unit: string): string {
  const current = o.value === null ? '' : `, currently ${fmtWithUnit(o.value, unit)}`
  if (o.measurement.error !== undefined) return o.measurement.error
  if (o.samples < minSamples) return `${fmtNumber(o.samples)} samples, ${fmtNumber(minSamples)} needed${current}`
  if (o.measurement.untrusted !== undefined) return `${o.measurement.untrusted}${current}`
  if (o.value === null) return 'no data'
  return o.reason
}

export function buildKpis(playbook: Playbook, inputs: KpiInputs): {kpis: KpiResult[]; availability: AvailabilityEvidence} {
  const windowOfMs = (from: number | null) => (from === null ? 1 : Math.max(1, inputs.now.getTime() - from))
  const uptimeMs = windowOfMs(inputs.firstHealthMs)
  const spanMs = windowOfMs(inputs.spanStartMs)
  const uptimeKpi = playbook.kpis.find((k) => k.metric === 'uptime')
  const availability = availabilityEvidence(inputs.state, inputs.now, inputs.firstHealthMs, uptimeKpi ? kpiSpec(uptimeKpi, uptimeMs).min_samples : undefined)
  const out: KpiResult[] = []
  const result = (id: string, title: string, kpi: Kpi | undefined, metric: string, statistic: string): KpiResult => {
    const target = kpiTarget(kpi)
    const windowMs = metric === 'uptime' ? uptimeMs : spanMs
    const figures = figuresFor({id, metric, statistic: statistic as Kpi['statistic']}, inputs, windowMs, availability)
    if (!figures) {
      return {id, title, target, measured: null, unit: target?.unit ?? '', display: 'n/a', status: 'unknown', source: kpi?.measurement ?? metric, samples: 0, minSamples: 0, note: `cutover report does not measure the metric "${metric}"`, ...(kpi ? {planRef: kpi.plan_ref} : {})}
    }
    const unit = metric.includes('latency') ? 'ms' : '%'
    const spec = kpi ? kpiSpec(kpi, windowMs) : null
    const minSamples = spec?.min_samples ?? 1
    const outcomes = spec ? figures.map((f) => evaluateCriterion(spec, f.measurement)) : null
    const judged = spec ? judgedIndex(figures, spec.operator) : 0
    const f = figures[judged]!
    const o = outcomes?.[judged] ?? null
    const status: KpiStatus = o ? STATUS_OF[o.outcome] : 'unknown'
    const why = o && status === 'unknown' ? shortReason(o, minSamples, unit) : undefined
    const note = [why, f.note ?? (o === null ? 'the plan sets no target for this figure' : undefined)].filter((x, i, all) => x !== undefined && all.indexOf(x) === i).join('; ') || undefined
    const shown: KpiFigure[] | undefined =
      figures.length > 1
        ? figures.map((x, i) => ({
            source: x.source,
            measured: x.measurement.value,
            display: fmtWithUnit(x.measurement.value, unit),
            samples: x.measurement.samples,
            ...(x.failed === undefined ? {} : {failed: x.failed}),
            status: outcomes ? STATUS_OF[outcomes[i]!.outcome] : 'unknown',
            judged: i === judged,
          }))
        : undefined
    return {
      id,
      title,
      target,
      measured: f.measurement.value,
      unit,
      display: fmtWithUnit(f.measurement.value, unit),
      status,
      source: f.source,
      samples: f.measurement.samples,
      minSamples,
      ...(o ? {evaluation: {outcome: o.outcome, reason: o.reason}} : {}),
      ...(why ? {unknownBecause: why} : {}),
      ...(shown ? {figures: shown} : {}),
      ...(note ? {note} : {}),
      ...(kpi ? {planRef: kpi.plan_ref} : {}),
    }
  }
  let hasP95 = false
  for (const kpi of playbook.kpis) {
    out.push(result(kpi.id, kpi.title, kpi, kpi.metric, kpi.statistic))
    if (kpi.statistic === 'p95' && /latency/.test(kpi.metric)) hasP95 = true
    // p95 latency sits next to the average; the plan gives it no target of its own.
    if (!hasP95 && kpi.statistic === 'avg' && /latency/.test(kpi.metric)) {
      out.push(result('latency-p95', 'Performance (p95 latency)', undefined, 'latency_ms', 'p95'))
      hasP95 = true
    }
  }
  if (!hasP95) out.push(result('latency-p95', 'Performance (p95 latency)', undefined, 'latency_ms', 'p95'))
  return {kpis: out, availability}
}

/** 'met' only when every KPI with a target is met; 'missed' when any is missed; otherwise 'unknown'. */
export function overallStatus(kpis: KpiResult[]): KpiStatus {
  const judged = kpis.filter((k) => k.target !== null)
  if (judged.some((k) => k.status === 'missed')) return 'missed'
  if (judged.length > 0 && judged.every((k) => k.status === 'met')) return 'met'
  return 'unknown'
}
