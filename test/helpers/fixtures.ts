import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/** A stand-in `cco` for target-file tests: behaviour chosen per call through FAKE_CCO_* env vars. */
export const FAKE_CCO = path.join(REPO_ROOT, 'test', 'helpers', 'fake-cco.mjs')

/** A PID that belonged to a process that has exited (so it is not alive). */
export function deadPid(): number {
  const pid = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'}))
  return pid
}

export interface PidFixture {
  pid?: number
  started_at?: string
  port?: number
  gateway_port?: number | null
  version?: string
  proxy_port?: number
}

/** Write `<home>/daemon.pid` as the daemon would (defaults: this test process, which is alive). */
export function writePidFile(home: string, fields: PidFixture & Record<string, unknown> = {}): string {
  const file = path.join(home, 'daemon.pid')
  const content = {pid: process.pid, started_at: new Date().toISOString(), port: 45_001, gateway_port: 45_002, version: '2026.11.1', ...fields}
  fs.mkdirSync(home, {recursive: true})
  fs.writeFileSync(file, JSON.stringify(content))
  return file
}

export function writeFlagsFile(home: string, content: unknown): string {
  const file = path.join(home, 'config', 'daemon-config.json')
  fs.mkdirSync(path.dirname(file), {recursive: true})
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

/** A target file using the fake cco (`node test/helpers/fake-cco.mjs`), plus any extra YAML. */
export function writeFakeTargetFile(dir: string, home: string, extra = ''): string {
  const file = path.join(dir, 'target.yaml')
  fs.writeFileSync(file, `name: fake\nhome: ${home}\ncco: [${JSON.stringify(process.execPath)}, ${JSON.stringify(FAKE_CCO)}]\n${extra}`)
  return file
}
