/**
 * The seed playbook must carry the WHOLE plan. The plan is read at test time: every checkbox,
 * criterion, trigger, KPI, objective, timeline line, template and risk row extracted from it must
 * appear in the mapping tables below, and every mapped entry must exist in the playbook with a
 * plan_ref quoting the plan line. A line added to the plan without a playbook entry fails here.
 */
import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {
  type CheckRef,
  type CommsTemplate,
  type Criterion,
  defaultPlaybookPath,
  durationMs,
  KNOWN_CHECK_IDS,
  loadPlaybook,
  type Phase,
  type Playbook,
  type RollbackTrigger,
} from '../../../src/lib/playbook/index.js'
import {REPO_ROOT} from '../../helpers/fixtures.js'

/**
 * The plan lives beside the checkout (../shared/seed/, where CI and developers have it), or at $CUTOVER_PLAN.
 * A clone elsewhere has no plan: this file is then reported as skipped, with the reason, and the rest of
 * the suite runs. CUTOVER_REQUIRE_PLAN=1 (set by .ci/run) makes a missing plan a failure instead.
 */
const PLAN_PATH = process.env.CUTOVER_PLAN ?? path.resolve(REPO_ROOT, '..', 'shared', 'seed', 'GATEWAY_CUTOVER_PLAN.md')
const PLAN_FOUND = existsSync(PLAN_PATH)
const PLAN = PLAN_FOUND ? readFileSync(PLAN_PATH, 'utf8') : ''
const LINES = PLAN.split('\n')
const describeWithPlan = PLAN_FOUND || process.env.CUTOVER_REQUIRE_PLAN === '1'
  ? describe
  : (title: string, _needsThePlan: () => void) => describe(title, () => it.skip(`skipped: no plan at ${PLAN_PATH} (put ../shared beside the checkout or set CUTOVER_PLAN)`))

