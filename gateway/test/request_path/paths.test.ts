import {expect} from 'chai'
import {jsonNestingExceeds} from '../../src/llm_gateway/json_scan.js'
import {modelIdOf, pathProblem} from '../../src/llm_gateway/paths.js'

describe('request path: paths the gateway accepts (issue 13 items 3, 9)', () => {
  it('accepts plain paths, one trailing slash and escapes of ordinary characters', () => {
    for (const p of ['/', '/v1/messages', '/v1/messages/', '/v1/messages/count_tokens', '/v1/models', '/v1/models/claude-sonnet-4-6', '/v1/models/claude%2D3', '/gateway/health', '/v1/models/claude-3.5', '/v1/models/..x', '/v1/models/x..']) {
      expect(pathProblem(p), p).to.equal(null)
    }
  })

  it('refuses dot segments (plain or encoded), encoded slashes and backslashes, backslashes, "//" and bad escapes', () => {
    const refused: Array<[string, RegExp]> = [
      ['/v1/models/../../_mock/requests', /"\.\." segment/],
      ['/v1/models/./x', /"\." segment/],
      ['/v1/models/%2e%2e/x', /"\.\." segment/],
      ['/v1/models/.%2E', /"\.\." segment/],
      ['/v1/models/%2E', /"\." segment/],
      ['/v1/models/..', /"\.\." segment/],
      ['/v1/models/a%2fb', /encoded "\/"/],
      ['/v1/models/a%5Cb', /encoded "\/" or "\\"/],
      ['/v1/models/a\\b', /backslash/],
      ['/v1//messages', /empty segment/],
      ['//', /empty segment/],
      ['/v1/messages//', /empty segment/],
      ['/v1/models/%ZZ', /malformed percent-escape/],
      ['/v1/models/%', /malformed percent-escape/],
      ['/v1/models/%C3%28', /not valid percent-encoded UTF-8/],
      ['/v1/models/%00', /NUL/],
    ]
    for (const [p, why] of refused) expect(pathProblem(p), p).to.match(why).and.match(/send the path as documented/)
  })

  it('model ids: one segment, decoded, of the characters real ids use', () => {
    expect(modelIdOf('claude-sonnet-4-6')).to.deep.equal({ok: true, id: 'claude-sonnet-4-6'})
    expect(modelIdOf('anthropic.claude-3-5-sonnet-20241022-v2%3A0')).to.deep.equal({ok: true, id: 'anthropic.claude-3-5-sonnet-20241022-v2:0'})
    for (const bad of ['%ZZ', 'a%2Fb', 'a%20b', '', '.x', '..', 'x'.repeat(257), '%C3%A9']) expect(modelIdOf(bad).ok, bad).to.equal(false)
  })
})

describe('request path: nesting depth of a JSON body (issue 13 item 9)', () => {
  it('counts array and object nesting, skipping string contents and escaped quotes', () => {
    const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
    expect(jsonNestingExceeds(Buffer.from(nest(256)), 256)).to.equal(false)
    expect(jsonNestingExceeds(Buffer.from(nest(257)), 256)).to.equal(true)
    expect(jsonNestingExceeds(Buffer.from(`{"a":"${'['.repeat(1000)}"}`), 256)).to.equal(false)
    expect(jsonNestingExceeds(Buffer.from(`{"a":"\\"${'{'.repeat(1000)}\\\\"}`), 256)).to.equal(false)
    expect(jsonNestingExceeds(Buffer.from(`{"a\\\\":${nest(300)}}`), 256)).to.equal(true)
    expect(jsonNestingExceeds(Buffer.from(`{"a":[{"b":[{"c":[1]}]}]}`), 6)).to.equal(false)
    expect(jsonNestingExceeds(Buffer.from(`{"a":[{"b":[{"c":[1]}]}]}`), 5)).to.equal(true)
    // An unterminated string: not judged here (JSON.parse answers it).
    expect(jsonNestingExceeds(Buffer.from(`{"a":"${'['.repeat(1000)}`), 256)).to.equal(false)
  })
})
