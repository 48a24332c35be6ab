#!/usr/bin/env zx
// validate-rollback.mjs - Ensure rollback capability works.
// The plan's Appendix B validate-rollback.sh, made safe: instead of `git checkout` in the working
// tree (which loses uncommitted work and leaves the repo detached if the build fails), the last
// stable commit is built and tested in a TEMPORARY git worktree that is always removed. The working
// tree, its index and HEAD are never touched; that is verified at the end.
//
//   npx zx playbooks/scripts/validate-rollback.mjs [--repo DIR] [--marker TEXT] [--json]
//
// Environment (flags win):
//   REPO           the git repository (default: the current directory)
//   STABLE_MARKER  text of the commit message marking the last stable commit
//                  (default "feat: add unified LLM Gateway"; matched as a fixed string)
//   BUILD_CMD      build command, run by bash in the worktree (default "npm run build")
//   TEST_CMD       test command, run by bash in the worktree (default "npm test")
//   STEP_TIMEOUT   limit for each of build and test (default 10m)
//   NODE_MODULES   node_modules directory to link into the worktree (default: <repo>/node_modules
//                  when it exists; "none" to link nothing)
// Exit: 0 rollback validated, 1 validation failed, 2 bad input (not a git repository, ...).
import {$, argv, fs, os, path} from 'zx'

const started = Date.now()
const json = Boolean(argv.json)
const repoArg = argv.repo ?? process.env.REPO ?? argv._[0] ?? process.cwd()
const marker = argv.marker ?? process.env.STABLE_MARKER ?? 'feat: add unified LLM Gateway'
const buildCmd = argv.build ?? process.env.BUILD_CMD ?? 'npm run build'
const testCmd = argv.test ?? process.env.TEST_CMD ?? 'npm test'
const stepTimeout = process.env.STEP_TIMEOUT ?? '10m'
const report = {ok: false, repo: path.resolve(String(repoArg)), marker, head: null, stable_commit: null, worktree: null, worktree_removed: false, working_tree_untouched: null, steps: []}

const say = (line) => (json ? process.stderr : process.stdout).write(`${line}\n`)
const git = (...args) => $({cwd: report.repo, quiet: true, nothrow: true, timeout: '60s'})`git ${args}`

let worktreeBase = null
let cleaning = null

/** Remove the temporary worktree (idempotent); never leaves a registered worktree behind. */
async function cleanup() {
  if (!worktreeBase) return
  cleaning ??= (async () => {
    const wt = path.join(worktreeBase, 'worktree')
    const removed = await git('worktree', 'remove', '--force', wt)
    await fs.rm(worktreeBase, {recursive: true, force: true})
    await git('worktree', 'prune')
    const list = await git('worktree', 'list', '--porcelain')
    report.worktree_removed = !list.stdout.split('\n').some((l) => l === `worktree ${wt}`) && !fs.existsSync(wt)
    if (removed.exitCode !== 0 && !report.worktree_removed) say(`⚠️  could not remove worktree ${wt}: ${removed.stderr.trim()}`)
  })()
  await cleaning
}

async function finish(ok, code, error) {
  await cleanup()
  report.ok = ok && (report.worktree === null || report.worktree_removed)
  report.duration_ms = Date.now() - started
  if (error) report.error = error
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  process.exit(report.ok || code !== 0 ? code : 1)
}

async function fail(step, message, code = 1) {
  report.steps.push({step, ok: false, detail: message})
  say(`❌ ${message}`)
  await finish(false, code, message)
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.once(signal, () => {
    say(`interrupted (${signal}); removing the temporary worktree...`)
    void finish(false, code, `interrupted by ${signal}`)
  })
}

/** Run a shell command in the worktree; returns {exitCode, ms, tail}. */
async function runIn(cwd, command) {
  const t0 = Date.now()
  const result = await $({cwd, quiet: true, nothrow: true, timeout: stepTimeout})`bash -c ${command}`
  const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n')
  return {exitCode: result.exitCode, signal: result.signal, ms: Date.now() - t0, tail}
}

say('🔄 Testing rollback capability...')

if (!fs.existsSync(report.repo)) await fail('repo', `repository ${report.repo} does not exist (set REPO or --repo)`, 2)
const top = await git('rev-parse', '--show-toplevel')
if (top.exitCode !== 0) await fail('repo', `${report.repo} is not a git repository (${top.stderr.trim()})`, 2)
report.repo = top.stdout.trim()

const statusBefore = (await git('status', '--porcelain=v1', '--untracked-files=all')).stdout
const head = await git('rev-parse', 'HEAD')
if (head.exitCode !== 0) await fail('head', `cannot read HEAD of ${report.repo} (is there any commit?): ${head.stderr.trim()}`, 2)
report.head = head.stdout.trim()
say(`Current commit: ${report.head}`)

const found = await git('log', '--fixed-strings', `--grep=${marker}`, '-1', '--format=%H')
report.stable_commit = found.stdout.trim() || null
if (!report.stable_commit) await fail('find-stable', `Could not find last stable commit: no commit message in ${report.repo} contains "${marker}" (set STABLE_MARKER or --marker)`)
say(`Last stable commit: ${report.stable_commit}`)
report.steps.push({step: 'find-stable', ok: true, detail: report.stable_commit})

worktreeBase = await fs.mkdtemp(path.join(os.tmpdir(), 'cutover-rehearsal-'))
const wt = path.join(worktreeBase, 'worktree')
const added = await git('worktree', 'add', '--detach', wt, report.stable_commit)
if (added.exitCode !== 0) await fail('worktree', `cannot create a temporary worktree at ${wt}: ${added.stderr.trim()}`)
report.worktree = wt
say(`Rolled back in a temporary worktree: ${wt}`)
report.steps.push({step: 'worktree', ok: true, detail: wt})

// Builds need dependencies; a fresh worktree has none, so reuse the repository's (offline).
const nodeModules = process.env.NODE_MODULES ?? path.join(report.repo, 'node_modules')
if (nodeModules !== 'none' && fs.existsSync(nodeModules) && !fs.existsSync(path.join(wt, 'node_modules'))) {
  await fs.symlink(path.resolve(nodeModules), path.join(wt, 'node_modules'), 'dir')
}

for (const [step, command] of [['build', buildCmd], ['test', testCmd]]) {
  say(`${step === 'build' ? 'Building' : 'Testing'}... (${command})`)
  const r = await runIn(wt, command)
  report[step] = {command, exit_code: r.exitCode, duration_ms: r.ms}
  if (r.exitCode !== 0) {
    const why = r.exitCode === null ? `stopped by ${r.signal} (timeout ${stepTimeout}?)` : `exit ${r.exitCode}`
    await fail(step, `${step} of the last stable commit failed (${why}): ${command}\n${r.tail}`)
  }
  report.steps.push({step, ok: true, detail: `${command} (${r.ms} ms)`})
  say(`✅ ${step} passed (${r.ms} ms)`)
}

await cleanup()
const statusAfter = (await git('status', '--porcelain=v1', '--untracked-files=all')).stdout
const headAfter = (await git('rev-parse', 'HEAD')).stdout.trim()
report.working_tree_untouched = statusAfter === statusBefore && headAfter === report.head
if (!report.working_tree_untouched) await fail('verify', `the working tree of ${report.repo} changed during the rehearsal (HEAD ${report.head} -> ${headAfter}); inspect git status`)
if (!report.worktree_removed) await fail('cleanup', `the temporary worktree ${wt} could not be removed; run: git -C ${report.repo} worktree remove --force ${wt}`)

say('✅ Rollback capability validated (working tree untouched, temporary worktree removed)')
await finish(true, 0)
