import {expect} from 'chai'
import {createLogger, formatLogLine, logValue, redact} from '../../src/daemon/log.js'

describe('daemon log', () => {
  it('masks API keys, bearer tokens and secret values', () => {
    const samples = [
      'x-api-key: sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
      'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijkl',
      '{"api_key": "abcdef123456ghijkl"}',
      'api-key=0123456789abcdef0123456789abcdef',
      'openai key sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX',
      'token=ghp_abcdefghijklmnopqrstuvwxyz012345',
    ]
    for (const sample of samples) {
      const masked = redact(sample)
      expect(masked, sample).to.contain('***')
      for (const secret of ['AbCdEfGhIjKlMnOp', 'eyJzdWIiOiIxIn0', 'abcdef123456ghijkl', '0123456789abcdef0123456789abcdef', 'ABCDEFGHIJKLMNOPQRSTUVWX', 'ghp_abcdefghijkl']) {
        expect(masked).to.not.contain(secret)
      }
    }
  })

  it('leaves ordinary lines alone', () => {
    for (const line of [
      'Routing request: agent_type=code-reviewer, provider=anthropic, reason=agent_rule:code-reviewer',
      '✅ LLM Gateway started on port 41234',
      'Provider deepseek: API key env var DEEPSEEK_API_KEY is not set (provider unhealthy)',
    ]) {
      expect(redact(line)).to.equal(line)
    }
  })

  it('timestamps every line (including continuation lines) with ISO time and level', () => {
    const lines: string[] = []
    const log = createLogger((line) => lines.push(line))
    log.warn('first\nsecond')
    expect(lines).to.have.length(1)
    const [a, b] = lines[0]!.trimEnd().split('\n')
    expect(a).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z WARN {2}first$/)
    expect(b).to.match(/Z WARN {2}second$/)
    expect(formatLogLine('ERROR', 'x', new Date(0))).to.equal('1970-01-01T00:00:00.000Z ERROR x\n')
  })
})

describe('logValue: client-supplied values in log lines (issue 13 item 7)', () => {
  it('keeps plain tokens as they are (agent_type=main stays greppable)', () => {
    for (const v of ['main', 'code-reviewer', 'agent_rule:code-reviewer', 'api.anthropic.com:443', '/v1/messages', 'claude-sonnet-4-6', 'http://127.0.0.1:8080/v1/messages']) expect(logValue(v)).to.equal(v)
  })

  it('quotes anything else, escaping quotes, backslashes and every control character', () => {
    expect(logValue('a b')).to.equal('"a b"')
    expect(logValue('')).to.equal('""')
    expect(logValue('x, provider=evil')).to.equal('"x, provider=evil"')
    expect(logValue('say "hi" \\ bye')).to.equal('"say \\"hi\\" \\\\ bye"')
    expect(logValue('a\nb\rc\td')).to.equal('"a\\nb\\rc\\td"')
    expect(logValue('\u0000\u001b[31m\u007f\u0085\u009b\u2028\u2029\u202e')).to.equal('"\\u0000\\u001b[31m\\u007f\\u0085\\u009b\\u2028\\u2029\\u202e"')
    expect(logValue(42)).to.equal('42')
  })

  it('never lets a value end the line or forge another one; long values are cut', () => {
    const forged = 'x\n2026-12-08T00:00:00.000Z INFO  🚀 cco daemon 9.9.9 starting (pid 1)'
    const line = formatLogLine('INFO', `Routing request: agent_type=${logValue(forged)}, provider=a`)
    expect(line.split('\n')).to.have.length(2)
    expect(line.endsWith('\n')).to.equal(true)
    const long = logValue('y '.repeat(1000))
    expect(long).to.match(/^"(y ){100}\.\.\." \(2000 chars\)$/)
  })
})

describe('daemon control endpoint peer check', () => {
  it('treats only loopback peers as local', async () => {
    const {isLoopback} = await import('../../src/daemon/control.js')
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address), address).to.equal(true)
    for (const address of ['10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'fe80::1', undefined]) expect(isLoopback(address), String(address)).to.equal(false)
  })
})
