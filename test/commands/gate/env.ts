/*
 * A real gate environment for tests: the built reference daemon (bin/cco) in a temp CCO_HOME, the
 * real mock provider as its upstream (orchestra-config.json), and the built cutover CLI
 * (bin/run.js). Requires `npm run build -w gateway` and a compiled dist/ (tsc -b).
 */
import {execa, type ResultPromise} from 'execa'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

import {REPO_ROOT} from '../../helpers/fixtures.js'
import {makeTempDir} from '../../helpers/tmp.js'

export const RUN = path.join(REPO_ROOT, 'bin', 'run.js')
export const CCO = path.join(REPO_ROOT, 'bin', 'cco')
export const MOCK_PROVIDER_MODULE = path.join(REPO_ROOT, 'gateway', 'dist', 'mock_provider', 'index.js')

export interface MockFaults {
  latencyMs?: number
  errorRate?: number
  errorStatus?: number
  cutStreamAfterEvents?: number
}
export interface RunningMock {
  url: string
  setFaults(f: MockFaults): void
  close(): Promise<void>
}

/** The real mock provider (gateway/dist), in this process. */
export async function startMock(): Promise<RunningMock> {
  const mod = (await import(MOCK_PROVIDER_MODULE)) as {startMockProvider: (o: object) => Promise<RunningMock>}
  return mod.startMockProvider({port: 0, host: '127.0.0.1'})
}

export function built(): boolean {
  return fs.existsSync(path.join(REPO_ROOT, 'dist', 'commands', 'gonogo.js')) && fs.existsSync(path.join(REPO_ROOT, 'gateway', 'dist', 'cli.js')) && fs.existsSync(MOCK_PROVIDER_MODULE)
}

/** Env for children: no inherited CCO_HOME or routing variables, plain output. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  const drop = new Set(['CCO_HOME', 'NODE_ENV', 'CUTOVER_TARGET', 'CUTOVER_STATE', 'CUTOVER_PLAYBOOK', 'CUTOVER_PROMETHEUS_URL', 'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ANTHROPIC_BASE_URL'])
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !drop.has(key)) env[key] = value
  return {...env, NO_COLOR: '1', CUTOVER_ACTOR: 'gate-test', ...extra}
}

export async function cutover(args: string[], extraEnv: Record<string, string> = {}) {
  return execa(process.execPath, [RUN, ...args], {env: childEnv(extraEnv), extendEnv: false, reject: false, timeout: 120_000})
}

/** A long-running cutover command (e.g. monitor), stopped by the caller. */
export function cutoverBackground(args: string[]): ResultPromise<{reject: false}> {
  return execa(process.execPath, [RUN, ...args], {env: childEnv(), extendEnv: false, reject: false}) as unknown as ResultPromise<{reject: false}>
}

/** The env var holding the mock provider's key in the daemon's environment (the mock accepts any key). */
export const MOCK_KEY_ENV = 'CUTOVER_TEST_MOCK_KEY'

export async function cco(args: string[], home: string) {
  return execa(process.execPath, [CCO, ...args], {env: childEnv({CCO_HOME: home, [MOCK_KEY_ENV]: 'mock-provider-key'}), extendEnv: false, reject: false, timeout: 60_000})
}

export function writeOrchestraConfig(home: string, mockUrl: string): void {
  const config = {
    llmGateway: {
      // The key comes from the daemon's environment (startDaemon sets it), as in a real installation,
      // so the monitor's streaming probe needs no credentials of its own.
      providers: {anthropic: {providerType: 'anthropic', baseUrl: mockUrl, maxRetries: 0, apiKeyRef: MOCK_KEY_ENV}},
      routing: {defaultProvider: 'anthropic', fallbackChain: ['anthropic']},
    },
  }
  fs.mkdirSync(home, {recursive: true})
  fs.writeFileSync(path.join(home, 'orchestra-config.json'), JSON.stringify(config, null, 2))
}

export interface PidFile {
  pid: number
  port: number
  gateway_port: number | null
}

export function readPid(home: string): PidFile {
  return JSON.parse(fs.readFileSync(path.join(home, 'daemon.pid'), 'utf8')) as PidFile
}

export async function startDaemon(home: string): Promise<PidFile> {
  const run = await cco(['daemon', 'start'], home)
  if (run.exitCode !== 0) throw new Error(`cco daemon start failed (${run.exitCode}):\n${run.stdout}\n${run.stderr}`)
  return readPid(home)
}

