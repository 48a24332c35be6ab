/**
 * A sandbox target repository: a git repo holding a copy of the reference daemon's package
 * (gateway/), with a history whose last commit is "feat: add unified LLM Gateway" (the plan's
 * stable-commit marker). Dependencies are not copied: node_modules is a symlink to this
 * project's installed ones, so the sandbox builds and tests offline. Phase 3 and the rollback
 * rehearsal change this copy, never the project's own gateway/.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {simpleGit} from 'simple-git'

import {CutoverError, ExitCode} from '../errors.js'
import {DEFAULT_STABLE_COMMIT_MARKER, packageRoot} from '../target/spec.js'

export interface SandboxOptions {
  /** Parent directory for the sandbox (default: the OS temp directory). */
  parent?: string
  /** The package to copy (default: <cutover>/gateway). */
  source?: string
  /** node_modules to link (default: <cutover>/node_modules). */
  nodeModules?: string
  /** Build the copy (tsc) so its bin/cco runs (default true). */
  build?: boolean
}

export interface Sandbox {
  /** The sandbox directory (holds the repo; remove() deletes it). */
  root: string
  /** The git repository (the copy of gateway/). */
  repo: string
  /** argv of the sandbox's cco: [node, <repo>/bin/cco]. */
  cco: string[]
  /** The commit "feat: add unified LLM Gateway". */
  stableCommit: string
  buildMs: number | null
  remove(): void
}

export interface SandboxTargetOptions {
  home: string
  /** Target file path (default: <root>/target.yaml). */
  file?: string
  name?: string
  /** argv of the build (default: npx tsc -p .). */
  build?: string[]
  /** argv of the tests (default: npx mocha, the package's whole suite). */
  test?: string[]
  timeouts?: Record<string, string>
}

const IGNORED = new Set(['node_modules', 'dist', '.git'])

async function runBuild(repo: string): Promise<number> {
  const {execa} = await import('execa')
  const started = performance.now()
  const result = await execa('npx', ['tsc', '-p', '.'], {cwd: repo, reject: false, stdin: 'ignore', timeout: 300_000})
  if (result.exitCode !== 0) {
    throw new CutoverError(`the sandbox build failed (npx tsc -p . in ${repo}): ${String(result.stdout || result.stderr).split('\n').slice(-10).join('\n')}`, {code: 'SANDBOX_BUILD_FAILED', exit: ExitCode.Fail})
  }
  return Math.round(performance.now() - started)
}

export async function createSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const source = opts.source ?? path.join(packageRoot(), 'gateway')
  const nodeModules = opts.nodeModules ?? path.join(packageRoot(), 'node_modules')
  if (!fs.existsSync(path.join(source, 'package.json'))) throw new CutoverError(`cannot create a sandbox: ${source} is not a package (no package.json)`, {code: 'SANDBOX_SOURCE', exit: ExitCode.Usage})
  const root = fs.mkdtempSync(path.join(opts.parent ?? os.tmpdir(), 'cutover-sandbox-'))
  const repo = path.join(root, 'cco')
  const remove = () => fs.rmSync(root, {recursive: true, force: true})
  try {
    fs.mkdirSync(repo)
    const git = simpleGit({baseDir: repo})
    await git.raw(['init', '-q', '-b', 'main'])
    await git.raw(['config', 'user.name', 'cutover sandbox'])
    await git.raw(['config', 'user.email', 'sandbox@cutover.invalid'])
    await git.raw(['config', 'commit.gpgsign', 'false'])
    fs.writeFileSync(path.join(repo, '.gitignore'), 'node_modules\ndist\n')
    fs.writeFileSync(path.join(repo, 'README.md'), '# cco\n\nThe cco daemon (a cutover sandbox copy of the reference daemon).\n')
    await git.raw(['add', '.gitignore', 'README.md'])
    await git.raw(['commit', '-q', '-m', 'chore: start the cco daemon repository'])
    fs.cpSync(source, repo, {recursive: true, filter: (src) => !IGNORED.has(path.basename(src)) || path.dirname(src) !== source})
    await git.raw(['add', '-A'])
    await git.raw(['commit', '-q', '-m', `${DEFAULT_STABLE_COMMIT_MARKER} (LLM Gateway with the legacy proxy kept as fallback)`])
    const stableCommit = (await git.revparse(['HEAD'])).trim()
    fs.symlinkSync(nodeModules, path.join(repo, 'node_modules'), 'dir')
    const buildMs = opts.build === false ? null : await runBuild(repo)
    return {root, repo, cco: [process.execPath, path.join(repo, 'bin', 'cco')], stableCommit, buildMs, remove}
  } catch (error) {
    remove()
    throw error
  }
}

/** Write a target file (YAML) for the sandbox: its cco, its repo, build and test commands. */
export function writeSandboxTarget(sandbox: Sandbox, opts: SandboxTargetOptions): string {
  const file = opts.file ?? path.join(sandbox.root, 'target.yaml')
  const list = (argv: string[]) => `[${argv.map((a) => JSON.stringify(a)).join(', ')}]`
  const lines = [
    `name: ${opts.name ?? 'sandbox'}`,
    `home: ${JSON.stringify(opts.home)}`,
    `cco: ${list(sandbox.cco)}`,
    `repo: ${JSON.stringify(sandbox.repo)}`,
    `build: ${list(opts.build ?? ['npx', 'tsc', '-p', '.'])}`,
    `test: ${list(opts.test ?? ['npx', 'mocha'])}`,
    `stable_commit_marker: ${JSON.stringify(DEFAULT_STABLE_COMMIT_MARKER)}`,
  ]
  if (opts.timeouts && Object.keys(opts.timeouts).length > 0) {
    lines.push('timeouts:', ...Object.entries(opts.timeouts).map(([k, v]) => `  ${k}: ${v}`))
  }
  fs.writeFileSync(file, lines.join('\n') + '\n')
  return file
}
