import type {ParamIssue} from '../params.js'
import {defineCheck} from '../types.js'
import {couldNotMeasure, fail, pass, plural, regexIssuesOf} from '../util.js'
import {resolveRepo} from './common.js'
import {searchRepo} from './search.js'

export interface SearchParams {
  patterns: string[]
  regex: boolean
  case_insensitive: boolean
  paths: string[]
  ignore: string[]
  respect_gitignore: boolean
  max_matches: number
  repo?: string
}

export const searchParamsSchema = {
  regex: {type: 'boolean', default: false, description: 'patterns are regular expressions (default: fixed strings)'},
  case_insensitive: {type: 'boolean', default: false, description: 'match regardless of case'},
  ignore: {type: 'string[]', default: [], description: 'gitignore-style globs to skip, e.g. GATEWAY_CUTOVER_PLAN.md, docs/archive/**'},
  respect_gitignore: {type: 'boolean', default: true, description: "also skip what the repository's top-level .gitignore ignores (as rg does)"},
  max_matches: {type: 'number', integer: true, min: 1, max: 10_000, default: 50, description: 'matches kept as evidence (all are counted)'},
  repo: {type: 'string', description: "directory to search, relative to the playbook file (default: the target's repo)"},
} as const

export function patternIssues(p: SearchParams): ParamIssue[] {
  return p.regex ? regexIssuesOf('patterns', p.patterns, p.case_insensitive ? 'i' : '') : []
}

/** §3.4 "No references to `proxy_port` in codebase" / "No broken imports or dead code"; §3.3 `rg -i "proxy" ... | grep -v GATEWAY_CUTOVER_PLAN`. */
export const repoNoProxyReferences = defineCheck<SearchParams>({
  id: 'repo.no_proxy_references',
  title: 'No proxy references in the source',
  verifies: '§3.4 "No references to `proxy_port` in codebase", "No broken imports or dead code"; §3.3 "Search for Proxy References"',
  params: {
    patterns: {type: 'string[]', minItems: 1, default: ['proxy_port'], description: 'what to look for (fixed strings unless regex is true)'},
    paths: {type: 'string[]', minItems: 1, default: ['.'], description: 'files or directories to search, relative to the repository'},
    ...searchParamsSchema,
  },
  validate: patternIssues,
  touches: ({target, params}) => ({files: params.paths.map((p) => `${params.repo ?? target.spec.repo ?? '<target repo>'}/${p}`)}),
  async run({target, params, baseDir}) {
    const expected = `no line matching ${params.patterns.map((p) => `"${p}"`).join(', ')} under ${params.paths.join(', ')}${params.ignore.length > 0 ? ` (ignoring ${params.ignore.join(', ')})` : ''}`
    const repo = resolveRepo(target, baseDir, params.repo, expected)
    if ('result' in repo) return repo.result
    const found = searchRepo({root: repo.root, paths: params.paths, patterns: params.patterns, regex: params.regex, caseInsensitive: params.case_insensitive, ignore: params.ignore, respectGitignore: params.respect_gitignore, maxMatches: params.max_matches})
    const evidence = {repo: repo.root, files_searched: found.filesSearched, missing_paths: found.missingPaths, skipped: found.skipped, total_matches: found.total, matches: found.matches.map((m) => `${m.file}:${m.line}: ${m.text}`)}
    if (found.filesSearched === 0) {
      return couldNotMeasure({detail: `nothing to search: ${found.missingPaths.length > 0 ? `missing ${found.missingPaths.join(', ')}` : 'no files'} in ${repo.root}`, expected, evidence, remediation: 'Fix "paths" (relative to the repository) or the target repo.'})
    }
    if (found.total > 0) {
      const files = [...new Set(found.matches.map((m) => m.file))]
      return fail({
        detail: `${plural(found.total, 'reference')} in ${plural(files.length, 'file')}: ${found.matches.slice(0, 3).map((m) => `${m.file}:${m.line}`).join(', ')}${found.total > 3 ? ', ...' : ''}`,
        expected,
        measured: plural(found.total, 'match', 'matches'),
        evidence,
        remediation: `Remove the proxy code these lines belong to (plan §3.1-3.2): ${files.slice(0, 5).join(', ')}${files.length > 5 ? ', ...' : ''}; or add a file to "ignore" if it is meant to keep them.`,
      })
    }
    return pass({detail: `no references in ${plural(found.filesSearched, 'file')}`, expected, measured: '0 matches', evidence})
  },
})
