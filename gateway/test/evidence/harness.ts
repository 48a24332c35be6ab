import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createEvidence, type Evidence, type EvidenceOptions} from '../../src/llm_gateway/evidence.js'

export interface Logged {
  level: string
  message: string
}

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'cco-evidence-'))
}

export function removeHome(home: string): void {
  rmSync(home, {recursive: true, force: true})
}

/** A logger that keeps lines for assertions. */
export function memoryLog(): {log: EvidenceOptions['log']; lines: Logged[]} {
  const lines: Logged[] = []
  return {
    lines,
    log: {
      info: (message) => lines.push({level: 'info', message}),
      warn: (message) => lines.push({level: 'warn', message}),
      error: (message) => lines.push({level: 'error', message}),
    },
  }
}

export interface Running {
  evidence: Evidence
  url: string
  server: Server
  lines: Logged[]
  get(path: string): Promise<{status: number; text: string; json: () => unknown}>
  post(path: string): Promise<{status: number; text: string; json: () => unknown}>
  stop(): Promise<void>
}

/** The evidence handlers mounted on a real loopback HTTP server, the way the gateway's route table mounts them. */
export async function startEvidence(opts: Partial<EvidenceOptions> & {home: string}): Promise<Running> {
  const {log, lines} = memoryLog()
  const evidence = createEvidence({log, processMetrics: false, ...opts})
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/gateway/metrics') evidence.handleMetrics(req, res)
    else if (path === '/gateway/metrics/reset') evidence.handleMetricsReset(req, res)
    else if (path === '/gateway/audit') evidence.handleAudit(req, res)
    else if (path === '/metrics') evidence.handlePrometheus(req, res)
    else {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const call = async (method: string, path: string) => {
    const res = await fetch(url + path, {method})
    const text = await res.text()
    return {status: res.status, text, json: () => JSON.parse(text) as unknown}
  }
  return {
    evidence,
    url,
    server,
    lines,
    get: (path) => call('GET', path),
    post: (path) => call('POST', path),
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await evidence.close()
    },
  }
}

/** Parses Prometheus text exposition into samples. */
export function parseExposition(text: string): Array<{name: string; labels: Record<string, string>; value: number}> {
  const out: Array<{name: string; labels: Record<string, string>; value: number}> = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`unparsable exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string
    out.push({name: m[1] as string, labels, value: Number(m[3])})
  }
  return out
}
