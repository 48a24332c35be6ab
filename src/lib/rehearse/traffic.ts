/**
 * Background traffic shaped like Claude Code's (../shared/reference/claude-code-traffic.md), sent
 * through the official @anthropic-ai/sdk client: a system prompt whose first block carries
 * cache_control, tool definitions, one user message, the agent type in `x-cco-agent-type`, a mix of
 * Sonnet / Haiku / Opus, mostly streamed (as Claude Code does) with some non-streamed calls.
 *
 * The traffic follows the launcher: it goes to the gateway whose port the PID file names, so a
 * restart (new port) or a rollback to the proxy (no gateway) is seen as a real client would see
 * it. While no gateway runs, nothing is sent (counted as `waiting`). Deterministic for a seed.
 */
import Anthropic from '@anthropic-ai/sdk'
import {setMaxListeners} from 'node:events'

export interface TrafficProfile {
  agent: string
  model: string
  stream: boolean
  tools: number
  system: string
}

/**
 * The agents of the recorded run (main agent and three sub-agents) plus a reviewer, on current model
 * ids (SDK 1.14: Sonnet 5.5, Sonnet 5, Sonnet 4.6, Opus 4.6) alongside Claude Code 2.0.77's recorded ones
 * (claude-sonnet-4-5-20250929, claude-haiku-4-5-20251001). Only priced models, so the rehearsal's cost
 * figures cover all of its traffic.
 */
const AGENTS: {agent: string; model: string; tools: number; role: string; weight: number}[] = [
  {agent: 'general-purpose', model: 'claude-sonnet-5-5', tools: 18, role: 'You are an interactive CLI tool that helps users with software engineering tasks.', weight: 3},
  {agent: 'general-purpose', model: 'claude-sonnet-4-5-20250929', tools: 18, role: 'You are an interactive CLI tool that helps users with software engineering tasks.', weight: 1},
  {agent: 'command-executor', model: 'claude-sonnet-4-6', tools: 1, role: 'You are a command execution specialist for Claude Code.', weight: 2},
  {agent: 'file-search', model: 'claude-haiku-4-5-20251001', tools: 11, role: 'You are a file search specialist for Claude Code, Anthropic\'s official CLI for Claude.', weight: 3},
  {agent: 'planner', model: 'claude-opus-4-6', tools: 11, role: 'You are a software architect and planning specialist for Claude Code.', weight: 1},
  {agent: 'code-reviewer', model: 'claude-sonnet-5', tools: 6, role: 'You are a code review specialist for Claude Code.', weight: 1},
]
const TOOL_NAMES = ['Bash', 'Read', 'Write', 'Edit', 'Glob', 'Grep', 'WebFetch', 'TodoWrite', 'Task', 'NotebookEdit', 'WebSearch', 'BashOutput', 'KillShell', 'ExitPlanMode', 'SlashCommand', 'MultiEdit', 'LS', 'Agent']
const PROMPTS = ['Find where the proxy port is read and list the callers.', 'Run the test suite and summarise the failures.', 'Plan the removal of the legacy proxy module.', 'Review the launcher change for error handling.', 'Explain what the gateway health endpoint returns.']
/** Share of requests that stream (Claude Code streams its Messages calls; tools and SDK users do not always). */
const STREAM_SHARE = 0.7

export interface TrafficStats {
  sent: number
  ok: number
  failed: number
  streamed: number
  /** Time spent with no gateway to send to (ms). */
  waitingMs: number
  byModel: Record<string, number>
  byAgent: Record<string, number>
  errors: Record<string, number>
  lastError: string | null
}

export interface TrafficOptions {
  /** The gateway's base URL now, or null when none runs (read per request). */
  gatewayUrl: () => string | null
  /** The client's API key (a dummy: the gateway authenticates upstream with its own). */
  apiKey: string
  concurrency?: number
  /** Pause between one worker's requests (ms, jittered +-50%). */
  thinkMs?: number
  seed?: number
  timeoutMs?: number
}

