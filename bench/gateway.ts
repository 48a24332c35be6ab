/**
 * npm run bench:gateway
 *
 * Measures the reference gateway against the direct path to the mock provider and
 * against a minimal ideal pass-through (the floor for a Node gateway), in alternation:
 * non-streaming latency at concurrency 1, throughput and p99 at concurrency 50,
 * streaming time-to-first-byte and total, and the gateway's RSS after load. The CPU time each process
 * under test spends per request at concurrency 50 is reported too: on a shared machine it moves far
 * less than req/s. The load generator pins itself to core 1 (with the mock) and each target to core 0.
 * Runs the gateway twice: audit log off, and audit log on with bodies logged.
 * Prints a table and writes bench/results/gateway.json.
 *
 * Environment: BENCH_ROUNDS (default 3), BENCH_SECONDS (c=50 duration per round, default 5),
 * BENCH_C1_REQUESTS (default 1500), BENCH_STREAMS (default 200), BENCH_RSS_REQUESTS (default 10000).
 */
import autocannon from 'autocannon'
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, renameSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {Agent, request} from 'undici'
import {benchHeaders, claudeCodeBody} from './shape.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cco = path.join(repo, 'bin', 'cco')
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const c50Seconds = Number(process.env.BENCH_SECONDS ?? 5)
const c1Requests = Number(process.env.BENCH_C1_REQUESTS ?? 1500)
const streamCount = Number(process.env.BENCH_STREAMS ?? 200)
const rssRequests = Number(process.env.BENCH_RSS_REQUESTS ?? 10_000)
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true'])
    return true
  } catch {
    return false
  }
})()

// The load generator shares core 1 with the mock provider, leaving core 0 to the gateway under test.
if (hasTaskset && os.cpus().length > 1) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], {stdio: 'ignore'})

/** Pin a command to one core when taskset exists (gateway on core 0; mock and load on core 1). */
function pinned(core: number, cmd: string, args: string[]): [string, string[]] {
  return hasTaskset && os.cpus().length > 1 ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]
}

function waitForListening(child: ChildProcess, label: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(() => reject(new Error(`${label} did not print "listening on" within 15 s: ${buffered}`)), 15_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const match = /listening on (http:\/\/[\d.:]+)/.exec(buffered)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}: ${buffered}`)))
  })
}

const headers = benchHeaders

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50)

async function sequentialLatency(base: string, body: string, n: number, dispatcher: Agent) {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const res = await request(`${base}/v1/messages?beta=true`, {method: 'POST', headers, body, dispatcher})
    await res.body.arrayBuffer()
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode} from ${base}`)
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return {p50: percentile(times, 50), p99: percentile(times, 99)}
}

async function streams(base: string, body: string, n: number, dispatcher: Agent) {
  const ttfb: number[] = []
  const total: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const res = await request(`${base}/v1/messages?beta=true`, {method: 'POST', headers, body, dispatcher})
    let first = 0
    for await (const _chunk of res.body) if (first === 0) first = performance.now() - t0
    if (res.statusCode !== 200) throw new Error(`stream status ${res.statusCode} from ${base}`)
    ttfb.push(first)
    total.push(performance.now() - t0)
  }
  return {ttfbP50: median(ttfb), totalP50: median(total)}
}

