import {expect} from 'chai'
import net from 'node:net'
import {http, isAlive, readLog, readPid} from '../helpers/cco.js'
import {anthropicProvider, E2eWorld, type GatewayDaemon, MESSAGE_HEADERS, messageBody, type MockProcess} from './harness.js'

/*
 * Issue 13 item 1: one client that resets its socket must never take the daemon down. A real
 * daemon (gateway, control port, legacy proxy) in front of a real mock provider process; every
 * listener gets connections reset (RST, socket.resetAndDestroy()) at every stage: during the
 * request head, right after a refusal, mid-body, mid-SSE stream, inside a CONNECT tunnel, and
 * the upstream resets its side too. After each stage the same daemon process (and the mock) is
 * alive, never logged an uncaught exception and still serves a real request.
 *
 * Before the fix a refused CONNECT (403) followed by the client's reset killed the daemon with
 * an uncaught `read ECONNRESET` (the socket had left the HTTP server with no error listener).
 */

/** How a stage waits before it resets: after its bytes are flushed, or once the answer so far matches. */
type ResetWhen = {kind: 'flushed'} | {kind: 'received'; pattern: RegExp}

interface Step {
  write: string | Buffer
  /** When to go on to the next step (or reset, for the last one). */
  then: ResetWhen
}

/**
 * Opens a connection, runs the steps (write, then wait), and resets the socket (RST) after the last
 * one. Resolves with what the server had sent by then.
 */
function resetConnection(port: number, steps: Step[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let received = ''
    let waiting: {pattern: RegExp; go: () => void} | null = null
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`${what}: the server never sent what the stage waits for (got ${JSON.stringify(received.slice(0, 300))})`))
    }, 15_000)
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset from the server's side is part of some stages; a refused connection means the listener is gone.
      if (error.code !== 'ECONNREFUSED') return
      clearTimeout(timer)
      reject(new Error(`${what}: cannot connect to port ${port} (${error.code}): the process behind it is gone`))
    })
    socket.on('data', (c: Buffer) => {
      received += c.toString('latin1')
      if (waiting && waiting.pattern.test(received)) {
        const {go} = waiting
        waiting = null
        go()
      }
    })
    const run = (i: number): void => {
      if (i === steps.length) {
        clearTimeout(timer)
        socket.resetAndDestroy()
        resolve(received)
        return
      }
      const step = steps[i]!
      socket.write(step.write, () => {
        if (step.then.kind === 'flushed') return run(i + 1)
        if (step.then.pattern.test(received)) return run(i + 1)
        waiting = {pattern: step.then.pattern, go: () => run(i + 1)}
      })
    }
    socket.once('connect', () => run(0))
  })
}

const FLUSHED: ResetWhen = {kind: 'flushed'}
const answer = (pattern: RegExp): ResetWhen => ({kind: 'received', pattern})
/** A complete response head was received. */
const HEAD = answer(/\r\n\r\n/)
/** Node answers `Expect: 100-continue` once the head is parsed and the request is being handled. */
const CONTINUE = answer(/HTTP\/1\.1 100 Continue\r\n\r\n/)

