/**
 * The plan's Appendix B scripts, run as real processes through zx (`zx <script>`), the way an
 * operator or a playbook `script` step runs them.
 */
import {expect} from 'chai'
import {execa} from 'execa'
import fs from 'node:fs'
import path from 'node:path'

import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

const ROOT = path.resolve('.')
const ZX = path.join(ROOT, 'node_modules', '.bin', 'zx')
const TEST_GATEWAY = path.join(ROOT, 'playbooks', 'scripts', 'test-gateway.mjs')
const VALIDATE_ROLLBACK = path.join(ROOT, 'playbooks', 'scripts', 'validate-rollback.mjs')
const GIT_ENV = {GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid'}

function runScript(script: string, args: string[], env: Record<string, string>, cwd = ROOT) {
  return execa(ZX, [script, ...args], {cwd, env: {...process.env, ...env}, reject: false, timeout: 120_000, stdin: 'ignore'})
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await execa('git', args, {cwd, env: {...process.env, ...GIT_ENV}})).stdout
}

interface RollbackReport {
  ok: boolean
  head: string
  stable_commit: string | null
  worktree: string | null
  worktree_removed: boolean
  working_tree_untouched: boolean | null
  error?: string
  build?: {exit_code: number}
  test?: {exit_code: number}
}

describe('playbook scripts (zx)', () => {
  afterEach(() => cleanupTempDirs())

  describe('test-gateway.mjs', () => {
    it('a missing daemon home fails clearly with exit 2', async () => {
      const home = path.join(makeTempDir(), 'no-such-home')
      const r = await runScript(TEST_GATEWAY, [], {CCO_HOME: home})
      expect(r.exitCode).to.equal(2)
      expect(r.stdout).to.contain(`❌ daemon home ${home} does not exist (CCO_HOME)`)
    })

    it('no PID file: polls until READY_TIMEOUT, then names the file (--json document)', async () => {
      const home = makeTempDir()
      const r = await runScript(TEST_GATEWAY, ['--no-restart', '--json'], {CCO_HOME: home, READY_TIMEOUT: '600ms'})
      expect(r.exitCode).to.equal(1)
      const doc = JSON.parse(r.stdout) as {ok: boolean; error: string; restarted: boolean}
      expect(doc.ok).to.equal(false)
      expect(doc.restarted).to.equal(false)
      expect(doc.error).to.equal(`PID file not found: ${path.join(home, 'daemon.pid')} (waited 600ms)`)
    })

    it('a PID file without gateway_port: says so', async () => {
      const home = makeTempDir()
      fs.writeFileSync(path.join(home, 'daemon.pid'), JSON.stringify({pid: process.pid, started_at: new Date().toISOString(), port: 1, gateway_port: null, version: 'x'}))
      const r = await runScript(TEST_GATEWAY, ['--no-restart'], {CCO_HOME: home, READY_TIMEOUT: '300ms'})
      expect(r.exitCode).to.equal(1)
      expect(r.stdout).to.match(/❌ Gateway port not found in PID file .*daemon\.pid \(gateway_port is null\)/)
    })

    it('a failing restart command: exit 1 with its output', async () => {
      const home = makeTempDir()
      const r = await runScript(TEST_GATEWAY, [], {CCO_HOME: home, CCO_BIN: `${process.execPath} -e "console.error('no daemon here'); process.exit(7)"`})
      expect(r.exitCode).to.equal(1)
      expect(r.stdout).to.contain('❌ cco daemon restart failed (exit 7):\nno daemon here')
    })

    it('against the reference daemon: restarts it, finds the port, checks health and reports each step', async function () {
      if (!fs.existsSync(path.join(ROOT, 'gateway', 'dist', 'cli.js'))) this.skip() // the reference daemon is built by `npm run build`
      const home = makeTempDir()
      try {
        const r = await runScript(TEST_GATEWAY, ['--json'], {CCO_HOME: home})
        const doc = JSON.parse(r.stdout) as {ok: boolean; gateway_port: number; health: string; steps: Array<{step: string; ok: boolean; detail: string}>}
        expect(doc.steps.slice(0, 3).map((s) => [s.step, s.ok])).to.deep.equal([
          ['restart', true],
          ['port', true],
          ['health', true],
        ])
        const pid = JSON.parse(fs.readFileSync(path.join(home, 'daemon.pid'), 'utf8')) as {gateway_port: number}
        expect(doc.gateway_port).to.equal(pid.gateway_port)
        expect(doc.health).to.equal('healthy')
        // Metrics and providers pass once the gateway serves them; a failure must say which step and exit 1.
        const failed = doc.steps.find((s) => !s.ok)
        expect(r.exitCode).to.equal(failed ? 1 : 0)
        expect(doc.ok).to.equal(failed === undefined)
      } finally {
        await execa(process.execPath, [path.join(ROOT, 'bin', 'cco'), 'daemon', 'stop'], {env: {...process.env, CCO_HOME: home}, reject: false, timeout: 60_000})
      }
    })
  })

  describe('validate-rollback.mjs', () => {
    let repo: string
    let stable: string
    beforeEach(async () => {
      repo = makeTempDir('cutover-rehearsal-repo-')
      await git(repo, 'init', '-q', '-b', 'main')
      fs.writeFileSync(path.join(repo, 'stable.txt'), 'v1\n')
      await git(repo, 'add', '.')
      await git(repo, 'commit', '-q', '-m', 'feat: add unified LLM Gateway (#42)')
      stable = await git(repo, 'rev-parse', 'HEAD')
      fs.writeFileSync(path.join(repo, 'later.txt'), 'v2\n')
      fs.writeFileSync(path.join(repo, 'stable.txt'), 'v2\n')
      await git(repo, 'add', '.')
      await git(repo, 'commit', '-q', '-m', 'feat: phase 2 changes')
      // Uncommitted work that an in-place checkout would endanger.
      fs.writeFileSync(path.join(repo, 'stable.txt'), 'local edit\n')
      fs.writeFileSync(path.join(repo, 'untracked.txt'), 'scratch\n')
    })

    async function state() {
      return {
        status: await git(repo, 'status', '--porcelain=v1', '--untracked-files=all'),
        head: await git(repo, 'rev-parse', 'HEAD'),
        worktrees: (await git(repo, 'worktree', 'list', '--porcelain')).split('\n').filter((l) => l.startsWith('worktree ')),
        stableFile: fs.readFileSync(path.join(repo, 'stable.txt'), 'utf8'),
      }
    }

    it('builds and tests the marker commit in a temporary worktree; the working tree is untouched', async () => {
      const before = await state()
      expect(before.status).to.contain(' M stable.txt')
      // The build proves it runs on the stable commit: later.txt does not exist there, stable.txt is v1.
      const r = await runScript(VALIDATE_ROLLBACK, ['--json'], {REPO: repo, BUILD_CMD: 'test ! -e later.txt && grep -qx v1 stable.txt', TEST_CMD: 'true'})
      expect(r.exitCode, r.stderr).to.equal(0)
      const doc = JSON.parse(r.stdout) as RollbackReport
      expect(doc).to.deep.include({ok: true, stable_commit: stable, head: before.head, worktree_removed: true, working_tree_untouched: true})
      expect(doc.build?.exit_code).to.equal(0)
      expect(doc.test?.exit_code).to.equal(0)
      expect(await state()).to.deep.equal(before)
      expect(fs.existsSync(doc.worktree as string)).to.equal(false)
      expect(fs.existsSync(path.dirname(doc.worktree as string))).to.equal(false)
    })

    it('a failing test command: exit 1 with the output tail; worktree removed, working tree untouched', async () => {
      const before = await state()
      const r = await runScript(VALIDATE_ROLLBACK, ['--json'], {REPO: repo, BUILD_CMD: 'true', TEST_CMD: 'echo "2 tests failed"; exit 3'})
      expect(r.exitCode).to.equal(1)
      const doc = JSON.parse(r.stdout) as RollbackReport
      expect(doc.ok).to.equal(false)
      expect(doc.error).to.equal('test of the last stable commit failed (exit 3): echo "2 tests failed"; exit 3\n2 tests failed')
      expect(doc.worktree_removed).to.equal(true)
      expect(await state()).to.deep.equal(before)
    })

    it('no commit carries the marker: exit 1 naming the marker', async () => {
      const r = await runScript(VALIDATE_ROLLBACK, [], {REPO: repo, STABLE_MARKER: 'feat: something else', BUILD_CMD: 'true', TEST_CMD: 'true'})
      expect(r.exitCode).to.equal(1)
      expect(r.stdout).to.contain(`❌ Could not find last stable commit: no commit message in ${fs.realpathSync(repo)} contains "feat: something else"`)
    })

    it('not a git repository: exit 2', async () => {
      const dir = makeTempDir()
      const r = await runScript(VALIDATE_ROLLBACK, ['--repo', dir], {BUILD_CMD: 'true', TEST_CMD: 'true'})
      expect(r.exitCode).to.equal(2)
      expect(r.stdout).to.contain(`❌ ${dir} is not a git repository`)
    })
  })
})
