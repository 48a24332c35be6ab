/**
 * A real reference daemon (bin/cco) in a temp home, pointed at a real mock upstream
 * (`cco mock-provider --port 0`), plus a state store: what every check test runs against.
 */
import {execa, type ResultPromise} from 'execa'
import fs from 'node:fs'
import path from 'node:path'

import {resolveCheckParams} from '../../src/checks/index.js'
import {StateStore} from '../../src/lib/state/store.js'
import {isPidAlive} from '../../src/lib/target/files.js'
import {bundledTargetSpec, type TargetSpec} from '../../src/lib/target/spec.js'
import {Target} from '../../src/lib/target/target.js'
import {executeCheck} from '../../src/lib/validate/run.js'
import type {CheckRunResult} from '../../src/lib/validate/types.js'
import {REPO_ROOT} from './fixtures.js'
import {makeTempDir} from './tmp.js'

export const CCO = path.join(REPO_ROOT, 'bin', 'cco')
export const PLAYBOOK_DIR = path.join(REPO_ROOT, 'playbooks')
/** The client key probes present (the mock upstream requires one; any value passes). */
export const PROBE_ENV = {ANTHROPIC_API_KEY: 'test-probe-key'}

export function daemonBuilt(): boolean {
  return fs.existsSync(path.join(REPO_ROOT, 'gateway', 'dist', 'cli.js'))
}

export class MockUpstream {
  private constructor(
    readonly url: string,
    private readonly child: ResultPromise,
  ) {}

  static async start(): Promise<MockUpstream> {
    const child = execa(process.execPath, [CCO, 'mock-provider', '--port', '0'], {reject: false, stdin: 'ignore', buffer: false})
    const url = await new Promise<string>((resolve, reject) => {
      let seen = ''
      const timer = setTimeout(() => reject(new Error(`mock provider did not start: ${seen}`)), 15_000)
      child.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString()
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)
        if (m) {
          clearTimeout(timer)
          resolve(m[1] as string)
        }
      })
      child.once('exit', () => reject(new Error(`mock provider exited: ${seen}`)))
    })
    return new MockUpstream(url, child)
  }

  async setFaults(faults: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${this.url}/_mock/faults`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(faults)})
    if (!res.ok) throw new Error(`setting mock faults failed: HTTP ${res.status} ${await res.text()}`)
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM')
    await this.child
  }
}

export interface HomeOptions {
  flags?: {gatewayEnabled: boolean; proxyEnabled: boolean}
  /** Extra llmGateway settings merged over the mock-provider config (e.g. {audit: {enabled: false}}). */
  gateway?: Record<string, unknown>
  spec?: Partial<TargetSpec>
}

export function orchestraConfig(mockUrl: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    llmGateway: {
      providers: {anthropic: {enabled: true, providerType: 'anthropic', baseUrl: mockUrl}},
      routing: {defaultProvider: 'anthropic', fallbackChain: ['anthropic']},
      ...extra,
    },
  }
}

/** A daemon home wired to the mock upstream, a Target for it and a state store. */
export class DaemonHome {
  readonly home: string
  readonly target: Target
  readonly state: StateStore

  constructor(mockUrl: string, opts: HomeOptions = {}) {
    this.home = makeTempDir('cutover-checks-home-')
    fs.writeFileSync(path.join(this.home, 'orchestra-config.json'), JSON.stringify(orchestraConfig(mockUrl, opts.gateway)))
    if (opts.flags) this.writeFlags(opts.flags)
    this.target = new Target({...bundledTargetSpec(this.home), env: {...PROBE_ENV}, ...opts.spec})
    this.state = StateStore.open(path.join(this.home, 'cutover', 'state.db'))
  }

  writeFlags(flags: {gatewayEnabled: boolean; proxyEnabled: boolean}): void {
    fs.mkdirSync(path.join(this.home, 'config'), {recursive: true})
    fs.writeFileSync(path.join(this.home, 'config', 'daemon-config.json'), JSON.stringify(flags))
  }

  async start(): Promise<void> {
    const result = await this.target.daemon('start')
    if (!result.ok) throw new Error(`daemon start failed: ${result.stdout}\n${result.stderr}\n${this.target.tailLog(20).join('\n')}`)
  }

  async restart(): Promise<void> {
    const result = await this.target.daemon('restart')
    if (!result.ok) throw new Error(`daemon restart failed: ${result.stdout}\n${result.stderr}`)
  }

  async stop(): Promise<void> {
    const pidFile = path.join(this.home, 'daemon.pid')
    if (!fs.existsSync(pidFile)) return
    await this.target.daemon('stop')
    try {
      const {pid} = JSON.parse(fs.readFileSync(pidFile, 'utf8')) as {pid: number}
      if (isPidAlive(pid)) process.kill(pid, 'SIGKILL')
    } catch {
      // gone, or not ours to read
    }
  }

  /** Stop the daemon and close the store (call in after/afterEach). */
  async dispose(): Promise<void> {
    await this.stop()
    this.state.close()
  }

  /** Run one check as `phase validate` would (params validated and defaulted). */
  async check(id: string, params: Record<string, unknown> = {}, opts: {phase?: number; baseDir?: string; target?: Target} = {}): Promise<CheckRunResult> {
    return runCheck(id, params, {target: opts.target ?? this.target, state: this.state, phase: opts.phase ?? 1, baseDir: opts.baseDir ?? PLAYBOOK_DIR})
  }
}

export async function runCheck(id: string, params: Record<string, unknown>, env: {target: Target; state: StateStore | null; phase?: number; baseDir?: string}): Promise<CheckRunResult> {
  const resolved = resolveCheckParams(id, params)
  if (!resolved.ok) throw new Error(`bad params for ${id}: ${JSON.stringify(resolved.issues)}`)
  const memo = new Map<string, Promise<unknown>>()
  return executeCheck(
    {name: id, id, title: id, required: true, plan_ref: 'test', params: resolved.params},
    {
      target: env.target,
      state: env.state,
      phase: env.phase ?? 1,
      baseDir: env.baseDir ?? PLAYBOOK_DIR,
      now: () => new Date(),
      shared: {once: <T>(key: string, produce: () => Promise<T>) => (memo.get(key) ?? memo.set(key, produce()).get(key)) as Promise<T>},
    },
  )
}

/** A readable assertion message: the whole result. */
export function show(result: CheckRunResult): string {
  return JSON.stringify({outcome: result.outcome, detail: result.detail, measured: result.measured, remediation: result.remediation}, null, 2)
}
