/**
 * npx tsx bench/profile.ts [--audit] [--stream] [--seconds N] [--out DIR] [--no-prof]
 *
 * CPU profile of the gateway under the benchmark's load: starts the mock provider (core 1) and
 * `cco daemon run` in the foreground under `node --cpu-prof` (core 0), drives it with autocannon
 * at concurrency 50 with the 22 KB Claude-Code-shaped body, stops it with SIGTERM and prints the
 * top functions by self time (the .cpuprofile is kept in DIR for Chrome DevTools / speedscope).
 */
import autocannon from 'autocannon'
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {claudeCodeBody, benchHeaders} from './shape.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
// CCO_BIN: another build of the gateway (an A/B baseline, e.g. a `git archive` of an older commit).
const cco = process.env.CCO_BIN ?? path.join(repo, 'bin', 'cco')
const args = process.argv.slice(2)
const audit = args.includes('--audit')
const stream = args.includes('--stream')
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 10) || 10
const noProfile = args.includes('--no-prof')
// --passthrough: measure bench/passthrough.mjs (the floor) instead of the gateway, same load.
const passthrough = args.includes('--passthrough')
const outDir = args.includes('--out') ? path.resolve(args[args.indexOf('--out') + 1]!) : mkdtempSync(path.join(os.tmpdir(), 'cco-prof-'))

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

const pinned = (core: number, cmd: string, argv: string[]): [string, string[]] =>
  hasTaskset && os.cpus().length > 1 ? ['taskset', ['-c', String(core), cmd, ...argv]] : [cmd, argv]

function waitFor(child: ChildProcess, pattern: RegExp, label: string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(() => reject(new Error(`${label} not ready within 15 s: ${buffered}`)), 15_000)
    child[stream]?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const m = pattern.exec(buffered)
      if (m) {
        clearTimeout(timer)
        resolve(m)
      }
    })
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}: ${buffered}`)))
  })
}

/** user + system CPU time of a process, ms (from /proc/PID/stat, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

interface ProfileNode {
  id: number
  callFrame: {functionName: string; url: string; lineNumber: number}
  hitCount: number
}

function summarise(file: string, top = 40): void {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {nodes: ProfileNode[]; samples: number[]}
  const total = prof.samples.length
  const byFn = new Map<string, number>()
  for (const n of prof.nodes) {
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(repo + '/', '')
    const key = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`
    byFn.set(key, (byFn.get(key) ?? 0) + n.hitCount)
  }
  const rows = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)
  console.log(`\n${total} samples; top ${top} by self time:`)
  for (const [k, n] of rows) console.log(`${((100 * n) / total).toFixed(1).padStart(5)}%  ${k}`)
}

async function main(): Promise<void> {
  mkdirSync(outDir, {recursive: true})
  const [mcmd, margv] = pinned(1, process.execPath, [cco, 'mock-provider', '--port', '0', '--event-delay-ms', '2'])
  const mock = spawn(mcmd, margv, {stdio: ['ignore', 'pipe', 'inherit']})
  const mockUrl = (await waitFor(mock, /listening on (http:\/\/[\d.:]+)/, 'mock'))[1]!
  const home = mkdtempSync(path.join(os.tmpdir(), 'cco-prof-home-'))
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
  // BENCH_NODE_FLAGS: extra node/V8 flags for the process under test (e.g. --trace-deopt with BENCH_GATEWAY_STDOUT=1).
  const prof = [...(noProfile ? [] : ['--cpu-prof', `--cpu-prof-dir=${outDir}`]), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])]
  const [gcmd, gargv] = pinned(0, process.execPath, passthrough ? [...prof, path.join(repo, 'bench', 'passthrough.mjs'), mockUrl] : [...prof, cco, 'daemon', 'run'])
  const gateway = spawn(gcmd, gargv, {stdio: ['ignore', process.env.BENCH_GATEWAY_STDOUT ? 'inherit' : 'pipe', 'inherit'], env: {...process.env, CCO_HOME: home}})
  try {
    let base: string
    if (passthrough) base = (await waitFor(gateway, /listening on (http:\/\/[\d.:]+)/, 'pass-through'))[1]!
    else {
      // The pid file carries the gateway port once it is up.
      let port = 0
      for (let i = 0; i < 150 && port === 0; i++) {
        try {
          port = (JSON.parse(readFileSync(path.join(home, 'daemon.pid'), 'utf8')) as {gateway_port?: number}).gateway_port ?? 0
        } catch {
          // not written yet
        }
        if (port === 0) await new Promise((r) => setTimeout(r, 100))
      }
      if (port === 0) throw new Error('gateway did not report its port within 15 s')
      base = `http://127.0.0.1:${port}`
    }
    const url = `${base}/v1/messages?beta=true`
    const body = claudeCodeBody(stream)
    const gatewayPid = passthrough ? gateway.pid! : (JSON.parse(readFileSync(path.join(home, 'daemon.pid'), 'utf8')) as {pid: number}).pid
    const cpuBefore = cpuMs(gatewayPid)
    const result = await new Promise<autocannon.Result>((resolve, reject) =>
      autocannon({url, method: 'POST', headers: benchHeaders, body, connections: 50, duration: seconds}, (e, r) => (e ? reject(e) : resolve(r))),
    )
    const cpuPerRequestUs = ((cpuMs(gatewayPid) - cpuBefore) * 1000) / result.requests.total
    const status = readFileSync(`/proc/${gatewayPid}/status`, 'utf8')
    const mb = (field: string): number => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024)
    console.log(`RSS after load: ${mb('VmRSS')} MB (anonymous ${mb('RssAnon')} MB, peak ${mb('VmHWM')} MB)`)
    console.log(`${passthrough ? 'pass-through' : audit ? 'audit on' : 'audit off'}${stream ? ', stream' : ''}: ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, gateway CPU ${cpuPerRequestUs.toFixed(0)} µs/request, non2xx ${result.non2xx}, errors ${result.errors}`)
  } finally {
    const exited = new Promise((r) => gateway.once('exit', r))
    gateway.kill('SIGTERM')
    await exited
    mock.kill('SIGTERM')
    rmSync(home, {recursive: true, force: true})
  }
  if (noProfile) return
  const file = readdirSync(outDir).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1)
  if (!file) throw new Error(`no .cpuprofile in ${outDir}`)
  console.log(`profile: ${path.join(outDir, file)}`)
  summarise(path.join(outDir, file))
}

await main()