export async function stopDaemon(home: string): Promise<void> {
  if (!fs.existsSync(path.join(home, 'daemon.pid'))) return
  let pid: number | undefined
  try {
    pid = readPid(home).pid
  } catch {
    // unreadable: nothing to stop by pid
  }
  await cco(['daemon', 'stop'], home)
  if (pid !== undefined) {
    try {
      process.kill(pid, 0)
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
}

/** Poll until check() returns a value other than undefined/false. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/** Send n requests through the gateway (Anthropic Messages API); returns their statuses. */
export async function traffic(home: string, n: number, opts: {stream?: boolean} = {}): Promise<number[]> {
  const {gateway_port} = readPid(home)
  const statuses: number[] = []
  for (let i = 0; i < n; i++) {
    const response = await fetch(`http://127.0.0.1:${gateway_port}/v1/messages`, {
      method: 'POST',
      headers: {'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'test-key-not-secret'},
      body: JSON.stringify({model: 'claude-sonnet-4-5', max_tokens: 16, stream: opts.stream ?? false, messages: [{role: 'user', content: `hello ${i}`}]}),
    })
    await response.text()
    statuses.push(response.status)
  }
  return statuses
}

/** A free loopback port (closed again; nobody listens on it afterwards). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export interface GateFixtureOptions {
  /** Window of the gateway criteria and the uptime criterion. */
  window: string
  minSamples: number
  latencyMs: number
  approval?: boolean
}

/**
 * A small playbook whose gates use short windows so tests are fast:
 *   1 -> 2: no open critical incident; uptime > 99.9 % (monitor); error rate < 5 %; avg latency < N ms;
 *           at least 2 requests seen; team approval
 *   2 -> 3: error rate and latency (no more than +25 % of the pinned baseline) only: no uptime, no approval
 */
export function writeGatePlaybook(dir: string, o: GateFixtureOptions): string {
  const file = path.join(dir, 'gate-playbook.yaml')
  const gatewayCriteria = (suffix: string, relative = '') => `
      - {id: error-rate${suffix}, title: Error rate below 5%, source: gateway, metric: error_rate, statistic: ratio, window: ${o.window}, operator: '<', threshold: 5, unit: percent, min_samples: ${o.minSamples}, key: true, evidence_waiver: 'test: seconds-long windows', plan_ref: 'test: "errors"'}
      - {id: latency${suffix}, title: Average latency below ${o.latencyMs} ms, source: gateway, metric: latency_ms, statistic: avg, window: ${o.window}, operator: '<', threshold: ${o.latencyMs}, unit: ms, min_samples: ${o.minSamples}, key: true, ${relative}plan_ref: 'test: "latency"'}`
  const yaml = `name: gate-test
version: "1"
target:
  name: reference
  cco: [cco]
phases:
  - {id: one, number: 1, title: One, goal: Baseline., plan_ref: 'test: "1"', checks: [{id: gateway.health, plan_ref: 'test: "h"'}]}
  - {id: two, number: 2, title: Two, goal: Soft., plan_ref: 'test: "2"', checks: [{id: gateway.health, plan_ref: 'test: "h"'}]}
  - {id: three, number: 3, title: Three, goal: Hard., plan_ref: 'test: "3"', checks: [{id: gateway.health, plan_ref: 'test: "h"'}]}
gates:
  - id: one-to-two
    from: 1
    to: 2
    title: Go/No-Go 1 -> 2
    plan_ref: 'test: "gate"'
    criteria:
      - {id: zero-critical-bugs, title: No open critical incident, source: records, metric: open_critical_incidents, statistic: count, window: phase, operator: '==', threshold: 0, unit: count, min_samples: 0, key: true, plan_ref: 'test: "bugs"'}
      - {id: uptime, title: Uptime above 99.9%, source: gateway, metric: uptime, statistic: ratio, window: ${o.window}, operator: '>', threshold: 99.9, unit: percent, min_samples: ${o.minSamples}, key: true, evidence_waiver: 'test: seconds-long windows', plan_ref: 'test: "uptime"'}${gatewayCriteria('')}
      - {id: traffic, title: At least 2 requests seen, source: gateway, metric: total_requests, statistic: count, window: ${o.window}, operator: '>=', threshold: 2, unit: count, min_samples: 0, key: true, plan_ref: 'test: "traffic"'}
${o.approval === false ? '' : `      - {id: team-approval, title: Team approval, source: records, metric: approvals, statistic: count, window: phase, operator: '>=', threshold: 1, unit: count, min_samples: 0, key: true, requires_approval: true, plan_ref: 'test: "approval"'}\n`}  - id: two-to-three
    from: 2
    to: 3
    title: Go/No-Go 2 -> 3
    plan_ref: 'test: "gate 2"'
    criteria:${gatewayCriteria('-2', 'relative_to_baseline: {max_increase_pct: 25}, ')}
`
  fs.writeFileSync(file, yaml)
  return file
}

export function tempHome(): {dir: string; home: string} {
  const dir = makeTempDir('cutover-gate-')
  const home = path.join(dir, 'home')
  fs.mkdirSync(home, {mode: 0o700})
  return {dir, home}
}
