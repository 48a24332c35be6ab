import {expect} from 'chai'
import fs from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'

import {TargetUnavailableError} from '../../../src/lib/errors.js'
import {TargetResponseError} from '../../../src/lib/target/gateway-client.js'
import {loadTargetFile} from '../../../src/lib/target/spec.js'
import {Target} from '../../../src/lib/target/target.js'
import {writeFakeTargetFile, writePidFile} from '../../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

function fakeTarget(extraYaml = ''): Target {
  const dir = makeTempDir()
  const home = path.join(dir, 'home')
  fs.mkdirSync(home)
  return new Target(loadTargetFile(writeFakeTargetFile(dir, home, extraYaml), {defaultHome: home}))
}

describe('Target', () => {
  afterEach(cleanupTempDirs)

  describe('daemon(action)', () => {
    it('returns exit code and output; runs with CCO_HOME set to the home', async () => {
      const target = fakeTarget()
      const result = await target.daemon('start')
      expect(result).to.include({action: 'start', exitCode: 0, ok: true, timedOut: false})
      expect(result.stdout).to.contain(`fake cco: daemon start (home ${target.home})`)
      expect(result.durationMs).to.be.a('number')
    })

    it('a non-zero exit is a result, not an exception', async () => {
      const target = fakeTarget('env: {FAKE_CCO_EXIT: "3"}\n')
      const result = await target.daemon('stop')
      expect(result).to.include({exitCode: 3, ok: false})
      expect(result.stderr).to.contain('daemon stop failed')
    })

    it('a command that cannot run throws TargetUnavailableError (exit 4)', async () => {
      const dir = makeTempDir()
      const file = path.join(dir, 't.yaml')
      fs.writeFileSync(file, `name: broken\nhome: ${dir}\ncco: [/nonexistent/cco-binary]\n`)
      const target = new Target(loadTargetFile(file, {defaultHome: dir}))
      try {
        await target.daemon('start')
        expect.fail('should have thrown')
      } catch (error) {
        expect(error).to.be.instanceOf(TargetUnavailableError)
        expect((error as TargetUnavailableError).message).to.contain('command not found')
        expect((error as TargetUnavailableError).exit).to.equal(4)
      }
    })

    it('a command that hangs is stopped at its timeout', async () => {
      const target = fakeTarget('env: {FAKE_CCO_SLEEP_MS: "20000"}\ntimeouts: {status: 300ms}\n')
      const result = await target.daemon('status')
      expect(result.timedOut).to.equal(true)
      expect(result.ok).to.equal(false)
      expect(result.stderr).to.contain('did not finish within 300 ms')
    })

    it('secret values from the target env never appear in the output', async () => {
      const target = fakeTarget('env: {SERVICE_API_KEY: "super-secret-value-123", FAKE_CCO_SAY: "key is super-secret-value-123"}\n')
      const result = await target.daemon('start')
      expect(result.stdout).to.not.contain('super-secret-value-123')
      expect(result.stdout).to.contain('[redacted]')
    })
  })

  describe('launcherProbe()', () => {
    const saved = process.env.ANTHROPIC_BASE_URL
    afterEach(() => {
      if (saved === undefined) delete process.env.ANTHROPIC_BASE_URL
      else process.env.ANTHROPIC_BASE_URL = saved
    })

    it('gateway mode: the child got ANTHROPIC_BASE_URL', async () => {
      const probe = await fakeTarget('env: {FAKE_CCO_MODE: gateway}\n').launcherProbe()
      expect(probe.mode).to.equal('gateway')
      expect(probe.url).to.equal('http://127.0.0.1:4100')
      expect(probe.exitCode).to.equal(0)
      expect(probe.output).to.contain('Gateway: http://127.0.0.1:4100 (LLM routing enabled)')
      expect(probe.output).to.not.contain('CUTOVER_LAUNCH_PROBE')
    })

    it('proxy mode: the child got HTTP(S)_PROXY', async () => {
      const probe = await fakeTarget('env: {FAKE_CCO_MODE: proxy}\n').launcherProbe()
      expect(probe).to.include({mode: 'proxy', url: 'http://127.0.0.1:4200'})
      expect(probe.childEnv?.ANTHROPIC_BASE_URL).to.equal(null)
    })

    it('error mode: exit code and the launcher error', async () => {
      const probe = await fakeTarget('env: {FAKE_CCO_MODE: error}\n').launcherProbe()
      expect(probe.mode).to.equal('error')
      expect(probe.exitCode).to.equal(1)
      expect(probe.output).to.contain('❌ Error: LLM Gateway not available')
      expect(probe.childEnv).to.equal(null)
    })

    it('our own ANTHROPIC_BASE_URL does not leak into the probe', async () => {
      process.env.ANTHROPIC_BASE_URL = 'http://127.0.0.1:1'
      const probe = await fakeTarget('env: {FAKE_CCO_MODE: proxy}\n').launcherProbe()
      expect(probe.mode).to.equal('proxy')
    })
  })

  describe('gateway client', () => {
    let server: http.Server
    let port: number
    let routes: Record<string, {status: number; body: string}>
    let lastUrl = ''

    before(async () => {
      server = http.createServer((req, res) => {
        lastUrl = req.url ?? ''
        const route = routes[(req.url ?? '').split('?')[0]!]
        if (!route) return void res.writeHead(404).end('{"error":"not found"}')
        res.writeHead(route.status, {'content-type': 'application/json'}).end(route.body)
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      port = (server.address() as AddressInfo).port
    })
    after(() => new Promise<void>((resolve) => server.close(() => resolve())))

    function targetOnServer(): Target {
      const target = fakeTarget()
      writePidFile(target.home, {port, gateway_port: port})
      return target
    }

    it('health: 200 and 503 are both answers', async () => {
      const target = targetOnServer()
      routes = {'/gateway/health': {status: 200, body: JSON.stringify({status: 'healthy', version: '1', uptime_seconds: 3, providers: {}})}}
      expect((await target.gateway.health()).body.status).to.equal('healthy')
      routes = {'/gateway/health': {status: 503, body: JSON.stringify({status: 'unhealthy', providers: {anthropic: {healthy: false}}})}}
      const unhealthy = await target.gateway.health()
      expect(unhealthy.httpStatus).to.equal(503)
      expect(unhealthy.body.status).to.equal('unhealthy')
    })

    it('metrics with a window, audit with a query, providers, control status', async () => {
      const target = targetOnServer()
      routes = {
        '/gateway/metrics': {status: 200, body: JSON.stringify({summary: {total_requests: 7}})},
        '/gateway/audit': {status: 200, body: JSON.stringify({entries: [{request_id: 'a'}], total: 1})},
        '/gateway/providers': {status: 200, body: JSON.stringify({providers: [{name: 'anthropic'}]})},
        '/daemon/status': {status: 200, body: JSON.stringify({running: true})},
      }
      expect((await target.gateway.metrics('15m')).body.summary.total_requests).to.equal(7)
      expect(lastUrl).to.equal('/gateway/metrics?window=15m')
      expect((await target.gateway.audit({agent_type: 'cutover-probe', limit: 5})).body.total).to.equal(1)
      expect(lastUrl).to.equal('/gateway/audit?agent_type=cutover-probe&limit=5')
      expect((await target.gateway.providers()).body.providers[0]?.name).to.equal('anthropic')
      expect((await target.gateway.status()).body).to.deep.equal({running: true})
    })

    it('a wrong shape or a non-JSON body is a TargetResponseError', async () => {
      const target = targetOnServer()
      routes = {'/gateway/metrics': {status: 200, body: '{"summary": {}}'}, '/gateway/providers': {status: 200, body: '<html>'}}
      await expectRejection(target.gateway.metrics(), TargetResponseError, 'summary.total_requests')
      await expectRejection(target.gateway.providers(), TargetResponseError, 'not JSON')
      routes = {}
      await expectRejection(target.gateway.health(), TargetResponseError, 'HTTP 404')
    })

    it('a closed port is TargetUnavailableError with the next command to run', async () => {
      const closed = http.createServer()
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
      const closedPort = (closed.address() as AddressInfo).port
      await new Promise<void>((resolve) => closed.close(() => resolve()))
      const target = fakeTarget()
      writePidFile(target.home, {port: closedPort, gateway_port: closedPort})
      const err = await expectRejection(target.gateway.health(), TargetUnavailableError, `cannot reach http://127.0.0.1:${closedPort}/gateway/health`)
      expect(err.suggestions.join(' ')).to.contain('cutover daemon restart --target')
    })
  })
})

async function expectRejection<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E, fragment: string): Promise<E> {
  try {
    await promise
  } catch (error) {
    expect(error).to.be.instanceOf(type)
    expect((error as Error).message).to.contain(fragment)
    return error as E
  }
  throw new Error('expected a rejection')
}
