import {expect} from 'chai'
import fc from 'fast-check'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {ConfigError, ExitCode} from '../../../src/lib/errors.js'
import {evaluateCriterion} from '../../../src/lib/evaluate/index.js'
import {resolveWindow, toCriterionSpec} from '../../../src/lib/gate/index.js'
import {formatIssue, parsePlaybook} from '../../../src/lib/playbook/index.js'
import {windowOf} from '../../../src/lib/sources/types.js'
import {
  checkDuration,
  durationMs,
  DurationError,
  formatDuration,
  formatElapsed,
  humanDuration,
  parseDuration,
  parseFlagDuration,
} from '../../../src/lib/util/duration.js'

const FIXTURES = path.resolve('test/fixtures/playbooks')
const MINIMAL = readFileSync(path.join(FIXTURES, 'minimal.yaml'), 'utf8')
const DAY = 86_400_000

describe('util/duration: the one grammar', () => {
  it('reads single, compound and decimal durations', () => {
    expect(parseDuration('250ms')).to.equal(250)
    expect(parseDuration('30s')).to.equal(30_000)
    expect(parseDuration('15m')).to.equal(900_000)
    expect(parseDuration('24h')).to.equal(DAY)
    expect(parseDuration('4d')).to.equal(4 * DAY)
    expect(parseDuration('1w')).to.equal(7 * DAY)
    expect(parseDuration('1h30m')).to.equal(5_400_000)
    expect(parseDuration(' 2d12h ')).to.equal(2.5 * DAY)
    expect(parseDuration('1.5d')).to.equal(1.5 * DAY)
    expect(parseDuration('0.5s')).to.equal(500)
    expect(parseDuration('0s')).to.equal(0)
  })

  for (const bad of ['', '   ', '15', 'm', '15x', '-5m', '+5m', '15 m', '4days', '30m1h', '1h1h', '1.h', '.5s', 'abc']) {
    it(`refuses ${JSON.stringify(bad)} with a DurationError (exit 2) that names the expected form`, () => {
      let caught: unknown
      try {
        parseDuration(bad, {what: 'window'})
      } catch (error) {
        caught = error
      }
      expect(caught).to.be.instanceOf(DurationError)
      expect(caught).to.be.instanceOf(ConfigError)
      const error = caught as DurationError
      expect(error.message).to.match(/^window: /)
      expect(error.exit).to.equal(ExitCode.Usage)
      expect(error.code).to.equal('DURATION_INVALID')
      expect(error.suggestions.join(' ')).to.match(/ms, s, m, h, d or w/)
    })
  }

  it('says where the bad part is, and why', () => {
    expect(() => parseDuration('15x')).to.throw(/at "15x".*ms, s, m, h, d or w/)
    expect(() => parseDuration('1h15x')).to.throw(/at "15x"/)
    expect(() => parseDuration('30m1h')).to.throw(/largest to smallest/)
    expect(() => parseDuration('15')).to.throw(/add a unit, e\.g\. "15s"/)
    expect(() => parseDuration('-5m')).to.throw(/negative duration "-5m"/)
    expect(() => parseDuration(15 as unknown as string)).to.throw(DurationError, /must be a string/)
  })

  it('a sign only where an offset is meant', () => {
    expect(durationMs('-48h')).to.equal(-48 * 3_600_000)
    expect(durationMs('+24h')).to.equal(DAY)
    expect(parseDuration('-1h30m', {signed: true})).to.equal(-5_400_000)
    expect(Object.is(parseDuration('-0s', {signed: true}), 0)).to.equal(true)
    expect(checkDuration('-48h')).to.deep.equal({ok: false, reason: 'negative duration "-48h" (durations must be zero or more)'})
  })

  it('positive refuses a zero window; plain durations allow it', () => {
    expect(checkDuration('0s')).to.deep.equal({ok: true, ms: 0})
    expect(checkDuration('0s', {positive: true})).to.deep.equal({ok: false, reason: 'duration "0s" must be longer than 0'})
    expect(checkDuration('0.0001s', {positive: true}).ok).to.equal(false)
    expect(checkDuration('1ms', {positive: true})).to.deep.equal({ok: true, ms: 1})
  })

  it('a bare number is seconds for flags only, and the error names the flag', () => {
    expect(parseFlagDuration('30', '--wait')).to.equal(30_000)
    expect(parseFlagDuration('2.5', '--wait')).to.equal(2500)
    expect(parseFlagDuration('1m', '--wait')).to.equal(60_000)
    expect(() => parseDuration('30')).to.throw(DurationError)
    expect(() => parseFlagDuration('soon', '--interval')).to.throw(DurationError, /^--interval: "soon" is not a duration/)
    expect(() => parseFlagDuration('-3', '--wait')).to.throw(/^--wait: negative duration/)
  })

  it('refuses what would not fit in a safe integer', () => {
    expect(checkDuration(`${'9'.repeat(20)}w`)).to.deep.equal({ok: false, reason: `duration "${'9'.repeat(20)}w" is too large`})
  })

  it('formats to the canonical spelling, which reads back to the same milliseconds', () => {
    expect(formatDuration(0)).to.equal('0s')
    expect(formatDuration(900_000)).to.equal('15m')
    expect(formatDuration(5_400_000)).to.equal('1h30m')
    expect(formatDuration(1.5 * DAY)).to.equal('1d12h')
    expect(formatDuration(1500)).to.equal('1s500ms')
    expect(formatDuration(8 * DAY + 1)).to.equal('1w1d1ms')
    for (const text of ['15m', '4d', '1h30m', '2w3d', '250ms']) expect(formatDuration(parseDuration(text))).to.equal(text)
    fc.assert(fc.property(fc.integer({min: 0, max: 2 ** 45}), (ms) => parseDuration(formatDuration(ms)) === ms))
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => formatDuration(bad)).to.throw(DurationError)
  })

  it('formatElapsed writes measured times for people', () => {
    expect(formatElapsed(850)).to.equal('850ms')
    expect(formatElapsed(1234)).to.equal('1.23s')
    expect(formatElapsed(245_000)).to.equal('4m05s')
    expect(formatElapsed(7_800_000)).to.equal('2h10m')
  })

  it('humanDuration spells every part out', () => {
    expect(humanDuration('2d')).to.equal('2 days')
    expect(humanDuration('1h30m')).to.equal('1 hour 30 minutes')
    expect(humanDuration('1.5d')).to.equal('1.5 days')
    expect(humanDuration('-48h')).to.equal('-48 hours')
    expect(humanDuration('soon')).to.equal('soon')
  })

  describe('what playbook lint accepts, gonogo measures', () => {
    const parts = fc
      .uniqueArray(fc.constantFrom('w', 'd', 'h', 'm', 's', 'ms'), {minLength: 1, maxLength: 6})
      .chain((units) => {
        const order = ['w', 'd', 'h', 'm', 's', 'ms']
        const sorted = [...units].sort((a, b) => order.indexOf(a) - order.indexOf(b))
        return fc.tuple(...sorted.map((u) => fc.tuple(fc.oneof(fc.integer({min: 1, max: 99}).map(String), fc.tuple(fc.integer({min: 0, max: 9}), fc.integer({min: 1, max: 9})).map(([a, b]) => `${a}.${b}`)), fc.constant(u))))
      })
      .map((ps) => ps.map(([n, u]) => `${n}${u}`).join(''))

    function lintAndEvaluate(window: string): {issues: string[]; outcome?: string; windowMs?: number} {
      const result = parsePlaybook(MINIMAL.replace('window: 1h', `window: ${window}`), 'm.yaml', {baseDir: FIXTURES})
      const issues = result.issues.map(formatIssue)
      if (issues.length > 0 || !result.playbook) return {issues}
      const gate = result.playbook.gates[0]!
      const criterion = gate.criteria.find((c) => c.id === 'errors')!
      const now = new Date('2026-12-07T12:00:00Z')
      const spec = toCriterionSpec(criterion, resolveWindow(criterion.window, gate, null, now))
      const span = windowOf(spec, now)
      const outcome = evaluateCriterion(spec, {criterionId: spec.id, value: 0.5, samples: 100, windowStart: span.start.toISOString(), windowEnd: now.toISOString(), windowElapsed: true})
      return {issues, outcome: outcome.outcome, windowMs: span.ms}
    }

    it('any window the linter accepts evaluates (never an error outcome) over the same milliseconds', () => {
      fc.assert(
        fc.property(parts, (window) => {
          const {issues, outcome, windowMs} = lintAndEvaluate(window)
          const ms = checkDuration(window, {positive: true})
          if (!ms.ok) return issues.length > 0
          return issues.length === 0 && outcome === 'pass' && windowMs === ms.ms
        }),
        {numRuns: 200},
      )
    })

    it('1.5d lints and evaluates; 0s and 30m1h are refused by lint, not left for gonogo', () => {
      expect(lintAndEvaluate('1.5d')).to.deep.equal({issues: [], outcome: 'pass', windowMs: 1.5 * DAY})
      expect(lintAndEvaluate('0s').issues.join('\n')).to.contain('duration "0s" must be longer than 0')
      expect(lintAndEvaluate('30m1h').issues.join('\n')).to.contain('largest to smallest')
    })
  })
})
