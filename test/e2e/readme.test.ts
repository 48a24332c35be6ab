import {Config} from '@oclif/core'
import {expect} from 'chai'
import {execa} from 'execa'
import fs from 'node:fs'
import path from 'node:path'

import {REPO_ROOT} from '../helpers/fixtures.js'

const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')

/** Fenced code blocks of the README with their info string. */
function codeBlocks(): {lang: string; body: string; heading: string}[] {
  const blocks: {lang: string; body: string; heading: string}[] = []
  let heading = ''
  let current: {lang: string; lines: string[]} | null = null
  for (const line of README.split('\n')) {
    if (!current && line.startsWith('## ')) heading = line.slice(3).trim()
    const fence = /^```(\S*)/.exec(line)
    if (fence && !current) current = {lang: fence[1] ?? '', lines: []}
    else if (line.startsWith('```') && current) {
      blocks.push({lang: current.lang, body: current.lines.join('\n'), heading})
      current = null
    } else if (current) current.lines.push(line)
  }
  return blocks
}

/** Every `cutover ...` / `bin/cutover ...` invocation in a shell-like block, split into words. */
function cutoverInvocations(): string[][] {
  const found: string[][] = []
  for (const block of codeBlocks()) {
    if (!['sh', 'text', 'yaml', ''].includes(block.lang)) continue
    for (const raw of block.body.split('\n')) {
      // Only lines where cutover is the command (a shell line, a `$ ` usage line or a CI `run:` step).
      const line = raw.replace(/\s#.*$/, '').replace(/^\s*-?\s*run:\s*/, '').replace(/^\s*\$\s+/, '')
      const match = /^\s*(?:bin\/)?cutover\s+([^|>&;]*)/.exec(line)
      if (match) found.push(match[1]!.trim().split(/\s+/).filter(Boolean))
    }
  }
  return found
}

describe('README', function () {
  this.timeout(180_000)

  it('names only commands and flags that exist (every cutover line of every block)', async () => {
    const config = await Config.load({root: REPO_ROOT})
    const invocations = cutoverInvocations()
    expect(invocations.length).to.be.greaterThan(15)
    for (const words of invocations) {
      const idWords: string[] = []
      for (const w of words) {
        if (w.startsWith('-')) break
        const candidate = [...idWords, w].join(':')
        if (config.findCommand(candidate) || config.topics.some((t) => t.name === candidate)) idWords.push(w)
        else break
      }
      const id = idWords.join(':')
      const command = config.findCommand(id)
      expect(command, `README runs "cutover ${words.join(' ')}" but there is no command "${id}"`).to.not.equal(undefined)
      const loaded = await command!.load()
      const flags = {...loaded.baseFlags, ...loaded.flags, json: {}}
      for (const w of words.slice(idWords.length)) {
        const flag = /^--([a-z][\w-]*)/.exec(w)?.[1]
        if (flag) expect(Object.keys(flags), `"cutover ${words.join(' ')}": unknown flag --${flag}`).to.include(flag)
      }
    }
  })

  it('runs the tour block verbatim against the bundled daemon and the mock provider', async function () {
    if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'commands', 'daemon', 'start.js'))) this.skip()
    const tour = codeBlocks().find((b) => b.lang === 'sh' && b.heading.startsWith('A tour'))
    expect(tour, 'the README has a "## A tour ..." section with a sh block').to.not.equal(undefined)
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !['CCO_HOME', 'NODE_ENV', 'CUTOVER_STATE', 'CUTOVER_TARGET'].includes(key)) env[key] = value
    // The tour's own `kill %1` stops the mock; the trap also covers a failing line.
    const script = `set -e\ntrap 'kill %1 2>/dev/null || true; [ -n "$CCO_HOME" ] && bin/cco daemon stop >/dev/null 2>&1 || true' EXIT\n${tour!.body}\necho "TOUR HOME $CCO_HOME"\n`
    const result = await execa('bash', ['-c', script], {cwd: REPO_ROOT, env, extendEnv: false, reject: false, all: true, timeout: 150_000})
    expect(result.exitCode, result.all).to.equal(0)
    expect(result.all).to.match(/PASS: every required check passed/)
    expect(result.all).to.match(/flag rollback done: recovered in [\d.]+ (ms|s) \(objective 30(\.00)? s: met\)/)
    expect(result.all).to.match(/audit trail intact/)
    const home = /TOUR HOME (\S+)/.exec(result.all)![1]!
    const junit = fs.readFileSync(path.join(home, 'phase1.xml'), 'utf8')
    expect(junit).to.match(/<testsuites name="cutover" tests="\d+" failures="\d+" errors="0"/)
    expect(fs.readFileSync(path.join(home, 'report.md'), 'utf8')).to.match(/\| *KPI *\|/i)
    fs.rmSync(home, {recursive: true, force: true})
  })
})
