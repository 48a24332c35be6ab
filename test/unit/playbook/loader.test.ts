import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {ConfigError, ExitCode} from '../../../src/lib/errors.js'
import {
  catalogOf,
  defaultPlaybookPath,
  durationMs,
  formatIssue,
  lintPlaybookFile,
  loadPlaybook,
  parsePlaybook,
  PlaybookError,
  type PlaybookIssue,
} from '../../../src/lib/playbook/index.js'

const FIXTURES = path.resolve('test/fixtures/playbooks')
const fixture = (name: string) => path.join(FIXTURES, name)
const MINIMAL = readFileSync(fixture('minimal.yaml'), 'utf8')

/** Parse the minimal fixture with one text replacement (which must apply). */
function mutate(from: string, to: string): ReturnType<typeof parsePlaybook> {
  expect(MINIMAL, `fixture contains ${JSON.stringify(from)}`).to.contain(from)
  return parsePlaybook(MINIMAL.replace(from, to), 'm.yaml', {baseDir: FIXTURES})
}

function only(issues: PlaybookIssue[]): PlaybookIssue {
  expect(issues.map(formatIssue)).to.have.length(1)
  return issues[0] as PlaybookIssue
}

describe('playbook loader', () => {
  it('accepts the seed playbook and the minimal fixture', async () => {
    const seed = await lintPlaybookFile(defaultPlaybookPath())
    expect(seed.issues.map(formatIssue)).to.deep.equal([])
    expect(seed.valid).to.equal(true)
    const minimal = await loadPlaybook(fixture('minimal.yaml'))
    expect(minimal.phases.map((p) => p.number)).to.deep.equal([1, 2])
    // Optional lists default to empty; optional sections stay absent.
    expect(minimal.phases[0]?.apply).to.deep.equal([])
    expect(minimal.rollback_triggers).to.deep.equal([])
    expect(minimal.timeline).to.equal(undefined)
  })

  it('malformed YAML: reports the parser error with line and column', async () => {
    const result = await lintPlaybookFile(fixture('malformed.yaml'))
    expect(result.valid).to.equal(false)
    const issue = only(result.issues)
    expect(issue.file).to.match(/malformed\.yaml$/)
    expect([issue.line, issue.col]).to.deep.equal([6, 3])
    expect(issue.message).to.match(/^invalid YAML: Flow sequence .* must be sufficiently indented and end with a \]/)
    expect(formatIssue(issue)).to.match(/malformed\.yaml:6:3: invalid YAML: /)
  })

  it('unknown check id: names the id, suggests the closest known one, points at the value', async () => {
    const result = await lintPlaybookFile(fixture('unknown-check.yaml'))
    const issue = only(result.issues)
    expect(formatIssue(issue)).to.equal(
      'test/fixtures/playbooks/unknown-check.yaml:14:13: phases[0].checks[0].id: unknown check "gatway.health" (did you mean "gateway.health"?)',
    )
  })

  it('unknown check id without a near match lists the known checks', () => {
    const issue = only(mutate('- id: gateway.health', '- id: totally.different').issues)
    expect(issue.message).to.match(/^unknown check "totally\.different"; known checks: .*gateway\.health/)
  })

  it('validates check ids against the catalog passed in', () => {
    const result = parsePlaybook(MINIMAL, 'm.yaml', {baseDir: FIXTURES, catalog: catalogOf(['gateway.health'])})
    const issue = only(result.issues)
    expect(issue.path).to.equal('phases[1].checks[0].id')
    expect(issue.message).to.contain('unknown check "proxy.not_listening"')
  })

  it('unknown field: error at the key, with the suggestion and the allowed fields', async () => {
    const issue = only((await lintPlaybookFile(fixture('unknown-field.yaml'))).issues)
    expect([issue.line, issue.col, issue.path]).to.deep.equal([20, 5, 'phases[1].min_duraton'])
    expect(issue.message).to.match(/^unknown field "min_duraton" \(did you mean "min_duration"\?\); a phase takes: id, number, title, goal, /)
  })

  it('wrong type: says what was expected and what was found', async () => {
    const issue = only((await lintPlaybookFile(fixture('wrong-type.yaml'))).issues)
    expect(formatIssue(issue)).to.equal('test/fixtures/playbooks/wrong-type.yaml:17:13: phases[1].number: expected an integer >= 1, got the string "two"')
    const version = only(mutate('version: "0.1"', 'version: 0.1').issues)
    expect([version.line, version.col]).to.deep.equal([3, 10])
    expect(version.message).to.equal('expected a version string (quote numbers: "1.0"), got the number 0.1 (quote it to keep it as text)')
  })

  it('threshold out of range: percent above 100 (fixture), ratio above 1, negative ms', async () => {
    const issue = only((await lintPlaybookFile(fixture('out-of-range.yaml'))).issues)
    expect([issue.line, issue.col, issue.path]).to.deep.equal([50, 20, 'gates[0].criteria[0].threshold'])
    expect(issue.message).to.equal('threshold 150 is out of range for unit "percent": a percentage from 0 to 100')

    const ratio = only(mutate('        threshold: 1\n        unit: percent', '        threshold: 1.5\n        unit: ratio').issues)
    expect(ratio.message).to.equal('threshold 1.5 is out of range for unit "ratio": a ratio is a fraction from 0 to 1 (99.9% = 0.999)')
    const ms = only(mutate('statistic: ratio\n        window: 1h\n        operator: \'<\'\n        threshold: 1\n        unit: percent', 'statistic: avg\n        window: 1h\n        operator: \'<\'\n        threshold: -5\n        unit: ms').issues)
    expect(ms.message).to.equal('threshold -5 is out of range for unit "ms": a ms value cannot be negative')
  })

  it('negative and malformed durations', () => {
    const negative = only(mutate('rto: 30s', 'rto: -30s').issues)
    expect(negative.path).to.equal('phases[1].rollback[0].rto')
    expect(negative.message).to.equal('negative duration "-30s" (durations must be zero or more)')
    const unitless = only(mutate('window: 1h', 'window: 60').issues)
    expect(unitless.message).to.equal('expected a duration longer than 0, such as "30s", "10m" or "2d", got the number 60 (add a unit, e.g. "60s")')
    const bad = only(mutate('window: 1h', 'window: soon').issues)
    expect(bad.message).to.match(/^"soon" is not a duration/)
    expect(durationMs('2d')).to.equal(172_800_000)
    expect(durationMs('-48h')).to.equal(-172_800_000)
  })

  it('reports every problem, sorted by position, not just the first', async () => {
    const result = await lintPlaybookFile(fixture('many-errors.yaml'))
    expect(result.issues.map((i) => `${i.line}:${i.col} ${i.path}`)).to.deep.equal([
      '2:10 version',
      '12:19 phases[0].min_duration',
      '14:13 phases[0].checks[0].id',
      '17:9 phases[0].checks[1].requird',
    ])
  })

  it('missing required field: reported at the enclosing map', () => {
    const issue = only(mutate("    goal: The gateway answers.\n", '').issues)
    expect([issue.line, issue.col, issue.path]).to.deep.equal([8, 5, 'phases[0]'])
    expect(issue.message).to.equal('missing required field "goal" (expected a string)')
  })

  it('cross-references: unknown phase in a gate, duplicate ids, unknown check in a validate step, missing script', () => {
    expect(only(mutate('    to: 2', '    to: 5').issues).message).to.equal('no phase number 5 (phases: 1, 2)')
    const dup = only(mutate('  - id: switch', '  - id: check').issues)
    expect(dup.path).to.equal('phases[1].id')
    expect(dup.message).to.match(/^duplicate id "check" \(already used by phases\[0\] at line 8\)/)
    expect(only(mutate('title: Validate}', 'title: Validate, checks: [gateway.health]}').issues).message).to.match(/^phase 2 has no check named "gateway.health"/)
    const script = only(mutate('path: scripts/smoke.mjs', 'path: scripts/nope.mjs').issues)
    expect(script.path).to.equal('phases[1].apply[1].path')
    expect(script.message).to.match(/^script "scripts\/nope\.mjs" not found/)
    expect(only(mutate('type: set_flags, title: Proxy off', 'type: set_flag, title: Proxy off').issues).message).to.equal(
      'unknown type "set_flag" (did you mean "set_flags"?); expected one of: set_flags, daemon, git, run, script, validate, manual',
    )
  })

  it('bands must be contiguous and match the threshold', () => {
    const seed = readFileSync(defaultPlaybookPath(), 'utf8')
    const from = 'bands: {no_action_below: 25, alert_between: [25, 50], rollback_above: 50}\n    action: rollback'
    expect(seed).to.contain(from)
    const gap = parsePlaybook(seed.replace(from, from.replace('[25, 50]', '[30, 50]')), 'seed.yaml', {baseDir: path.dirname(defaultPlaybookPath())})
    expect(gap.issues.map((i) => i.message)).to.deep.equal(['bands must leave no gap: alert_between must start at no_action_below and end at rollback_above'])
    const off = parsePlaybook(seed.replace(from, from.replace('rollback_above: 50', 'rollback_above: 60').replace('[25, 50]', '[25, 60]')), 'seed.yaml', {
      baseDir: path.dirname(defaultPlaybookPath()),
    })
    expect(off.issues.map((i) => i.message)).to.deep.equal(['threshold (50) must equal bands.rollback_above (60)'])
  })

  it('communication placeholders must be declared and used', () => {
    const seed = readFileSync(defaultPlaybookPath(), 'utf8')
    const broken = parsePlaybook(seed.replace('Known issues: {{known_issues}}', 'Known issues: {{known_isues}}'), 'seed.yaml', {baseDir: path.dirname(defaultPlaybookPath())})
    expect(broken.issues.map((i) => i.message)).to.deep.equal([
      'placeholder {{known_isues}} is used but not declared under "placeholders"',
      'placeholder "known_issues" is declared but never used in subject or body',
    ])
  })

  it('an empty file and a non-map document are clear errors', () => {
    expect(only(parsePlaybook('', 'e.yaml').issues).message).to.match(/^the file is empty; expected a playbook/)
    expect(only(parsePlaybook('- a\n- b\n', 'l.yaml').issues).message).to.equal('expected a playbook, got a list')
  })

  it('loadPlaybook throws a PlaybookError: a ConfigError (exit 2) listing file:line:col', async () => {
    try {
      await loadPlaybook(fixture('many-errors.yaml'))
      expect.fail('should have thrown')
    } catch (error) {
      expect(error).to.be.instanceOf(PlaybookError)
      expect(error).to.be.instanceOf(ConfigError)
      const e = error as PlaybookError
      expect(e.exit).to.equal(ExitCode.Usage)
      expect(e.issues).to.have.length(4)
      expect(e.message).to.contain('test/fixtures/playbooks/many-errors.yaml:14:13: phases[0].checks[0].id: unknown check "gateway.helth"')
    }
  })

  it('a missing file is a ConfigError naming the file', async () => {
    try {
      await loadPlaybook(fixture('does-not-exist.yaml'))
      expect.fail('should have thrown')
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError)
      expect((error as Error).message).to.match(/cannot read playbook .*does-not-exist\.yaml: no such file/)
    }
  })
})
