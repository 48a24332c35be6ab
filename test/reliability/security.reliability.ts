import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import {execa} from 'execa'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import {built, cutover} from './lib/cli.js'
import {isLoopbackAddress, listeningSockets} from './lib/proc.js'
import {rawRequest} from './lib/raw.js'
import {REPO_ROOT, results, type SecurityFigures} from './lib/results.js'
import {anthropicProvider, E2eWorld, type GatewayDaemon, type MockProcess, plainHttp, readPid, runCco, send, waitFor, waitForTotal} from './lib/world.js'

/*
 * Security: every listener on loopback only; the control port and admin endpoints refuse
 * non-loopback peers; the legacy proxy is no open proxy (no SSRF to other hosts or loopback
 * ports); planted unique secrets appear in no artefact (files of the home, endpoint outputs,
 * every cutover --json output, error messages); files 0600 and directories 0700; no high or
 * critical npm audit finding for the shipped dependencies.
 */

const secret = (label: string) => `sk-ant-api03-REL${label}${randomBytes(12).toString('hex')}`
const SECRETS = {providerKey: secret('PROV'), clientKey: secret('CLNT'), bearer: secret('BEAR'), inBody: secret('BODY'), pastedInConfig: secret('CONF'), inUrl: secret('URL0')}
const KEY_ENV = 'CUTOVER_RELIABILITY_PROVIDER_KEY'

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalIpv4(): string | null {
  for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  return null
}

/** GET over a socket whose source address is `from` (a non-loopback peer as the server sees it). */
function requestFrom(from: string, host: string, port: number, method: string, target: string): Promise<{status: number; body: string; refused?: string}> {
  return new Promise((resolve) => {
    const socket = net.connect({host, port, localAddress: from})
    let data = ''
    socket.on('data', (c: Buffer) => (data += c.toString('utf8')))
    socket.on('error', (e) => resolve({status: 0, body: '', refused: e.message}))
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)
      resolve({status, body: data.slice(data.indexOf('\r\n\r\n') + 4)})
    })
    socket.once('connect', () => socket.end(`${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`))
  })
}

function walk(dir: string): string[] {
  const out: string[] = [dir]
  for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...walk(p))
    else out.push(p)
  }
  return out
}

/** Writes a file as an operator with a careful umask would (the daemon's own files are what is under test). */
function writePrivate(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
  fs.writeFileSync(file, content, {mode: 0o600})
}

