import {expect} from 'chai'
import {createHash, randomBytes} from 'node:crypto'
import {createServer, type IncomingHttpHeaders, type Server} from 'node:http'
import {connect, type AddressInfo} from 'node:net'
import {http, LEGACY_PROXY_INSTALLED, readLog, startDaemonIn, TempHomes, waitFor, writeFlags, writeGatewayConfig} from '../helpers/cco.js'

interface Received {
  method: string
  url: string
  headers: IncomingHttpHeaders
  length: number
  sha256: string
}

/** A tiny upstream that records what it receives and answers with a JSON summary. */
async function startUpstream(): Promise<{server: Server; port: number; received: Received[]}> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const entry = {method: req.method ?? '', url: req.url ?? '', headers: req.headers, length: body.length, sha256: createHash('sha256').update(body).digest('hex')}
      received.push(entry)
      // Written in several chunks with transfer-encoding: chunked; the proxy must re-frame it whole.
      res.writeHead(201, {'content-type': 'application/json', 'x-upstream': 'yes'})
      res.write('{"ok":true,')
      setTimeout(() => res.end(`"length":${entry.length}}`), 20)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {server, port: (server.address() as AddressInfo).port, received}
}

/**
 * Sends an absolute-form request through the proxy (what HTTP_PROXY clients do), over a raw
 * socket: node:http would do, but HTTP interceptors other suites install (nock's) rewrite
 * absolute-form paths into an invalid URL ("Invalid URL"), so this stays below them.
 */
function viaProxy(proxyPort: number, target: string, opts: {method?: string; body?: Buffer; headers?: Record<string, string>} = {}) {
  return new Promise<{status: number; headers: IncomingHttpHeaders; body: string}>((resolve, reject) => {
    const body = opts.body ?? Buffer.alloc(0)
    const headers: Record<string, string> = {host: new URL(target).host, connection: 'close', 'content-length': String(body.length), ...opts.headers}
    const head = `${opts.method ?? 'GET'} ${target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`
    const socket = connect(proxyPort, '127.0.0.1', () => {
      // No half-close: node's HTTP server would drop a request whose client already sent FIN.
      socket.write(head)
      socket.write(body)
    })
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      const raw = Buffer.concat(chunks)
      const end = raw.indexOf('\r\n\r\n')
      if (end < 0) return reject(new Error(`no HTTP response from the proxy: ${JSON.stringify(raw.toString('utf8').slice(0, 200))}`))
      const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n')
      const parsed: IncomingHttpHeaders = {}
      for (const line of lines) {
        const i = line.indexOf(':')
        parsed[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
      }
      // The proxy always answers with content-length and connection: close.
      resolve({status: Number(statusLine.split(' ')[1]), headers: parsed, body: raw.subarray(end + 4).toString('utf8')})
    })
  })
}

