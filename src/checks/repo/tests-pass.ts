import {defineCheck} from '../types.js'
import {runRepoCommand} from './command.js'

interface Params {
  repo?: string
  tail_lines: number
}

/** §3.4 "Tests pass (`cargo test`)". */
export const repoTestsPass = defineCheck<Params>({
  id: 'repo.tests_pass',
  title: 'Tests pass',
  verifies: '§3.4 "Tests pass (`cargo test`)"',
  params: {
    repo: {type: 'string', description: "directory to test in, relative to the playbook file (default: the target's repo)"},
    tail_lines: {type: 'number', integer: true, min: 1, max: 1000, default: 40, description: 'lines of output kept as evidence'},
  },
  // Tests run against the build: never at the same time as it.
  requires: ['repo.builds'],
  timeoutMs: (_p, target) => target.spec.timeouts.test + 10_000,
  touches: ({target, params}) => ({commands: [`${target.spec.test?.join(' ') ?? '<no test command>'} (in ${params.repo ?? target.spec.repo ?? '<no repo>'})`]}),
  run: ({target, params, baseDir}) => runRepoCommand('test', target, baseDir, {repo: params.repo, tailLines: params.tail_lines}, "the target's test command exits 0"),
})
