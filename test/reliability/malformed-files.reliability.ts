import {expect} from 'chai'
import fc from 'fast-check'
import Database from 'better-sqlite3'
import {createHash} from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import {built, cutover} from './lib/cli.js'
import {results} from './lib/results.js'
import {cleanupHome, makeTempHome, readLog, runCco, waitFor} from './lib/world.js'

/*
 * Malformed files: the PID file, daemon-config.json, orchestra-config.json, a playbook, a target
 * file and the state database, each broken in hand-written and generated ways. Every command
 * that reads one must fail (or degrade) with a clear error naming the file, and leave it, and
 * every other file already in the home, byte for byte as it was.
 */

/** Generated garbage: random bytes, truncated JSON, JSON of the wrong shape. */
const garbage = fc.oneof(
  fc.uint8Array({minLength: 1, maxLength: 300}).map((b) => Buffer.from(b)),
  fc.jsonValue().map((v) => Buffer.from((JSON.stringify(v) ?? 'null').slice(0, -1) || '{')),
  fc.oneof(fc.array(fc.jsonValue(), {maxLength: 3}), fc.string(), fc.integer()).map((v) => Buffer.from(JSON.stringify(v))),
)
const GENERATED = 4

function variants(handWritten: Record<string, string | Buffer>, seed: number): Array<{name: string; content: Buffer}> {
  const out = Object.entries(handWritten).map(([name, c]) => ({name, content: Buffer.isBuffer(c) ? c : Buffer.from(c)}))
  fc.sample(garbage, {numRuns: GENERATED, seed}).forEach((content, i) => out.push({name: `generated #${i + 1}`, content}))
  return out
}

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) out.set(p, createHash('sha256').update(fs.readFileSync(p)).digest('hex'))
    }
  }
  walk(dir)
  return out
}

/** Existing files are unchanged (new files may appear: a log line, a state database). */
function unchanged(before: Map<string, string>, after: Map<string, string>, allowGrow: string[] = []): string[] {
  const changed: string[] = []
  for (const [file, hash] of before) if (after.get(file) !== hash && !allowGrow.some((g) => file.endsWith(g))) changed.push(file)
  return changed
}

const flat = (text: string) => text.replace(/\s+/g, ' ')

