import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'
import {simpleGit} from 'simple-git'

import {findStableCommit, globToRegExp, listFiles, matchGlobs, matchingLines, openRepo, restorePaths, trackedChanges} from '../../../src/lib/apply/git.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

/** A real git repo in a temp dir: a subdirectory `pkg/` is the "target repo" (like gateway/ in this project). */
export async function tempRepo(): Promise<{top: string; pkg: string}> {
  const top = makeTempDir('cutover-git-')
  const pkg = path.join(top, 'pkg')
  fs.mkdirSync(path.join(pkg, 'src', 'proxy'), {recursive: true})
  fs.writeFileSync(path.join(pkg, 'src', 'proxy', 'index.ts'), 'export const proxy = 1\n')
  fs.writeFileSync(path.join(pkg, 'src', 'modules.ts'), "const a = 1\nconst loaders = [() => import('./proxy/index.js')] // LEGACY\nexport {a}\n")
  const git = simpleGit({baseDir: top})
  await git.raw(['init', '-q', '-b', 'main'])
  await git.raw(['config', 'user.name', 't'])
  await git.raw(['config', 'user.email', 't@t.invalid'])
  await git.raw(['add', '-A'])
  await git.raw(['commit', '-q', '-m', 'feat: add unified LLM Gateway'])
  return {top, pkg}
}

describe('apply/git', () => {
  afterEach(() => cleanupTempDirs())

  it('globToRegExp: *, **, ?, trailing slash', () => {
    expect(globToRegExp('src/**/*.ts').test('src/a.ts')).to.equal(true)
    expect(globToRegExp('src/**/*.ts').test('src/x/y/a.ts')).to.equal(true)
    expect(globToRegExp('src/**/*.ts').test('test/a.ts')).to.equal(false)
    expect(globToRegExp('src/*.ts').test('src/x/a.ts')).to.equal(false)
    expect(globToRegExp('src/proxy/').test('src/proxy/deep/file.ts')).to.equal(true)
    expect(globToRegExp('a?.md').test('ab.md')).to.equal(true)
    expect(globToRegExp('a.md').test('aXmd')).to.equal(false)
    expect(matchGlobs(['src/a.ts', 'README.md', 'src/b.js'], ['src/**/*.ts', '*.md'])).to.deep.equal(['src/a.ts', 'README.md'])
  })

  it('lists files relative to a target repo that is a subdirectory of the git top level, at HEAD and in the index', async () => {
    const {pkg} = await tempRepo()
    const repo = await openRepo(pkg)
    expect(await listFiles(repo)).to.deep.equal(['src/modules.ts', 'src/proxy/index.ts'])
    expect(await listFiles(repo, 'HEAD')).to.deep.equal(['src/modules.ts', 'src/proxy/index.ts'])
    const lines = await matchingLines(repo, ['src/**/*.ts'], String.raw`\bimport\(\s*['"](\.{1,2}/)+proxy/`)
    expect(lines).to.deep.equal([{file: 'src/modules.ts', line: 2, text: "const loaders = [() => import('./proxy/index.js')] // LEGACY"}])
  })

  it('at the top level too (the sandbox layout)', async () => {
    const {top} = await tempRepo()
    const repo = await openRepo(top)
    expect(await listFiles(repo)).to.deep.equal(['pkg/src/modules.ts', 'pkg/src/proxy/index.ts'])
  })

  it('finds the last stable commit by its marker, and restorePaths brings removed files back', async () => {
    const {pkg} = await tempRepo()
    const repo = await openRepo(pkg)
    const stable = await findStableCommit(repo, 'feat: add unified LLM Gateway')
    expect(stable?.subject).to.equal('feat: add unified LLM Gateway')
    expect(await findStableCommit(repo, 'no such marker')).to.equal(null)
    await repo.git.raw(['rm', '-r', '-q', '--', ':/pkg/src/proxy'])
    expect(await trackedChanges(repo)).to.have.length(1)
    await restorePaths(repo, stable!.sha, ['src/proxy/'])
    expect(fs.readFileSync(path.join(pkg, 'src', 'proxy', 'index.ts'), 'utf8')).to.equal('export const proxy = 1\n')
    expect(await trackedChanges(repo)).to.deep.equal([])
  })

  it('a directory that is not a git work tree is a clear usage error', async () => {
    const dir = makeTempDir('cutover-nogit-')
    try {
      await openRepo(dir)
      expect.fail('expected an error')
    } catch (error) {
      expect((error as Error).message).to.contain('is not a git work tree')
    }
  })
})
