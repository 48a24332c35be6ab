/**
 * The repo.* checks against fixture repositories copied to a temp directory and `git init`-ed,
 * with the target's build and test commands pointed at each fixture's scripts.
 */
import {expect} from 'chai'
import {execa} from 'execa'
import fs from 'node:fs'
import path from 'node:path'

import {globToRegExp, searchRepo} from '../../../src/checks/repo/search.js'
import {bundledTargetSpec} from '../../../src/lib/target/spec.js'
import {Target} from '../../../src/lib/target/target.js'
import {REPO_ROOT} from '../../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'
import {runCheck, show} from '../../helpers/checks.js'

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'repos')
const GIT_ENV = {GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid'}

async function fixtureRepo(name: string): Promise<string> {
  const dir = path.join(makeTempDir(`cutover-repo-${name}-`), name)
  fs.cpSync(path.join(FIXTURES, name), dir, {recursive: true})
  await execa('git', ['init', '-q'], {cwd: dir})
  await execa('git', ['add', '-A'], {cwd: dir})
  await execa('git', ['commit', '-q', '-m', 'fixture'], {cwd: dir, env: {...process.env, ...GIT_ENV}})
  return dir
}

function targetFor(repo: string): Target {
  return new Target({...bundledTargetSpec(makeTempDir('cutover-repo-home-')), repo, build: [process.execPath, 'build.mjs'], test: [process.execPath, 'test.mjs']})
}

const run = (id: string, params: Record<string, unknown>, target: Target) => runCheck(id, params, {target, state: null, phase: 3})

describe('repo checks on fixture repositories', function () {
  this.timeout(60_000)
  afterEach(() => cleanupTempDirs())

  describe('repo.no_proxy_references', () => {
    it('passes on a clean repo; .gitignore-d build output and the ignored plan are skipped', async () => {
      const repo = await fixtureRepo('clean')
      fs.mkdirSync(path.join(repo, 'dist'))
      fs.writeFileSync(path.join(repo, 'dist', 'leftover.js'), 'export const proxy_port = 0\n')
      const r = await run('repo.no_proxy_references', {patterns: ['proxy_port', 'proxyPort'], ignore: ['GATEWAY_CUTOVER_PLAN.md']}, targetFor(repo))
      expect(r.outcome, show(r)).to.equal('pass')
      expect(r.evidence.files_searched).to.be.greaterThan(2)
    })

    it('finds the plan document unless it is ignored', async () => {
      const repo = await fixtureRepo('clean')
      const r = await run('repo.no_proxy_references', {patterns: ['proxy_port']}, targetFor(repo))
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.evidence.matches).to.deep.equal(['docs/GATEWAY_CUTOVER_PLAN.md:3: Phase 3 removes the HTTP proxy and proxy_port from the PID file.'])
    })

    it('fails on proxy_port left in the source, naming file:line, with a remediation', async () => {
      const repo = await fixtureRepo('leftovers')
      const r = await run('repo.no_proxy_references', {patterns: ['proxy_port', 'proxyPort'], paths: ['src'], ignore: ['GATEWAY_CUTOVER_PLAN.md']}, targetFor(repo))
      expect(r.outcome, show(r)).to.equal('fail')
      expect(r.evidence.matches).to.deep.equal(['src/daemon/lifecycle.rs:4: pub proxy_port: Option<u16>,', 'src/daemon/lifecycle.rs:7: pub fn read_proxy_port() -> Option<u16> {'])
      expect(r.remediation).to.contain('src/daemon/lifecycle.rs')
    })

    it('regex patterns find dead proxy code and broken imports (the seed playbook params)', async () => {
      const repo = await fixtureRepo('leftovers')
      const params = {patterns: ['(from|import\\()\\s*[\'"][./]*proxy/', 'read_?proxy_?port'], regex: true, case_insensitive: true, paths: ['src']}
      const r = await run('repo.no_proxy_references', params, targetFor(repo))
      expect(r.outcome, show(r)).to.equal('fail')
      expect((r.evidence.matches as string[]).map((m) => m.split(':')[0])).to.have.members(['src/daemon/lifecycle.rs', 'src/daemon/modules.ts.txt'])
    })

    it('errors when there is nothing to search, or no repo', async () => {
      const repo = await fixtureRepo('clean')
      const missing = await run('repo.no_proxy_references', {paths: ['no-such-dir']}, targetFor(repo))
      expect(missing.outcome, show(missing)).to.equal('error')
      const noRepo = await run('repo.no_proxy_references', {}, new Target({...bundledTargetSpec(makeTempDir()), repo: null}))
      expect(noRepo.outcome, show(noRepo)).to.equal('error')
      expect(noRepo.remediation).to.contain('repo')
    })
  })

  describe('repo.docs_no_proxy', () => {
    it('passes when the docs are updated (the plan itself ignored)', async () => {
      const repo = await fixtureRepo('clean')
      const r = await run('repo.docs_no_proxy', {ignore: ['GATEWAY_CUTOVER_PLAN.md']}, targetFor(repo))
      expect(r.outcome, show(r)).to.equal('pass')
    })

    it('fails on proxy references in README and docs (case-insensitive, like rg -i)', async () => {
      const repo = await fixtureRepo('leftovers')
      const r = await run('repo.docs_no_proxy', {paths: ['README.md', 'docs', 'CLAUDE.md'], ignore: ['GATEWAY_CUTOVER_PLAN.md']}, targetFor(repo))
      expect(r.outcome, show(r)).to.equal('fail')
      expect((r.evidence.matches as string[]).map((m) => m.split(':')[0])).to.have.members(['README.md', 'docs/DEPLOYMENT.md'])
      expect(r.remediation).to.match(/documentation/i)
    })

    it('is inconclusive when there is no documentation at all', async () => {
      const repo = await fixtureRepo('broken')
      const r = await run('repo.docs_no_proxy', {}, targetFor(repo))
      expect(r.outcome, show(r)).to.equal('inconclusive')
    })
  })

  describe('repo.builds and repo.tests_pass', () => {
    it('pass when the build and the tests succeed', async () => {
      const target = targetFor(await fixtureRepo('clean'))
      const build = await run('repo.builds', {}, target)
      expect(build.outcome, show(build)).to.equal('pass')
      const tests = await run('repo.tests_pass', {}, target)
      expect(tests.outcome, show(tests)).to.equal('pass')
      expect(tests.evidence.output_tail).to.deep.equal(['test result: ok. 3 passed; 0 failed'])
    })

    it('fail with the exit code and the output tail when the build or the tests fail', async () => {
      const target = targetFor(await fixtureRepo('broken'))
      const build = await run('repo.builds', {}, target)
      expect(build.outcome, show(build)).to.equal('fail')
      expect(build.measured).to.equal('exit 101')
      expect(build.detail).to.contain('cannot find value `proxy_port`')
      expect(build.remediation).to.match(/compile errors/)
      const tests = await run('repo.tests_pass', {}, target)
      expect(tests.outcome, show(tests)).to.equal('fail')
      expect(tests.evidence.output_tail).to.include('test result: FAILED. 2 passed; 1 failed')
      expect(tests.remediation).to.match(/failing tests/)
    })

    it('error when the target has no build command', async () => {
      const repo = await fixtureRepo('clean')
      const r = await run('repo.builds', {}, new Target({...bundledTargetSpec(makeTempDir()), repo, build: null}))
      expect(r.outcome, show(r)).to.equal('error')
    })
  })

  describe('search helpers', () => {
    it('globToRegExp follows gitignore rules for names, anchors and **', () => {
      const m = (glob: string, p: string) => globToRegExp(glob).re.test(p)
      expect(m('GATEWAY_CUTOVER_PLAN.md', 'docs/GATEWAY_CUTOVER_PLAN.md')).to.equal(true)
      expect(m('*.md', 'a/b/c.md')).to.equal(true)
      expect(m('/dist', 'dist/x.js')).to.equal(true)
      expect(m('/dist', 'src/dist/x.js')).to.equal(false)
      expect(m('docs/**/old.md', 'docs/a/b/old.md')).to.equal(true)
      expect(m('docs/*.md', 'docs/a/old.md')).to.equal(false)
    })

    it('searchRepo skips binary files and counts matches beyond max_matches', () => {
      const dir = makeTempDir()
      fs.writeFileSync(path.join(dir, 'bin.dat'), Buffer.from([0x70, 0x72, 0x6f, 0x78, 0x79, 0, 1, 2]))
      fs.writeFileSync(path.join(dir, 'a.txt'), 'proxy\nproxy\nproxy\n')
      const r = searchRepo({root: dir, paths: ['.'], patterns: ['proxy'], regex: false, caseInsensitive: false, ignore: [], respectGitignore: true, maxMatches: 2})
      expect(r.total).to.equal(3)
      expect(r.matches).to.have.length(2)
      expect(r.skipped.binary).to.equal(1)
    })
  })
})
