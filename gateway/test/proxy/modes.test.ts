import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {http, LEGACY_PROXY_INSTALLED, readLog, readPid, runCco, startDaemonIn, TempHomes, writeFlags, writeGatewayConfig} from '../helpers/cco.js'

/*
 * The daemon and launcher with the legacy proxy module: the proxy flag's start-up, its PID
 * file field, its /daemon/status section and status line, and the launcher's proxy modes
 * (Phase 1 fallback, rollback mode). Skips itself once Phase 3 has removed gateway/src/proxy/.
 */

/** Log lines without their timestamp/level prefix. */
function logMessages(log: string): string[] {
  return log
    .split('\n')
    .filter(Boolean)
    .map((line) => line.replace(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z (INFO|WARN|ERROR)\s+/, ''))
}

/** The child: prints the routing env it received as one JSON line. */
const PRINT_ENV = [
  process.execPath,
  '-e',
  'console.log(JSON.stringify({ANTHROPIC_BASE_URL: process.env.ANTHROPIC_BASE_URL ?? null, HTTPS_PROXY: process.env.HTTPS_PROXY ?? null, HTTP_PROXY: process.env.HTTP_PROXY ?? null}))',
]

function childEnv(stdout: string): Record<string, string | null> {
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, string | null>
}

/** A gateway config that fails validation, so the daemon runs without a gateway. */
const BROKEN_GATEWAY = {providers: {anthropic: {providerType: 'anthropic', baseUrl: 'https://api.anthropic.com'}}, routing: {defaultProvider: 'azur'}}