/** xorshift32: repeatable choices without Math.random. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x1_0000_0000
  }
}

function tool(name: string) {
  return {name, description: `${name} tool of the coding agent`, input_schema: {type: 'object' as const, properties: {input: {type: 'string', description: 'what to do'}}, required: ['input']}}
}

export class TrafficGenerator {
  readonly stats: TrafficStats = {sent: 0, ok: 0, failed: 0, streamed: 0, waitingMs: 0, byModel: {}, byAgent: {}, errors: {}, lastError: null}
  private readonly opts: Required<Omit<TrafficOptions, 'gatewayUrl' | 'apiKey'>> & Pick<TrafficOptions, 'gatewayUrl' | 'apiKey'>
  private readonly random: () => number
  private readonly clients = new Map<string, Anthropic>()
  private readonly inFlight = new Set<Promise<void>>()
  private running = false
  private paused = false
  private workers: Promise<void>[] = []
  private stopController = new AbortController()
  private wake: (() => void) | null = null

  constructor(opts: TrafficOptions) {
    this.opts = {concurrency: 3, thinkMs: 120, seed: 7, timeoutMs: 30_000, ...opts}
    this.random = rng(this.opts.seed)
  }

  /** The next request's shape (agents weighted as in a Claude Code session). */
  nextProfile(): TrafficProfile {
    const total = AGENTS.reduce((n, a) => n + a.weight, 0)
    let pick = this.random() * total
    const a = AGENTS.find((x) => (pick -= x.weight) < 0) ?? AGENTS[0]!
    return {agent: a.agent, model: a.model, stream: this.random() < STREAM_SHARE, tools: a.tools, system: a.role}
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.stopController = new AbortController()
    // Every request and every pause listens to it.
    setMaxListeners(0, this.stopController.signal)
    this.workers = Array.from({length: this.opts.concurrency}, (_, i) => this.worker(i))
  }

  /** Stop sending and wait until every request in flight has finished. */
  async pause(): Promise<void> {
    this.paused = true
    await Promise.allSettled([...this.inFlight])
  }

  resume(): void {
    this.paused = false
    this.wake?.()
  }

  get isPaused(): boolean {
    return this.paused
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.stopController.abort()
    this.wake?.()
    await Promise.allSettled(this.workers)
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const signal = this.stopController.signal
      function done() {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      signal.addEventListener('abort', done, {once: true})
      this.wake = done
    })
  }

  private client(baseURL: string): Anthropic {
    let c = this.clients.get(baseURL)
    if (!c) {
      c = new Anthropic({baseURL, apiKey: this.opts.apiKey, maxRetries: 0, timeout: this.opts.timeoutMs})
      this.clients.set(baseURL, c)
    }
    return c
  }

  private async worker(index: number): Promise<void> {
    // Stagger the workers so they do not fire in lockstep.
    await this.sleep(index * 40)
    while (this.running) {
      if (this.paused) {
        await this.sleep(50)
        continue
      }
      const url = this.opts.gatewayUrl()
      if (!url) {
        const t = performance.now()
        await this.sleep(100)
        this.stats.waitingMs += Math.round(performance.now() - t)
        continue
      }
      const request = this.send(url, this.nextProfile())
      this.inFlight.add(request)
      await request
      this.inFlight.delete(request)
      await this.sleep(this.opts.thinkMs * (0.5 + this.random()))
    }
  }

  private async send(baseURL: string, p: TrafficProfile): Promise<void> {
    const s = this.stats
    s.sent++
    s.byModel[p.model] = (s.byModel[p.model] ?? 0) + 1
    s.byAgent[p.agent] = (s.byAgent[p.agent] ?? 0) + 1
    if (p.stream) s.streamed++
    const body = {
      model: p.model,
      max_tokens: 32_000,
      system: [
        {type: 'text' as const, text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: {type: 'ephemeral' as const}},
        {type: 'text' as const, text: p.system},
      ],
      tools: TOOL_NAMES.slice(0, p.tools).map(tool),
      metadata: {user_id: `rehearsal-user-${p.agent}`},
      messages: [{role: 'user' as const, content: PROMPTS[Math.floor(this.random() * PROMPTS.length)]!}],
    }
    const options = {headers: {'x-cco-agent-type': p.agent, 'x-app': 'cli'}, signal: this.stopController.signal}
    try {
      const client = this.client(baseURL)
      if (p.stream) await client.messages.stream(body, options).finalMessage()
      else await client.messages.create(body, options)
      s.ok++
    } catch (error) {
      if (this.stopController.signal.aborted) return
      s.failed++
      const err = error as Error & {status?: number}
      const key = err.status ? `HTTP ${err.status}` : err.name === 'APIConnectionError' ? 'connection' : err.name
      s.errors[key] = (s.errors[key] ?? 0) + 1
      s.lastError = `${key}: ${err.message.split('\n')[0]}`
    }
  }
}
