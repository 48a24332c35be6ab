/** The target's source repository through simple-git: refs, cleanliness, files at a commit, globs. */
import fs from 'node:fs'
import path from 'node:path'
import {simpleGit, type SimpleGit} from 'simple-git'

import {ConfigError, CutoverError, ExitCode} from '../errors.js'
import {packageRoot} from '../target/spec.js'
import type {Target} from '../target/target.js'

export interface Repo {
  git: SimpleGit
  /** The directory the target's commands and the playbook's paths refer to. */
  dir: string
  /** The git work tree's top level (dir itself, or a parent). */
  top: string
}

/** Identity for commits made by cutover when the repository has none configured. */
const FALLBACK_IDENTITY = ['-c', 'user.name=cutover', '-c', 'user.email=cutover@localhost']

export async function openRepo(dir: string): Promise<Repo> {
  if (!fs.existsSync(dir)) throw new ConfigError(`the target repository ${dir} does not exist`, ['Set "repo" in the target file to the source checkout.'], 'REPO_MISSING')
  const git = simpleGit({baseDir: dir})
  let top: string
  try {
    top = (await git.revparse(['--show-toplevel'])).trim()
  } catch {
    throw new ConfigError(`the target repository ${dir} is not a git work tree`, ['Git steps and git rollbacks need the target\'s source as a git checkout ("repo" in the target file).'], 'REPO_NOT_GIT')
  }
  return {git, dir: fs.realpathSync(dir), top: fs.realpathSync(top)}
}

/** The target's repo, refusing the checkout cutover itself lives in (Phase 3 there would edit this project). */
export async function openTargetRepo(target: Target): Promise<Repo> {
  const dir = target.spec.repo
  if (!dir) throw new ConfigError(`target "${target.name}" has no source repository`, [`Add "repo", "build" and "test" to the target file (${target.spec.source}).`], 'TARGET_NO_REPO')
  const repo = await openRepo(dir)
  let own: string | null = null
  try {
    own = fs.realpathSync(packageRoot())
  } catch {
    own = null
  }
  if (own !== null && repo.top === own) {
    throw new ConfigError(
      `refusing to change the git checkout of cutover itself (${repo.top}): the bundled target's repo is this project's gateway/ directory`,
      ['Work on a sandbox copy: create one with the sandbox library (used by `cutover rehearse`) and pass its target file with --target.'],
      'REPO_IS_CUTOVER',
    )
  }
  return repo
}

export async function head(repo: Repo): Promise<string> {
  return (await repo.git.revparse(['HEAD'])).trim()
}

/** The current branch name, or null when HEAD is detached. */
export async function currentBranch(repo: Repo): Promise<string | null> {
  const name = (await repo.git.raw(['rev-parse', '--abbrev-ref', 'HEAD'])).trim()
  return name === 'HEAD' ? null : name
}

/** Tracked files with changes (staged or not); untracked files are ignored. */
export async function trackedChanges(repo: Repo): Promise<string[]> {
  const out = await repo.git.raw(['status', '--porcelain', '--untracked-files=no'])
  return out.split('\n').filter((line) => line.trim().length > 0)
}

/** `git status --porcelain` including untracked files (what a rehearsal must leave unchanged). */
export async function porcelainStatus(repo: Repo): Promise<string> {
  return repo.git.raw(['status', '--porcelain'])
}

export async function requireClean(repo: Repo, why: string): Promise<void> {
  const changes = await trackedChanges(repo)
  if (changes.length > 0) {
    throw new CutoverError(`the target repository ${repo.dir} has uncommitted changes, so ${why} could not be undone safely: ${changes.slice(0, 5).join('; ')}${changes.length > 5 ? ` (+${changes.length - 5} more)` : ''}`, {
      code: 'REPO_DIRTY',
      exit: ExitCode.Usage,
      suggestions: [`Commit or stash them first (git -C ${repo.dir} status).`],
    })
  }
}

/** The newest commit reachable from HEAD whose message contains `marker` (fixed string), or null. */
export async function findStableCommit(repo: Repo, marker: string): Promise<{sha: string; subject: string} | null> {
  const out = (await repo.git.raw(['log', '--fixed-strings', `--grep=${marker}`, '-1', '--format=%H%x09%s', 'HEAD'])).trim()
  if (!out) return null
  const [sha, ...rest] = out.split('\t')
  return {sha: sha!, subject: rest.join('\t')}
}

export async function commitSubject(repo: Repo, ref: string): Promise<string> {
  return (await repo.git.raw(['log', '-1', '--format=%s', ref])).trim()
}

export async function isAncestor(repo: Repo, ancestor: string, of = 'HEAD'): Promise<boolean> {
  try {
    await repo.git.raw(['merge-base', '--is-ancestor', ancestor, of])
    return true
  } catch {
    return false
  }
}

