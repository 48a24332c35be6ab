import {expect} from 'chai'
import {request} from 'node:http'
import {readLog, waitFor} from '../helpers/cco.js'
import {anthropicProvider, audit, E2eWorld, type GatewayDaemon, MESSAGE_HEADERS, messageBody, type MockProcess} from './harness.js'

/*
 * Issue 13 items 3, 7 and 9 against a real daemon in front of a real mock provider process:
 * path escapes never reach the provider, client mistakes are 400s in Anthropic's envelope (never
 * a 500 or a stack trace in the log), and client-chosen values cannot forge or split log lines.
 */

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: {type?: string; error?: {type?: string; message?: string}} | undefined
}

/** A request whose path is sent exactly as given (no URL parsing, like curl --path-as-is). */
function send(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, method, path, headers, agent: false, timeout: 20_000}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: Reply['json']
        try {
          json = JSON.parse(text) as Reply['json']
        } catch {
          json = undefined
        }
        resolve({status: res.statusCode ?? 0, headers: res.headers, text, json})
      })
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer`)))
    req.on('error', reject)
    req.end(body)
  })
}

function expectInvalidRequest(r: Reply, what: string): void {
  expect(r.status, `${what}: ${r.text.slice(0, 300)}`).to.equal(400)
  expect(r.json?.type, `${what}: not Anthropic's envelope: ${r.text.slice(0, 300)}`).to.equal('error')
  expect(r.json?.error?.type, what).to.equal('invalid_request_error')
  expect(r.json?.error?.message, what).to.be.a('string').and.not.equal('')
}

const API_HEADERS = {'anthropic-version': '2023-06-01', 'x-api-key': MESSAGE_HEADERS['x-api-key']}