/** Opens a CONNECT tunnel and returns the proxy's status line and the socket. */
function connectVia(proxyPort: number, target: string): Promise<{statusLine: string; socket: import('node:net').Socket; rest: Buffer}> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxyPort, '127.0.0.1', () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`))
    let buf = Buffer.alloc(0)
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c])
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      resolve({statusLine: buf.subarray(0, buf.indexOf('\r\n')).toString(), socket, rest: buf.subarray(end + 4)})
    }
    socket.on('data', onData)
    socket.on('error', reject)
  })
}

// Skips itself once Phase 3 of the cutover has removed gateway/src/proxy/.
;(LEGACY_PROXY_INSTALLED ? describe : describe.skip)('legacy HTTP proxy', function () {
  this.timeout(60_000)
  const homes = new TempHomes()
  let upstream: Awaited<ReturnType<typeof startUpstream>>
  let proxyPort: number
  let home: string

  before(async () => {
    upstream = await startUpstream()
    home = homes.make()
    writeFlags(home, {gatewayEnabled: true, proxyEnabled: true})
    writeGatewayConfig(home, {
      providers: {
        anthropic: {providerType: 'anthropic', baseUrl: 'https://api.anthropic.com'},
        local: {providerType: 'anthropic', baseUrl: `http://127.0.0.1:${upstream.port}`},
      },
      routing: {defaultProvider: 'anthropic'},
    })
    const started = await startDaemonIn(home)
    proxyPort = started.proxy_port as number
  })
  after(async () => {
    await homes.cleanup()
    upstream.server.close()
  })

  it('forwards an absolute-form request to a configured provider and returns the whole response', async () => {
    const res = await viaProxy(proxyPort, `http://127.0.0.1:${upstream.port}/v1/messages?beta=true`, {
      method: 'POST',
      body: Buffer.from('{"model":"claude"}'),
      headers: {'content-type': 'application/json', 'x-api-key': 'test-key', 'proxy-connection': 'keep-alive'},
    })
    expect(res.status).to.equal(201)
    expect(JSON.parse(res.body)).to.deep.equal({ok: true, length: 18})
    expect(res.headers['x-upstream']).to.equal('yes')
    // Buffered, not streamed: a content-length instead of chunked framing.
    expect(res.headers['content-length']).to.equal(String(res.body.length))
    expect(res.headers['transfer-encoding']).to.equal(undefined)
    const got = upstream.received.at(-1)!
    expect(got).to.include({method: 'POST', url: '/v1/messages?beta=true', length: 18})
    expect(got.headers['x-api-key']).to.equal('test-key')
    expect(got.headers['proxy-connection']).to.equal(undefined)
    expect(got.headers.connection).to.equal('close')
    // The log line is written when the upstream exchange completes, which may be just after the client has its answer.
    await waitFor(() => /Proxy: POST http:\/\/127\.0\.0\.1:\d+\/v1\/messages -> 201/.test(readLog(home)), 'the proxy log line of the forwarded request')
  })

  it('delivers a request body larger than 1 MiB whole (the old proxy truncated at 64 KB)', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17)
    const res = await viaProxy(proxyPort, `http://127.0.0.1:${upstream.port}/v1/messages`, {method: 'POST', body})
    expect(res.status).to.equal(201)
    const got = upstream.received.at(-1)!
    expect(got.length).to.equal(body.length)
    expect(got.sha256).to.equal(createHash('sha256').update(body).digest('hex'))
  })

  it('is not an open proxy: other hosts and other loopback ports get 403', async () => {
    const before = upstream.received.length
    for (const target of ['http://example.com/', `http://127.0.0.1:${upstream.port + 1 > 65535 ? 1 : upstream.port + 1}/v1/messages`, 'http://api.anthropic.com.evil.test/']) {
      const res = await viaProxy(proxyPort, target, {method: 'POST', body: Buffer.from('x')})
      expect(res.status, target).to.equal(403)
      expect(res.body).to.contain('is not allowed')
    }
    expect(upstream.received.length).to.equal(before)
    await waitFor(() => readLog(home).includes('Proxy: refused POST to example.com:80'), 'the proxy log line of the refusal')
  })

  it('tunnels CONNECT to an allowed host:port and refuses others with 403', async () => {
    const allowed = await connectVia(proxyPort, `127.0.0.1:${upstream.port}`)
    expect(allowed.statusLine).to.equal('HTTP/1.1 200 Connection Established')
    const response = await new Promise<string>((resolve) => {
      let text = allowed.rest.toString()
      allowed.socket.on('data', (c: Buffer) => (text += c.toString()))
      allowed.socket.on('end', () => resolve(text))
      allowed.socket.write('GET /tunnelled HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    })
    expect(response).to.match(/^HTTP\/1\.1 201/)
    expect(upstream.received.at(-1)!.url).to.equal('/tunnelled')

    const refused = await connectVia(proxyPort, 'example.com:443')
    expect(refused.statusLine).to.equal('HTTP/1.1 403 Forbidden')
    refused.socket.destroy()
  })

  it('rejects origin-form requests (it is a proxy, not a server)', async () => {
    const res = await http(`http://127.0.0.1:${proxyPort}/v1/messages`)
    expect(res.status).to.equal(400)
    expect(res.text).to.contain('absolute-form')
  })
})