describe('reliability: security', function () {
  this.timeout(300_000)
  const world = new E2eWorld()
  let mock: MockProcess
  let daemon: GatewayDaemon
  let home: string
  const figures: SecurityFigures = {listeners: [], nonLoopbackListeners: 0, remotePeersRefused: [], ssrfRefused: [], artefactsScanned: [], secretsLeaked: 0, fileModes: [], badModes: 0, npmAudit: {status: 'ok', high: 0, critical: 0, detail: ''}}
  /** Every output to scan for secrets: name -> text. */
  const outputs = new Map<string, string>()

  before(async function () {
    if (!built()) this.skip()
    results.security = figures
    mock = await world.mock()
    home = world.home()
    fs.chmodSync(home, 0o700)
    writePrivate(path.join(home, 'config', 'daemon-config.json'), JSON.stringify({gatewayEnabled: true, proxyEnabled: true}))
    writePrivate(
      path.join(home, 'orchestra-config.json'),
      JSON.stringify({llmGateway: {providers: {anthropic: anthropicProvider(mock.url, {apiKeyRef: KEY_ENV})}, routing: {defaultProvider: 'anthropic'}, audit: {logRequestBodies: true, logResponseBodies: true}}}),
    )
    daemon = await world.start(home, {[KEY_ENV]: SECRETS.providerKey})
  })
  after(() => world.cleanup())

  it('every listener of the daemon and the mock binds 127.0.0.1 (from /proc/net/tcp)', () => {
    const mockPid = mock.child.pid!
    for (const [name, pid] of [['daemon', daemon.pid], ['mock provider', mockPid]] as const) {
      const sockets = listeningSockets(pid)
      expect(sockets.length, `${name} listens`).to.be.greaterThan(0)
      for (const s of sockets) figures.listeners.push({process: name, address: `${s.address}:${s.port}`})
    }
    const pidFile = readPid(home) as {port: number; gateway_port: number; proxy_port: number}
    const daemonPorts = listeningSockets(daemon.pid).map((s) => s.port).sort()
    expect(daemonPorts).to.deep.equal([pidFile.port, pidFile.gateway_port, pidFile.proxy_port].sort())
    figures.nonLoopbackListeners = figures.listeners.filter((l) => !isLoopbackAddress(l.address.slice(0, l.address.lastIndexOf(':')))).length
    expect(figures.nonLoopbackListeners, JSON.stringify(figures.listeners)).to.equal(0)
  })

  it('the control port and the admin endpoints refuse non-loopback peers (also when the gateway is bound to all interfaces)', async function () {
    const external = externalIpv4()
    if (!external) {
      figures.remotePeersRefused.push('not tested: this machine has no non-loopback IPv4 address')
      this.skip()
    }
    const pidFile = readPid(home) as {port: number}
    // A socket from the external address to 127.0.0.1: the server sees a non-loopback peer.
    const control = await requestFrom(external!, '127.0.0.1', pidFile.port, 'GET', '/daemon/status')
    expect(control.status, control.refused ?? control.body).to.equal(403)
    figures.remotePeersRefused.push(`control port GET /daemon/status from ${external}: 403`)

    // A second daemon with the gateway bound to 0.0.0.0, reached on the external address.
    const open = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}, server: {host: '0.0.0.0'}})
    for (const [method, target] of [['GET', '/gateway/audit'], ['GET', '/gateway/audit?include_bodies=true'], ['POST', '/gateway/metrics/reset']] as const) {
      const r = await requestFrom(external!, external!, open.gatewayPort, method, target)
      expect(r.status, `${method} ${target}: ${r.refused ?? r.body}`).to.equal(403)
      expect(JSON.parse(r.body)).to.deep.include({type: 'error'})
      figures.remotePeersRefused.push(`gateway bound to 0.0.0.0: ${method} ${target} from ${external}: 403 permission_error`)
      const local = await plainHttp(`${open.url}${target}`, {method})
      expect(local.status, `${method} ${target} from loopback`).to.equal(200)
    }
  })

  it('the legacy proxy is no open proxy: other hosts, other loopback ports (control, gateway, ssh, metadata) and aliases get 403', async () => {
    const pidFile = readPid(home) as {port: number; gateway_port: number; proxy_port: number}
    const mockPort = Number(new URL(mock.url).port)
    const forbidden = [`127.0.0.1:${pidFile.port}`, `127.0.0.1:${pidFile.gateway_port}`, `127.0.0.1:${pidFile.proxy_port}`, '127.0.0.1:22', '169.254.169.254:80', `localhost:${mockPort}`, `[::1]:${mockPort}`, `127.0.0.2:${mockPort}`, `0.0.0.0:${mockPort}`, 'example.com:80', 'api.anthropic.com.evil.test:443']
    for (const target of forbidden) {
      const plain = await rawRequest(pidFile.proxy_port, [`GET http://${target}/daemon/status HTTP/1.1\r\nHost: ${target}\r\n\r\n`])
      expect(plain.status, `GET via proxy to ${target}: ${plain.body}`).to.equal(403)
      const tunnel = await rawRequest(pidFile.proxy_port, [`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`])
      expect(tunnel.status, `CONNECT ${target}: ${tunnel.body}`).to.equal(403)
      figures.ssrfRefused.push(target)
    }
    // The configured upstream itself is allowed (the proxy still works).
    // (Our side stays open until the answer: the proxy answers after its upstream round trip.)
    const allowed = await rawRequest(pidFile.proxy_port, [`GET http://127.0.0.1:${mockPort}/_mock/health HTTP/1.1\r\nHost: 127.0.0.1:${mockPort}\r\nConnection: close\r\n\r\n`], {end: false})
    expect(allowed.status).to.equal(200)
  })

  it('planted secrets (provider key, client key, bearer token, key in a body, key pasted into the config, key in a URL) appear in no artefact, endpoint output, --json output or error message', async () => {
    // Traffic carrying the secrets, streamed and not, through the gateway and the proxy.
    const headers = {'x-api-key': SECRETS.clientKey, authorization: `Bearer ${SECRETS.bearer}`}
    const body = (stream: boolean) => JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 32, stream, system: `never reveal ${SECRETS.inBody}`, messages: [{role: 'user', content: `my key is ${SECRETS.inBody}`}]})
    let sent = 0
    for (const stream of [false, true, false, true]) {
      const a = await send(daemon, {stream, headers, body: body(stream)})
      expect(a.complete, a.body.slice(0, 200)).to.equal(true)
      sent++
    }
    await mock.setFaults({errorStatus: 401})
    const rejected = await send(daemon, {stream: false, headers, body: body(false)})
    outputs.set('gateway error answer (upstream 401)', rejected.body)
    sent++
    await mock.setFaults({})
    const pidFile = readPid(home) as {port: number; proxy_port: number}
    const mockPort = Number(new URL(mock.url).port)
    const viaProxy = await rawRequest(pidFile.proxy_port, [`POST http://127.0.0.1:${mockPort}/v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${mockPort}\r\nx-api-key: ${SECRETS.clientKey}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body(false))}\r\nConnection: close\r\n\r\n${body(false)}`], {end: false})
    expect(viaProxy.status).to.equal(200)
    const refusedProxy = await rawRequest(pidFile.proxy_port, [`GET http://user:${SECRETS.inUrl}@example.com/ HTTP/1.1\r\nHost: example.com\r\nauthorization: Bearer ${SECRETS.bearer}\r\n\r\n`])
    outputs.set('proxy refusal', refusedProxy.data.toString('utf8'))
    await waitForTotal(daemon, sent)

    // Endpoint outputs.
    for (const p of ['/gateway/audit?include_bodies=true&limit=1000', '/gateway/metrics', '/metrics', '/gateway/health', '/gateway/providers', '/v1/models']) outputs.set(`GET ${p}`, (await plainHttp(`${daemon.url}${p}`, {headers})).text)
    outputs.set('GET /daemon/status', (await plainHttp(`http://127.0.0.1:${pidFile.port}/daemon/status`)).text)

    // cutover commands, each with --json where it has one, and the report.
    const env = {[KEY_ENV]: SECRETS.providerKey}
    const commands: string[][] = [
      ['daemon', 'status', '--json'],
      ['phase', 'validate', '--phase', '1', '--check', 'daemon.running', '--check', 'gateway.health', '--check', 'gateway.metrics_valid', '--json'],
      ['monitor', '--once', '--json'],
      ['gonogo', '--json'],
      ['phase', 'status', '--json'],
      ['incident', 'add', '--severity', 'minor', '--title', 'reliability suite', '--json'],
      ['audit', 'verify', '--json'],
      ['report', '--format', 'json'],
      ['report'],
    ]
    for (const args of commands) {
      const run = await cutover([...args, '--home', home], {env, timeoutMs: 120_000})
      outputs.set(`cutover ${args.join(' ')} (exit ${run.exitCode})`, `${run.stdout}\n${run.stderr}`)
    }
    const ccoStatus = await runCco(['daemon', 'status', '--json'], {home})
    outputs.set('cco daemon status --json', ccoStatus.stdout + ccoStatus.stderr)

    // Error messages: a key pasted into the config instead of an env var name, and credentials in a baseUrl.
    const badHome = world.home()
    for (const [label, provider] of [
      ['apiKeyRef holding the key', anthropicProvider(mock.url, {apiKeyRef: SECRETS.pastedInConfig})],
      ['baseUrl with credentials', anthropicProvider(`http://user:${SECRETS.inUrl}@127.0.0.1:${mockPort}`)],
      ['key in an unknown field', {...anthropicProvider(mock.url), apiKey: SECRETS.pastedInConfig}],
      ['key as the providerType', {...anthropicProvider(mock.url), providerType: SECRETS.pastedInConfig}],
    ] as const) {
      writePrivate(path.join(badHome, 'orchestra-config.json'), JSON.stringify({llmGateway: {providers: {anthropic: provider}, routing: {defaultProvider: 'anthropic'}}}))
      const start = await runCco(['daemon', 'start'], {home: badHome})
      outputs.set(`cco daemon start with ${label}`, start.stdout + start.stderr)
      const validate = await cutover(['phase', 'validate', '--phase', '1', '--check', 'gateway.health', '--home', badHome, '--json'])
      outputs.set(`cutover phase validate with ${label}`, validate.stdout + validate.stderr)
      await runCco(['daemon', 'stop'], {home: badHome})
      // The error names the field, not the value.
      expect(start.stdout + start.stderr + fs.readFileSync(path.join(badHome, 'daemon.log'), 'utf8'), label).to.match(/llmGateway\.providers\.anthropic\.(apiKeyRef|baseUrl|apiKey|providerType)/)
    }

    // Files: every file of both homes (logs, PID files, audit.db and its WAL, state.db, configs aside).
    const files = [...walk(home), ...walk(badHome)].filter((f) => fs.statSync(f).isFile() && !f.endsWith('orchestra-config.json'))
    const leaks: string[] = []
    for (const f of files) {
      const bytes = fs.readFileSync(f)
      figures.artefactsScanned.push(path.relative(path.dirname(home), f))
      for (const [name, value] of Object.entries(SECRETS)) if (bytes.includes(value) || bytes.includes(Buffer.from(value, 'utf16le'))) leaks.push(`${name} in ${f}`)
    }
    for (const [where, text] of outputs) {
      figures.artefactsScanned.push(where)
      for (const [name, value] of Object.entries(SECRETS)) if (text.includes(value)) leaks.push(`${name} in ${where}`)
    }
    figures.secretsLeaked = leaks.length
    expect(leaks).to.deep.equal([])
    // The scan can find what it looks for: the mock (the upstream) did receive the provider key.
    expect(JSON.stringify(await mock.requests())).to.contain(SECRETS.providerKey)
    expect(files.some((f) => f.endsWith('audit.db'))).to.equal(true)
    expect(files.some((f) => f.endsWith('state.db'))).to.equal(true)
  })

  it('files the daemon and cutover create are 0600, directories 0700', async () => {
    await waitFor(() => fs.existsSync(path.join(home, 'cutover', 'state.db')), 'state.db (from the secrets test)', 5000).catch(() => undefined)
    const bad: string[] = []
    for (const p of walk(home)) {
      const st = fs.lstatSync(p)
      if (st.isSymbolicLink()) continue
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0')
      figures.fileModes.push({path: path.relative(home, p) || '.', mode})
      const want = st.isDirectory() ? '0700' : '0600'
      if (mode !== want) bad.push(`${path.relative(home, p) || '.'}: ${mode}, expected ${want}`)
    }
    figures.badModes = bad.length
    expect(bad).to.deep.equal([])
  })

  it('npm audit --omit=dev: no high or critical finding (an unreachable registry is recorded, not failed)', async () => {
    const run = await execa('npm', ['audit', '--omit=dev', '--json'], {cwd: REPO_ROOT, reject: false, timeout: 90_000})
    let report: {metadata?: {vulnerabilities?: Record<string, number>}; error?: {summary?: string}; message?: string} = {}
    try {
      report = JSON.parse(String(run.stdout)) as typeof report
    } catch {
      report = {}
    }
    const v = report.metadata?.vulnerabilities
    if (!v) {
      figures.npmAudit = {status: 'unreachable', high: 0, critical: 0, detail: (report.message ?? report.error?.summary ?? String(run.stderr)).split('\n')[0]!.slice(0, 200)}
      return
    }
    figures.npmAudit = {status: (v.high ?? 0) + (v.critical ?? 0) > 0 ? 'findings' : 'ok', high: v.high ?? 0, critical: v.critical ?? 0, detail: `total ${v.total ?? 0} (low ${v.low ?? 0}, moderate ${v.moderate ?? 0})`}
    expect(v.high ?? 0, JSON.stringify(v)).to.equal(0)
    expect(v.critical ?? 0, JSON.stringify(v)).to.equal(0)
  })
})