describe('e2e: hostile requests (issue 13 items 3, 4, 7, 9)', function () {
  this.timeout(90_000)
  const world = new E2eWorld()
  let mock: MockProcess
  /** Anthropic provider at the mock's root; an OpenAI-format (translated) one for agent "translated". */
  let daemon: GatewayDaemon
  /** The same mock behind a baseUrl with a path prefix. */
  let prefixed: GatewayDaemon
  after(() => world.cleanup())

  before(async () => {
    mock = await world.mock()
    daemon = await world.startDaemon({
      providers: {
        anthropic: anthropicProvider(mock.url, {modelMap: {'claude-opus-4-1': 'claude-opus-mapped'}}),
        translated: {providerType: 'ollama', api: 'openai', baseUrl: mock.url, defaultModel: 'llama3', maxRetries: 0},
        picky: {providerType: 'ollama', api: 'openai', baseUrl: mock.url, models: ['llama3'], maxRetries: 0},
      },
      routing: {defaultProvider: 'anthropic', agentRules: {translated: 'translated', picky: 'picky'}, fallbackChain: ['anthropic']},
    })
    prefixed = await world.startDaemon({providers: {anthropic: anthropicProvider(`${mock.url}/prefix/`)}, routing: {defaultProvider: 'anthropic'}})
  })

  describe('item 3: path escapes are refused (400) and never reach the provider', () => {
    const escapes = [
      '/v1/models/../../_mock/requests',
      '/v1/models/../../../v1/models',
      '/v1/models/%2e%2e/%2e%2e/_mock/requests',
      '/v1/models/.%2E/.%2e/_mock/requests',
      '/v1/models/..%2f..%2f_mock%2frequests',
      '/v1/models/%2F_mock%2Frequests',
      '/v1/models/..\\..\\_mock\\requests',
      '/v1/models/..%5c..%5c_mock',
      '/v1/models/./claude-sonnet-4-6',
      '/v1//models',
      '/v1/models//x',
      '/v1/messages/../models',
      '/gateway/../v1/models',
    ]

    it('GET /v1/models/../../_mock/requests and its encodings -> 400 invalid_request_error; the provider sees no request', async () => {
      for (const d of [daemon, prefixed]) {
        await mock.clearRequests()
        for (const path of escapes) expectInvalidRequest(await send(d.gatewayPort, 'GET', path, API_HEADERS), `GET ${path}`)
        for (const path of ['/v1/messages/../messages', '/v1/messages/%2e', '/v1//messages']) expectInvalidRequest(await send(d.gatewayPort, 'POST', path, {...API_HEADERS, 'content-type': 'application/json'}, messageBody()), `POST ${path}`)
        expect((await mock.requests()).map((r) => r.path)).to.deep.equal([])
      }
    })

    it('a model id is forwarded as one encoded segment under the baseUrl prefix, nothing else', async () => {
      await mock.clearRequests()
      const r = await send(daemon.gatewayPort, 'GET', '/v1/models/claude-sonnet-4-6', API_HEADERS)
      expect(r.status, r.text).to.equal(200)
      expect(r.json).to.deep.include({type: 'model', id: 'claude-sonnet-4-6'})
      // The prefixed provider: the path stays under /prefix (the mock answers 404 there, which is forwarded).
      await send(prefixed.gatewayPort, 'GET', '/v1/models/claude-sonnet-4-6', API_HEADERS)
      await send(prefixed.gatewayPort, 'GET', '/v1/models?limit=2', API_HEADERS)
      expect((await mock.requests()).map((r) => r.path)).to.deep.equal(['/v1/models/claude-sonnet-4-6', '/prefix/v1/models/claude-sonnet-4-6', '/prefix/v1/models?limit=2'])
      // An id that is not one plain segment is refused, not forwarded.
      await mock.clearRequests()
      for (const id of ['a%20b', '%3Cscript%3E', 'a%3Fb', '%C3%A9t%C3%A9']) expectInvalidRequest(await send(daemon.gatewayPort, 'GET', `/v1/models/${id}`, API_HEADERS), `GET /v1/models/${id}`)
      expect(await mock.requests()).to.deep.equal([])
    })
  })

  describe('item 9: client mistakes are 400s in the envelope, never a 500 or a stack trace', () => {
    it('GET /v1/models/%ZZ (and other malformed escapes) -> 400', async () => {
      for (const d of [daemon, prefixed]) {
        for (const path of ['/v1/models/%ZZ', '/v1/models/%', '/v1/models/%E0%A4%A', '/v1/models/%C3%28', '/v1/messages%ZZ']) {
          expectInvalidRequest(await send(d.gatewayPort, 'GET', path, API_HEADERS), `GET ${path}`)
        }
      }
      // The mock provider answers its own 400 too (it decoded the id unguarded and dropped the connection).
      const r = await send(Number(new URL(mock.url).port), 'GET', '/v1/models/%ZZ', API_HEADERS)
      expect(r.status, r.text).to.equal(400)
    })

    it('deeply nested JSON to a translated (OpenAI-format) provider -> 400, no stack overflow in the log', async () => {
      const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
      const bodies = [
        `{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":{"a":${deep(100_000)}}}]}]}`,
        `{"model":"claude-sonnet-4-6","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"n","input_schema":{"type":"object","x":${deep(100_000)}}}]}`,
        `{"model":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"x"}],"metadata":${deep(100_000)}}`,
        `{"model":"claude-sonnet-4-6","max_tokens":16,"messages":${deep(5_000)}}`,
      ]
      const headers = {...API_HEADERS, 'content-type': 'application/json', 'x-cco-agent-type': 'translated'}
      for (const [i, body] of bodies.entries()) {
        for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
          const r = await send(daemon.gatewayPort, 'POST', path, headers, body)
          expectInvalidRequest(r, `body ${i} to ${path}`)
          expect(r.json?.error?.message).to.match(/nests arrays\/objects deeper than \d+ levels/)
        }
      }
      // A normal body on the same route is translated and served.
      await mock.clearRequests()
      const ok = await send(daemon.gatewayPort, 'POST', '/v1/messages', {...headers, authorization: 'Bearer x'}, JSON.stringify({model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{role: 'user', content: [{type: 'text', text: 'hi'}]}], metadata: {a: [[[[1]]]]}}))
      expect(ok.status).to.be.oneOf([200, 401])
      expect((await mock.requests()).map((r) => r.path)).to.deep.equal(['/v1/chat/completions'])
      const log = readLog(daemon.home)
      expect(log).to.not.match(/RangeError|Maximum call stack|internal gateway error/)
      expect(log.split('\n').filter((l) => /^\S+ ERROR\s+\s*at /.test(l))).to.deep.equal([])
    })
  })

  describe('item 7: client-chosen values are quoted and escaped in daemon.log', () => {
    it('x-cco-agent-type with spaces, quotes and a fake field is one quoted value of the routing line', async () => {
      const agent = 'x "daemon" starting, provider=evil, reason=forged'
      const r = await send(daemon.gatewayPort, 'POST', '/v1/messages', {...API_HEADERS, 'content-type': 'application/json', 'x-cco-agent-type': agent}, messageBody())
      expect(r.status, r.text).to.equal(200)
      const line = await waitFor(() => readLog(daemon.home).split('\n').find((l) => l.includes('Routing request: agent_type="x')), 'the routing line')
      expect(line).to.match(/ INFO {2}Routing request: agent_type="x \\"daemon\\" starting, provider=evil, reason=forged", provider=anthropic, reason=default$/)
      // Plain agent names stay as they were (agent_type=main is what log readers grep for).
      await send(daemon.gatewayPort, 'POST', '/v1/messages', {...API_HEADERS, 'content-type': 'application/json'}, messageBody())
      await waitFor(() => readLog(daemon.home).includes('Routing request: agent_type=main, provider=anthropic, reason=default'), 'the plain routing line')
    })

    it('control characters a header can carry (TAB, C1 controls as latin1 bytes) are escaped, never written raw', async () => {
      const r = await send(daemon.gatewayPort, 'POST', '/v1/messages', {...API_HEADERS, 'content-type': 'application/json', 'x-cco-agent-type': 'tab\there\x85nel\x9bcsi'}, messageBody())
      expect(r.status, r.text).to.equal(200)
      const line = await waitFor(() => readLog(daemon.home).split('\n').find((l) => l.includes('Routing request: agent_type="tab')), 'the routing line')
      // (node:http sends the string's UTF-8 bytes; the server reads header bytes as latin1: "\x85" arrives as "\xc2\x85".)
      for (const part of ['agent_type="tab\\there', '\\u0085nel', '\\u009bcsi", provider=anthropic']) expect(line, JSON.stringify(line)).to.include(part)
      expect(line).to.not.match(/[\t\x85\x9b]/)
    })

    it('a forged daemon start line in a header stays inside the quoted value: the daemon\'s own start line is the only one at a line start', async () => {
      const fake = 'cco daemon 9.9.9 starting (pid 1, home /tmp/fakestart)'
      const r = await send(daemon.gatewayPort, 'POST', '/v1/messages', {...API_HEADERS, 'content-type': 'application/json', 'x-cco-agent-type': fake}, messageBody())
      expect(r.status, r.text).to.equal(200)
      await waitFor(() => readLog(daemon.home).includes('fakestart'), 'the routing line')
      const lines = readLog(daemon.home).split('\n').filter((l) => l !== '')
      for (const l of lines) expect(l).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR) /)
      expect(lines.filter((l) => /^\S+ INFO {2}🚀 cco daemon \S+ starting/.test(l))).to.have.length(1)
      expect(lines.filter((l) => l.includes('fakestart'))).to.deep.equal([lines.find((l) => l.includes(`agent_type="${fake}", provider=anthropic`))])
    })
  })

  describe('item 4: modelMap applies to the model key however it is written', () => {
    /** Sends a raw body; returns what the provider received and what the audit row says was served. */
    async function servedVersusAudited(raw: string): Promise<{sent: string; sentModels: unknown; audited: unknown}> {
      await mock.clearRequests()
      const r = await send(daemon.gatewayPort, 'POST', '/v1/messages', {...API_HEADERS, 'content-type': 'application/json'}, raw)
      expect(r.status, r.text).to.equal(200)
      const [seen] = await mock.requests()
      const id = String(r.headers['x-gateway-request-id'])
      const row = await waitFor(async () => (await audit(daemon, 'limit=20')).entries.find((e) => e.request_id === id), `the audit row of ${id}`)
      return {sent: seen!.body, sentModels: (JSON.parse(seen!.body) as {model: unknown}).model, audited: row.model_served}
    }

    it('"mod\\u0065l" is renamed like "model": the provider gets the mapped model the audit row records', async () => {
      const raw = '{"mod\\u0065l":"claude-opus-4-1","max_tokens":16,"messages":[{"role":"user","content":"x"}]}'
      const {sent, sentModels, audited} = await servedVersusAudited(raw)
      expect(sentModels).to.equal('claude-opus-mapped')
      expect(audited).to.equal('claude-opus-mapped')
      expect(sent).to.not.include('claude-opus-4-1')
    })

    it('duplicate model keys (plain and escaped) all carry the one model that was decided and audited', async () => {
      for (const raw of [
        '{"model":"claude-opus-4-1","mod\\u0065l":"claude-sonnet-4-6","max_tokens":16,"messages":[{"role":"user","content":"x"}]}',
        '{"mod\\u0065l":"claude-sonnet-4-6","model":"claude-opus-4-1","max_tokens":16,"messages":[{"role":"user","content":"x"}]}',
        '{"model":"claude-sonnet-4-6","max_tokens":16,"model":"claude-opus-4-1","messages":[{"role":"user","content":"x"}]}',
      ]) {
        const {sent, sentModels, audited} = await servedVersusAudited(raw)
        expect(sentModels, raw).to.equal(audited)
        // Whatever occurrence the provider's parser keeps, it reads the audited model.
        const occurrences = [...sent.matchAll(/"mod(?:el|\\u0065l)"\s*:\s*"([^"]*)"/g)].map((m) => m[1])
        expect(occurrences.length, sent).to.equal(2)
        expect(new Set(occurrences), sent).to.deep.equal(new Set([audited]))
      }
    })
  })
})
