import type {Target} from '../../lib/target/target.js'
import type {CheckResult} from '../types.js'
import {errorFromException, fail, pass, tail} from '../util.js'
import {resolveRepo} from './common.js'

/** Run the target's build or test command in its repo; the exit code is the verdict, the output tail the evidence. */
export async function runRepoCommand(kind: 'build' | 'test', target: Target, baseDir: string, opts: {repo?: string; tailLines: number}, expected: string): Promise<CheckResult> {
  const repo = resolveRepo(target, baseDir, opts.repo, expected)
  if ('result' in repo) return repo.result
  let result
  try {
    result = await target.repoCommand(kind, repo.root)
  } catch (error) {
    return errorFromException(error, expected, {repo: repo.root})
  }
  const output = tail([result.stdout, result.stderr].filter(Boolean).join('\n'), opts.tailLines)
  const evidence = {repo: repo.root, command: result.command, exit_code: result.exitCode, timed_out: result.timedOut, duration_ms: result.durationMs, output_tail: output}
  const seconds = (result.durationMs / 1000).toFixed(1)
  if (result.ok) return pass({detail: `${result.command.join(' ')} succeeded in ${seconds} s`, expected, measured: `exit 0 (${seconds} s)`, evidence})
  const lastLine = output.at(-1) ?? ''
  return fail({
    detail: result.timedOut ? `${result.command.join(' ')} did not finish within ${target.spec.timeouts[kind]} ms` : `${result.command.join(' ')} exited ${result.exitCode}${lastLine ? `: ${lastLine}` : ''}`,
    expected,
    measured: result.timedOut ? 'timed out' : `exit ${result.exitCode}`,
    evidence,
    remediation: result.timedOut
      ? `Raise timeouts.${kind} in the target file or find what hangs (output tail in the evidence).`
      : `Fix the ${kind === 'build' ? 'compile errors' : 'failing tests'} shown in the output tail (run \`${result.command.join(' ')}\` in ${repo.root}); a proxy removal that breaks the ${kind} is rolled back with git (plan §3.5).`,
  })
}
