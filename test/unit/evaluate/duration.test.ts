import {expect} from 'chai'

import {DurationError, formatDuration, parseDuration} from '../../../src/lib/evaluate/index.js'

describe('evaluate/duration', () => {
  it('parses single and compound durations', () => {
    expect(parseDuration('250ms')).to.equal(250)
    expect(parseDuration('30s')).to.equal(30_000)
    expect(parseDuration('15m')).to.equal(900_000)
    expect(parseDuration('24h')).to.equal(86_400_000)
    expect(parseDuration('4d')).to.equal(4 * 86_400_000)
    expect(parseDuration('1w')).to.equal(7 * 86_400_000)
    expect(parseDuration('1h30m')).to.equal(5_400_000)
    expect(parseDuration(' 2d12h ')).to.equal(2.5 * 86_400_000)
    expect(parseDuration('0s')).to.equal(0)
  })

  for (const bad of ['', '   ', '15', 'm', '15x', '1.5h', '-5m', '15 m', '4days', '30m1h', '1h1h', 'abc']) {
    it(`rejects ${JSON.stringify(bad)} with a message naming the expected form`, () => {
      expect(() => parseDuration(bad)).to.throw(DurationError, /duration/)
    })
  }

  it('says where the bad part is and what units exist', () => {
    expect(() => parseDuration('15x')).to.throw(/at '15x'.*ms, s, m, h, d or w/)
    expect(() => parseDuration('30m1h')).to.throw(/largest to smallest/)
  })

  it('rejects non-strings from untyped callers', () => {
    expect(() => parseDuration(15 as unknown as string)).to.throw(DurationError, /must be a string/)
  })

  it('formats to the shortest spelling and round-trips', () => {
    expect(formatDuration(0)).to.equal('0s')
    expect(formatDuration(900_000)).to.equal('15m')
    expect(formatDuration(5_400_000)).to.equal('1h30m')
    expect(formatDuration(4 * 86_400_000)).to.equal('4d')
    expect(formatDuration(1500)).to.equal('1s500ms')
    for (const text of ['15m', '4d', '1h30m', '2w3d', '250ms']) expect(formatDuration(parseDuration(text))).to.equal(text)
  })

  it('refuses to format negative or fractional milliseconds', () => {
    expect(() => formatDuration(-1)).to.throw(DurationError)
    expect(() => formatDuration(1.5)).to.throw(DurationError)
    expect(() => formatDuration(Number.NaN)).to.throw(DurationError)
  })
})
