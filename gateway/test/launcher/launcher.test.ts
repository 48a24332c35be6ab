import {expect} from 'chai'
import {LEGACY_PROXY_INSTALLED, runCco, spawnCco, startDaemonIn, TempHomes, waitFor, writeFlags, writeGatewayConfig} from '../helpers/cco.js'

/*
 * The launcher cases that do not need the legacy proxy. Its modes (Phase 1 fallback, rollback
 * mode) are tested in test/proxy/, which skips itself once Phase 3 has removed the proxy.
 */

/** The child: prints the routing env it received as one JSON line. */
const PRINT_ENV = [
  process.execPath,
  '-e',
  'console.log(JSON.stringify({ANTHROPIC_BASE_URL: process.env.ANTHROPIC_BASE_URL ?? null, HTTPS_PROXY: process.env.HTTPS_PROXY ?? null, HTTP_PROXY: process.env.HTTP_PROXY ?? null}))',
]

function childEnv(stdout: string): Record<string, string | null> {
  const line = stdout.trim().split('\n').pop() ?? ''
  return JSON.parse(line) as Record<string, string | null>
}

/** A gateway config that fails validation, so the daemon runs without a gateway. */
const BROKEN_GATEWAY = {providers: {anthropic: {providerType: 'anthropic', baseUrl: 'https://api.anthropic.com'}}, routing: {defaultProvider: 'azur'}}