/** Lines from the heading that starts with `start` up to the next heading of the same or higher level. */
function section(start: string): string[] {
  const from = LINES.findIndex((l) => l.startsWith(start))
  expect(from, `plan heading ${start}`).to.be.greaterThan(-1)
  const level = (start.match(/^#+/) ?? [''])[0].length
  const rest = LINES.slice(from + 1)
  const end = rest.findIndex((l) => {
    const m = /^(#+) /.exec(l)
    return m !== null && (m[1] as string).length <= level
  })
  return end === -1 ? rest : rest.slice(0, end)
}

/** Lines after a bold label (`**Rollback if:**`) up to the next blank line. */
function afterLabel(lines: string[], label: string): string[] {
  const at = lines.findIndex((l) => l.trim() === label)
  expect(at, `plan label ${label}`).to.be.greaterThan(-1)
  const rest = lines.slice(at + 1)
  const end = rest.findIndex((l) => l.trim() === '')
  return end === -1 ? rest : rest.slice(0, end)
}

const checkboxes = (lines: string[]) => lines.filter((l) => l.startsWith('- [ ] ')).map((l) => l.slice(6).trim())
const bullets = (lines: string[]) => lines.filter((l) => l.startsWith('- ')).map((l) => l.slice(2).trim())
const quoted = (text: string) => `"${text}"`

function phase(pb: Playbook, n: number): Phase {
  const p = pb.phases.find((x) => x.number === n)
  expect(p, `phase ${n}`).to.not.equal(undefined)
  return p as Phase
}

function check(pb: Playbook, n: number, name: string): CheckRef {
  const c = phase(pb, n).checks.find((x) => (x.name ?? x.id) === name)
  expect(c, `phase ${n} check ${name}`).to.not.equal(undefined)
  return c as CheckRef
}

function criterion(pb: Playbook, from: number, id: string): Criterion {
  const gate = pb.gates.find((g) => g.from === from && g.to === from + 1)
  expect(gate, `gate ${from} -> ${from + 1}`).to.not.equal(undefined)
  const c = gate?.criteria.find((x) => x.id === id)
  expect(c, `gate ${from} criterion ${id}`).to.not.equal(undefined)
  return c as Criterion
}

function trigger(pb: Playbook, id: string): RollbackTrigger {
  const t = pb.rollback_triggers.find((x) => x.id === id)
  expect(t, `trigger ${id}`).to.not.equal(undefined)
  return t as RollbackTrigger
}

/** Every extracted plan line has a row, and every row names a real plan line. */
function expectSameKeys(fromPlan: string[], table: Record<string, unknown>, what: string): void {
  expect(fromPlan.length, `${what}: lines found in the plan`).to.be.greaterThan(0)
  expect([...fromPlan].sort(), `${what}: every plan line is mapped (and nothing else)`).to.deep.equal(Object.keys(table).sort())
}

// ---------------------------------------------------------------- mapping tables

/** Checklist item -> the check instance (name, or id) implementing it. */
const CHECKLISTS: Record<'1.2' | '2.3' | '3.4', {phase: number; heading: string; rows: Record<string, string>}> = {
  '1.2': {
    phase: 1,
    heading: '### 1.2 Success Criteria',
    rows: {
      'Gateway starts successfully on daemon launch': 'gateway.started_log',
      'Gateway port written to PID file': 'pidfile.gateway_port',
      'Launcher discovers gateway port and sets `ANTHROPIC_BASE_URL`': 'launcher.gateway_env',
      'Health endpoint returns `"status":"healthy"`': 'gateway.health',
      'Metrics endpoint returns valid data': 'gateway.metrics_valid',
      'Claude Code requests route through gateway (check audit logs)': 'traffic.routes_through_gateway',
      'Streaming requests work (SSE format)': 'traffic.streaming_sse',
      'Cost tracking records metrics': 'cost.records_request',
    },
  },
  '2.3': {
    phase: 2,
    heading: '### 2.3 Testing Checklist',
    rows: {
      'Daemon starts without proxy server': 'proxy.not_listening',
      'Gateway is the only routing mechanism': 'launcher.no_proxy_fallback',
      'Launcher fails with clear error if gateway unavailable': 'launcher.fails_without_gateway',
      'All Claude Code requests route through gateway': 'traffic.routes_through_gateway',
      'Streaming still works': 'traffic.streaming_sse',
      'Cost tracking still works': 'cost.records_request',
      'Audit logs still work': 'audit.complete',
      'Feature flag allows emergency rollback (if implemented)': 'flags.rollback_available',
    },
  },
  '3.4': {
    phase: 3,
    heading: '### 3.4 Testing Checklist',
    rows: {
      'Code compiles without errors': 'repo.builds',
      'No references to `proxy_port` in codebase': 'no-proxy-port-references',
      'PID file format is valid': 'pidfile.valid',
      'Daemon starts successfully': 'daemon.running',
      'Gateway functions normally': 'gateway.health',
      'Documentation updated': 'repo.docs_no_proxy',
      'Tests pass (`cargo test`)': 'repo.tests_pass',
      'No broken imports or dead code': 'no-dead-proxy-code',
    },
  },
}

/** 1.3 monitoring bullet -> monitoring metric id in phase 1 (with the field it reads). */
const MONITORING: Record<string, {id: string; field?: string}> = {
  'Total requests (`/gateway/metrics` - `summary.total_requests`)': {id: 'total-requests', field: 'summary.total_requests'},
  'Success rate (ratio of successful vs failed requests)': {id: 'success-rate'},
  'Average latency (`summary.avg_latency_ms`)': {id: 'avg-latency', field: 'summary.avg_latency_ms'},
  'Cost tracking (`summary.total_cost_usd`)': {id: 'total-cost', field: 'summary.total_cost_usd'},
  'Provider health (`/gateway/health` - `providers.*`)': {id: 'provider-health', field: 'providers.*'},
}

type CriterionExpect = Partial<Pick<Criterion, 'source' | 'metric' | 'operator' | 'threshold' | 'unit' | 'window' | 'requires_approval'>>
const GO_NO_GO: Record<'Phase 1 → Phase 2' | 'Phase 2 → Phase 3', {from: number; rows: Record<string, {id: string; expect: CriterionExpect}>}> = {
  'Phase 1 → Phase 2': {
    from: 1,
    rows: {
      'Zero critical bugs discovered': {id: 'zero-critical-bugs', expect: {source: 'records', metric: 'critical_incidents', window: 'phase', operator: '==', threshold: 0}},
      'Gateway uptime >99.9%': {id: 'gateway-uptime', expect: {source: 'gateway', metric: 'uptime', operator: '>', threshold: 99.9, unit: 'percent'}},
      'All success criteria met': {id: 'all-success-criteria-met', expect: {source: 'records', metric: 'last_validation_passed', operator: '==', threshold: 1}},
      'Team approval': {id: 'team-approval', expect: {source: 'records', metric: 'approvals', requires_approval: true}},
    },
  },
  'Phase 2 → Phase 3': {
    from: 2,
    rows: {
      'Zero critical bugs discovered': {id: 'zero-critical-bugs', expect: {source: 'records', metric: 'critical_incidents', window: 'phase', operator: '==', threshold: 0}},
      'Gateway uptime >99.9% for 4+ days': {id: 'gateway-uptime-4d', expect: {source: 'gateway', metric: 'uptime', operator: '>', threshold: 99.9, unit: 'percent', window: '4d'}},
      'No rollbacks required': {id: 'no-rollbacks', expect: {source: 'records', metric: 'rollbacks_in_phase', operator: '==', threshold: 0}},
      'User feedback positive': {id: 'user-feedback-positive', expect: {source: 'records', metric: 'positive_feedback_ratio'}},
      'Team approval': {id: 'team-approval', expect: {source: 'records', metric: 'approvals', requires_approval: true}},
    },
  },
}

type TriggerExpect = Partial<Pick<RollbackTrigger, 'source' | 'metric' | 'operator' | 'threshold' | 'unit' | 'action' | 'check' | 'bands' | 'min_hosts'>>
const ROLLBACK_IF: Record<string, {id: string; expect: TriggerExpect}> = {
  'Gateway fails to start on >5% of systems': {id: 'gateway-start-failures', expect: {source: 'prometheus', operator: '>', threshold: 5, unit: 'percent', action: 'rollback', min_hosts: 3}},
  'Streaming requests fail >10% of the time': {id: 'streaming-failures', expect: {source: 'gateway', metric: 'streaming_failure_rate', operator: '>', threshold: 10, unit: 'percent', action: 'rollback'}},
  'Cost tracking shows incorrect data': {id: 'cost-tracking-incorrect', expect: {source: 'check', check: 'cost.records_request', action: 'rollback'}},
  'Critical bugs discovered (memory leaks, crashes, data loss)': {id: 'critical-bugs', expect: {source: 'records', metric: 'open_critical_incidents', operator: '>', threshold: 0, action: 'rollback'}},
  'User complaints exceed 10% of active users': {id: 'user-complaints', expect: {source: 'records', metric: 'complaint_ratio', operator: '>', threshold: 10, unit: 'percent', action: 'rollback'}},
  'Performance degradation >50% (latency, throughput)': {
    id: 'latency-degradation',
    expect: {metric: 'latency_ms', threshold: 50, unit: 'percent', action: 'rollback', bands: {no_action_below: 25, alert_between: [25, 50], rollback_above: 50}},
  },
}

const DO_NOT_ROLLBACK: Record<string, string> = {
  'Minor UI issues': 'minor-ui-issues',
  'Non-critical feature missing': 'non-critical-feature-missing',
  'Single user edge case': 'single-user-edge-case',
  'Performance degradation <25%': 'minor-performance-degradation',
  'Issues resolved by daemon restart': 'resolved-by-restart',
}

/** KPI "Target:" line -> KPI id and its target. */
const KPIS: Record<string, {id: string; operator: string; threshold: number; unit: string}> = {
  'Target: >99.9% uptime': {id: 'availability', operator: '>', threshold: 99.9, unit: 'percent'},
  'Target: <500ms average latency': {id: 'performance', operator: '<', threshold: 500, unit: 'ms'},
  'Target: <0.1% error rate': {id: 'reliability', operator: '<', threshold: 0.1, unit: 'percent'},
  'Target: 100% of requests logged': {id: 'cost-tracking', operator: '==', threshold: 100, unit: 'percent'},
}

describeWithPlan('the seed playbook covers the whole plan', () => {
  if (!PLAN_FOUND) it(`needs the plan: ${PLAN_PATH} is missing (CUTOVER_REQUIRE_PLAN=1)`, () => expect.fail(`the plan is missing at ${PLAN_PATH}`))
  let pb: Playbook
  before(async () => {
    pb = await loadPlaybook(defaultPlaybookPath())
  })

  for (const [sec, {phase: n, heading, rows}] of Object.entries(CHECKLISTS)) {
    it(`§${sec}: every checkbox is a required check of phase ${n} quoting it`, () => {
      expectSameKeys(checkboxes(section(heading)), rows, `§${sec}`)
      for (const [text, name] of Object.entries(rows)) {
        const c = check(pb, n, name)
        expect(c.plan_ref, `${name} quotes ${text}`).to.contain(quoted(text))
        expect(KNOWN_CHECK_IDS as readonly string[]).to.include(c.id)
        expect(c.required, `${name} decides the verdict`).to.not.equal(false)
      }
    })
  }

  it('§1.1/Appendix B: phase 1 runs the test-gateway script, and PID file validity and the providers endpoint are checked', () => {
    expect(check(pb, 1, 'script.test_gateway').params).to.deep.include({script: 'scripts/test-gateway.mjs'})
    expect(check(pb, 1, 'gateway.providers_listed').plan_ref).to.contain('Test providers endpoint')
    expect(check(pb, 1, 'launcher.no_proxy_fallback').plan_ref).to.contain('Should NOT see')
    expect(check(pb, 2, 'pidfile.no_proxy_port').plan_ref).to.contain(quoted('Daemon starts without proxy server'))
  })

  it('§1.3: every monitoring metric and the 2-3 day baseline window', () => {
    const lines = afterLabel(section('### 1.3 Monitoring Metrics'), '**Gateway Metrics to Monitor:**')
    expectSameKeys(bullets(lines), MONITORING, '§1.3')
    const p1 = phase(pb, 1)
    for (const [text, {id, field}] of Object.entries(MONITORING)) {
      const m = p1.monitoring?.find((x) => x.id === id)
      expect(m, id).to.not.equal(undefined)
      expect(m?.plan_ref).to.contain(quoted(text))
      if (field) expect(m?.field).to.equal(field)
    }
    const baseline = /\*\*Baseline Period:\*\* (\d+)-(\d+) days/.exec(section('### 1.3 Monitoring Metrics').join('\n'))
    expect(baseline).to.not.equal(null)
    expect(durationMs(p1.baseline_window?.min ?? '0s')).to.equal(Number(baseline?.[1]) * 86_400_000)
    expect(durationMs(p1.baseline_window?.max ?? '0s')).to.equal(Number(baseline?.[2]) * 86_400_000)
  })

  for (const [label, {from, rows}] of Object.entries(GO_NO_GO)) {
    it(`Go/No-Go ${label}: every criterion, key, with the plan's threshold`, () => {
      const lines = afterLabel(section('### Go/No-Go Criteria'), `**${label}:**`)
      expectSameKeys(checkboxes(lines), rows, label)
      for (const [text, {id, expect: want}] of Object.entries(rows)) {
        const c = criterion(pb, from, id)
        expect(c.plan_ref).to.contain(quoted(text))
        expect(c.key, `${id} is key`).to.equal(true)
        expect(c).to.deep.include(want)
      }
    })
  }

  it('Go/No-Go: "rollback rehearsed within objective" guards both gates', () => {
    expect(criterion(pb, 1, 'rollback-rehearsed')).to.deep.include({metric: 'last_rehearsal_within_objective', check: 'rollback.rehearsed', key: true})
    expect(criterion(pb, 2, 'rollback-rehearsed')).to.deep.include({metric: 'last_rehearsal_within_objective', check: 'rollback.rehearsed', key: true})
  })

  it('Rollback if: every criterion is a rollback trigger with its threshold', () => {
    expectSameKeys(bullets(afterLabel(section('### Rollback Decision Criteria'), '**Rollback if:**')), ROLLBACK_IF, 'Rollback if')
    for (const [text, {id, expect: want}] of Object.entries(ROLLBACK_IF)) {
      const t = trigger(pb, id)
      expect(t.plan_ref).to.contain(quoted(text))
      expect(t).to.deep.include(want)
    }
    // Throughput degradation has its own banded trigger (decrease vs baseline).
    expect(trigger(pb, 'throughput-degradation')).to.deep.include({worse_when: 'lower', metric: 'request_rate'})
  })

  it('Do NOT rollback for: every item, and the <25% item matches the no-action band', () => {
    expectSameKeys(bullets(afterLabel(section('### Rollback Decision Criteria'), '**Do NOT rollback for:**')), DO_NOT_ROLLBACK, 'Do NOT rollback for')
    for (const [text, id] of Object.entries(DO_NOT_ROLLBACK)) {
      const item = pb.do_not_rollback_for.find((d) => d.id === id)
      expect(item, id).to.not.equal(undefined)
      expect(item?.title).to.equal(text)
      expect(item?.plan_ref).to.contain(quoted(text))
    }
    expect(trigger(pb, 'latency-degradation').bands?.no_action_below).to.equal(25)
  })

  it('KPIs: every target, with operator, threshold and unit', () => {
    const kpiLines = section('### Key Performance Indicators (KPIs)')
      .filter((l) => l.startsWith('- Target: '))
      .map((l) => l.slice(2).trim())
    expectSameKeys(kpiLines, KPIS, 'KPIs')
    for (const [text, {id, ...target}] of Object.entries(KPIS)) {
      const k = pb.kpis.find((x) => x.id === id)
      expect(k, id).to.not.equal(undefined)
      expect(k?.plan_ref).to.contain(quoted(text))
      expect(k?.target).to.deep.equal(target)
    }
  })

  it('recovery objectives: flag 30 s, fastest 1 min, git 10 min, parsed from the plan', () => {
    const flag = /\*\*Feature Flag Rollback \((\d+) seconds\):\*\*/.exec(PLAN)
    const fastest = /\*\*Fastest Rollback \((\d+) minute\):\*\*/.exec(PLAN)
    const git = /\*\*Recovery Time Objective:\*\* < (\d+) minutes/.exec(PLAN)
    expect([flag, fastest, git].every(Boolean)).to.equal(true)
    const emergency = (kind: string) => pb.emergency_rollback.find((r) => r.kind === kind)
    expect(durationMs(emergency('flag')?.rto ?? '0s')).to.equal(Number(flag?.[1]) * 1000)
    expect(durationMs(emergency('fastest')?.rto ?? '0s')).to.equal(Number(fastest?.[1]) * 60_000)
    const p3git = phase(pb, 3).rollback.find((r) => r.kind === 'git')
    expect(durationMs(p3git?.rto ?? '0s')).to.equal(Number(git?.[1]) * 60_000)
    expect(p3git?.rpo).to.equal('Last commit before Phase 3')
    // Phase 2 offers the flag rollback (30 s) first, then git revert and the manual option.
    expect(phase(pb, 2).rollback.map((r) => [r.kind, r.rto])).to.deep.equal([
      ['flag', '30s'],
      ['git', '10m'],
      ['manual', undefined],
    ])
  })

  it('the flag rollback writes exactly the plan\'s flags', () => {
    const flags = /echo '(\{"gatewayEnabled": false, "proxyEnabled": true\})'/.exec(PLAN)
    expect(flags).to.not.equal(null)
    const step = pb.emergency_rollback.find((r) => r.kind === 'flag')?.steps.find((s) => s.type === 'set_flags')
    expect(step && step.type === 'set_flags' ? step.flags : undefined).to.deep.equal(JSON.parse(flags?.[1] ?? '{}'))
  })

  it('timeline: every day line of every week, the monitoring durations, 21 days in total', () => {
    const schedule = section('### Recommended Schedule')
    let week = 0
    const found: string[] = []
    for (const line of schedule) {
      const w = /^\*\*Week (\d+): /.exec(line)
      if (w) week = Number(w[1])
      const d = /^- Day (\d+(?:-\d+)?): (.*)$/.exec(line)
      if (!d) continue
      found.push(`${week}/${d[1]}`)
      const item = pb.timeline?.weeks.find((x) => x.week === week)?.items.find((i) => i.days === d[1])
      expect(item, `week ${week} day ${d[1]}`).to.not.equal(undefined)
      expect(item?.plan_ref).to.contain(quoted(`Day ${d[1]}: ${d[2]}`))
      const monitor = /Monitor for (\d+) days/.exec(d[2] as string)
      if (monitor) expect(durationMs(item?.duration ?? '0s')).to.equal(Number(monitor[1]) * 86_400_000)
    }
    expect(found).to.have.length(8)
    expect(pb.timeline?.weeks.flatMap((w) => w.items.map((i) => `${w.week}/${i.days}`))).to.deep.equal(found)
    const total = /\*\*Total Duration:\*\* \d+ weeks \((\d+) days\)/.exec(PLAN)
    expect(durationMs(pb.timeline?.total_duration ?? '0s')).to.equal(Number(total?.[1]) * 86_400_000)
    expect(phase(pb, 2).min_duration).to.equal('4d')
    expect(phase(pb, 3).min_duration).to.equal('6d')
  })

  it('communications: both templates verbatim once the placeholders are filled as the plan writes them', () => {
    const templates = section('### Communication Templates').join('\n')
    const blocks = [...templates.matchAll(/\*\*(.+?):\*\*\n```\n([\s\S]*?)\n```/g)].map((m) => ({title: m[1] as string, text: m[2] as string}))
    expect(blocks.map((b) => b.title)).to.deep.equal(['Pre-Deployment (48 hours before)', 'Post-Deployment (24 hours after)'])
    const asThePlanWrites: Record<string, string> = {date: '[DATE]', contact: '[TEAM CONTACT]', completed_at: '[TIME]'}
    const fill = (tpl: CommsTemplate, text: string) =>
      text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => asThePlanWrites[name] ?? tpl.placeholders[name]?.default ?? `{{${name}}}`)
    const ids = ['pre-deployment', 'post-deployment']
    blocks.forEach((block, i) => {
      const tpl = pb.communications?.templates.find((t) => t.id === ids[i])
      expect(tpl, ids[i]).to.not.equal(undefined)
      const t = tpl as CommsTemplate
      expect(`Subject: ${fill(t, t.subject)}\n\n${fill(t, t.body).replace(/\n$/, '')}`).to.equal(block.text)
      expect(t.plan_ref).to.contain(quoted(block.title))
    })
    const pre = pb.communications?.templates[0]
    expect(Object.keys(pre?.placeholders ?? {}).sort()).to.deep.equal(['contact', 'date', 'rollback_time'])
    expect(durationMs(pre?.send_at ?? '0s')).to.equal(-48 * 3_600_000)
    expect(durationMs(pb.communications?.templates[1]?.send_at ?? '0s')).to.equal(24 * 3_600_000)
  })

  it('communications: every stakeholder line', () => {
    const lines = section('### Stakeholders')
    const internal = lines.filter((l) => /^- \w+: /.test(l)).map((l) => l.slice(2))
    const external = afterLabel(lines, '**External Users:**').map((l) => l.slice(2))
    const have = pb.communications?.stakeholders ?? []
    for (const line of internal) {
      const [group, what] = line.split(': ') as [string, string]
      expect(have.some((s) => s.audience === 'internal' && s.group === group && s.what === what), line).to.equal(true)
    }
    for (const what of external) expect(have.some((s) => s.audience === 'external' && s.what === what), what).to.equal(true)
    expect(have).to.have.length(internal.length + external.length)
  })

  it('risks: every row of both risk tables', () => {
    const rows = section('## Risk Assessment')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| Risk') && !l.startsWith('|---'))
      .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()))
    expect(rows).to.have.length(7)
    for (const [risk, impact, mitigation] of rows) {
      const r = pb.risks.find((x) => x.risk === risk)
      expect(r, risk).to.not.equal(undefined)
      expect(r).to.deep.include({impact, mitigation})
      expect(r?.plan_ref).to.contain(quoted(risk as string))
    }
    expect(pb.risks).to.have.length(rows.length)
  })

  it('key differences, post-migration review and source version', () => {
    const diff = section('### Key Differences')
      .filter((l) => l.startsWith('| **'))
      .map((l) => l.split('|').slice(1, -1).map((c) => c.trim().replace(/\*\*/g, '').replace(/`/g, '')))
    expect(pb.key_differences?.map((k) => [k.feature, k.old, k.new])).to.deep.equal(diff)
    for (const week of [1, 4]) {
      const metrics = bullets(afterLabel(section('### Post-Migration Review'), `**Week ${week} Metrics:**`))
      expect(pb.post_migration_review?.find((r) => r.week === week)?.metrics).to.deep.equal(metrics)
    }
    expect(pb.source?.version).to.equal(/\*\*Version:\*\* (\S+)/.exec(PLAN)?.[1])
  })

  it('phase 2 and 3 apply steps do what the plan says', () => {
    const p2 = phase(pb, 2).apply
    expect(p2.map((s) => s.type)).to.deep.equal(['set_flags', 'daemon', 'validate'])
    expect(p2[0]?.type === 'set_flags' && p2[0].flags).to.deep.equal({gatewayEnabled: true, proxyEnabled: false})
    const p3 = phase(pb, 3).apply
    expect(p3.map((s) => (s.type === 'git' ? `git:${s.action}` : s.type === 'run' ? `run:${s.command}` : s.type))).to.deep.equal([
      'git:branch',
      'git:remove_paths',
      'git:delete_lines',
      'run:build',
      'run:test',
      'git:commit',
      'daemon',
      'validate',
    ])
    const remove = p3.find((s) => s.type === 'git' && s.action === 'remove_paths')
    expect(remove?.type === 'git' && remove.action === 'remove_paths' && remove.paths).to.deep.equal(['src/proxy/'])
  })

  it('every plan_ref names a section and quotes the plan', () => {
    const refs: string[] = []
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk)
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'plan_ref' && typeof x === 'string') refs.push(x)
          else walk(x)
        }
      }
    }
    walk(pb)
    expect(refs.length).to.be.greaterThan(100)
    for (const ref of refs) expect(ref, ref).to.match(/^§.+: .*\S/)
  })
})

/**
 * #11: every figure a gate or a trigger decides on, pinned. Weakening any of them (a threshold, an
 * operator, a window or its anchor, a minimum of samples or hosts, key-ness, an approval, a rehearsal
 * objective) fails here, so it can only happen on purpose, with this table changed in the same commit.
 */
const PINNED_FIELDS = ['source', 'metric', 'statistic', 'window', 'anchor', 'operator', 'threshold', 'unit', 'min_samples', 'min_hosts', 'key', 'requires_approval', 'params', 'relative_to_baseline', 'action', 'rollback_kind', 'bands', 'worse_when', 'check', 'host_label', 'evidence_waiver'] as const
const pinOf = (c: object): Record<string, unknown> => Object.fromEntries(PINNED_FIELDS.filter((k) => (c as Record<string, unknown>)[k] !== undefined).map((k) => [k, (c as Record<string, unknown>)[k]]))
const count0 = {statistic: 'count', operator: '==', threshold: 0, unit: 'count', min_samples: 0, key: true}
const approval = {source: 'records', metric: 'approvals', statistic: 'count', window: 'phase', operator: '>=', threshold: 1, unit: 'count', min_samples: 0, key: true, requires_approval: true, check: 'records.approval'}
const uptime = (window: string) => ({source: 'gateway', metric: 'uptime', statistic: 'ratio', window, anchor: 'phase_entry', operator: '>', threshold: 99.9, unit: 'percent', min_samples: 1000, key: true})
const rehearsed = (kind: string, objective: string) => ({source: 'records', metric: 'last_rehearsal_within_objective', statistic: 'last', window: '7d', operator: '==', threshold: 1, unit: 'count', min_samples: 1, key: true, params: {kind, objective}, check: 'rollback.rehearsed'})
const PINNED_GATES: Record<string, Record<string, Record<string, unknown>>> = {
  '1->2': {
    'zero-critical-bugs': {source: 'records', metric: 'critical_incidents', window: 'phase', ...count0},
    'gateway-uptime': uptime('2d'),
    'all-success-criteria-met': {source: 'records', metric: 'last_validation_passed', statistic: 'last', window: 'phase', operator: '==', threshold: 1, unit: 'count', min_samples: 1, key: true, params: {phase: 1}},
    'rollback-rehearsed': rehearsed('flag', '30s'),
    'team-approval': approval,
  },
  '2->3': {
    'zero-critical-bugs': {source: 'records', metric: 'critical_incidents', window: 'phase', ...count0},
    'gateway-uptime-4d': uptime('4d'),
    'no-rollbacks': {source: 'records', metric: 'rollbacks_in_phase', window: 'phase', ...count0},
    'user-feedback-positive': {source: 'records', metric: 'positive_feedback_ratio', statistic: 'ratio', window: 'phase', operator: '>', threshold: 50, unit: 'percent', min_samples: 5, key: true, check: 'records.feedback_positive'},
    'rollback-rehearsed': rehearsed('git', '10m'),
    'latency-vs-baseline': {source: 'gateway', metric: 'latency_ms', statistic: 'avg', window: '4d', anchor: 'phase_entry', operator: '<', threshold: 500, unit: 'ms', min_samples: 30, key: false, relative_to_baseline: {max_increase_pct: 25}},
    'team-approval': approval,
  },
}
const bands = {no_action_below: 25, alert_between: [25, 50], rollback_above: 50}
const PINNED_TRIGGERS: Record<string, Record<string, unknown>> = {
  'gateway-start-failures': {source: 'prometheus', metric: 'min by (instance) (min_over_time(up{job="cco-gateway"}[$window]))', statistic: 'last', window: '15m', operator: '>', threshold: 5, unit: 'percent', min_samples: 1, min_hosts: 3, action: 'rollback', rollback_kind: 'flag', host_label: 'instance'},
  'streaming-failures': {source: 'gateway', metric: 'streaming_failure_rate', statistic: 'ratio', window: '1h', operator: '>', threshold: 10, unit: 'percent', min_samples: 20, action: 'rollback', rollback_kind: 'flag'},
  'cost-tracking-incorrect': {source: 'check', metric: 'check.failed', statistic: 'last', window: '1h', operator: '==', threshold: 1, unit: 'count', min_samples: 1, action: 'rollback', rollback_kind: 'flag', check: 'cost.records_request'},
  'critical-bugs': {source: 'records', metric: 'open_critical_incidents', statistic: 'count', window: 'phase', operator: '>', threshold: 0, unit: 'count', min_samples: 0, action: 'rollback', rollback_kind: 'flag', check: 'records.no_critical_incidents'},
  'user-complaints': {source: 'records', metric: 'complaint_ratio', statistic: 'ratio', window: 'phase', operator: '>', threshold: 10, unit: 'percent', min_samples: 10, action: 'rollback', rollback_kind: 'flag'},
  'latency-degradation': {source: 'gateway', metric: 'latency_ms', statistic: 'avg', window: '1h', operator: '>', threshold: 50, unit: 'percent', min_samples: 20, action: 'rollback', rollback_kind: 'flag', bands, worse_when: 'higher'},
  'throughput-degradation': {source: 'gateway', metric: 'request_rate', statistic: 'rate', window: '1h', operator: '>', threshold: 50, unit: 'percent', min_samples: 20, action: 'alert', bands, worse_when: 'lower'},
}

describe('the seed playbook: every gate and trigger figure pinned (#11)', () => {
  let pb: Playbook
  before(async () => {
    pb = await loadPlaybook(defaultPlaybookPath())
  })

  it('gates: exactly these criteria, each with exactly these figures', () => {
    const actual = Object.fromEntries(pb.gates.map((g) => [`${g.from}->${g.to}`, Object.fromEntries(g.criteria.map((c) => [c.id, pinOf(c)]))]))
    expect(actual).to.deep.equal(PINNED_GATES)
  })

  it('triggers: exactly these, each with exactly these figures', () => {
    expect(Object.fromEntries(pb.rollback_triggers.map((t) => [t.id, pinOf(t)]))).to.deep.equal(PINNED_TRIGGERS)
  })

  it('phases: minimum durations and the baseline window', () => {
    expect(pb.phases.map((p) => [p.number, p.min_duration ?? null, p.baseline_window ? [p.baseline_window.min, p.baseline_window.max] : null])).to.deep.equal([[1, '2d', ['2d', '3d']], [2, '4d', null], [3, '6d', null]])
  })
})
