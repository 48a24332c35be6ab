/*
 * End-to-end harness: the real daemon (`node bin/cco daemon start`, temp CCO_HOME) in front
 * of real mock provider processes (`node bin/cco mock-provider`). Everything it spawns is
 * tracked and killed by `E2eWorld.cleanup()` (call it in an after hook).
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {request as httpRequest} from 'node:http'
import {CCO_BIN, cleanupHome, GATEWAY_DIR, http, makeTempHome, readPid, runCco, waitFor, writeFlags, writeGatewayConfig} from '../helpers/cco.js'

export interface MockFaults {
  latencyMs?: number
  ttfbMs?: number
  eventDelayMs?: number
  errorRate?: number
  errorStatus?: number
  retryAfterSecs?: number
  failFirstN?: number
  resetBeforeHeaders?: boolean
  cutStreamAfterEvents?: number
  endStreamAfterEvents?: number
  stallAfterEvents?: number
  neverRespond?: boolean
}

export interface MockRequestSeen {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  body: string
  aborted: boolean
}

/** A `cco mock-provider` child process. */
export class MockProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(args: string[] = []): Promise<MockProcess> {
    const child = spawn(process.execPath, [CCO_BIN, 'mock-provider', '--port', '0', ...args], {cwd: GATEWAY_DIR, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()))
    const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? (child.exitCode !== null ? Promise.reject(new Error(`mock provider exited: ${out}`)) : null), 'the mock provider to listen', 15_000)
    return new MockProcess(child, url)
  }

  async setFaults(faults: MockFaults): Promise<void> {
    const r = await http(`${this.url}/_mock/faults`, {method: 'POST', body: JSON.stringify(faults), headers: {'content-type': 'application/json'}})
    if (r.status !== 200) throw new Error(`mock faults refused: ${r.text}`)
  }

  async requests(): Promise<MockRequestSeen[]> {
    return ((await http(`${this.url}/_mock/requests`)).json as {requests: MockRequestSeen[]}).requests
  }

  async clearRequests(): Promise<void> {
    await http(`${this.url}/_mock/requests`, {method: 'DELETE'})
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = once(this.child, 'exit')
    this.child.kill('SIGKILL')
    await exited
  }
}

export interface GatewayDaemon {
  home: string
  pid: number
  controlPort: number
  gatewayPort: number
  url: string
}

export interface SummaryMetrics {
  total_requests: number
  successful_requests: number
  failed_requests: number
  streaming_requests: number
  streaming_failures: number
  fallback_requests: number
  audit_records: number
  status_counts: Record<string, number>
  error_types: Record<string, number>
  total_cost_usd: number
  total_cost_micros: number
  [key: string]: unknown
}

export interface AuditEntry {
  request_id: string
  path: string
  stream: boolean
  status: number
  success: boolean
  error_type: string | null
  provider: string | null
  attempts: number
  fallback_used: boolean
  cost_micros: number | null
  cost_usd: number | null
  cost_status: string
  usage_missing: boolean
  usage_estimated: boolean
  output_tokens: number
  input_tokens: number
  request_body?: string | null
  response_body?: string | null
  [key: string]: unknown
}

/** A provider entry of orchestra-config.json pointing at a mock. */
export function anthropicProvider(baseUrl: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {providerType: 'anthropic', baseUrl, maxRetries: 0, ...extra}
}

/** Owns temp homes, daemons and mock processes of one test file. */
export class E2eWorld {
  private readonly homes: string[] = []
  private readonly mocks: MockProcess[] = []

  async mock(args: string[] = []): Promise<MockProcess> {
    const mock = await MockProcess.start(args)
    this.mocks.push(mock)
    return mock
  }

  home(): string {
    const home = makeTempHome('cco-e2e-')
    this.homes.push(home)
    return home
  }

  /** Writes the config and runs `cco daemon start`; fails with the log when it does not come up. */
  async startDaemon(llmGateway: unknown, opts: {home?: string; flags?: Record<string, boolean>; env?: NodeJS.ProcessEnv} = {}): Promise<GatewayDaemon> {
    const home = opts.home ?? this.home()
    writeGatewayConfig(home, llmGateway)
    if (opts.flags) writeFlags(home, opts.flags)
    return this.start(home, opts.env)
  }

