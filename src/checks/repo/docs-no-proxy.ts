import {defineCheck} from '../types.js'
import {fail, inconclusive, pass, plural} from '../util.js'
import {resolveRepo} from './common.js'
import {patternIssues, type SearchParams, searchParamsSchema} from './no-proxy-references.js'
import {searchRepo} from './search.js'

interface Params extends SearchParams {
  extensions: string[]
}

/** §3.3 "Update Documentation" (README.md, docs/ARCHITECTURE.md, docs/DEPLOYMENT.md, CLAUDE.md); §3.4 "Documentation updated". */
export const repoDocsNoProxy = defineCheck<Params>({
  id: 'repo.docs_no_proxy',
  title: 'Documentation has no proxy references',
  verifies: '§3.3 "Update Documentation"; §3.4 "Documentation updated"',
  params: {
    patterns: {type: 'string[]', minItems: 1, default: ['proxy'], description: 'what to look for (the plan: rg -i "proxy")'},
    paths: {type: 'string[]', minItems: 1, default: ['README.md', 'docs', 'CLAUDE.md'], description: 'documentation files or directories, relative to the repository'},
    extensions: {type: 'string[]', default: ['.md', '.markdown', '.mdx', '.txt', '.rst', '.adoc'], description: 'file types searched inside directories'},
    ...searchParamsSchema,
    case_insensitive: {type: 'boolean', default: true, description: 'match regardless of case (the plan uses rg -i)'},
  },
  validate: patternIssues,
  touches: ({target, params}) => ({files: params.paths.map((p) => `${params.repo ?? target.spec.repo ?? '<target repo>'}/${p}`)}),
  async run({target, params, baseDir}) {
    const expected = `documentation (${params.paths.join(', ')}) has no line matching ${params.patterns.map((p) => `"${p}"`).join(', ')}${params.ignore.length > 0 ? ` (ignoring ${params.ignore.join(', ')})` : ''}`
    const repo = resolveRepo(target, baseDir, params.repo, expected)
    if ('result' in repo) return repo.result
    const found = searchRepo({root: repo.root, paths: params.paths, patterns: params.patterns, regex: params.regex, caseInsensitive: params.case_insensitive, ignore: params.ignore, extensions: params.extensions, respectGitignore: params.respect_gitignore, maxMatches: params.max_matches})
    const evidence = {repo: repo.root, files_searched: found.filesSearched, missing_paths: found.missingPaths, total_matches: found.total, matches: found.matches.map((m) => `${m.file}:${m.line}: ${m.text}`)}
    if (found.filesSearched === 0) {
      return inconclusive({detail: `no documentation found (${params.paths.join(', ')}) in ${repo.root}`, expected, measured: 'no docs', evidence, remediation: 'Point "paths" at the documentation files the plan lists (README.md, docs/, CLAUDE.md).'})
    }
    if (found.total > 0) {
      const files = [...new Set(found.matches.map((m) => m.file))]
      return fail({
        detail: `${plural(found.total, 'proxy reference')} in ${files.join(', ')}`,
        expected,
        measured: plural(found.total, 'match', 'matches'),
        evidence,
        remediation: `Update the documentation (plan §3.3: remove proxy references, update the system diagram and port configuration): ${found.matches.slice(0, 3).map((m) => `${m.file}:${m.line}`).join(', ')}${found.total > 3 ? ', ...' : ''}.`,
      })
    }
    return pass({detail: `no proxy references in ${plural(found.filesSearched, 'documentation file')}`, expected, measured: '0 matches', evidence})
  },
})
