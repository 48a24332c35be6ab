import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {type ApiDeps, type ApiHandler, createApiHandler} from '../../src/llm_gateway/api.js'
import type {RequestRecord} from '../../src/llm_gateway/record.js'
import type {GatewaySettings, ProviderSettings} from '../../src/llm_gateway/settings.js'

export interface TestGateway {
  url: string
  records: RequestRecord[]
  logs: {level: string; msg: string}[]
  health: {provider: string; ok: boolean; latencyMs: number; error?: string}[]
  handler: ApiHandler
  /** Resolves once `n` records were emitted (records are emitted after the response closes). */
  waitForRecords(n: number, timeoutMs?: number): Promise<RequestRecord[]>
  close(): Promise<void>
}

/** The request-path handler mounted on a bare node:http server on 127.0.0.1:0. */
export async function startGateway(config: GatewaySettings, extra: Partial<ApiDeps> = {}): Promise<TestGateway> {
  const records: RequestRecord[] = []
  const logs: TestGateway['logs'] = []
  const health: TestGateway['health'] = []
  const handler = createApiHandler({
    config,
    log: {
      info: (msg) => logs.push({level: 'info', msg}),
      warn: (msg) => logs.push({level: 'warn', msg}),
      error: (msg) => logs.push({level: 'error', msg}),
    },
    onRecord: (r) => records.push(r),
    health: {recordOutcome: (provider, ok, latencyMs, error) => health.push({provider, ok, latencyMs, error})},
    backoff: {baseMs: 10, maxMs: 50, maxRetryAfterMs: 5000},
    ...extra,
  })
  const server = http.createServer((req, res) => {
    handler(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404, {'content-type': 'text/plain'}).end('not handled by the API handler')
      },
      () => res.destroy(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    logs,
    health,
    handler,
    async waitForRecords(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (records.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} records, got ${records.length}: ${JSON.stringify(records.map((r) => r.path))}`)
        await new Promise((r) => setTimeout(r, 10))
      }
      return records
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await handler.close()
    },
  }
}

export function provider(over: Partial<ProviderSettings> & Pick<ProviderSettings, 'providerType' | 'baseUrl'>): ProviderSettings {
  return {enabled: true, maxRetries: 2, ...over}
}

/** Polls until `check` returns a value other than undefined. */
export async function waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export interface SseFrame {
  event: string
  data: unknown
}

/** Parses a complete SSE body into frames (test-side, independent of the gateway's parser). */
export function parseSseText(text: string): SseFrame[] {
  const frames: SseFrame[] = []
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue
    let event = 'message'
    const data: string[] = []
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
    }
    const joined = data.join('\n')
    let parsed: unknown = joined
    try {
      parsed = JSON.parse(joined)
    } catch {
      // keep raw
    }
    frames.push({event, data: parsed})
  }
  return frames
}

export const weatherTool = {
  name: 'get_weather',
  description: 'Get the weather for a city',
  input_schema: {type: 'object' as const, properties: {city: {type: 'string'}, days: {type: 'number'}}, required: ['city', 'days']},
}
