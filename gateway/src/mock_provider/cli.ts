/** `cco mock-provider`: runs the mock provider in the foreground until SIGTERM/SIGINT. */
import {ERROR_STATUSES, InvalidFaultsError, parseFaults} from './faults.js'
import {startMockProvider} from './server.js'
import type {MockFaults, MockProviderOptions} from './types.js'

const USAGE = `Usage: cco mock-provider [options]

Serves Anthropic /v1/messages (+ count_tokens, models), OpenAI /v1/chat/completions, Azure
/openai/deployments/{d}/chat/completions and /openai/v1/responses with deterministic output.
Prints "listening on http://HOST:PORT" when ready; SIGTERM or SIGINT stops it.

Options:
  --port N                  port to listen on (default 0 = a free port)
  --host H                  address to bind (default 127.0.0.1)
  --seed N                  seed of generated text, ids and error selection (default 1)
  --output-tokens N         words in a text answer (default 20)
  --stream-events N         text deltas per stream (default 5)
  --max-recorded-requests N requests kept for GET /_mock/requests (default 10000)
Faults (also settable at runtime: POST /_mock/faults with a JSON object):
  --latency-ms N            delay before the response head
  --ttfb-ms N               delay before the first body byte / SSE event
  --event-delay-ms N        delay between SSE events
  --error-rate F            fraction 0..1 of requests that fail (deterministic per seed)
  --error-status N          status of failures: ${ERROR_STATUSES.join(', ')} (default 500; alone: every request fails)
  --retry-after N           retry-after seconds on 429/529 (default 1)
  --fail-first-n N          the first N requests fail, then succeed
  --reset-before-headers    reset the connection before any header
  --never-respond           accept requests and never answer
  --cut-stream-after N      destroy the connection after N SSE events
  --end-stream-after N      end the response cleanly after N SSE events (no terminal event)
  --stall-after N           stop sending after N SSE events, keep the connection open
  --malformed-sse           emit one broken SSE event mid-stream
  -h, --help                show this help
`

class UsageError extends Error {}

type ValueFlag = {kind: 'value'; target: 'option' | 'fault'; key: string}
type BooleanFlag = {kind: 'boolean'; key: keyof MockFaults}

const FLAGS: Record<string, ValueFlag | BooleanFlag> = {
  '--port': {kind: 'value', target: 'option', key: 'port'},
  '--host': {kind: 'value', target: 'option', key: 'host'},
  '--seed': {kind: 'value', target: 'option', key: 'seed'},
  '--output-tokens': {kind: 'value', target: 'option', key: 'outputTokens'},
  '--stream-events': {kind: 'value', target: 'option', key: 'streamEvents'},
  '--max-recorded-requests': {kind: 'value', target: 'option', key: 'maxRecordedRequests'},
  '--latency-ms': {kind: 'value', target: 'fault', key: 'latencyMs'},
  '--ttfb-ms': {kind: 'value', target: 'fault', key: 'ttfbMs'},
  '--event-delay-ms': {kind: 'value', target: 'fault', key: 'eventDelayMs'},
  '--error-rate': {kind: 'value', target: 'fault', key: 'errorRate'},
  '--error-status': {kind: 'value', target: 'fault', key: 'errorStatus'},
  '--retry-after': {kind: 'value', target: 'fault', key: 'retryAfterSecs'},
  '--fail-first-n': {kind: 'value', target: 'fault', key: 'failFirstN'},
  '--cut-stream-after': {kind: 'value', target: 'fault', key: 'cutStreamAfterEvents'},
  '--end-stream-after': {kind: 'value', target: 'fault', key: 'endStreamAfterEvents'},
  '--stall-after': {kind: 'value', target: 'fault', key: 'stallAfterEvents'},
  '--reset-before-headers': {kind: 'boolean', key: 'resetBeforeHeaders'},
  '--never-respond': {kind: 'boolean', key: 'neverRespond'},
  '--malformed-sse': {kind: 'boolean', key: 'malformedSse'},
}

export function parseMockProviderArgs(argv: string[]): MockProviderOptions | 'help' {
  const args = argv[0] === 'mock-provider' ? argv.slice(1) : argv
  const options: Record<string, unknown> = {}
  const faults: Record<string, unknown> = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === '-h' || arg === '--help') return 'help'
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg : arg.slice(0, eq)
    const flag = FLAGS[name]
    if (!flag) throw new UsageError(`unknown option "${arg}"; run "cco mock-provider --help" for the options`)
    if (flag.kind === 'boolean') {
      if (eq !== -1) throw new UsageError(`${name} takes no value`)
      faults[flag.key] = true
      continue
    }
    let raw: string | undefined
    if (eq !== -1) raw = arg.slice(eq + 1)
    else raw = args[++i]
    if (raw === undefined || raw === '' || (eq === -1 && raw.startsWith('--'))) throw new UsageError(`${name} needs a value`)
    if (name === '--host') {
      options.host = raw
      continue
    }
    const value = Number(raw)
    if (!Number.isFinite(value)) throw new UsageError(`${name}: expected a number, got "${raw}"`)
    if (flag.target === 'option') {
      const max = name === '--port' ? 65535 : name === '--seed' ? 0xffffffff : Number.MAX_SAFE_INTEGER
      const min = name === '--port' || name === '--seed' ? 0 : 1
      if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${name}: expected an integer from ${min} to ${max}, got "${raw}"`)
      options[flag.key] = value
    } else {
      faults[flag.key] = value
    }
  }
  try {
    options.faults = parseFaults(faults)
  } catch (error) {
    if (error instanceof InvalidFaultsError) throw new UsageError(error.message.replace(/^faults\.(\w+)/, (_m, key: string) => `--${flagNameOf(key)}`))
    throw error
  }
  return options as MockProviderOptions
}

function flagNameOf(faultKey: string): string {
  return Object.entries(FLAGS).find(([, flag]) => flag.key === faultKey)?.[0].slice(2) ?? faultKey
}

export async function runMockProviderCli(argv: string[]): Promise<number> {
  let options: MockProviderOptions | 'help'
  try {
    options = parseMockProviderArgs(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`cco mock-provider: ${error.message}\n`)
    return 2
  }
  if (options === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  let provider
  try {
    provider = await startMockProvider(options)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const hint = code === 'EADDRINUSE' ? ' (the port is in use; pick another with --port, or --port 0 for a free one)' : ''
    process.stderr.write(`cco mock-provider: cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 0}: ${(error as Error).message}${hint}\n`)
    return 1
  }
  process.stdout.write(`listening on ${provider.url}\n`)
  const running = provider
  return new Promise<number>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      void running.close().then(() => resolve(0), () => resolve(1))
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
}
