import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {http, readLog, runCco} from '../helpers/cco.js'
import {anthropicProvider, E2eWorld, MESSAGE_HEADERS, postMessages, waitForTotal} from './harness.js'

/*
 * A unique key planted in x-api-key, in Authorization: Bearer and in body fields reaches the
 * upstream (the test proves it) but is found nowhere the gateway writes or answers: audit.db
 * (and its -wal/-shm), daemon.log, and the output of every endpoint.
 */

describe('e2e: secrets never reach the audit log, the daemon log or any endpoint', function () {
  this.timeout(60_000)
  const world = new E2eWorld()
  after(() => world.cleanup())

  it('a planted key is redacted everywhere', async () => {
    const secret = randomBytes(16).toString('hex')
    const key = `sk-ant-api03-${secret}`
    const mock = await world.mock()
    const daemon = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}})

    const body = (stream: boolean) =>
      JSON.stringify({
        model: 'claude-sonnet-4-6',
        max_tokens: 64,
        stream,
        // As Claude Code sends them: a tool call that read a .env file, and its result.
        messages: [
          {role: 'user', content: `Deploy with ANTHROPIC_API_KEY=${key} please`},
          {role: 'assistant', content: [{type: 'tool_use', id: 'toolu_1', name: 'configure', input: {api_key: key, password: secret}}]},
          {role: 'user', content: [{type: 'tool_result', tool_use_id: 'toolu_1', content: `x-api-key: ${key}\nAuthorization: Bearer ${key}`}]},
        ],
        tools: [{name: 'configure', description: 'configure', input_schema: {type: 'object', properties: {api_key: {type: 'string'}}}}],
      })
    const viaApiKey = {...MESSAGE_HEADERS, 'x-api-key': key}
    const viaBearer = {'content-type': 'application/json', 'anthropic-version': '2023-06-01', authorization: `Bearer ${key}`}
    const results = await Promise.all([postMessages(daemon, body(false), viaApiKey), postMessages(daemon, body(true), viaApiKey), postMessages(daemon, body(false), viaBearer), postMessages(daemon, body(true), viaBearer)])
    expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200, 200])
    // Malformed JSON carrying the key, and a count_tokens call: recorded too.
    expect((await postMessages(daemon, `{"api_key": "${key}", "broken`, viaApiKey)).status).to.equal(400)
    expect((await http(`${daemon.url}/v1/messages/count_tokens`, {method: 'POST', headers: viaBearer, body: body(false)})).status).to.equal(200)

    // Not vacuous: the key really went through (the client's own credential is passed to an Anthropic provider without apiKeyRef).
    const seen = await mock.requests()
    expect(seen.filter((r) => r.headers['x-api-key'] === key)).to.have.length(2)
    expect(seen.filter((r) => r.headers.authorization === `Bearer ${key}`)).to.have.length(3)
    expect(seen.every((r) => r.body.includes(secret))).to.equal(true)

    await waitForTotal(daemon, 6)
    const outputs: Record<string, string> = {}
    for (const path of ['/gateway/metrics', '/gateway/metrics?window=1h', '/gateway/audit?include_bodies=true&limit=1000', '/metrics', '/gateway/health', '/gateway/providers']) {
      const r = await http(`${daemon.url}${path}`)
      expect(r.status, path).to.equal(200)
      outputs[path] = r.text
    }
    // Bodies are logged (default) and redacted, not dropped.
    const rows = (JSON.parse(outputs['/gateway/audit?include_bodies=true&limit=1000']!) as {entries: Array<{request_body: string | null}>}).entries
    expect(rows.filter((r) => r.request_body?.includes('[REDACTED]'))).to.have.length(6)
    outputs['/daemon/status'] = (await http(`http://127.0.0.1:${daemon.controlPort}/daemon/status`)).text
    outputs['cco daemon status --json'] = (await runCco(['daemon', 'status', '--json'], {home: daemon.home})).stdout

    // The files byte for byte: while running (audit.db-wal holds the recent rows), then after a stop (checkpointed).
    const gatewayDir = join(daemon.home, 'gateway')
    const readFiles = (when: string) => {
      const files = readdirSync(gatewayDir).map((f) => join(gatewayDir, f))
      for (const file of [...files, join(daemon.home, 'daemon.log')].filter((f) => existsSync(f))) outputs[`${file} (${when})`] = readFileSync(file).toString('latin1')
      return files
    }
    expect(readFiles('running').some((f) => f.endsWith('audit.db-wal'))).to.equal(true)
    expect((await runCco(['daemon', 'stop'], {home: daemon.home})).code).to.equal(0)
    expect(readFiles('stopped').some((f) => f.endsWith('audit.db'))).to.equal(true)
    expect(readLog(daemon.home)).to.contain('Routing request')

    const leaks = Object.entries(outputs)
      .filter(([, text]) => text.includes(secret))
      .map(([where]) => where)
    expect(leaks, 'places where the planted key was found').to.deep.equal([])
  })
})