/** Commits reachable from HEAD whose message says they revert `sha`. */
export async function isReverted(repo: Repo, sha: string): Promise<boolean> {
  const out = (await repo.git.raw(['log', '--fixed-strings', `--grep=This reverts commit ${sha}`, '-1', '--format=%H', 'HEAD'])).trim()
  return out.length > 0
}

export async function resolveCommit(repo: Repo, ref: string): Promise<string> {
  try {
    return (await repo.git.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim()
  } catch {
    throw new ConfigError(`"${ref}" is not a commit or branch of ${repo.dir}`, [`List recent commits: git -C ${repo.dir} log --oneline -20`], 'GIT_REF_UNKNOWN')
  }
}

export async function commit(repo: Repo, message: string): Promise<string> {
  const configured = (await repo.git.raw(['config', '--get', 'user.email']).catch(() => '')).trim().length > 0
  await repo.git.raw([...(configured ? [] : FALLBACK_IDENTITY), 'commit', '-q', '-m', message])
  return head(repo)
}

export async function revert(repo: Repo, sha: string): Promise<string> {
  const configured = (await repo.git.raw(['config', '--get', 'user.email']).catch(() => '')).trim().length > 0
  await repo.git.raw([...(configured ? [] : FALLBACK_IDENTITY), 'revert', '--no-edit', sha])
  return head(repo)
}

/** A path of `dir` relative to the git top level (git pathspecs from the top work for any cwd with `:/`). */
export function topRelative(repo: Repo, rel: string): string {
  return path.relative(repo.top, path.resolve(repo.dir, rel)) || '.'
}

/** Tracked files (relative to repo.dir) at a commit, or in the index when ref is undefined. */
export async function listFiles(repo: Repo, ref?: string): Promise<string[]> {
  const prefix = path.relative(repo.top, repo.dir)
  const out = ref === undefined ? await repo.git.raw(['ls-files', '--full-name', '--', prefix ? ':/' + prefix : ':/']) : await repo.git.raw(['ls-tree', '-r', '--name-only', '--full-tree', ref])
  return out
    .split('\n')
    .filter((f) => f.length > 0)
    .filter((f) => prefix === '' || f.startsWith(prefix + '/'))
    .map((f) => (prefix === '' ? f : f.slice(prefix.length + 1)))
}

/** Content of a file (relative to repo.dir) at a commit; null when absent there. */
export async function showFile(repo: Repo, ref: string, rel: string): Promise<string | null> {
  try {
    return await repo.git.raw(['show', `${ref}:${topRelative(repo, rel)}`])
  } catch {
    return null
  }
}

/** Glob (`*`, `**`, `?`) to a RegExp over slash-separated relative paths. A trailing `/` matches everything below. */
export function globToRegExp(glob: string): RegExp {
  let g = glob.replace(/^\.\//, '')
  if (g.endsWith('/')) g += '**'
  let re = ''
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!
    if (c === '*') {
      if (g[i + 1] === '*') {
        i++
        if (g[i + 1] === '/') {
          i++
          re += '(?:.*/)?'
        } else re += '.*'
      } else re += '[^/]*'
    } else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

export function matchGlobs(files: readonly string[], globs: readonly string[]): string[] {
  const res = globs.map((g) => globToRegExp(g))
  return files.filter((f) => res.some((re) => re.test(f)))
}

export interface LineMatch {
  file: string
  /** 1-based */
  line: number
  text: string
}

/** Lines of `files` (relative to repo.dir) matching `pattern`, read from the work tree or from a commit. */
export async function matchingLines(repo: Repo, globs: readonly string[], pattern: string, ref?: string): Promise<LineMatch[]> {
  const re = new RegExp(pattern)
  const files = matchGlobs(await listFiles(repo, ref), globs)
  const out: LineMatch[] = []
  for (const file of files) {
    const text = ref === undefined ? readIfExists(path.join(repo.dir, file)) : await showFile(repo, ref, file)
    if (text === null) continue
    text.split('\n').forEach((line, i) => {
      if (re.test(line)) out.push({file, line: i + 1, text: line})
    })
  }
  return out
}

function readIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

/** Restore paths (relative to repo.dir) in index and work tree to their content at `ref`; paths absent there are removed. */
export async function restorePaths(repo: Repo, ref: string, rels: readonly string[]): Promise<void> {
  if (rels.length === 0) return
  const atRef = new Set(await listFiles(repo, ref))
  const present: string[] = []
  for (const rel of rels) {
    const norm = rel.replace(/\/+$/, '')
    const has = [...atRef].some((f) => f === norm || f.startsWith(norm + '/'))
    if (has) present.push(rel)
    else {
      await repo.git.raw(['rm', '-r', '-q', '--cached', '--ignore-unmatch', '--', ':/' + topRelative(repo, rel)])
      fs.rmSync(path.join(repo.dir, rel), {recursive: true, force: true})
    }
  }
  if (present.length > 0) await repo.git.raw(['checkout', ref, '--', ...present.map((rel) => ':/' + topRelative(repo, rel))])
}
