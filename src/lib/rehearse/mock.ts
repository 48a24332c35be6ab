/**
 * The rehearsal's upstream: the target's own mock provider (`cco mock-provider --port 0`) as a child
 * process on loopback. Faults are changed at runtime with POST /_mock/faults; a POST replaces every
 * fault, so the provider's normal behaviour (its realistic latency) is re-sent with each change.
 */
import {type ChildProcess, spawn} from 'node:child_process'

import {CutoverError, ExitCode} from '../errors.js'

/** The knobs of POST /_mock/faults the rehearsal uses. */
export interface MockFaults {
  latencyMs?: number
  ttfbMs?: number
  eventDelayMs?: number
  cutStreamAfterEvents?: number
  errorRate?: number
  errorStatus?: number
}

export interface MockProvider {
  url: string
  pid: number
  /** The provider's normal behaviour (what `clearFaults` returns to). */
  readonly normal: MockFaults
  /** Replace the faults: the normal behaviour plus `extra` (extra latency is added to the normal one). */
  setFaults(extra: MockFaults): Promise<MockFaults>
  clearFaults(): Promise<void>
  stop(): Promise<void>
}

export interface StartMockOptions {
  /** argv of the target's cco (the mock provider is one of its subcommands). */
  cco: string[]
  env?: Record<string, string>
  /** Normal provider behaviour: a real provider is not instant. */
  normal?: MockFaults
  startTimeoutMs?: number
}

/** A real provider takes tens of milliseconds before the head and paces its stream events. */
export const NORMAL_PROVIDER: MockFaults = {latencyMs: 60, eventDelayMs: 15}

export async function startMockProvider(opts: StartMockOptions): Promise<MockProvider> {
  const normal = {...(opts.normal ?? NORMAL_PROVIDER)}
  const [file, ...args] = opts.cco as [string, ...string[]]
  const child: ChildProcess = spawn(file, [...args, 'mock-provider', '--port', '0', '--max-recorded-requests', '500'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {...process.env, ...opts.env},
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no "listening on" line within ${opts.startTimeoutMs ?? 15_000} ms`)), opts.startTimeoutMs ?? 15_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const m = /listening on (http:\/\/\S+)/.exec(output)
      if (m) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        resolve(m[1]!)
      }
    }
    function fail(error: Error) {
      clearTimeout(timer)
      if (child.exitCode === null) child.kill('SIGKILL')
      reject(error)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.once('error', (error) => fail(error))
    child.once('exit', (code, signal) => fail(new Error(`it exited (${code ?? signal})`)))
  }).catch((error: Error) => {
    throw new CutoverError(`cannot start the mock provider (${opts.cco.join(' ')} mock-provider): ${error.message}${output ? `\n${output.trim().split('\n').slice(-5).join('\n')}` : ''}`, {
      code: 'REHEARSAL_MOCK_FAILED',
      exit: ExitCode.Fail,
      suggestions: ['Build the reference daemon: npm run build -w gateway'],
    })
  })
  // Drain the pipes so a chatty provider never blocks on a full buffer.
  child.stdout?.resume()
  child.stderr?.resume()

  const post = async (faults: MockFaults): Promise<void> => {
    const res = await fetch(`${url}/_mock/faults`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(faults), signal: AbortSignal.timeout(5000)})
    if (!res.ok) throw new Error(`POST ${url}/_mock/faults: HTTP ${res.status} ${await res.text()}`)
  }
  await post(normal)
  return {
    url,
    pid: child.pid!,
    normal,
    async setFaults(extra) {
      const faults = {...normal, ...extra, latencyMs: (normal.latencyMs ?? 0) + (extra.latencyMs ?? 0)}
      await post(faults)
      return faults
    },
    async clearFaults() {
      await post(normal)
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    },
  }
}
