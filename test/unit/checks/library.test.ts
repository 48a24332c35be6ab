/** The library's contract: one registry, parameter schemas enforced at lint time, pure helpers, the runner's error mapping. */
import {expect} from 'chai'
import path from 'node:path'

import {checkCatalog, CHECKS, getCheck, resolveCheckParams} from '../../../src/checks/index.js'
import {metricsProblems} from '../../../src/checks/gateway/metrics-valid.js'
import {parseSseBlock} from '../../../src/lib/util/sse.js'
import {sseProblems} from '../../../src/checks/traffic/streaming-sse.js'
import {defaultPlaybookPath, KNOWN_CHECK_IDS, loadPlaybook, parsePlaybook} from '../../../src/lib/playbook/index.js'
import {bundledTargetSpec} from '../../../src/lib/target/spec.js'
import {Target} from '../../../src/lib/target/target.js'
import {executeCheck, overallOutcome} from '../../../src/lib/validate/run.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

const PLAYBOOK = (checks: string) => `name: t
version: "1"
target:
  name: demo
  cco: [cco]
phases:
  - id: one
    number: 1
    title: One
    goal: g
    plan_ref: 'x: "y"'
    checks:
${checks}
`

describe('checks library', () => {
  afterEach(() => cleanupTempDirs())

  it('registers every check once, each with a title, what it verifies and a run function', () => {
    expect(new Set(CHECKS.map((c) => c.id)).size).to.equal(CHECKS.length)
    for (const c of CHECKS) {
      expect(c.title.length, c.id).to.be.greaterThan(0)
      expect(c.verifies, c.id).to.match(/§|Appendix|Go\/No-Go|Success Metrics/)
      expect(c.run, c.id).to.be.a('function')
    }
    expect(KNOWN_CHECK_IDS).to.deep.equal(checkCatalog.ids())
  })

  it('every check id and parameter set of the seed playbook resolves', async () => {
    const playbook = await loadPlaybook(defaultPlaybookPath())
    for (const phase of playbook.phases) {
      for (const ref of phase.checks) {
        expect(getCheck(ref.id), ref.id).to.not.equal(undefined)
        const params = resolveCheckParams(ref.id, ref.params ?? {})
        expect(params.ok, `${ref.id}: ${JSON.stringify(params)}`).to.equal(true)
      }
    }
  })

  it('defaults apply and durations become milliseconds', () => {
    const r = resolveCheckParams('traffic.streaming_sse', {first_event_within: '10s'})
    expect(r).to.deep.include({ok: true})
    if (r.ok) expect(r.params).to.include({first_event_within: 10_000, agent_type: 'cutover-probe', timeout: 60_000})
  })

  describe('bad parameters are lint errors at file:line:col', () => {
    const issuesOf = (checks: string) => parsePlaybook(PLAYBOOK(checks), 'p.yaml', {baseDir: makeTempDir()}).issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`)

    it('an unknown parameter name, with the known ones', () => {
      const issues = issuesOf(`      - id: audit.complete
        plan_ref: 'a: "b"'
        params: {windw: 1h}`)
      expect(issues).to.have.length(1)
      expect(issues[0]).to.match(/^15:\d+ phases\[0\]\.checks\[0\]\.params\.windw: check audit\.complete: unknown parameter "windw" \(known: window, min_requests, settle, agent_type, model, timeout, audit_timeout, api_key_env\)/)
    })

    it('a wrong type and a value out of the allowed set', () => {
      const issues = issuesOf(`      - id: traffic.streaming_sse
        plan_ref: 'a: "b"'
        params: {first_event_within: 10}
      - id: audit.complete
        plan_ref: 'a: "b"'
        params: {window: 2h}`)
      expect(issues).to.have.length(2)
      expect(issues[0]).to.match(/^15:\d+ .*first_event_within: check traffic\.streaming_sse: parameter "first_event_within": expected a duration/)
      expect(issues[1]).to.match(/^18:\d+ .*params\.window: .*expected one of 15m, 1h, 24h, 3d, got "2h"/)
    })

    it('a regular expression that does not compile', () => {
      const issues = issuesOf(`      - id: repo.no_proxy_references
        plan_ref: 'a: "b"'
        params: {patterns: ['(proxy'], regex: true}`)
      expect(issues).to.have.length(1)
      expect(issues[0]).to.match(/params\.patterns: .*invalid regular expression/)
    })
  })

  it('sseProblems accepts a well-formed Anthropic stream and names what is wrong otherwise', () => {
    const ev = (event: string, data: Record<string, unknown>) => ({event, data: JSON.stringify({type: event, ...data}), at_ms: 1})
    const good = [ev('message_start', {}), ev('ping', {}), ev('content_block_start', {index: 0}), ev('content_block_delta', {index: 0}), ev('content_block_stop', {index: 0}), ev('message_delta', {}), ev('message_stop', {})]
    expect(sseProblems(good)).to.deep.equal([])
    expect(sseProblems(good.slice(0, 4)).join(' ')).to.contain('expected message_stop')
    expect(sseProblems([{event: 'message_start', data: '{oops', at_ms: 1}]).join(' ')).to.contain('not JSON')
    expect(sseProblems([ev('message_start', {}), ev('content_block_delta', {index: 3}), ev('message_stop', {})]).join(' ')).to.contain('not started')
    expect(parseSseBlock('event: ping\r\ndata: {"type":"ping"}')).to.deep.equal({event: 'ping', data: '{"type":"ping"}'})
  })

  it('metricsProblems checks the evidence layer summary', () => {
    const summary = {total_requests: 3, successful_requests: 2, failed_requests: 1, success_rate: 0.67, error_rate: 0.33, streaming_requests: 1, streaming_failures: 0, avg_latency_ms: 10, p50_latency_ms: 9, p95_latency_ms: 20, p99_latency_ms: 20, avg_ttfb_ms: 4, total_cost_usd: 0.01, total_input_tokens: 5, total_output_tokens: 5, total_cache_write_tokens: 0, total_cache_read_tokens: 0, audit_records: 3}
    const doc = {summary, by_agent: {}, by_provider: {}, by_model: {}, recent: []}
    expect(metricsProblems(doc, {strict: true})).to.deep.equal([])
    expect(metricsProblems({summary: {...summary, failed_requests: 2}}, {strict: false}).join(' ')).to.contain('!= total_requests')
    expect(metricsProblems({summary: {total_requests: 1}}, {strict: true}).join(' ')).to.contain('summary.avg_latency_ms is missing')
    expect(metricsProblems({summary: {total_requests: 1}}, {strict: false})).to.deep.equal([])
    expect(metricsProblems({summary: {total_requests: 'many'}}, {strict: false})).to.have.length(1)
  })

  it('overallOutcome: required fail beats error beats inconclusive; optional checks do not decide', () => {
    const r = (outcome: 'pass' | 'fail' | 'error' | 'inconclusive', required = true) => ({outcome, required})
    expect(overallOutcome([r('pass'), r('fail', false)])).to.equal('pass')
    expect(overallOutcome([r('inconclusive'), r('error'), r('fail')])).to.equal('fail')
    expect(overallOutcome([r('inconclusive'), r('error')])).to.equal('error')
    expect(overallOutcome([r('inconclusive'), r('pass')])).to.equal('inconclusive')
  })

  it('executeCheck maps a thrown error to error and never throws', async () => {
    const home = makeTempDir()
    const target = new Target(bundledTargetSpec(home))
    // A target whose PID file path is a directory: reading it throws EISDIR deep inside.
    const fs = await import('node:fs')
    fs.mkdirSync(path.join(home, 'daemon.pid'))
    const result = await executeCheck(
      {name: 'pidfile.valid', id: 'pidfile.valid', title: 't', required: true, plan_ref: 'x', params: {}},
      {target, state: null, phase: 1, baseDir: home, now: () => new Date(), shared: {once: (_k, f) => f()}},
    )
    expect(result.outcome).to.equal('error')
    expect(result.detail).to.match(/could not measure/)
  })
})