describe('e2e: a client (or upstream) resetting its socket at any stage never takes the daemon down', function () {
  this.timeout(120_000)
  const world = new E2eWorld()
  let mock: MockProcess
  let daemon: GatewayDaemon
  let proxyPort: number
  let mockPort: number
  after(() => world.cleanup())

  before(async () => {
    mock = await world.mock()
    mockPort = Number(new URL(mock.url).port)
    daemon = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}}, {flags: {gatewayEnabled: true, proxyEnabled: true}})
    proxyPort = (readPid(daemon.home) as {proxy_port: number}).proxy_port
  })

  /** Same daemon process, no uncaught exception logged, every listener answers and a real request is served. */
  async function stillServing(stage: string): Promise<void> {
    expect(isAlive(daemon.pid), `${stage}: the daemon process died`).to.equal(true)
    expect((readPid(daemon.home) as {pid: number}).pid, `${stage}: the daemon was replaced`).to.equal(daemon.pid)
    const log = readLog(daemon.home)
    expect(log, `${stage}: ${log.split('\n').filter((l) => /uncaught|Fatal/i.test(l)).join('\n')}`).to.not.match(/uncaught exception|Fatal/i)
    // 503 is a valid answer too: the upstream-reset stages mark the provider unhealthy for a while.
    expect([200, 503], `${stage}: gateway health`).to.include((await http(`${daemon.url}/gateway/health`)).status)
    expect((await http(`http://127.0.0.1:${daemon.controlPort}/daemon/status`)).status, `${stage}: control port`).to.equal(200)
    const served = await http(`${daemon.url}/v1/messages`, {method: 'POST', headers: MESSAGE_HEADERS, body: messageBody()})
    expect(served.status, `${stage}: a real request after the resets: ${served.text.slice(0, 200)}`).to.equal(200)
    const viaProxy = await http(`http://127.0.0.1:${proxyPort}/`, {method: 'GET', headers: {host: 'refused.example'}})
    expect(viaProxy.status, `${stage}: the legacy proxy answers`).to.equal(400)
    expect(mock.child.exitCode, `${stage}: the mock provider died`).to.equal(null)
    expect((await http(`${mock.url}/_mock/health`)).status, `${stage}: mock health`).to.equal(200)
  }

  const body = messageBody()
  const messagesHead = (extra = '') => `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAnthropic-Version: 2023-06-01\r\nX-Api-Key: sk-ant-e2e-client-key-000000\r\n${extra}`
  const streamBody = messageBody({stream: true})

  /** Stages per listener: name -> [port, steps]. Each is run three times. */
  const stages = (): Array<{name: string; port: number; steps: Step[]; faults?: Record<string, unknown>}> => [
    // Gateway.
    {name: 'gateway: during the request head', port: daemon.gatewayPort, steps: [{write: 'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le', then: FLUSHED}]},
    {name: 'gateway: after a refusal (404)', port: daemon.gatewayPort, steps: [{write: 'GET /v1/nope HTTP/1.1\r\nHost: x\r\n\r\n', then: answer(/HTTP\/1\.1 404[\s\S]*\}$/)}]},
    {name: 'gateway: after a 413, body still being sent', port: daemon.gatewayPort, steps: [{write: `${messagesHead()}Content-Length: ${1024 * 1024 * 1024}\r\n\r\n{`, then: answer(/HTTP\/1\.1 413/)}]},
    {name: 'gateway: after a parser refusal (400)', port: daemon.gatewayPort, steps: [{write: 'GET /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}', then: answer(/HTTP\/1\.1 400/)}]},
    {name: 'gateway: mid-body', port: daemon.gatewayPort, steps: [{write: `${messagesHead('Expect: 100-continue\r\n')}Content-Length: ${body.length}\r\n\r\n`, then: CONTINUE}, {write: body.slice(0, 20), then: FLUSHED}]},
    {name: 'gateway: mid-SSE stream', port: daemon.gatewayPort, faults: {eventDelayMs: 200}, steps: [{write: `${messagesHead()}Content-Length: ${streamBody.length}\r\n\r\n${streamBody}`, then: answer(/event: message_start/)}]},
    {name: 'gateway: upstream resets before its headers', port: daemon.gatewayPort, faults: {resetBeforeHeaders: true}, steps: [{write: `${messagesHead()}Content-Length: ${body.length}\r\n\r\n${body}`, then: answer(/HTTP\/1\.1 502/)}]},
    {name: 'gateway: upstream cuts the stream, client resets', port: daemon.gatewayPort, faults: {cutStreamAfterEvents: 2, eventDelayMs: 50}, steps: [{write: `${messagesHead()}Content-Length: ${streamBody.length}\r\n\r\n${streamBody}`, then: answer(/event: message_start/)}]},
    {name: 'gateway: Upgrade: websocket, after the answer', port: daemon.gatewayPort, steps: [{write: 'GET /gateway/health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', then: FLUSHED}]},
    {name: 'gateway: CONNECT (not a proxy)', port: daemon.gatewayPort, steps: [{write: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', then: FLUSHED}]},
    // Control port.
    {name: 'control port: during the request head', port: daemon.controlPort, steps: [{write: 'GET /daemon/sta', then: FLUSHED}]},
    {name: 'control port: after an answer', port: daemon.controlPort, steps: [{write: 'GET /daemon/status HTTP/1.1\r\nHost: x\r\n\r\n', then: HEAD}]},
    {name: 'control port: after a refusal (404), mid-body', port: daemon.controlPort, steps: [{write: 'POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc', then: answer(/HTTP\/1\.1 404/)}]},
    {name: 'control port: Upgrade: websocket', port: daemon.controlPort, steps: [{write: 'GET /daemon/status HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', then: FLUSHED}]},
    {name: 'control port: CONNECT', port: daemon.controlPort, steps: [{write: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', then: FLUSHED}]},
    // Legacy proxy.
    {name: 'proxy: Upgrade: websocket', port: proxyPort, steps: [{write: `GET http://127.0.0.1:${mockPort}/_mock/health HTTP/1.1\r\nHost: 127.0.0.1:${mockPort}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`, then: FLUSHED}]},
    {name: 'proxy: during the request head', port: proxyPort, steps: [{write: `POST http://127.0.0.1:${mockPort}/v1/messages HTTP/1.1\r\nHo`, then: FLUSHED}]},
    {name: 'proxy: after a refused CONNECT (403)', port: proxyPort, steps: [{write: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', then: answer(/HTTP\/1\.1 403[\s\S]*\n$/)}]},
    {name: 'proxy: after a malformed CONNECT (400)', port: proxyPort, steps: [{write: 'CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n', then: answer(/HTTP\/1\.1 400[\s\S]*\n$/)}]},
    {name: 'proxy: CONNECT sent, reset before the answer', port: proxyPort, steps: [{write: `CONNECT 127.0.0.1:${mockPort} HTTP/1.1\r\nHost: 127.0.0.1:${mockPort}\r\n\r\n`, then: FLUSHED}]},
    {name: 'proxy: after a refused forward (403), body still being sent', port: proxyPort, steps: [{write: `POST http://refused.example/v1/messages HTTP/1.1\r\nHost: refused.example\r\nContent-Length: 100000\r\n\r\n{`, then: answer(/HTTP\/1\.1 403/)}]},
    {name: 'proxy: forward, mid-body', port: proxyPort, steps: [{write: `POST http://127.0.0.1:${mockPort}/v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${mockPort}\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`, then: CONTINUE}, {write: body.slice(0, 20), then: FLUSHED}]},
    {name: 'proxy: forward, upstream resets', port: proxyPort, faults: {resetBeforeHeaders: true}, steps: [{write: `POST http://127.0.0.1:${mockPort}/v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${mockPort}\r\nContent-Type: application/json\r\nX-Api-Key: k\r\nContent-Length: ${body.length}\r\n\r\n${body}`, then: answer(/HTTP\/1\.1 502/)}]},
    {name: 'proxy: forward, waiting for the buffered answer', port: proxyPort, faults: {eventDelayMs: 200}, steps: [{write: `POST http://127.0.0.1:${mockPort}/v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${mockPort}\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nX-Api-Key: k\r\nContent-Length: ${streamBody.length}\r\n\r\n`, then: CONTINUE}, {write: streamBody, then: FLUSHED}]},
    {
      name: 'proxy: mid-CONNECT tunnel (request half sent)',
      port: proxyPort,
      steps: [
        {write: `CONNECT 127.0.0.1:${mockPort} HTTP/1.1\r\nHost: 127.0.0.1:${mockPort}\r\n\r\n`, then: answer(/200 Connection Established\r\n\r\n/)},
        {write: `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`, then: FLUSHED},
      ],
    },
    {
      name: 'proxy: mid-SSE stream inside a CONNECT tunnel',
      port: proxyPort,
      faults: {eventDelayMs: 200},
      steps: [
        {write: `CONNECT 127.0.0.1:${mockPort} HTTP/1.1\r\nHost: 127.0.0.1:${mockPort}\r\n\r\n`, then: answer(/200 Connection Established\r\n\r\n/)},
        {write: `${messagesHead()}Content-Length: ${streamBody.length}\r\n\r\n${streamBody}`, then: answer(/event: message_start/)},
      ],
    },
    {
      name: 'proxy: upstream resets inside a CONNECT tunnel',
      port: proxyPort,
      faults: {resetBeforeHeaders: true},
      steps: [
        {write: `CONNECT 127.0.0.1:${mockPort} HTTP/1.1\r\nHost: 127.0.0.1:${mockPort}\r\n\r\n`, then: answer(/200 Connection Established\r\n\r\n/)},
        {write: `${messagesHead()}Content-Length: ${body.length}\r\n\r\n${body}`, then: FLUSHED},
      ],
    },
    // Mock provider (its own process).
    {name: 'mock provider: during the request head', port: mockPort, steps: [{write: 'POST /v1/messages HTTP/1.1\r\nHo', then: FLUSHED}]},
    {name: 'mock provider: mid-body', port: mockPort, steps: [{write: `${messagesHead('Expect: 100-continue\r\n')}Content-Length: ${body.length}\r\n\r\n`, then: CONTINUE}, {write: body.slice(0, 20), then: FLUSHED}]},
    {name: 'mock provider: mid-SSE stream', port: mockPort, faults: {eventDelayMs: 200}, steps: [{write: `${messagesHead()}Content-Length: ${streamBody.length}\r\n\r\n${streamBody}`, then: answer(/event: message_start/)}]},
    {name: 'mock provider: after a refusal (404)', port: mockPort, steps: [{write: 'POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc', then: answer(/HTTP\/1\.1 404/)}]},
    {name: 'mock provider: Upgrade: websocket', port: mockPort, steps: [{write: 'GET /_mock/health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', then: FLUSHED}]},
    {name: 'mock provider: CONNECT', port: mockPort, steps: [{write: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', then: FLUSHED}]},
  ]

  it('every stage of every listener, three times each: same daemon, no uncaught exception, still serving', async () => {
    for (const stage of stages()) {
      await mock.setFaults(stage.faults ?? {})
      for (let i = 0; i < 3; i++) await resetConnection(stage.port, stage.steps, stage.name)
      await mock.setFaults({})
      await stillServing(stage.name)
    }
  })

  it('regression: `curl -p -x` to a refused host (403, then the client resets) leaves the daemon running', async () => {
    for (let i = 0; i < 4; i++) {
      const seen = await resetConnection(proxyPort, [{write: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: curl/8.5.0\r\n\r\n', then: answer(/HTTP\/1\.1 403[\s\S]*\n$/)}], 'refused CONNECT')
      expect(seen).to.match(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*cco legacy proxy: forwarding to example\.com:443 is not allowed/)
    }
    await stillServing('refused CONNECT then reset')
  })
})
