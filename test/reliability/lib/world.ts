/**
 * The suite's world: the real daemon (`cco daemon start`, temp CCO_HOME) and real mock provider
 * processes, from the gateway's own e2e harness, plus a keep-alive client that records every
 * answer by request id.
 */
import http from 'node:http'

import {GATEWAY_DIR, isAlive, readPid} from '../../../gateway/test/helpers/cco.js'
import {type GatewayDaemon, MESSAGE_HEADERS, messageBody} from '../../../gateway/test/e2e/harness.js'

export {E2eWorld, MockProcess, anthropicProvider, allAuditEntries, audit, daemonOf, getJson, messageBody, MESSAGE_HEADERS, postMessages, prometheusSum, summary, waitForTotal} from '../../../gateway/test/e2e/harness.js'
export type {AuditEntry, GatewayDaemon, SummaryMetrics} from '../../../gateway/test/e2e/harness.js'
export {cleanupHome, GATEWAY_DIR, http as plainHttp, isAlive, makeTempHome, readLog, readPid, runCco, waitFor, writeFlags, writeGatewayConfig} from '../../../gateway/test/helpers/cco.js'

export const CCO_BIN_DIR = GATEWAY_DIR

export interface Answer {
  status: number
  requestId: string
  stream: boolean
  body: string
  /** Milliseconds from send to the last byte. */
  ms: number
  /** A streamed answer that ended with message_stop, or a JSON message. */
  complete: boolean
  error?: string
}

/** True when an SSE body has message_start ... message_stop and no error event. */
export function completeStream(body: string): boolean {
  return body.includes('event: message_start') && body.includes('event: message_stop') && !body.includes('event: error')
}

export function completeJson(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as {type?: string; content?: unknown[]}
    return parsed.type === 'message' && Array.isArray(parsed.content)
  } catch {
    return false
  }
}

/** POST /v1/messages over a given agent; never rejects (errors come back in `error`). */
export function send(d: GatewayDaemon, opts: {stream: boolean; agent?: http.Agent; headers?: Record<string, string>; body?: string; timeoutMs?: number}): Promise<Answer> {
  const started = performance.now()
  const body = opts.body ?? messageBody({stream: opts.stream})
  return new Promise((resolve) => {
    const done = (a: Omit<Answer, 'ms' | 'stream'>) => resolve({...a, stream: opts.stream, ms: performance.now() - started})
    const req = http.request(`${d.url}/v1/messages`, {method: 'POST', headers: {...MESSAGE_HEADERS, ...opts.headers}, agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 30_000}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        const status = res.statusCode ?? 0
        done({status, requestId: String(res.headers['x-gateway-request-id'] ?? ''), body: text, complete: status === 200 && (opts.stream ? completeStream(text) : completeJson(text))})
      })
      res.on('error', (error) => done({status: res.statusCode ?? 0, requestId: String(res.headers['x-gateway-request-id'] ?? ''), body: Buffer.concat(chunks).toString('utf8'), complete: false, error: error.message}))
    })
    req.on('timeout', () => req.destroy(new Error('client timeout')))
    req.on('error', (error) => done({status: 0, requestId: '', body: '', complete: false, error: error.message}))
    req.end(body)
  })
}

/** The daemon of a home is alive with the same PID. */
export function samePidAlive(home: string, pid: number): boolean {
  try {
    return readPid(home).pid === pid && isAlive(pid)
  } catch {
    return false
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}
