/*
 * e2e: `cutover report` and `cutover comms` through bin/run.js against the built reference daemon
 * (with the real mock provider as its upstream and real traffic through the gateway), on a state
 * store populated through the StateStore API. The HTML report is opened in headless Chromium
 * (playwright-core driving Debian's /usr/bin/chromium): no console errors, no requests at all
 * besides the file itself, the SVG charts are there, and a screenshot is taken.
 * Needs `npm run build` (dist/ and gateway/dist/).
 */
import {expect} from 'chai'
import {execa} from 'execa'
import fs from 'node:fs'
import path from 'node:path'

import type {ReportData} from '../../src/lib/report/types.js'
import {StateStore} from '../../src/lib/state/store.js'
import {REPO_ROOT} from '../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../helpers/tmp.js'
import {HOUR, populate, SCRIPT_TITLE} from '../unit/report/fixture.js'

const RUN = path.join(REPO_ROOT, 'bin', 'run.js')
const CCO = path.join(REPO_ROOT, 'bin', 'cco')
const MOCK_PROVIDER = path.join(REPO_ROOT, 'gateway', 'dist', 'mock_provider', 'index.js')
const CHROMIUM = '/usr/bin/chromium'

interface RunningMock {
  url: string
  close(): Promise<void>
}

/** Children get no inherited home, target, proxy or routing variables. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const drop = new Set(['CCO_HOME', 'NODE_ENV', 'CUTOVER_TARGET', 'CUTOVER_STATE', 'CUTOVER_PLAYBOOK', 'CUTOVER_CONTACT', 'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ANTHROPIC_BASE_URL'])
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !drop.has(key)) env[key] = value
  return {...env, NO_COLOR: '1', CUTOVER_ACTOR: 'report-e2e', ...extra}
}

function cutover(args: string[]) {
  return execa(process.execPath, [RUN, ...args], {env: childEnv(), extendEnv: false, reject: false, timeout: 120_000})
}

function cco(args: string[], home: string) {
  return execa(process.execPath, [CCO, ...args], {env: childEnv({CCO_HOME: home}), extendEnv: false, reject: false, timeout: 60_000})
}

function readPid(home: string): {pid: number; gateway_port: number} {
  return JSON.parse(fs.readFileSync(path.join(home, 'daemon.pid'), 'utf8')) as {pid: number; gateway_port: number}
}

/** Claude-Code-shaped requests through the gateway: several agents and models, streamed and not. */
async function sendTraffic(home: string): Promise<number> {
  const {gateway_port} = readPid(home)
  const plan = [
    {agent: 'python-specialist', model: 'claude-sonnet-4-5', stream: true},
    {agent: 'python-specialist', model: 'claude-sonnet-4-5', stream: false},
    {agent: 'code-reviewer', model: 'claude-haiku-4-5', stream: true},
    {agent: 'code-reviewer', model: 'claude-haiku-4-5', stream: false},
    {agent: 'test-engineer', model: 'claude-sonnet-4-5', stream: true},
    {agent: 'test-engineer', model: 'claude-haiku-4-5', stream: false},
  ]
  let sent = 0
  for (const [i, p] of [...plan, ...plan].entries()) {
    const response = await fetch(`http://127.0.0.1:${gateway_port}/v1/messages`, {
      method: 'POST',
      headers: {'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'test-key-not-secret', 'x-cco-agent-type': p.agent},
      body: JSON.stringify({model: p.model, max_tokens: 32, stream: p.stream, messages: [{role: 'user', content: `report e2e request ${i}`}]}),
    })
    await response.text()
    expect(response.status, `request ${i}`).to.equal(200)
    sent++
  }
  return sent
}

describe('e2e: cutover report and comms (bin/run.js, reference daemon, headless Chromium)', function () {
  this.timeout(180_000)
  let home: string
  let mock: RunningMock | undefined

  before(async function () {
    if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'commands', 'report.js')) || !fs.existsSync(path.join(REPO_ROOT, 'gateway', 'dist', 'cli.js')) || !fs.existsSync(MOCK_PROVIDER)) {
      // Only when nothing is built (npm test always builds first).
      this.skip()
    }
    home = path.join(makeTempDir('cutover-report-e2e-'), 'home')
    fs.mkdirSync(path.join(home, 'cutover'), {recursive: true, mode: 0o700})
    const mod = (await import(MOCK_PROVIDER)) as {startMockProvider: (o: object) => Promise<RunningMock>}
    mock = await mod.startMockProvider({port: 0, host: '127.0.0.1'})
    const config = {llmGateway: {providers: {anthropic: {providerType: 'anthropic', baseUrl: mock.url, maxRetries: 0}}, routing: {defaultProvider: 'anthropic', fallbackChain: ['anthropic']}}}
    fs.writeFileSync(path.join(home, 'orchestra-config.json'), JSON.stringify(config, null, 2))
    const start = await cco(['daemon', 'start'], home)
    if (start.exitCode !== 0) throw new Error(`cco daemon start failed (${start.exitCode}):\n${start.stdout}\n${start.stderr}`)
    await sendTraffic(home)
    // The cutover so far: Phase 1 three hours ago, then 2 and 3, with samples, gates, incidents, rollbacks.
    populate(path.join(home, 'cutover'), Date.now() - 3 * HOUR - 60_000).state.close()
    // And one real monitor sample of the running daemon.
    const monitor = await cutover(['monitor', '--once', '--home', home])
    expect(monitor.exitCode, `${monitor.stdout}\n${monitor.stderr}`).to.equal(0)
  })

  after(async () => {
    if (home && fs.existsSync(path.join(home, 'daemon.pid'))) {
      let pid: number | undefined
      try {
        pid = readPid(home).pid
      } catch {
        // unreadable: nothing to stop by pid
      }
      await cco(['daemon', 'stop'], home)
      try {
        if (pid !== undefined) process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    await mock?.close()
    cleanupTempDirs()
  })

  it('report --format json: the contents match the state store and the gateway', async () => {
    const run = await cutover(['report', '--format', 'json', '--home', home])
    expect(run.exitCode, run.stderr).to.equal(0)
    const report = JSON.parse(run.stdout) as ReportData
    const {gateway_port} = readPid(home)
    const metrics = (await (await fetch(`http://127.0.0.1:${gateway_port}/gateway/metrics`)).json()) as {summary: {total_requests: number; streaming_requests: number; audit_records: number}}

    expect(report.v).to.equal(1)
    expect(report.live.available).to.equal(true)
    expect(report.totals!.requests).to.equal(metrics.summary.total_requests)
    expect(report.streaming.streamed).to.equal(metrics.summary.streaming_requests)
    expect(report.totals!.byAgent.map((a) => a.name)).to.include.members(['python-specialist', 'code-reviewer', 'test-engineer'])
    expect(report.totals!.byModel.map((m) => m.name)).to.include.members(['claude-sonnet-4-5', 'claude-haiku-4-5'])
    expect(report.kpis.find((k) => k.id === 'cost-tracking')).to.include({measured: 100, status: 'met'})
    expect(report.series.costPerDay.reduce((n, p) => n + p.requests, 0)).to.equal(metrics.summary.audit_records)

    const state = StateStore.open(path.join(home, 'cutover', 'state.db'))
    try {
      expect(report.gates.map((g) => g.id)).to.deep.equal(state.listEvaluations().map((e) => e.id).reverse())
      expect(report.gates.map((g) => g.verdict)).to.deep.equal(['GO', 'NO-GO', 'GO'])
      expect(report.approvals.map((a) => a.by)).to.deep.equal(state.listApprovals().map((a) => a.by))
      expect(report.incidents.items.map((i) => [i.id, i.title, i.state])).to.deep.equal(state.listIncidents().map((i) => [i.id, i.title, i.resolvedAt ? 'resolved' : 'open']))
      expect(report.rollbacks.items.map((r) => [r.id, r.kind, r.totalMs])).to.deep.equal(state.listRollbacks().map((r) => [r.id, r.kind, r.totalMs]).reverse())
      expect(report.phases.map((p) => p.phase)).to.deep.equal([1, 2, 3])
      expect(report.phase!.phase).to.equal(state.getPhase()!.phase)
      // 25 fixture health samples plus the real monitor tick.
      expect(report.monitoring.healthSamples).to.equal(state.countSamples({source: 'health'}))
      expect(report.monitoring.healthSamples).to.equal(26)
    } finally {
      state.close()
    }
  })

  it('report --format md prints the KPI table to stdout', async () => {
    const run = await cutover(['report', '--home', home])
    expect(run.exitCode, run.stderr).to.equal(0)
    expect(run.stdout).to.contain('## Key performance indicators')
    expect(run.stdout).to.contain('| KPI | Target | Measured | Status | Source | Note |')
  })

  it('report --format html --out FILE opens in headless Chromium: no errors, no requests, SVG charts, a screenshot', async function () {
    const dir = makeTempDir('cutover-report-html-')
    const file = path.join(dir, 'review.html')
    const run = await cutover(['report', '--format', 'html', '--out', file, '--home', home])
    expect(run.exitCode, run.stderr).to.equal(0)
    expect(run.stdout.trim()).to.equal(file)
    const html = fs.readFileSync(file, 'utf8')
    expect(html).to.not.match(/<script/i)
    expect(html).to.contain('&lt;script&gt;')
    expect(html).to.not.match(/\b(?:src|href)\s*=|url\(|https?:\/\//i)
    expect(fs.readdirSync(dir)).to.deep.equal(['review.html'])

    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium); CI must run the browser check`)
      this.skip()
    }
    const {chromium} = await import('playwright-core')
    const profile = makeTempDir('cutover-chromium-')
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: {width: 1200, height: 900},
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    try {
      const page = context.pages()[0] ?? (await context.newPage())
      const consoleErrors: string[] = []
      const failed: string[] = []
      const requested: string[] = []
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text())
      })
      page.on('pageerror', (error) => consoleErrors.push(error.message))
      page.on('requestfailed', (request) => failed.push(request.url()))
      page.on('request', (request) => requested.push(request.url()))
      const url = `file://${file}`
      await page.goto(url, {waitUntil: 'load'})
      expect(consoleErrors, consoleErrors.join('\n')).to.deep.equal([])
      expect(failed).to.deep.equal([])
      expect(requested).to.deep.equal([url])
      // Latency, health strip, error rate, cost, rollbacks.
      expect(await page.locator('svg.chart').count()).to.equal(5)
      expect(await page.locator('#chart-latency .phase-marker').count()).to.equal(3)
      expect(await page.locator('#chart-rollbacks .rollback-bar').count()).to.equal(3)
      expect(await page.locator('#chart-cost rect').count()).to.be.greaterThan(0)
      expect(await page.locator('h1').textContent()).to.contain('Post-Migration Review')
      expect(await page.locator('#incidents').textContent()).to.contain(SCRIPT_TITLE)
      const png = path.join(makeTempDir('cutover-report-shot-'), 'report.png')
      await page.screenshot({path: png, fullPage: true})
      expect(fs.statSync(png).size).to.be.greaterThan(10 * 1024)
    } finally {
      await context.close()
    }
  })

  it('report --format html without --out writes <home>/cutover/report.html and prints the path', async () => {
    const run = await cutover(['report', '--format', 'html', '--home', home])
    expect(run.exitCode, run.stderr).to.equal(0)
    const file = path.join(home, 'cutover', 'report.html')
    expect(run.stdout.trim()).to.equal(file)
    expect(fs.readFileSync(file, 'utf8')).to.match(/^<!doctype html>/)
  })

  it('comms pre --json: {subject, body} with the measured rollback time; a missing flag exits 2 naming it', async () => {
    const run = await cutover(['comms', 'pre', '--date', '2025-12-09', '--contact', '#llm-gateway', '--home', home, '--json'])
    expect(run.exitCode, run.stderr).to.equal(0)
    const message = JSON.parse(run.stdout) as Record<string, unknown>
    expect(Object.keys(message).sort()).to.deep.equal(['body', 'subject'])
    expect(message.subject).to.equal('LLM Gateway Migration - Scheduled for 2025-12-09')
    expect(message.body).to.contain('Rollback plan: Fully tested, 1.5 s recovery')
    const missing = await cutover(['comms', 'pre', '--date', '2025-12-09', '--home', home])
    expect(missing.exitCode).to.equal(2)
    expect(missing.stderr).to.contain('--contact')
  })

  it('comms post: completion time and known issues from the state store', async () => {
    const run = await cutover(['comms', 'post', '--contact', 'ops@example.com', '--home', home])
    expect(run.exitCode, run.stderr).to.equal(0)
    expect(run.stdout).to.contain('Subject: LLM Gateway Migration - Complete ✅')
    expect(run.stdout).to.match(/completed successfully at \d{4}-\d\d-\d\d \d\d:\d\d UTC\./)
    expect(run.stdout).to.contain(`Known issues: #2 (minor) ${SCRIPT_TITLE}`)
  })

  it('with the daemon stopped the report still renders and says the live metrics were unavailable', async () => {
    const stop = await cco(['daemon', 'stop'], home)
    expect(stop.exitCode, `${stop.stdout}\n${stop.stderr}`).to.equal(0)
    const run = await cutover(['report', '--format', 'json', '--home', home])
    expect(run.exitCode, run.stderr).to.equal(0)
    const report = JSON.parse(run.stdout) as ReportData
    expect(report.live.available).to.equal(false)
    expect(report.live.note).to.match(/unavailable/)
    expect(report.totals).to.equal(null)
    expect(report.gates).to.have.length(3)
    expect(run.stderr).to.match(/unavailable/)
  })
})
