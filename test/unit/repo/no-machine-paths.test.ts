/**
 * Committed files must hold on any clone: no absolute path of the machine they were written on
 * (a user's home, the checkout's own location or the folder beside it), which a test would read
 * and a README would show. package-lock.json is left out (it names registry URLs, not paths).
 */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {REPO_ROOT} from '../../helpers/fixtures.js'

/** Home directories in the usual places: /home/<user>/, /Users/<user>/, /root/. */
const HOME_PATH = /(?<![\w.~$-])(?:\/(?:home|Users)\/[A-Za-z_][\w.-]*|\/root)(?=\/)/

/** Paths of this machine: the checkout, the ../shared beside it, and the user's home (each as a prefix of a deeper path). */
function machinePrefixes(): string[] {
  return [REPO_ROOT, path.join(path.dirname(REPO_ROOT), 'shared'), os.homedir()].filter((p) => p !== '/').map((p) => `${p}/`)
}

export function machinePathsIn(text: string, prefixes: string[]): string[] {
  const found: string[] = []
  text.split('\n').forEach((line, i) => {
    const home = HOME_PATH.exec(line)
    if (home) found.push(`line ${i + 1}: ${home[0]}/...`)
    for (const p of prefixes) if (line.includes(p)) found.push(`line ${i + 1}: ${p}...`)
  })
  return found
}

function committedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], {cwd: REPO_ROOT, encoding: 'utf8'})
  // This file spells the patterns it looks for.
  const self = path.relative(REPO_ROOT, fileURLToPath(import.meta.url))
  return out.split('\0').filter((f) => f !== '' && f !== self && path.basename(f) !== 'package-lock.json')
}

describe('committed files name no path of the development machine', () => {
  it('the detector finds home directories and this checkout, and leaves ~ and $CCO_HOME alone', () => {
    const prefixes = ['/srv/build/cutover/', '/srv/build/shared/']
    expect(machinePathsIn('const PLAN = "/home/alice/shared/seed/plan.md"', prefixes)).to.deep.equal(['line 1: /home/alice/...'])
    expect(machinePathsIn('x\n  [default: /root/.cco]', prefixes)).to.deep.equal(['line 2: /root/...'])
    expect(machinePathsIn('open /Users/bob/cutover/x', prefixes)).to.deep.equal(['line 1: /Users/bob/...'])
    expect(machinePathsIn('read /srv/build/shared/seed/x', prefixes)).to.deep.equal(['line 1: /srv/build/shared/...'])
    expect(machinePathsIn('cd /srv/build/cutover/src', prefixes)).to.deep.equal(['line 1: /srv/build/cutover/...'])
    expect(machinePathsIn('default: $CCO_HOME, else ~/.cco; ~/home/x; /var/lib/cco; ./root/x', prefixes)).to.deep.equal([])
  })

  it('no committed file contains one', function () {
    // Not a git checkout (an unpacked tarball): nothing is committed.
    let files: string[]
    try {
      files = committedFiles()
    } catch {
      this.skip()
    }
    const prefixes = machinePrefixes()
    const offenders: string[] = []
    for (const f of files) {
      let text: string
      try {
        text = readFileSync(path.join(REPO_ROOT, f), 'utf8')
      } catch {
        continue // deleted in the work tree
      }
      if (text.includes('\0')) continue // binary
      for (const hit of machinePathsIn(text, prefixes)) offenders.push(`${f} ${hit}`)
    }
    expect(offenders, 'write paths relative to the repository, or as the rule ($CCO_HOME, else ~/.cco)').to.deep.equal([])
  })
})
