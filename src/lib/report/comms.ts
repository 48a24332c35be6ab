/**
 * The plan's two communication templates, filled with real values from the state store:
 * the measured recovery time of the flag rollback (the plan's "Fully tested, < 1 minute recovery"
 * becomes the measured figure), the open incidents as known issues, and the completion time of the
 * last phase. A value that is required and cannot be found is a ConfigError (exit 2) that names the
 * flag to pass or the command that produces it.
 */
import {ConfigError} from '../errors.js'
import {rollbackKindOf} from '../gate/records.js'
import {placeholdersIn} from '../playbook/playbook-schema.js'
import type {CommsTemplate, Playbook} from '../playbook/types.js'
import type {StateStore} from '../state/store.js'
import {fmtMs, fmtTime} from './format.js'
import {playbookObjectiveMs} from './build.js'

export type CommsKind = 'pre' | 'post'

export interface CommsMessage {
  subject: string
  body: string
}

export interface CommsOptions {
  /** --date (pre): the deployment date. */
  date?: string
  /** --completed-at (post): default the time the last phase was entered. */
  completedAt?: string
  /** --contact: the team contact. */
  contact?: string
}

/** The template for pre (sent before: negative send_at) or post (after). */
export function findTemplate(playbook: Playbook, kind: CommsKind): CommsTemplate {
  const templates = playbook.communications?.templates ?? []
  const byId = templates.find((t) => t.id === (kind === 'pre' ? 'pre-deployment' : 'post-deployment'))
  const bySign = templates.find((t) => (kind === 'pre' ? t.send_at.trim().startsWith('-') : !t.send_at.trim().startsWith('-')))
  const found = byId ?? bySign
  if (!found) {
    throw new ConfigError(
      `the playbook "${playbook.name}" has no ${kind === 'pre' ? 'pre-deployment' : 'post-deployment'} communication template`,
      [`Add one under communications.templates (id: ${kind === 'pre' ? 'pre-deployment, send_at: -48h' : 'post-deployment, send_at: +24h'}), or pass --playbook with a playbook that has it.`],
      'COMMS_TEMPLATE_MISSING',
    )
  }
  return found
}

/** Replace {{name}} with values; every placeholder must have a value. */
export function fillTemplate(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_m, name: string) => {
    const value = values[name]
    if (value === undefined) throw new ConfigError(`no value for the template placeholder {{${name}}}`, [], 'COMMS_VALUE_MISSING')
    return value
  })
}

/** The latest flag rollback (real or rehearsed) and its measured time, as the message states it. */
export function measuredRollbackTime(state: StateStore, playbook: Playbook): {text: string; totalMs: number; at: string; kind: string; objectiveMs: number | null} {
  const flag = state.listRollbacks({limit: 10_000}).filter((r) => rollbackKindOf(r.kind) === 'flag')
  const latest = flag[0]
  if (!latest || latest.totalMs === null) {
    throw new ConfigError(
      'no flag rollback has been measured yet, so the message cannot state the recovery time ("Rollback plan: Fully tested, ... recovery")',
      ['Run the flag rollback drill first: cutover rollback --flag (it records the measured recovery time), then run this command again.'],
      'COMMS_NO_ROLLBACK_MEASURED',
    )
  }
  const objectiveMs = latest.objectiveMs ?? playbookObjectiveMs(playbook, latest.kind)
  if (latest.outcome !== 'success' || (objectiveMs !== null && latest.totalMs > objectiveMs)) {
    throw new ConfigError(
      `the latest flag rollback (${fmtTime(latest.ts)}) ${latest.outcome !== 'success' ? `did not succeed (${latest.outcome})` : `took ${fmtMs(latest.totalMs)}, over its ${fmtMs(objectiveMs)} objective`}, so the message cannot say the rollback is fully tested`,
      ['Fix the rollback, run the drill again (cutover rollback --flag), then run this command again.'],
      'COMMS_ROLLBACK_NOT_WITHIN_OBJECTIVE',
    )
  }
  return {text: fmtMs(latest.totalMs), totalMs: latest.totalMs, at: latest.ts, kind: latest.kind, objectiveMs}
}

