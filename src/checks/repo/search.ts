/**
 * A small ripgrep: walk the given paths of a repository in pure Node and report every line that
 * matches one of the patterns. Skips .git, node_modules, binary and very large files, honours the
 * repository's top-level .gitignore (the plan ran `rg`, which does) and the caller's ignore globs.
 */
import fs from 'node:fs'
import path from 'node:path'

export interface SearchOptions {
  root: string
  /** Files or directories, relative to root. */
  paths: string[]
  patterns: string[]
  /** Patterns are regular expressions (default: fixed strings). */
  regex: boolean
  caseInsensitive: boolean
  /** Glob patterns (gitignore-like): `*.md`, `docs/**`, `GATEWAY_CUTOVER_PLAN.md`, `dist/`. */
  ignore: string[]
  /** Only files with these extensions when walking directories (files named explicitly are always searched). */
  extensions?: string[]
  respectGitignore: boolean
  maxMatches: number
}

export interface SearchMatch {
  file: string
  line: number
  text: string
  pattern: string
}

export interface SearchResult {
  matches: SearchMatch[]
  /** Matches beyond maxMatches were counted but not kept. */
  total: number
  filesSearched: number
  missingPaths: string[]
  skipped: {binary: number; large: number}
}

const ALWAYS_SKIP = new Set(['.git', 'node_modules'])
const MAX_FILE_BYTES = 2 * 1024 * 1024

/** gitignore-style glob -> RegExp over a /-separated path relative to the root. */
export function globToRegExp(glob: string): {re: RegExp; dirOnly: boolean} {
  let g = glob.trim()
  const dirOnly = g.endsWith('/')
  if (dirOnly) g = g.slice(0, -1)
  const anchored = g.startsWith('/') || g.includes('/')
  if (g.startsWith('/')) g = g.slice(1)
  let re = ''
  for (let i = 0; i < g.length; i++) {
    const c = g[i] as string
    if (c === '*') {
      if (g[i + 1] === '*') {
        const slash = g[i + 2] === '/'
        re += slash ? '(?:.*/)?' : '.*'
        i += slash ? 2 : 1
      } else re += '[^/]*'
    } else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  // Unanchored patterns match a name at any depth; any pattern also covers everything below a matched directory.
  return {re: new RegExp(`^${anchored ? '' : '(?:.*/)?'}${re}(?:/.*)?$`), dirOnly}
}

function readGitignore(root: string): string[] {
  try {
    return fs
      .readFileSync(path.join(root, '.gitignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith('#') && !line.startsWith('!'))
  } catch {
    return []
  }
}

export function searchRepo(opts: SearchOptions): SearchResult {
  const globs = [...opts.ignore, ...(opts.respectGitignore ? readGitignore(opts.root) : [])].map(globToRegExp)
  // Directories are pruned while walking, so a directory-only pattern never needs to test a file.
  const ignored = (rel: string, isDir: boolean) => globs.some(({re, dirOnly}) => (!dirOnly || isDir) && re.test(rel))
  const flags = opts.caseInsensitive ? 'i' : ''
  const matchers = opts.patterns.map((p) => ({pattern: p, re: new RegExp(opts.regex ? p : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), flags)}))
  const result: SearchResult = {matches: [], total: 0, filesSearched: 0, missingPaths: [], skipped: {binary: 0, large: 0}}

  const searchFile = (abs: string, rel: string) => {
    let stat: fs.Stats
    try {
      stat = fs.statSync(abs)
    } catch {
      return
    }
    if (stat.size > MAX_FILE_BYTES) {
      result.skipped.large++
      return
    }
    const buffer = fs.readFileSync(abs)
    if (buffer.subarray(0, 8000).includes(0)) {
      result.skipped.binary++
      return
    }
    result.filesSearched++
    const lines = buffer.toString('utf8').split('\n')
    for (const [i, text] of lines.entries()) {
      const hit = matchers.find((m) => m.re.test(text))
      if (!hit) continue
      result.total++
      if (result.matches.length < opts.maxMatches) result.matches.push({file: rel, line: i + 1, text: text.trim().slice(0, 200), pattern: hit.pattern})
    }
  }

  const walk = (abs: string, rel: string) => {
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(abs, {withFileTypes: true})
    } catch {
      return
    }
    entries.sort((a, b) => a.name.localeCompare(b.name))
    for (const entry of entries) {
      if (ALWAYS_SKIP.has(entry.name)) continue
      const childRel = rel ? `${rel}/${entry.name}` : entry.name
      const childAbs = path.join(abs, entry.name)
      if (entry.isDirectory()) {
        if (!ignored(childRel, true)) walk(childAbs, childRel)
      } else if (entry.isFile()) {
        if (ignored(childRel, false)) continue
        if (opts.extensions && !opts.extensions.some((ext) => entry.name.toLowerCase().endsWith(ext.toLowerCase()))) continue
        searchFile(childAbs, childRel)
      }
    }
  }

  for (const p of opts.paths) {
    const rel = path.posix.normalize(p.replace(/\\/g, '/')).replace(/^\.\/?/, '').replace(/\/$/, '')
    const abs = path.resolve(opts.root, rel)
    if (!fs.existsSync(abs)) {
      result.missingPaths.push(p)
      continue
    }
    const stat = fs.statSync(abs)
    if (stat.isDirectory()) {
      if (rel === '' || !ignored(rel, true)) walk(abs, rel)
    } else if (!ignored(rel, false)) searchFile(abs, rel)
  }
  return result
}
