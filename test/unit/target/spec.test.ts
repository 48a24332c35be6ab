import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import {ConfigError, ExitCode} from '../../../src/lib/errors.js'
import {bundledTargetSpec, DEFAULT_STABLE_COMMIT_MARKER, loadTargetFile, packageRoot, resolveTargetSpec} from '../../../src/lib/target/spec.js'
import {REPO_ROOT} from '../../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

function expectConfigError(fn: () => unknown, ...fragments: string[]): ConfigError {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError)
    const err = error as ConfigError
    expect(err.exit).to.equal(ExitCode.Usage)
    for (const fragment of fragments) expect(err.message).to.contain(fragment)
    return err
  }
  throw new Error('expected a ConfigError')
}

describe('target spec', () => {
  let dir: string
  beforeEach(() => {
    dir = makeTempDir()
  })
  afterEach(cleanupTempDirs)

  const write = (text: string): string => {
    const file = path.join(dir, 'target.yaml')
    fs.writeFileSync(file, text)
    return file
  }

  it('the bundled target runs node <repo>/bin/cco, found from the package, not the cwd', () => {
    const cwd = process.cwd()
    process.chdir(dir)
    try {
      expect(packageRoot()).to.equal(REPO_ROOT)
      const spec = bundledTargetSpec('/tmp/some-home')
      expect(spec.bundled).to.equal(true)
      expect(spec.daemon.start).to.deep.equal([process.execPath, path.join(REPO_ROOT, 'bin', 'cco'), 'daemon', 'start'])
      expect(spec.launcher.slice(-1)).to.deep.equal(['launch'])
      expect(spec.home).to.equal('/tmp/some-home')
      expect(spec.stableCommitMarker).to.equal(DEFAULT_STABLE_COMMIT_MARKER)
    } finally {
      process.chdir(cwd)
    }
  })

  it('loads a target file: cco prefix gives default commands, relative paths resolve against the file', () => {
    fs.mkdirSync(path.join(dir, 'bin'))
    const file = write(`name: laptop
home: ./home
cco: [./bin/cco]
daemon:
  status: [./bin/cco, daemon, status]
repo: ../src
build: [cargo, build]
test: [cargo, test]
env: {RUST_LOG: info, RETRIES: 3}
timeouts: {start: 45s, build: 20m}
`)
    const spec = loadTargetFile(file, {defaultHome: '/unused'})
    expect(spec.name).to.equal('laptop')
    expect(spec.bundled).to.equal(false)
    expect(spec.home).to.equal(path.join(dir, 'home'))
    expect(spec.daemon.start).to.deep.equal([path.join(dir, 'bin', 'cco'), 'daemon', 'start'])
    expect(spec.daemon.status).to.deep.equal([path.join(dir, 'bin', 'cco'), 'daemon', 'status'])
    expect(spec.launcher).to.deep.equal([path.join(dir, 'bin', 'cco'), 'launch'])
    expect(spec.repo).to.equal(path.resolve(dir, '../src'))
    expect(spec.build).to.deep.equal(['cargo', 'build'])
    expect(spec.env).to.deep.equal({RUST_LOG: 'info', RETRIES: '3'})
    expect(spec.timeouts.start).to.equal(45_000)
    expect(spec.timeouts.build).to.equal(1_200_000)
    expect(spec.timeouts.stop).to.equal(30_000)
  })

  it('home: explicit --home wins over the target file, which wins over the default', () => {
    const file = write('name: t\nhome: /from/file\ncco: [cco]\n')
    expect(resolveTargetSpec({targetFile: file, defaultHome: '/default'}).home).to.equal('/from/file')
    expect(resolveTargetSpec({targetFile: file, explicitHome: '/explicit', defaultHome: '/default'}).home).to.equal('/explicit')
    const noHome = write('name: t\ncco: [cco]\n')
    expect(resolveTargetSpec({targetFile: noHome, defaultHome: '/default'}).home).to.equal('/default')
    expect(resolveTargetSpec({defaultHome: '/default'}).bundled).to.equal(true)
  })

  describe('errors name the file, the key and the position (exit 2)', () => {
    it('missing file', () => {
      expectConfigError(() => loadTargetFile(path.join(dir, 'nope.yaml'), {defaultHome: '/h'}), 'nope.yaml', 'does not exist')
    })
    it('invalid YAML', () => {
      const file = write('name: [unclosed\n')
      expectConfigError(() => loadTargetFile(file, {defaultHome: '/h'}), file, 'not valid YAML')
    })
    it('unknown key, with line:col', () => {
      const file = write('name: t\ncco: [cco]\ndeamon: {}\n')
      expectConfigError(() => loadTargetFile(file, {defaultHome: '/h'}), `${file}:3:1`, 'deamon: unknown key')
    })
    it('a daemon command that is not an argv list', () => {
      const file = write('name: t\ncco: [cco]\ndaemon:\n  start: "cco daemon start"\n')
      expectConfigError(() => loadTargetFile(file, {defaultHome: '/h'}), `${file}:4:10`, 'daemon.start: must be a non-empty list of strings')
    })
    it('a non-string argv element names its index', () => {
      const file = write('name: t\ncco: [cco, 3]\n')
      expectConfigError(() => loadTargetFile(file, {defaultHome: '/h'}), 'cco.1: must be a non-empty string')
    })
    it('missing name', () => {
      const file = write('cco: [cco]\n')
      expectConfigError(() => loadTargetFile(file, {defaultHome: '/h'}), 'missing required key "name"')
    })
    it('missing daemon commands without cco', () => {
      const file = write('name: t\nlauncher: [cco, launch]\n')
      expectConfigError(() => loadTargetFile(file, {defaultHome: '/h'}), 'missing daemon.start')
    })
    it('unknown daemon action', () => {
      const file = write('name: t\ncco: [cco]\ndaemon:\n  reload: [cco, reload]\n')
      expectConfigError(() => loadTargetFile(file, {defaultHome: '/h'}), 'daemon.reload: unknown daemon command')
    })
    it('build without repo', () => {
      const file = write('name: t\ncco: [cco]\nbuild: [make]\n')
      expectConfigError(() => loadTargetFile(file, {defaultHome: '/h'}), 'need "repo"')
    })
    it('bad env name and bad timeout', () => {
      expectConfigError(() => loadTargetFile(write('name: t\ncco: [cco]\nenv: {"1BAD": x}\n'), {defaultHome: '/h'}), 'env.1BAD: is not a valid environment variable name')
      expectConfigError(() => loadTargetFile(write('name: t\ncco: [cco]\ntimeouts: {start: soon}\n'), {defaultHome: '/h'}), 'timeouts.start', 'not a duration')
      expectConfigError(() => loadTargetFile(write('name: t\ncco: [cco]\ntimeouts: {nap: 1s}\n'), {defaultHome: '/h'}), 'timeouts.nap: unknown timeout')
    })
    it('a root that is not a mapping', () => {
      expectConfigError(() => loadTargetFile(write('- a\n- b\n'), {defaultHome: '/h'}), 'must be a mapping')
    })
  })
})
