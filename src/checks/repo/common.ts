import fs from 'node:fs'
import path from 'node:path'

import type {Target} from '../../lib/target/target.js'
import type {CheckResult} from '../types.js'
import {couldNotMeasure} from '../util.js'

/** The repository to inspect: params.repo (relative to the playbook directory) or the target's repo. */
export function resolveRepo(target: Target, baseDir: string, repoParam: string | undefined, expected: string): {root: string} | {result: CheckResult} {
  const root = repoParam ? path.resolve(baseDir, repoParam) : target.spec.repo
  if (!root) {
    return {result: couldNotMeasure({detail: `target "${target.name}" names no source repository`, expected, evidence: {}, remediation: `Add "repo" to the target file (${target.spec.source}), or give the check a "repo" parameter.`})}
  }
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    return {result: couldNotMeasure({detail: `source repository ${root} does not exist`, expected, evidence: {repo: root}, remediation: 'Point "repo" (target file or check parameter) at the checked-out source.'})}
  }
  return {root}
}
