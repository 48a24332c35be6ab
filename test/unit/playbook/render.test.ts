import {expect} from 'chai'
import path from 'node:path'

import {defaultPlaybookPath, formatValue, loadPlaybook, renderRunbook, renderSummary} from '../../../src/lib/playbook/index.js'

describe('runbook renderer', () => {
  let md: string
  before(async () => {
    md = renderRunbook(await loadPlaybook(defaultPlaybookPath()), 'md')
  })

  it('has every phase with its goal, checklist and steps', () => {
    expect(md).to.match(/^# Runbook: llm-gateway-cutover \(v1\.0\.0\)\n/)
    for (const heading of ['## Phase 1: Validation (Current State)', '## Phase 2: Soft Cutover (Remove Proxy Fallback)', '## Phase 3: Hard Cutover (Remove Proxy Code)']) {
      expect(md).to.contain(`\n${heading}\n`)
    }
    expect(md).to.contain('**Goal:** Make Gateway the ONLY option while keeping Proxy code for emergency rollback.')
    expect(md).to.contain('- [ ] Launcher fails with clear error if gateway unavailable — `launcher.fails_without_gateway`')
    expect(md).to.contain('- [ ] No broken imports or dead code (no proxy module, readProxyPort, updateProxyPort, startProxyServer) — `no-dead-proxy-code: repo.no_proxy_references`')
    expect(md).to.contain('1. Write the flags: gatewayEnabled true, proxyEnabled false — write flags `gatewayEnabled: true`, `proxyEnabled: false`')
    expect(md).to.contain('2. Delete the proxy module directory — git: remove `src/proxy/`')
    expect(md).to.contain('Baseline window: 2 days to 3 days')
  })

  it('has the KPI table with the plan\'s targets', () => {
    const kpis = md.slice(md.indexOf('## Key performance indicators'))
    expect(kpis).to.contain('| KPI | Target | Measurement | Metric |')
    expect(kpis).to.contain('| Availability | > 99.9% | Gateway health endpoint | ratio(uptime) |')
    expect(kpis).to.contain('| Performance (average latency) | < 500 ms | `/gateway/metrics` endpoint | avg(latency_ms) |')
    expect(kpis).to.contain('| Reliability (error rate) | < 0.1% | Success/failure ratio in audit logs | ratio(error_rate) |')
    expect(kpis).to.contain('| Cost tracking (requests logged) | = 100% | Compare request count vs audit log count | ratio(audit_coverage) |')
  })

  it('has the gates, triggers with bands, rollback procedures with RTOs, timeline and templates', () => {
    expect(md).to.contain('### Go/No-Go Phase 1 → Phase 2')
    expect(md).to.contain('| Gateway uptime > 99.9% for 4+ days | gateway | ratio(uptime) > 99.9% | 4 days | 1000 | yes |  |')
    expect(md).to.contain('latency_ms worse (higher) than baseline: < 25% none · 25–50% alert · > 50% rollback')
    expect(md).to.contain('share of hosts failing `min by (instance) (min_over_time(up{job="cco-gateway"}[$window]))` > 5% (fleet, at least 3 hosts)')
    expect(md).to.contain('Kind: **flag** · Recovery-time objective: **30 seconds** (`30s`)')
    expect(md).to.contain('Kind: **fastest** · Recovery-time objective: **1 minute** (`1m`)')
    expect(md).to.contain('Recovery-time objective: **10 minutes** (`10m`) · Recovery-point objective: Last commit before Phase 3')
    expect(md).to.contain('- Day 2-5: Monitor for 4 days, fix critical bugs (4 days)')
    expect(md).to.contain('Subject: LLM Gateway Migration - Scheduled for {{date}}')
    expect(md).to.contain('| {{rollback_time}} | Measured recovery time of the rehearsed rollback | < 1 minute |')
    expect(md).to.contain('- **Performance degradation <25%** — ')
    // Markdown table cells never break the table.
    for (const line of md.split('\n').filter((l) => l.startsWith('| '))) expect(line.endsWith(' |'), line).to.equal(true)
  })

  it('renders a minimal playbook without the optional sections', async () => {
    const out = renderRunbook(await loadPlaybook(path.resolve('test/fixtures/playbooks/minimal.yaml')))
    expect(out).to.contain('## Phase 2: Switch')
    expect(out).to.not.contain('## Timeline')
    expect(out).to.not.contain('## Communications')
    expect(out).to.contain('| Error rate below 1% | gateway | ratio(error_rate) < 1% | 1 hour | 100 | yes |  |')
  })

  it('summary and value formatting', async () => {
    const summary = renderSummary(await loadPlaybook(defaultPlaybookPath()), 'seed.yaml')
    expect(summary).to.contain('Gate 2 -> 3: 7 criteria (6 key)')
    expect(summary).to.contain('rollback flag [flag] RTO 30s')
    expect(formatValue(0.999, 'ratio')).to.equal('99.9%')
    expect(formatValue(0.1, 'percent')).to.equal('0.1%')
    expect(formatValue(500, 'ms')).to.equal('500 ms')
  })
})