describe('cco launch', function () {
  this.timeout(60_000)
  const homes = new TempHomes()
  afterEach(() => homes.cleanup())

  it('case 1: gateway enabled and running -> ANTHROPIC_BASE_URL, Gateway line', async () => {
    const home = homes.make()
    writeFlags(home, {gatewayEnabled: true, proxyEnabled: false})
    const {gateway_port} = await startDaemonIn(home)
    const r = await runCco(['launch', '--', ...PRINT_ENV], {home})
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.contain(`   Gateway: http://127.0.0.1:${gateway_port} (LLM routing enabled)\n`)
    expect(r.stdout).to.not.contain('Proxy:')
    expect(childEnv(r.stdout)).to.deep.equal({ANTHROPIC_BASE_URL: `http://127.0.0.1:${gateway_port}`, HTTPS_PROXY: null, HTTP_PROXY: null})
  })

  it('case 3: only the gateway enabled and it is missing -> exit 1 with the plan\'s three lines (Phase 2)', async () => {
    const home = homes.make()
    // No daemon at all.
    const none = await runCco(['launch', '--', ...PRINT_ENV], {home})
    expect(none.code).to.equal(1)
    expect(none.stdout).to.equal('') // the child never ran
    expect(none.stderr.split('\n')).to.deep.equal([
      `❌ Error: LLM Gateway not available: PID file not found: ${home}/daemon.pid (daemon not running)`,
      '   The gateway must be running for Claude Code to function.',
      '   Try: cco daemon restart',
      '',
    ])
    // Daemon running, gateway failed to initialize.
    writeGatewayConfig(home, BROKEN_GATEWAY)
    await startDaemonIn(home)
    const failed = await runCco(['launch', '--', ...PRINT_ENV], {home})
    expect(failed.code).to.equal(1)
    expect(failed.stderr).to.contain('❌ Error: LLM Gateway not available: Gateway port not set in PID file (LLM Gateway not running)')
    expect(failed.stderr).to.contain('   The gateway must be running for Claude Code to function.\n   Try: cco daemon restart')
  })

  it('case 3b: a gateway_port that does not answer counts as missing', async () => {
    const home = homes.make()
    const {gateway_port, port, pid} = await startDaemonIn(home)
    // A PID file that names the live daemon but a dead gateway port.
    const {writeFileSync} = await import('node:fs')
    const deadPort = gateway_port === 1 ? 2 : 1
    writeFileSync(`${home}/daemon.pid`, JSON.stringify({pid, started_at: new Date().toISOString(), port, gateway_port: deadPort, version: 'x'}))
    const r = await runCco(['launch', '--', ...PRINT_ENV], {home})
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain(`LLM Gateway not available: gateway on port ${deadPort} does not answer`)
  })

  // Once Phase 3 has removed the proxy module, asking for the proxy must say so clearly.
  ;(LEGACY_PROXY_INSTALLED ? it.skip : it)('without the proxy module: proxy flags -> exit 1, "no legacy proxy module installed"', async () => {
    const home = homes.make()
    writeFlags(home, {gatewayEnabled: false, proxyEnabled: true})
    await startDaemonIn(home)
    const r = await runCco(['launch', '--', ...PRINT_ENV], {home})
    expect(r.code).to.equal(1)
    expect(r.stdout).to.equal('')
    expect(r.stderr).to.contain('❌ Error: No legacy proxy module installed')
    expect(r.stderr).to.contain('no legacy proxy module is installed in this build').and.contain('cco daemon restart')
    // Both flags on and no gateway: the gateway's problem first, then the same explanation.
    writeFlags(home, {gatewayEnabled: true, proxyEnabled: true})
    writeGatewayConfig(home, BROKEN_GATEWAY)
    await runCco(['daemon', 'restart'], {home})
    const both = await runCco(['launch', '--', ...PRINT_ENV], {home})
    expect(both.code).to.equal(1)
    expect(both.stderr).to.contain('❌ Error: LLM Gateway not available: Gateway port not set in PID file').and.contain('no legacy proxy module is installed')
  })

  it('case 5: neither enabled -> exit 1 "No LLM routing mechanism enabled"', async () => {
    const home = homes.make()
    writeFlags(home, {gatewayEnabled: false, proxyEnabled: false})
    await startDaemonIn(home)
    const r = await runCco(['launch', '--', ...PRINT_ENV], {home})
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('❌ Error: No LLM routing mechanism enabled')
    expect(r.stdout).to.equal('')
  })

  it('passes the child\'s exit code through, and works without "--"', async () => {
    const home = homes.make()
    await startDaemonIn(home)
    const r = await runCco(['launch', process.execPath, '-e', 'process.exit(7)'], {home})
    expect(r.code).to.equal(7)
  })

  it('a missing command is a clear error with exit 127', async () => {
    const home = homes.make()
    await startDaemonIn(home)
    const r = await runCco(['launch', '--', 'cco-no-such-command-xyz'], {home})
    expect(r.code).to.equal(127)
    expect(r.stderr).to.contain('❌ Error: command not found: cco-no-such-command-xyz')
  })

  it('defaults to `claude` as the command', async () => {
    const home = homes.make()
    await startDaemonIn(home)
    // PATH without claude: the default command is looked up and reported.
    const r = await runCco(['launch'], {home, env: {PATH: '/nonexistent'}})
    expect(r.code).to.equal(127)
    expect(r.stderr).to.contain('command not found: claude')
  })

  it('forwards SIGTERM to the child and exits with the child\'s code', async () => {
    const home = homes.make()
    await startDaemonIn(home)
    const script = "process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(42) }); console.log('ready'); setInterval(() => {}, 1000)"
    const launcher = spawnCco(['launch', '--', process.execPath, '-e', script], {home})
    let out = ''
    launcher.stdout?.on('data', (c: Buffer) => (out += c.toString()))
    const exited = new Promise<number | null>((resolve) => launcher.on('close', (code) => resolve(code)))
    await waitFor(() => out.includes('ready'), 'the child to be ready')
    launcher.kill('SIGTERM')
    expect(await exited).to.equal(42)
    expect(out).to.contain('child got SIGTERM')
  })

  it('reports invalid flags instead of launching', async () => {
    const home = homes.make()
    writeFlags(home, {gatewayEnabled: 1})
    const r = await runCco(['launch', '--', ...PRINT_ENV], {home})
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('key "gatewayEnabled" must be true or false')
  })
})
