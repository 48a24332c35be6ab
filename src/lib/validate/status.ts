/** `cutover phase status`: where the cutover stands and what the playbook's timeline says comes next. */
import chalk from 'chalk'

import {VALIDATION_RUN_KIND} from '../gate/records.js'
import {durationMs} from '../util/duration.js'
import type {Playbook} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import type {ValidationReport} from './types.js'

export interface DueItem {
  what: string
  /** ISO time it is due / ends. */
  at: string
  /** ms from now; negative = already past. */
  in_ms: number
  text: string
}

export interface PhaseStatusReport {
  playbook: {name: string; version: string; file: string}
  phase: {number: number; id: string | null; title: string | null; since: string | null; reason: string | null; actor: string | null; recorded: boolean}
  elapsed_ms: number | null
  validations: {phase: number; run_id: string; outcome: string | null; finished_at: string | null; required_passed: number | null; required_total: number | null; complete: boolean}[]
  due: DueItem[]
  /** An operation (advance, rollback) that was interrupted (crash, kill) and is not finished: it comes before anything else. */
  interrupted: {operation_id: string; kind: string; started_at: string; actor: string; step: string | null; steps: {name: string; state: string}[]} | null
  next: string
}

/** "1d 4h", "3h 20m", "45s". */
export function formatSpan(ms: number): string {
  const abs = Math.abs(ms)
  const d = Math.floor(abs / 86_400_000)
  const h = Math.floor((abs % 86_400_000) / 3_600_000)
  const m = Math.floor((abs % 3_600_000) / 60_000)
  const s = Math.floor((abs % 60_000) / 1000)
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`
  if (m > 0) return `${m}m`
  return `${s}s`
}

function due(what: string, at: number, now: number, future: string, past: string): DueItem {
  const inMs = at - now
  return {what, at: new Date(at).toISOString(), in_ms: inMs, text: inMs > 0 ? `${future} in ${formatSpan(inMs)}` : `${past} ${formatSpan(inMs)} ago`}
}

export function phaseStatus(playbook: Playbook, playbookFile: string, state: StateStore, now: Date = new Date()): PhaseStatusReport {
  const recorded = state.getPhase()
  const number = recorded?.phase ?? 1
  const phase = playbook.phases.find((p) => p.number === number) ?? null
  const t = now.getTime()
  const since = recorded ? Date.parse(recorded.since) : null
  const runs = state.lastRunPerPhase<ValidationReport | {error: string}>(VALIDATION_RUN_KIND)
  const validations = runs.map((r) => {
    const report = r.results as Partial<ValidationReport> | null
    return {phase: r.phase ?? 0, run_id: r.id, outcome: r.outcome, finished_at: r.finishedAt, required_passed: report?.counts?.required.pass ?? null, required_total: report?.counts?.required.total ?? null, complete: report?.scope?.complete === true}
  })
  const dueItems: DueItem[] = []
  if (phase && since !== null) {
    if (phase.baseline_window) {
      dueItems.push(due('baseline_window', since + durationMs(phase.baseline_window.min), t, `baseline window (${phase.baseline_window.min}) ends`, `baseline window (${phase.baseline_window.min}) ended`))
      dueItems.push(due('baseline_window_max', since + durationMs(phase.baseline_window.max), t, `baseline window maximum (${phase.baseline_window.max}) reached`, `baseline window maximum (${phase.baseline_window.max}) reached`))
    }
    if (phase.min_duration) {
      const gate = playbook.gates.find((g) => g.from === number)
      dueItems.push(due('min_duration', since + durationMs(phase.min_duration), t, `minimum phase duration (${phase.min_duration}) ends${gate ? `; then cutover gonogo (${gate.title})` : ''}`, `minimum phase duration (${phase.min_duration}) ended`))
    }
    const week = playbook.timeline?.weeks.find((w) => w.phase === number)
    for (const item of week?.items ?? []) {
      const [first, last] = item.days.split('-').map(Number) as [number, number | undefined]
      if (!Number.isFinite(first)) continue
      const start = since + (first - 1) * 86_400_000
      const end = since + (last ?? first) * 86_400_000
      if (end <= t) continue
      dueItems.push(start > t ? due(`timeline_day_${item.days}`, start, t, `${week!.title} day ${item.days}: ${item.title} starts`, '') : due(`timeline_day_${item.days}`, end, t, `${week!.title} day ${item.days}: ${item.title} (in progress) ends`, ''))
    }
  }
  dueItems.sort((a, b) => a.in_ms - b.in_ms)
  const lastHere = validations.find((v) => v.phase === number)
  const pending = state.pendingOperation()
  const interrupted = pending
    ? {operation_id: pending.operation.id, kind: pending.operation.kind, started_at: pending.operation.startedAt, actor: pending.operation.actor, step: pending.interruptedStep?.name ?? null, steps: pending.steps.map((s) => ({name: s.name, state: s.state}))}
    : null
  let next: string
  if (interrupted) {
    const where = interrupted.step ? `step "${interrupted.step}" was running when it stopped` : 'it stopped between steps'
    next =
      interrupted.kind === 'advance'
        ? `an interrupted phase advance is pending (${where}): run cutover phase advance again to resume it, or cutover phase advance --abort to roll it back`
        : `an interrupted ${interrupted.kind} is pending (${where}): run it again to finish it`
  } else if (!lastHere) next = `validate phase ${number}: cutover phase validate --phase ${number}`
  else if (lastHere.outcome !== 'pass') next = `the last phase ${number} validation was ${lastHere.outcome}: fix it, then cutover phase validate --phase ${number}`
  else {
    const upcoming = dueItems.find((d) => d.in_ms > 0)
    const gate = playbook.gates.find((g) => g.from === number)
    next = upcoming ? upcoming.text : gate ? `evaluate the gate: cutover gonogo (${gate.title})` : 'the last phase is complete; keep monitoring (post-migration review)'
  }
  return {
    playbook: {name: playbook.name, version: playbook.version, file: playbookFile},
    phase: {number, id: phase?.id ?? null, title: phase?.title ?? null, since: recorded?.since ?? null, reason: recorded?.reason ?? null, actor: recorded?.actor ?? null, recorded: recorded !== null},
    elapsed_ms: since === null ? null : t - since,
    validations,
    due: dueItems,
    interrupted,
    next,
  }
}

export function renderPhaseStatus(s: PhaseStatusReport): string[] {
  const out = [
    chalk.bold(`Phase ${s.phase.number}${s.phase.title ? `: ${s.phase.title}` : ''}`) +
      (s.phase.since ? ` since ${s.phase.since} (${formatSpan(s.elapsed_ms ?? 0)})${s.phase.actor ? ` by ${s.phase.actor}` : ''}${s.phase.reason ? `: ${s.phase.reason}` : ''}` : ' (no phase recorded yet: phase 1 assumed)'),
    '',
    'Last validation per phase:',
  ]
  if (s.validations.length === 0) out.push('  none yet')
  for (const v of s.validations) {
    out.push(`  phase ${v.phase}: ${v.outcome ?? 'unfinished'} at ${v.finished_at ?? '-'}${v.required_total === null ? '' : ` (${v.required_passed}/${v.required_total} required passed)`}${v.complete ? '' : ' [partial run: does not count for the gate]'}`)
  }
  if (s.interrupted) {
    out.push('', chalk.yellow(`! Interrupted ${s.interrupted.kind} ${s.interrupted.operation_id} (started ${s.interrupted.started_at} by ${s.interrupted.actor}):`))
    for (const step of s.interrupted.steps) out.push(`  ${step.state.padEnd(11)} ${step.name}`)
  }
  out.push('', 'Due next:')
  const upcoming = s.due.filter((d) => d.in_ms > 0)
  if (upcoming.length === 0) out.push(s.phase.since ? '  nothing scheduled by the timeline' : '  (the timeline starts when the phase is recorded)')
  for (const d of upcoming) out.push(`  ${d.text} (${d.at})`)
  out.push('', `Next: ${s.next}`)
  return out
}
