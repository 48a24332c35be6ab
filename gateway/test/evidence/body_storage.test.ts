import {expect} from 'chai'
import fc from 'fast-check'
import {BodyPartCache, redactSecrets, redactSecretsReference, restoreRequestBody, storedRequestBody} from '../../src/llm_gateway/audit.js'

/** Words that make the secret patterns fire (and near-misses), glued with separators that matter to them. */
const FRAGMENTS = [
  'key', 'KEY', 'api', 'api_key', 'x-api-key', 'apikey', 'token', 'Token', 'max_tokens', 'secret', 'client_secret', 'password',
  'passwd', 'authorization', 'Authorization', 'Bearer', 'basic', 'sk-ant-', 'sk-', 'abcdef0123456789ABCDEF', '[REDACTED]', 'OPENAI_',
  'session', 'id', 'private', 'tokenkey', 'secretoken', '=', ':', ': ', '"', "'", '\\"', '\\', ' ', '\n', ',', ';', '}', '{', '-', '_', '&', '<', 'é', '🔑',
]
const text = fc.array(fc.constantFrom(...FRAGMENTS), {maxLength: 40}).map((parts) => parts.join(''))

describe('evidence/audit: redaction fast path and request-body storage', () => {
  it('redactSecrets equals the plain global-regex chain on adversarial text', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(redactSecrets(t)).to.equal(redactSecretsReference(t))
      }),
      {numRuns: 5000},
    )
  })

  it('redactSecrets equals the plain chain on JSON bodies with planted secrets', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('api_key', 'x-api-key', 'token', 'password', 'OPENAI_API_KEY')), fc.oneof(fc.jsonValue(), text)), (obj) => {
        const json = JSON.stringify(obj)
        expect(redactSecrets(json)).to.equal(redactSecretsReference(json))
      }),
      {numRuns: 1000},
    )
  })

  /** A Claude-Code-shaped body whose system prompt and tools carry secrets of every kind. */
  function bodyWith(secretText: string, variant: number): Buffer {
    return Buffer.from(
      JSON.stringify({
        model: 'claude-sonnet-4-5',
        messages: [{role: 'user', content: `turn ${variant}: use api_key=sk-ant-api03-${'q'.repeat(20)} please`}],
        system: [{type: 'text', text: `You are Claude Code. ${secretText} `.repeat(60)}, {type: 'text', text: `"password": "hunter2-${variant % 2}"`}],
        tools: Array.from({length: 4}, (_, i) => ({name: `T${i}`, description: `Authorization: Bearer abcdefgh${i} ${secretText}`.repeat(10), input_schema: {type: 'object'}})),
        metadata: {user_id: 'u'},
        max_tokens: 100,
        stream: variant % 3 === 0,
      }),
    )
  }

  it('a body stored with its system prompt and tools cut out reads back as the redacted body, byte for byte', () => {
    const cache = new BodyPartCache()
    const stored = new Map<string, string>()
    fc.assert(
      fc.property(text, fc.nat(5), (secretText, variant) => {
        const body = bodyWith(secretText, variant)
        const {text: rest, parts} = storedRequestBody(body, 4 * 1024 * 1024, cache)
        expect(parts, 'system and tools are stored apart').to.have.length(2)
        // Ids as the store would assign them (one per distinct content).
        const ids = parts!.map(({offset, part}) => {
          stored.set(part.hash, part.text)
          return [offset, [...stored.keys()].indexOf(part.hash)]
        })
        const texts = [...stored.values()]
        const restored = restoreRequestBody(rest, JSON.stringify(ids), (id) => texts[id])
        expect(restored).to.equal(redactSecretsReference(body.toString('utf8')))
      }),
      {numRuns: 300},
    )
  })

  it('repeated system prompts and tools are one cached part each; small or unusual bodies are stored whole', () => {
    const cache = new BodyPartCache()
    const a = storedRequestBody(bodyWith('x', 1), 4 * 1024 * 1024, cache)
    const b = storedRequestBody(bodyWith('x', 3), 4 * 1024 * 1024, cache)
    expect(b.parts!.map((p) => p.part)).to.deep.equal(a.parts!.map((p) => p.part))
    expect(b.parts![0]!.part).to.equal(a.parts![0]!.part)
    expect(storedRequestBody(Buffer.from('{"model":"m","messages":[]}'), 1000, cache)).to.deep.equal({text: '{"model":"m","messages":[]}', parts: null})
    expect(storedRequestBody(Buffer.from('not json '.repeat(200)), 4000, cache).parts).to.equal(null)
    // Over the cap: stored whole and cut, as before.
    const big = bodyWith('y', 2)
    const capped = storedRequestBody(big, 2000, cache)
    expect(capped.parts).to.equal(null)
    expect(capped.text).to.match(/…\[truncated \d+ characters\]$/)
  })
})