  async start(home: string, env?: NodeJS.ProcessEnv): Promise<GatewayDaemon> {
    const r = await runCco(['daemon', 'start'], {home, env})
    if (r.code !== 0) throw new Error(`cco daemon start failed (${r.code}):\n${r.stdout}\n${r.stderr}`)
    return daemonOf(home)
  }

  async cleanup(): Promise<void> {
    for (const mock of this.mocks.splice(0)) await mock.stop()
    for (const home of this.homes.splice(0)) await cleanupHome(home)
  }
}

export function daemonOf(home: string): GatewayDaemon {
  const pid = readPid(home) as {pid: number; port: number; gateway_port: number | null}
  if (pid.gateway_port === null) throw new Error(`the daemon in ${home} runs without a gateway`)
  return {home, pid: pid.pid, controlPort: pid.port, gatewayPort: pid.gateway_port, url: `http://127.0.0.1:${pid.gateway_port}`}
}

export async function getJson<T>(url: string): Promise<T> {
  const r = await http(url, {timeoutMs: 20_000})
  if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}: ${r.text}`)
  return r.json as T
}

export async function summary(d: GatewayDaemon): Promise<SummaryMetrics> {
  return (await getJson<{summary: SummaryMetrics}>(`${d.url}/gateway/metrics`)).summary
}

export async function audit(d: GatewayDaemon, query = ''): Promise<{entries: AuditEntry[]; total: number}> {
  return getJson(`${d.url}/gateway/audit${query ? `?${query}` : ''}`)
}

/** Every audit row (paged). */
export async function allAuditEntries(d: GatewayDaemon, extra = ''): Promise<AuditEntry[]> {
  const out: AuditEntry[] = []
  for (let offset = 0; ; offset += 1000) {
    const page = await audit(d, `limit=1000&offset=${offset}${extra ? `&${extra}` : ''}`)
    out.push(...page.entries)
    if (page.entries.length < 1000) return out
  }
}

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses Prometheus text exposition (enough for our metrics: no escaped quotes in labels). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line)
    if (!m) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]!] = l[2]!
    out.push({name: m[1]!, labels, value: Number(m[3])})
  }
  return out
}

export async function prometheusSum(d: GatewayDaemon, name: string): Promise<number> {
  const text = (await http(`${d.url}/metrics`)).text
  return parseExposition(text)
    .filter((s) => s.name === name)
    .reduce((sum, s) => sum + s.value, 0)
}

export const MESSAGE_HEADERS = {'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-e2e-client-key-000000'}

export function messageBody(over: Record<string, unknown> = {}): string {
  return JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 128, messages: [{role: 'user', content: 'Hello from the e2e test'}], ...over})
}

export interface ClientResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  /** Epoch ms when the whole response had arrived. */
  completedAt: number
}

/** POST /v1/messages; resolves once the whole response (JSON or SSE) has arrived. */
export function postMessages(d: GatewayDaemon, body: string, headers: Record<string, string> = MESSAGE_HEADERS, timeoutMs = 30_000): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${d.url}/v1/messages`, {method: 'POST', headers, agent: false, timeout: timeoutMs}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), completedAt: Date.now()}))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('request timed out')))
    req.on('error', reject)
    req.end(body)
  })
}

/** A streamed request the client abandons after the first body bytes (the gateway must record it as client_aborted). */
export function abortAfterFirstChunk(d: GatewayDaemon, body: string): Promise<{status: number; requestId: string}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${d.url}/v1/messages`, {method: 'POST', headers: MESSAGE_HEADERS, agent: false}, (res) => {
      res.once('data', () => {
        req.destroy()
        resolve({status: res.statusCode ?? 0, requestId: String(res.headers['x-gateway-request-id'])})
      })
      res.on('error', () => undefined)
    })
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (!req.destroyed) reject(error)
    })
    req.end(body)
  })
}

/** Polls /gateway/metrics until total_requests reaches `n` (records are written after the response). */
export async function waitForTotal(d: GatewayDaemon, n: number, timeoutMs = 15_000): Promise<SummaryMetrics> {
  let last: SummaryMetrics | undefined
  try {
    return await waitFor(async () => {
      last = await summary(d)
      return last.total_requests >= n ? last : null
    }, `total_requests to reach ${n}`, timeoutMs, 100)
  } catch (error) {
    throw new Error(`${(error as Error).message}; last summary: ${JSON.stringify(last)}`)
  }
}