;(LEGACY_PROXY_INSTALLED ? describe : describe.skip)('legacy proxy module: daemon and launcher modes', function () {
  this.timeout(60_000)
  const homes = new TempHomes()
  afterEach(() => homes.cleanup())

  describe('daemon', () => {
    it('proxy off: /daemon/status has proxy_port null and proxy disabled; status shows "Proxy: disabled"', async () => {
      const home = homes.make()
      const {port} = await startDaemonIn(home)
      expect(readPid(home)).to.not.have.property('proxy_port')
      const status = (await http(`http://127.0.0.1:${port}/daemon/status`)).json as Record<string, unknown>
      expect(status).to.include({proxy_port: null})
      expect(status.proxy).to.deep.equal({state: 'disabled'})
      const human = await runCco(['daemon', 'status'], {home})
      expect(human.stdout).to.contain('   Proxy:    disabled\n')
      expect(logMessages(readLog(home))).to.include('ℹ️  HTTP Proxy disabled - Gateway handles all LLM routing')
    })

    it('gateway on + proxy on: both servers run, PID file has proxy_port between port and gateway_port', async () => {
      const home = homes.make()
      writeFlags(home, {gatewayEnabled: true, proxyEnabled: true})
      const {gateway_port, proxy_port, port} = await startDaemonIn(home)
      expect(gateway_port).to.be.a('number')
      expect(proxy_port).to.be.a('number')
      expect(Object.keys(readPid(home))).to.deep.equal(['pid', 'started_at', 'port', 'proxy_port', 'gateway_port', 'version'])
      const messages = logMessages(readLog(home))
      expect(messages).to.include(`✅ Proxy server started on port ${proxy_port}`)
      expect(messages).to.include(`✅ LLM Gateway started on port ${gateway_port}`)
      expect(messages).to.not.include('ℹ️  HTTP Proxy disabled - Gateway handles all LLM routing')
      const status = (await http(`http://127.0.0.1:${port}/daemon/status`)).json as Record<string, unknown>
      expect(status).to.include({gateway_port, proxy_port})
      expect(status.proxy).to.deep.equal({state: 'running'})
      expect((await runCco(['daemon', 'status'], {home})).stdout).to.contain(`   Proxy:    http://127.0.0.1:${proxy_port} (legacy HTTP proxy running)`)
      expect((await http(`http://127.0.0.1:${gateway_port}/gateway/health`)).status).to.equal(200)
      // The proxy answers (400: it expects absolute-form proxy requests).
      expect((await http(`http://127.0.0.1:${proxy_port}/`, {headers: {}})).status).to.equal(400)
    })

    it('gateway off + proxy on (the rollback flags): only the proxy, gateway_port null, no CRITICAL line', async () => {
      const home = homes.make()
      writeFlags(home, {gatewayEnabled: false, proxyEnabled: true})
      const {gateway_port, proxy_port, port} = await startDaemonIn(home)
      expect(gateway_port).to.equal(null)
      expect(proxy_port).to.be.a('number')
      const log = readLog(home)
      expect(log).to.contain(`✅ Proxy server started on port ${proxy_port}`)
      expect(log).to.contain('LLM Gateway disabled')
      expect(log).to.not.contain('LLM Gateway started on port')
      expect(log).to.not.contain('CRITICAL')
      const status = (await http(`http://127.0.0.1:${port}/daemon/status`)).json as Record<string, unknown>
      expect(status.gateway).to.deep.equal({state: 'disabled'})
      expect(status.flags).to.deep.equal({gatewayEnabled: false, proxyEnabled: true})
    })

    it('a flags file with only proxyEnabled keeps the gateway on', async () => {
      const home = homes.make()
      writeFlags(home, {proxyEnabled: true})
      const {gateway_port, proxy_port} = await startDaemonIn(home)
      expect(gateway_port).to.be.a('number')
      expect(proxy_port).to.be.a('number')
    })

    it('a PID file whose proxy_port has the wrong type is reported naming the field, and start moves it aside', async () => {
      const home = homes.make()
      writeFileSync(join(home, 'daemon.pid'), JSON.stringify({pid: process.pid, started_at: new Date().toISOString(), port: 1, proxy_port: 'x', gateway_port: null, version: '1'}))
      const status = await runCco(['daemon', 'status'], {home})
      expect(status.code).to.equal(3)
      expect(status.stdout).to.contain('field "proxy_port" must be a port number or null, got string "x"')
      const start = await runCco(['daemon', 'start'], {home})
      expect(start.code, start.stderr).to.equal(0)
      expect(start.stderr).to.contain('daemon.pid.corrupt')
    })
  })

  describe('cco launch', () => {
    it('gateway and proxy both running: the gateway wins', async () => {
      const home = homes.make()
      writeFlags(home, {gatewayEnabled: true, proxyEnabled: true})
      const {gateway_port} = await startDaemonIn(home)
      const r = await runCco(['launch', '--', ...PRINT_ENV], {home})
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.contain(`   Gateway: http://127.0.0.1:${gateway_port} (LLM routing enabled)\n`)
      expect(r.stdout).to.not.contain('Proxy:')
      expect(childEnv(r.stdout)).to.deep.equal({ANTHROPIC_BASE_URL: `http://127.0.0.1:${gateway_port}`, HTTPS_PROXY: null, HTTP_PROXY: null})
    })

    it('case 2: gateway and proxy enabled, gateway missing -> falls back to the proxy (Phase 1)', async () => {
      const home = homes.make()
      writeFlags(home, {gatewayEnabled: true, proxyEnabled: true})
      writeGatewayConfig(home, BROKEN_GATEWAY)
      const {proxy_port, gateway_port} = await startDaemonIn(home)
      expect(gateway_port).to.equal(null)
      const r = await runCco(['launch', '--', ...PRINT_ENV], {home})
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.contain(`   Proxy: http://127.0.0.1:${proxy_port} (HTTP proxy mode)\n`)
      expect(r.stdout).to.not.contain('Gateway:')
      expect(r.stderr).to.contain('Gateway port not set in PID file (LLM Gateway not running)')
      const url = `http://127.0.0.1:${proxy_port}`
      expect(childEnv(r.stdout)).to.deep.equal({ANTHROPIC_BASE_URL: null, HTTPS_PROXY: url, HTTP_PROXY: url})
    })

    it('case 2b: gateway and proxy enabled, neither running -> exit 1 naming both', async () => {
      const home = homes.make()
      writeFlags(home, {gatewayEnabled: true, proxyEnabled: true})
      const r = await runCco(['launch', '--', ...PRINT_ENV], {home})
      expect(r.code).to.equal(1)
      expect(r.stderr).to.contain('❌ Error: LLM Gateway not available').and.contain('Legacy HTTP proxy not available either').and.contain('Try: cco daemon restart')
    })

    it('case 4: only the proxy enabled -> warning and proxy env (rollback mode)', async () => {
      const home = homes.make()
      writeFlags(home, {gatewayEnabled: false, proxyEnabled: true})
      const {proxy_port} = await startDaemonIn(home)
      const r = await runCco(['launch', '--', ...PRINT_ENV], {home})
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stderr).to.contain('⚠️  Using legacy HTTP Proxy (gateway disabled)')
      expect(r.stdout).to.contain(`   Proxy: http://127.0.0.1:${proxy_port} (HTTP proxy mode)`)
      const url = `http://127.0.0.1:${proxy_port}`
      expect(childEnv(r.stdout)).to.deep.equal({ANTHROPIC_BASE_URL: null, HTTPS_PROXY: url, HTTP_PROXY: url})
    })

    it('case 4b: only the proxy enabled but not running -> exit 1', async () => {
      const home = homes.make()
      writeFlags(home, {gatewayEnabled: false, proxyEnabled: true})
      const r = await runCco(['launch', '--', ...PRINT_ENV], {home})
      expect(r.code).to.equal(1)
      expect(r.stderr).to.contain('Legacy HTTP proxy not available').and.contain('Try: cco daemon restart')
    })
  })
})
