import {expect} from 'chai'
import http from 'node:http'

import {fdCount, rssMb} from './lib/proc.js'
import {results, SOAK_SECONDS} from './lib/results.js'
import {allAuditEntries, type Answer, anthropicProvider, E2eWorld, type GatewayDaemon, percentile, prometheusSum, send, summary, waitFor, waitForTotal} from './lib/world.js'

/*
 * Load and soak: 50 concurrent clients (keep-alive, half streamed) through the real daemon to
 * the real mock provider for RELIABILITY_SOAK_SECONDS. No error may occur (no fault is
 * injected), the daemon's RSS and descriptor count must not grow past the stated bounds, and
 * every request must be in the audit log, with /gateway/metrics and /metrics agreeing.
 */
const CONCURRENCY = 50
/** RSS may grow by at most this much between the end of the warm-up quarter and the end of the soak. */
const RSS_GROWTH_BOUND_MB = 64
/** Once the clients are gone and pools idle, at most this many more descriptors than before the soak. */
const FD_GROWTH_BOUND = 8

describe('reliability: load and soak through the daemon', function () {
  this.timeout((SOAK_SECONDS + 120) * 1000)
  const world = new E2eWorld()
  after(() => world.cleanup())

  it(`serves ${CONCURRENCY} concurrent mixed clients for ${SOAK_SECONDS} s with no error, bounded RSS/fd growth, every request audited`, async () => {
    const mock = await world.mock(['--stream-events', '8'])
    const daemon: GatewayDaemon = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}})

    const agent = new http.Agent({keepAlive: true, maxSockets: CONCURRENCY})
    const answers: Answer[] = []
    // Warm-up (JIT, SQLite cache, upstream pool), then let descriptors settle for the baseline.
    for (let i = 0; i < 4; i++) answers.push(...(await Promise.all(Array.from({length: CONCURRENCY}, (_, n) => send(daemon, {stream: n % 2 === 0, agent})))))
    agent.destroy()
    const fdBaseline = await settledFdCount(daemon.pid)

    const clients = new http.Agent({keepAlive: true, maxSockets: CONCURRENCY})
    const samples: Array<{t: number; rss: number; fds: number}> = []
    const sampler = setInterval(() => samples.push({t: Date.now(), rss: rssMb(daemon.pid), fds: fdCount(daemon.pid)}), 500)
    const deadline = Date.now() + SOAK_SECONDS * 1000
    const soaked: Answer[] = []
    const worker = async (n: number) => {
      for (let i = 0; Date.now() < deadline; i++) soaked.push(await send(daemon, {stream: (i + n) % 2 === 0, agent: clients}))
    }
    await Promise.all(Array.from({length: CONCURRENCY}, (_, n) => worker(n)))
    clearInterval(sampler)
    clients.destroy()
    for (const a of soaked) answers.push(a) // (no spread: tens of thousands of answers)

    const failures = answers.filter((a) => !a.complete)
    const total = answers.length
    const audited = await waitForTotal(daemon, total, 60_000)
    const entries = await allAuditEntries(daemon)
    const ids = new Set(entries.map((e) => e.request_id))
    const missing = answers.filter((a) => !ids.has(a.requestId))
    const prometheusTotal = await prometheusSum(daemon, 'gateway_requests_total')
    const fdAfter = await settledFdCount(daemon.pid, fdBaseline + FD_GROWTH_BOUND)

    const quarter = Math.floor(samples.length / 4)
    const rssWarm = median(samples.slice(quarter, 2 * quarter).map((s) => s.rss))
    const rssEnd = median(samples.slice(3 * quarter).map((s) => s.rss))
    const latencies = soaked.map((a) => a.ms).sort((a, b) => a - b)
    results.load = {
      concurrency: CONCURRENCY,
      seconds: SOAK_SECONDS,
      requests: total,
      streamed: answers.filter((a) => a.stream).length,
      nonStreamed: answers.filter((a) => !a.stream).length,
      errors: failures.length,
      requestsPerSecond: Math.round(soaked.length / SOAK_SECONDS),
      p50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
      p99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
      rssWarmMb: rssWarm,
      rssEndMb: rssEnd,
      rssMaxMb: samples.reduce((m, s) => Math.max(m, s.rss), 0),
      rssGrowthMb: Math.round((rssEnd - rssWarm) * 10) / 10,
      rssGrowthBoundMb: RSS_GROWTH_BOUND_MB,
      fdBaseline,
      fdAfter,
      fdGrowth: fdAfter - fdBaseline,
      fdGrowthBound: FD_GROWTH_BOUND,
      auditRows: entries.length,
      metricsTotal: audited.total_requests,
      prometheusTotal,
      recordsLost: missing.length,
    }

    expect(failures.slice(0, 3).map((f) => `${f.status} ${f.error ?? f.body.slice(0, 200)}`), `${failures.length} of ${total} requests failed`).to.deep.equal([])
    expect(soaked.length).to.be.greaterThan(CONCURRENCY * SOAK_SECONDS)
    expect(missing.length, 'requests missing from the audit log').to.equal(0)
    expect(entries.length).to.equal(total)
    expect(audited.total_requests).to.equal(total)
    expect(audited.audit_records).to.equal(total)
    expect(audited.successful_requests).to.equal(total)
    expect(audited.streaming_requests).to.equal(results.load.streamed)
    expect(prometheusTotal).to.equal(total)
    expect(results.load.rssGrowthMb, `RSS grew from ${rssWarm} MB to ${rssEnd} MB`).to.be.at.most(RSS_GROWTH_BOUND_MB)
    expect(fdAfter - fdBaseline, `descriptors: ${fdBaseline} before, ${fdAfter} after`).to.be.at.most(FD_GROWTH_BOUND)
    expect((await summary(daemon)).failed_requests).to.equal(0)
  })
})

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!
}

/** The descriptor count once idle connections have closed: polls until it stops falling (or reaches `target`). */
async function settledFdCount(pid: number, target = 0): Promise<number> {
  let last = fdCount(pid)
  let stableFor = 0
  await waitFor(
    () => {
      const now = fdCount(pid)
      stableFor = now === last ? stableFor + 1 : 0
      last = now
      return now <= target || stableFor >= 20
    },
    'descriptors to settle',
    30_000,
    250,
  )
  return last
}
