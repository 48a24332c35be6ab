import {expect} from 'chai'

import {ConfigError} from '../../../src/lib/errors.js'
import {formatDuration, parseDuration} from '../../../src/lib/util/duration.js'
import {canonicalJson, hashJson} from '../../../src/lib/util/hash.js'
import {redactText, redactValue} from '../../../src/lib/util/redact.js'

describe('util', () => {
  it('parseDuration: units, compound, bare seconds; errors name the flag', () => {
    expect(parseDuration('250ms')).to.equal(250)
    expect(parseDuration('30s')).to.equal(30_000)
    expect(parseDuration('15m')).to.equal(900_000)
    expect(parseDuration('1h30m')).to.equal(5_400_000)
    expect(parseDuration('3d')).to.equal(259_200_000)
    expect(parseDuration('2.5')).to.equal(2500)
    expect(() => parseDuration('soon', '--interval')).to.throw(ConfigError, /--interval: "soon" is not a duration/)
    expect(() => parseDuration('10x')).to.throw(ConfigError)
    expect(() => parseDuration('')).to.throw(ConfigError)
  })

  it('formatDuration', () => {
    expect(formatDuration(850)).to.equal('850ms')
    expect(formatDuration(1234)).to.equal('1.23s')
    expect(formatDuration(245_000)).to.equal('4m05s')
    expect(formatDuration(7_800_000)).to.equal('2h10m')
  })

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
