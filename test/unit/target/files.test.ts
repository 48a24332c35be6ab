import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import {ConfigError, ExitCode} from '../../../src/lib/errors.js'
import {PidFileError} from '../../../src/lib/target/files.js'
import {bundledTargetSpec} from '../../../src/lib/target/spec.js'
import {Target} from '../../../src/lib/target/target.js'
import {writeFileAtomic} from '../../../src/lib/util/atomic-write.js'
import {deadPid, writeFlagsFile, writePidFile} from '../../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

function pidError(target: Target): PidFileError {
  try {
    target.readPidFile()
  } catch (error) {
    expect(error).to.be.instanceOf(PidFileError)
    return error as PidFileError
  }
  throw new Error('expected a PidFileError')
}

describe('target files', () => {
  let home: string
  let target: Target
  beforeEach(() => {
    home = makeTempDir()
    target = new Target(bundledTargetSpec(home))
  })
  afterEach(cleanupTempDirs)

  describe('PID file', () => {
    it('reads a valid PID file (proxy_port only when present)', () => {
      writePidFile(home, {gateway_port: 41_000})
      const pid = target.readPidFile()
      expect(pid).to.include({pid: process.pid, port: 45_001, gateway_port: 41_000, version: '2026.11.1'})
      expect(pid).to.not.have.property('proxy_port')
      writePidFile(home, {gateway_port: null, proxy_port: 41_001, extra_field: 'tolerated'})
      expect(target.readPidFile()).to.include({gateway_port: null, proxy_port: 41_001})
    })

    it('missing: names the file and what to run', () => {
      const err = pidError(target)
      expect(err.problem).to.equal('missing')
      expect(err.code).to.equal('PID_FILE_MISSING')
      expect(err.exit).to.equal(ExitCode.CouldNotEvaluate)
      expect(err.message).to.contain(path.join(home, 'daemon.pid'))
      expect(err.suggestions.join(' ')).to.contain(`cutover daemon restart --home ${home}`)
    })

    it('invalid JSON', () => {
      fs.writeFileSync(path.join(home, 'daemon.pid'), '{"pid": 12,')
      const err = pidError(target)
      expect(err.problem).to.equal('invalid_json')
      expect(err.message).to.contain('not valid JSON')
    })

    it('wrong type names the key', () => {
      writePidFile(home, {gateway_port: 'abc' as unknown as number})
      const err = pidError(target)
      expect(err.problem).to.equal('wrong_type')
      expect(err.message).to.contain('"gateway_port" must be a port number or null, got "abc"')
      writePidFile(home, {started_at: 'yesterday'})
      expect(pidError(target).message).to.contain('"started_at"')
      fs.writeFileSync(path.join(home, 'daemon.pid'), '[1,2]')
      expect(pidError(target).problem).to.equal('wrong_type')
    })

    it('a dead PID is a stale file; checkAlive: false still reads it', () => {
      const pid = deadPid()
      writePidFile(home, {pid})
      const err = pidError(target)
      expect(err.problem).to.equal('dead')
      expect(err.message).to.contain(`process ${pid}, which is not running`)
      expect(target.readPidFile({checkAlive: false}).pid).to.equal(pid)
    })

    it('gatewayUrl() needs a gateway_port', () => {
      writePidFile(home, {gateway_port: 41_234})
      expect(target.gatewayUrl()).to.equal('http://127.0.0.1:41234')
      writePidFile(home, {gateway_port: null})
      expect(() => target.gatewayUrl()).to.throw(/gateway_port": null/)
    })
  })

  describe('flags', () => {
    it('absent file: defaults (gateway on, proxy off)', () => {
      expect(target.readFlags()).to.deep.equal({gatewayEnabled: true, proxyEnabled: false})
      expect(target.readFlagsDetailed().exists).to.equal(false)
    })

    it('partial file: missing keys take defaults', () => {
      writeFlagsFile(home, {proxyEnabled: true})
      expect(target.readFlags()).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})
    })

    it('unknown key, wrong type, invalid JSON: ConfigError naming the key', () => {
      writeFlagsFile(home, {gatewayEnabled: true, proxyEnable: false})
      expect(() => target.readFlags()).to.throw(ConfigError, /unknown key "proxyEnable"/)
      writeFlagsFile(home, {gatewayEnabled: 'yes'})
      expect(() => target.readFlags()).to.throw(ConfigError, /"gatewayEnabled" must be true or false/)
      writeFlagsFile(home, '{nope')
      expect(() => target.readFlags()).to.throw(ConfigError, /not valid JSON/)
    })

    it('writeFlags: atomic, 0600, previous content kept as .bak, no temp files left', () => {
      const first = target.writeFlags({gatewayEnabled: true, proxyEnabled: true})
      expect(first.flags).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})
      expect(fs.existsSync(target.paths.flagsBackup)).to.equal(false)
      expect(fs.statSync(target.paths.flags).mode & 0o777).to.equal(0o600)
      expect(fs.statSync(target.paths.configDir).mode & 0o777).to.equal(0o700)
      target.writeFlags({gatewayEnabled: false, proxyEnabled: true})
      expect(JSON.parse(fs.readFileSync(target.paths.flags, 'utf8'))).to.deep.equal({gatewayEnabled: false, proxyEnabled: true})
      expect(JSON.parse(fs.readFileSync(target.paths.flagsBackup, 'utf8'))).to.deep.equal({gatewayEnabled: true, proxyEnabled: true})
      expect(fs.readdirSync(target.paths.configDir).sort()).to.deep.equal(['daemon-config.json', 'daemon-config.json.bak'])
      expect(target.readFlags()).to.deep.equal({gatewayEnabled: false, proxyEnabled: true})
    })

    it('writeFlags refuses bad values and leaves the file as it was', () => {
      target.writeFlags({gatewayEnabled: true, proxyEnabled: false})
      const before = fs.readFileSync(target.paths.flags, 'utf8')
      expect(() => target.writeFlags({gatewayEnabled: 'true' as unknown as boolean, proxyEnabled: false})).to.throw(ConfigError, /gatewayEnabled/)
      expect(fs.readFileSync(target.paths.flags, 'utf8')).to.equal(before)
    })

    it('a failed rename removes the temp file and leaves the destination untouched', () => {
      const dest = path.join(home, 'occupied')
      fs.mkdirSync(dest)
      fs.writeFileSync(path.join(dest, 'keep'), 'x')
      expect(() => writeFileAtomic(dest, 'data')).to.throw()
      expect(fs.readdirSync(home).sort()).to.deep.equal(['occupied'])
      expect(fs.readFileSync(path.join(dest, 'keep'), 'utf8')).to.equal('x')
    })
  })

  describe('orchestra config', () => {
    it('absent -> null; valid -> parsed; invalid JSON -> ConfigError naming the file', () => {
      expect(target.readOrchestraConfig()).to.equal(null)
      fs.writeFileSync(target.paths.orchestraConfig, JSON.stringify({llmGateway: {providers: {anthropic: {enabled: true, apiKeyRef: 'ANTHROPIC_API_KEY'}}}}))
      expect(target.readOrchestraConfig()?.llmGateway?.providers?.anthropic?.apiKeyRef).to.equal('ANTHROPIC_API_KEY')
      fs.writeFileSync(target.paths.orchestraConfig, '{"llmGateway": ')
      expect(() => target.readOrchestraConfig()).to.throw(ConfigError, new RegExp(`${target.paths.orchestraConfig}.*not valid JSON`))
    })
  })
})
