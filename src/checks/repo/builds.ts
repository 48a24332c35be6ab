import {defineCheck} from '../types.js'
import {runRepoCommand} from './command.js'

interface Params {
  repo?: string
  tail_lines: number
}

/** §3.4 "Code compiles without errors". */
export const repoBuilds = defineCheck<Params>({
  id: 'repo.builds',
  title: 'Code compiles',
  verifies: '§3.4 "Code compiles without errors"',
  params: {
    repo: {type: 'string', description: "directory to build in, relative to the playbook file (default: the target's repo)"},
    tail_lines: {type: 'number', integer: true, min: 1, max: 1000, default: 40, description: 'lines of output kept as evidence'},
  },
  timeoutMs: (_p, target) => target.spec.timeouts.build + 10_000,
  touches: ({target, params}) => ({commands: [`${target.spec.build?.join(' ') ?? '<no build command>'} (in ${params.repo ?? target.spec.repo ?? '<no repo>'})`]}),
  run: ({target, params, baseDir}) => runRepoCommand('build', target, baseDir, {repo: params.repo, tailLines: params.tail_lines}, "the target's build command exits 0"),
})
