import {expect} from 'chai'

import {canonicalJson, hashJson} from '../../../src/lib/util/hash.js'
import {redactText, redactValue} from '../../../src/lib/util/redact.js'

describe('util', () => {
  it('canonicalJson sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({b: 1, a: {d: [3, {z: 1, y: 2}], c: undefined}})).to.equal('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}')
    expect(hashJson({a: 1, b: 2})).to.equal(hashJson({b: 2, a: 1}))
    expect(hashJson({a: 1})).to.not.equal(hashJson({a: 2}))
  })

  it('redaction masks secret-named keys and key-like values, not token counts', () => {
    expect(redactValue({authorization: 'Bearer xyz123456789', input_tokens: 12, apiKeyRef: 'ANTHROPIC_API_KEY'})).to.deep.equal({
      authorization: '[redacted]',
      input_tokens: 12,
      apiKeyRef: 'ANTHROPIC_API_KEY',
    })
    expect(redactText('using sk-ant-api03-abcdefghijklmnop now')).to.equal('using [redacted] now')
    expect(redactText('pw=hunter2hunter2', ['hunter2hunter2'])).to.equal('pw=[redacted]')
  })
})