describe('reliability: malformed files get a clear error naming the file, and are never overwritten', function () {
  this.timeout(300_000)
  const homes: string[] = []
  const home = () => {
    const h = makeTempHome('cco-rel-malformed-')
    homes.push(h)
    return h
  }
  before(function () {
    if (!built()) this.skip()
  })
  after(async () => {
    for (const h of homes) await cleanupHome(h)
  })

  it('PID file: cco daemon status, cutover daemon status and the daemon.running check name daemon.pid; start keeps the broken content', async () => {
    const cases = variants({'invalid JSON': '{"pid": 12', empty: '', 'wrong types': '{"pid":"12","port":"x","started_at":5,"gateway_port":"y","version":1}', 'an array': '[1,2]', 'negative pid': '{"pid":-1,"port":1,"started_at":"2026-01-01T00:00:00Z","gateway_port":null,"version":"1"}', 'NUL bytes': Buffer.from([0, 0, 0, 0x7b])}, 11)
    let clear = true
    for (const v of cases) {
      const h = home()
      const file = path.join(h, 'daemon.pid')
      fs.writeFileSync(file, v.content)
      const before = snapshot(h)
      const runs = [await runCco(['daemon', 'status'], {home: h}), await cutover(['daemon', 'status', '--home', h]), await cutover(['phase', 'validate', '--phase', '1', '--check', 'daemon.running', '--home', h])]
      for (const r of runs) {
        const out = flat('code' in r ? r.stdout + r.stderr : r.stdout + r.stderr)
        const code = 'code' in r ? r.code : r.exitCode
        expect(code, `${v.name}: ${out}`).to.not.equal(0)
        if (!out.includes(file)) clear = false
        expect(out, v.name).to.contain(file)
      }
      expect(unchanged(before, snapshot(h)), v.name).to.deep.equal([])
      // start replaces it with its own PID file, keeping the broken one.
      const start = await runCco(['daemon', 'start'], {home: h})
      expect(start.code, `${v.name}: ${start.stdout}${start.stderr}`).to.equal(0)
      const kept = fs.readdirSync(h).filter((f) => f.startsWith('daemon.pid')).map((f) => fs.readFileSync(path.join(h, f)))
      expect(kept.some((b) => b.equals(v.content)), `${v.name}: the broken PID file content was lost (kept: ${fs.readdirSync(h).join(', ')})`).to.equal(true)
      await runCco(['daemon', 'stop'], {home: h})
    }
    results.malformedFiles.push({file: 'daemon.pid', variants: cases.length, clearError: clear, untouched: true})
  })

  it('daemon-config.json: cco daemon start refuses naming the file (and the key); validate names it; the file is untouched', async () => {
    const cases = variants({'invalid JSON': '{"gatewayEnabled": tru', 'unknown key': '{"gatewayEnabled": true, "proxyEnabld": false}', 'wrong type': '{"gatewayEnabled": "yes"}', 'an array': '[true, false]', empty: '', 'a number': '42'}, 12)
    for (const v of cases) {
      const h = home()
      const file = path.join(h, 'config', 'daemon-config.json')
      fs.mkdirSync(path.dirname(file), {recursive: true})
      fs.writeFileSync(file, v.content)
      const before = snapshot(h)
      const start = await runCco(['daemon', 'start'], {home: h})
      const out = flat(start.stdout + start.stderr + readLog(h))
      expect(start.code, `${v.name}: ${out}`).to.not.equal(0)
      expect(out, v.name).to.contain('daemon-config.json')
      const validate = await cutover(['phase', 'validate', '--phase', '1', '--check', 'daemon.running', '--home', h])
      expect(validate.exitCode, v.name).to.not.equal(0)
      expect(unchanged(before, snapshot(h)), v.name).to.deep.equal([])
    }
    results.malformedFiles.push({file: 'config/daemon-config.json', variants: cases.length, clearError: true, untouched: true})
  })

  it('orchestra-config.json: the daemon runs without a gateway and logs the CRITICAL line with the file and JSON path; the file is untouched', async () => {
    const cases = variants({'invalid JSON': '{"llmGateway": {', 'wrong type': '{"llmGateway": {"providers": []}}', 'unknown provider in the chain': '{"llmGateway": {"providers": {"a": {"providerType": "anthropic", "baseUrl": "http://127.0.0.1:9"}}, "routing": {"defaultProvider": "a", "fallbackChain": ["a", "azur"]}}}', 'bad URL': '{"llmGateway": {"providers": {"a": {"providerType": "anthropic", "baseUrl": "not a url"}}, "routing": {"defaultProvider": "a"}}}', empty: ''}, 13)
    for (const v of cases) {
      const h = home()
      const file = path.join(h, 'orchestra-config.json')
      fs.writeFileSync(file, v.content)
      const before = snapshot(h)
      const start = await runCco(['daemon', 'start'], {home: h})
      expect(start.code, `${v.name}: ${start.stdout}${start.stderr}`).to.equal(0)
      await waitFor(() => readLog(h).includes('CRITICAL: LLM Gateway failed to initialize'), `${v.name}: the CRITICAL line`)
      expect(flat(readLog(h)), v.name).to.match(/orchestra-config\.json|llmGateway/)
      const status = await runCco(['daemon', 'status'], {home: h})
      expect(flat(status.stdout + status.stderr), v.name).to.match(/failed|orchestra-config|llmGateway/)
      await runCco(['daemon', 'stop'], {home: h})
      expect(unchanged(before, snapshot(h)), v.name).to.deep.equal([])
    }
    results.malformedFiles.push({file: 'orchestra-config.json', variants: cases.length, clearError: true, untouched: true})
  })

  it('playbook: lint and validate exit 2 with file:line:col; the file is untouched', async () => {
    const valid = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'advance-every-step.yaml'), 'utf8')
    const cases = variants({'malformed YAML': 'name: x\nphases: [\n', 'wrong type': valid.replace('number: 2', 'number: two'), 'unknown field': valid.replace('goal: The gateway is the only route.', 'goal: The gateway is the only route.\n    colour: blue'), 'unknown check': valid.replace('{id: gateway.health,', '{id: gateway.healthy,'), empty: '', 'tabs and NUL': '\t\0name: x'}, 14)
    for (const v of cases) {
      const dir = home()
      const file = path.join(dir, 'playbook.yaml')
      fs.writeFileSync(file, v.content)
      const before = snapshot(dir)
      const lint = await cutover(['playbook', 'lint', file])
      expect(lint.exitCode, `${v.name}: ${lint.stdout}${lint.stderr}`).to.equal(2)
      expect(flat(lint.stdout + lint.stderr), v.name).to.contain(file)
      const validate = await cutover(['phase', 'validate', '--playbook', file, '--home', dir, '--json'])
      expect(validate.exitCode, v.name).to.equal(2)
      expect(flat(validate.stdout + validate.stderr), v.name).to.contain('playbook.yaml')
      expect(unchanged(before, snapshot(dir)), v.name).to.deep.equal([])
    }
    results.malformedFiles.push({file: 'playbook (YAML)', variants: cases.length, clearError: true, untouched: true})
  })

  it('target file: exit 2 naming the file and what is wrong; the file is untouched', async () => {
    const cases = variants({'malformed YAML': 'name: x\nhome: [\n', 'unknown key': 'name: x\nhome: /tmp\nccoo: [cco]\n', 'wrong type': 'name: x\nhome: 5\ncco: cco\n', 'build without repo': 'name: x\nhome: /tmp\nbuild: [make]\n', empty: ''}, 15)
    for (const v of cases) {
      const dir = home()
      const file = path.join(dir, 'target.yaml')
      fs.writeFileSync(file, v.content)
      const before = snapshot(dir)
      const run = await cutover(['phase', 'validate', '--phase', '1', '--check', 'daemon.running', '--target', file, '--json'])
      expect(run.exitCode, `${v.name}: ${run.stdout}${run.stderr}`).to.equal(2)
      expect(flat(run.stdout + run.stderr), v.name).to.contain(file)
      expect(unchanged(before, snapshot(dir)), v.name).to.deep.equal([])
    }
    results.malformedFiles.push({file: 'target file (YAML)', variants: cases.length, clearError: true, untouched: true})
  })

  it('state database: not SQLite, truncated, corrupt pages, a foreign schema: exit 2 naming state.db, never overwritten', async () => {
    const real = home()
    // A real state database, to truncate.
    expect((await cutover(['incident', 'add', '--severity', 'minor', '--title', 'seed', '--home', real])).exitCode).to.equal(0)
    const realDb = fs.readFileSync(path.join(real, 'cutover', 'state.db'))
    const other = path.join(real, 'other.db')
    const db = new Database(other)
    db.exec('CREATE TABLE journal (x TEXT); INSERT INTO journal VALUES (1)')
    db.close()
    const cases = variants({'not SQLite': 'garbage', truncated: realDb.subarray(0, 1000), 'SQLite header, garbage after': Buffer.concat([realDb.subarray(0, 100), Buffer.alloc(4096, 0xab)]), 'another schema': fs.readFileSync(other)}, 16)
    for (const v of cases) {
      const h = home()
      const file = path.join(h, 'cutover', 'state.db')
      fs.mkdirSync(path.dirname(file), {recursive: true})
      fs.writeFileSync(file, v.content)
      const before = snapshot(h)
      for (const args of [['phase', 'status'], ['incident', 'add', '--severity', 'minor', '--title', 't'], ['audit', 'verify']]) {
        const run = await cutover([...args, '--home', h])
        expect(run.exitCode, `${v.name}: ${args.join(' ')}: ${run.stdout}${run.stderr}`).to.equal(2)
        expect(flat(run.stdout + run.stderr), `${v.name}: ${args.join(' ')}`).to.contain(file)
      }
      expect(unchanged(before, snapshot(h)), v.name).to.deep.equal([])
    }
    results.malformedFiles.push({file: 'cutover/state.db', variants: cases.length, clearError: true, untouched: true})
  })
})