/** user + system CPU time of a process, ms (from /proc/PID/stat, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

function concurrent(base: string, body: string, seconds: number): Promise<{rps: number; p99: number; errors: number; non2xx: number; total: number}> {
  return new Promise((resolve, reject) => {
    autocannon(
      {url: `${base}/v1/messages?beta=true`, method: 'POST', headers, body, connections: 50, duration: seconds},
      (error, result) => (error ? reject(error) : resolve({rps: result.requests.average, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx, total: result.requests.total})),
    )
  })
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round(kb / 1024)
}

interface Target {
  name: string
  url: string
  pid?: number
  stop: () => Promise<void>
}

async function startGateway(mockUrl: string, audit: boolean): Promise<Target> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'cco-bench-'))
  writeFileSync(
    path.join(home, 'orchestra-config.json'),
    JSON.stringify({
      llmGateway: {
        providers: {anthropic: {enabled: true, providerType: 'anthropic', baseUrl: mockUrl, maxRetries: 0}},
        routing: {defaultProvider: 'anthropic', fallbackChain: ['anthropic']},
        costTracking: {enabled: true},
        audit: {enabled: audit, logRequestBodies: audit, logResponseBodies: audit, retentionDays: 30},
      },
    }),
  )
  const env = {...process.env, CCO_HOME: home}
  const [cmd, args] = pinned(0, process.execPath, [cco, 'daemon', 'start'])
  execFileSync(cmd, args, {env, stdio: 'pipe'})
  const pidFile = JSON.parse(readFileSync(path.join(home, 'daemon.pid'), 'utf8')) as {pid: number; gateway_port: number}
  return {
    name: audit ? 'gateway (audit on, bodies)' : 'gateway (audit off)',
    url: `http://127.0.0.1:${pidFile.gateway_port}`,
    pid: pidFile.pid,
    async stop() {
      execFileSync(process.execPath, [cco, 'daemon', 'stop'], {env, stdio: 'pipe'})
      rmSync(home, {recursive: true, force: true})
    },
  }
}

async function startProcess(name: string, core: number, script: string, args: string[]): Promise<Target & {child: ChildProcess}> {
  const [cmd, argv] = pinned(core, process.execPath, [script, ...args])
  const child = spawn(cmd, argv, {stdio: ['ignore', 'pipe', 'inherit']})
  const url = await waitForListening(child, name)
  return {
    name,
    url,
    pid: child.pid,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

async function main() {
  // Other work on the machine moves every figure: the load average is recorded with the result.
  const loadBefore = os.loadavg().map((n) => +n.toFixed(2))
  const mock = await startProcess('mock provider', 1, cco, ['mock-provider', '--port', '0', '--event-delay-ms', '2'])
  const passthrough = await startProcess('ideal pass-through', 0, path.join(repo, 'bench', 'passthrough.mjs'), [mock.url])
  const gatewayOff = await startGateway(mock.url, false)
  const gatewayOn = await startGateway(mock.url, true)
  const direct: Target = {name: 'direct to the mock', url: mock.url, stop: async () => {}}
  const targets = [direct, passthrough, gatewayOff, gatewayOn]
  const jsonBody = claudeCodeBody(false)
  const streamBody = claudeCodeBody(true)
  const samples = new Map<string, {p50: number[]; p99: number[]; rps: number[]; c50p99: number[]; cpu: number[]; ttfb: number[]; total: number[]; errors: number}>()
  for (const t of targets) samples.set(t.name, {p50: [], p99: [], rps: [], c50p99: [], cpu: [], ttfb: [], total: [], errors: 0})
  const dispatcher = new Agent({connections: 4, keepAliveTimeout: 30_000})
  try {
    // Warm up every path (JIT, connection pools).
    for (const t of targets) await sequentialLatency(t.url, jsonBody, 200, dispatcher)
    for (let round = 1; round <= rounds; round++) {
      for (const t of targets) {
        const s = samples.get(t.name)!
        const lat = await sequentialLatency(t.url, jsonBody, c1Requests, dispatcher)
        s.p50.push(lat.p50)
        s.p99.push(lat.p99)
        // CPU time of the process under test per request (for direct: the mock's): steadier than req/s on a shared machine.
        const cpuPid = t.pid ?? mock.pid
        const cpuBefore = cpuPid ? cpuMs(cpuPid) : 0
        const load = await concurrent(t.url, jsonBody, c50Seconds)
        if (cpuPid && load.total > 0) s.cpu.push(((cpuMs(cpuPid) - cpuBefore) * 1000) / load.total)
        s.rps.push(load.rps)
        s.c50p99.push(load.p99)
        s.errors += load.errors + load.non2xx
        const st = await streams(t.url, streamBody, streamCount, dispatcher)
        s.ttfb.push(st.ttfbP50)
        s.total.push(st.totalP50)
        process.stderr.write(`round ${round}: ${t.name} done\n`)
      }
    }
    // RSS after a fixed number of requests through each gateway.
    const rss: Record<string, number> = {}
    for (const t of [passthrough, gatewayOff, gatewayOn]) {
      await new Promise<void>((resolve, reject) =>
        autocannon({url: `${t.url}/v1/messages`, method: 'POST', headers, body: jsonBody, connections: 50, amount: rssRequests}, (e) => (e ? reject(e) : resolve())),
      )
      rss[t.name] = rssMb(t.pid!)
    }
    const passthroughRps = median(samples.get(passthrough.name)!.rps)
    const directP50 = median(samples.get(direct.name)!.p50)
    const directP99 = median(samples.get(direct.name)!.p99)
    const directTtfb = median(samples.get(direct.name)!.ttfb)
    const rows = targets.map((t) => {
      const s = samples.get(t.name)!
      return {
        target: t.name,
        c1_p50_ms: +median(s.p50).toFixed(3),
        c1_p99_ms: +median(s.p99).toFixed(3),
        added_c1_p50_ms: +(median(s.p50) - directP50).toFixed(3),
        added_c1_p99_ms: +(median(s.p99) - directP99).toFixed(3),
        c50_rps: Math.round(median(s.rps)),
        c50_share_of_passthrough: +(median(s.rps) / passthroughRps).toFixed(2),
        c50_p99_ms: median(s.c50p99),
        c50_cpu_us_per_request: s.cpu.length ? Math.round(median(s.cpu)) : null,
        stream_ttfb_p50_ms: +median(s.ttfb).toFixed(3),
        added_stream_ttfb_ms: +(median(s.ttfb) - directTtfb).toFixed(3),
        stream_total_p50_ms: +median(s.total).toFixed(3),
        rss_mb_after_load: rss[t.name] ?? null,
        errors: s.errors,
      }
    })
    const result = {
      measured_at: new Date().toISOString(),
      machine: {cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, pinned: hasTaskset, load_average_before: loadBefore, load_average_after: os.loadavg().map((n) => +n.toFixed(2))},
      settings: {rounds, c50Seconds, c1Requests, streamCount, rssRequests, body_bytes: jsonBody.length},
      rows,
    }
    console.table(rows.map(({target, c1_p50_ms, c1_p99_ms, added_c1_p50_ms, c50_rps, c50_share_of_passthrough, c50_p99_ms, c50_cpu_us_per_request, stream_ttfb_p50_ms, added_stream_ttfb_ms, rss_mb_after_load}) => ({
      target, c1_p50_ms, c1_p99_ms, added_c1_p50_ms, c50_rps, share: c50_share_of_passthrough, c50_p99_ms, cpu_us: c50_cpu_us_per_request, ttfb_ms: stream_ttfb_p50_ms, added_ttfb_ms: added_stream_ttfb_ms, rss_mb: rss_mb_after_load,
    })))
    mkdirSync(path.join(repo, 'bench', 'results'), {recursive: true})
    const out = path.join(repo, 'bench', 'results', 'gateway.json')
    writeFileSync(`${out}.tmp`, JSON.stringify(result, null, 2) + '\n')
    renameSync(`${out}.tmp`, out)
    console.log(`wrote ${path.relative(process.cwd(), out)}`)
  } finally {
    await dispatcher.close()
    for (const t of [gatewayOn, gatewayOff, passthrough, mock]) await t.stop().catch(() => {})
  }
}

await main()