/** Open incidents, one per line, or "None". */
export function knownIssues(state: StateStore): string {
  const open = state.listIncidents({open: true})
  if (open.length === 0) return 'None'
  const line = (i: {id: number; severity: string; title: string}) => `#${i.id} (${i.severity}) ${i.title.replace(/\s+/g, ' ').trim()}`
  if (open.length === 1) return line(open[0]!)
  return `\n${open.map((i) => `- ${line(i)}`).join('\n')}`
}

/** When the last phase of the playbook was entered, from the phase history. */
export function completionTime(state: StateStore, playbook: Playbook): string | null {
  const last = Math.max(...playbook.phases.map((p) => p.number))
  const entered = state.listTrail({kind: 'phase.set'}).filter((r) => (r.payload as {to?: unknown} | null)?.to === last)
  const at = entered[entered.length - 1]?.ts
  const current = state.getPhase()
  // Entered and still there (a rollback out of it means the migration did not complete).
  return at && current?.phase === last ? at : null
}

function required(value: string | undefined, flag: string, what: string, kind: CommsKind): string {
  const trimmed = value?.trim()
  if (!trimmed) {
    throw new ConfigError(`${what} is required for the ${kind === 'pre' ? 'pre-deployment' : 'post-deployment'} message: pass ${flag}`, [`Example: cutover comms ${kind} ${flag} ${flag === '--contact' ? '"#llm-gateway (platform team)"' : flag === '--date' ? '2025-12-09' : '2025-12-23T10:00:00Z'}`], 'COMMS_VALUE_MISSING')
  }
  return trimmed
}

/** A time as the message shows it: ISO input becomes "YYYY-MM-DD HH:MM UTC"; other text is kept. */
function displayTime(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && Number.isFinite(Date.parse(text))) return `${new Date(Date.parse(text)).toISOString().slice(0, 16).replace('T', ' ')} UTC`
  return text
}

export function renderComms(kind: CommsKind, state: StateStore, playbook: Playbook, opts: CommsOptions): CommsMessage {
  const template = findTemplate(playbook, kind)
  const used = new Set([...placeholdersIn(template.subject), ...placeholdersIn(template.body)])
  const values: Record<string, string> = {}
  for (const name of used) {
    switch (name) {
      case 'date':
        values.date = required(opts.date, '--date', 'the deployment date', kind)
        break
      case 'contact':
        values.contact = required(opts.contact, '--contact', 'the team contact', kind)
        break
      case 'rollback_time':
        values.rollback_time = measuredRollbackTime(state, playbook).text
        break
      case 'known_issues':
        values.known_issues = knownIssues(state)
        break
      case 'completed_at': {
        const given = opts.completedAt?.trim()
        const fromState = given ? null : completionTime(state, playbook)
        if (!given && !fromState) {
          const last = Math.max(...playbook.phases.map((p) => p.number))
          throw new ConfigError(
            `the completion time is required for the post-deployment message: the state store does not show the migration in its last phase (${last}); pass --completed-at`,
            ['Example: cutover comms post --completed-at 2025-12-23T10:00:00Z --contact "#llm-gateway"'],
            'COMMS_VALUE_MISSING',
          )
        }
        values.completed_at = displayTime(given ?? fromState!)
        break
      }
      default: {
        const fallback = template.placeholders[name]?.default
        if (fallback === undefined) {
          throw new ConfigError(`the template "${template.id}" uses {{${name}}}, which cutover cannot fill and which has no default`, [`Give it a default in the playbook: placeholders.${name}.default`], 'COMMS_VALUE_MISSING')
        }
        values[name] = fallback
      }
    }
  }
  return {subject: fillTemplate(template.subject, values).trim(), body: `${fillTemplate(template.body, values).replace(/[ \t]+$/gm, '').trimEnd()}\n`}
}
