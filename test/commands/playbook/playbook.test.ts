import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import type {PlaybookLintResult} from '../../../src/commands/playbook/lint.js'
import type {PlaybookRenderResult} from '../../../src/commands/playbook/render.js'
import type {PlaybookShowResult} from '../../../src/commands/playbook/show.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

const FIXTURES = 'test/fixtures/playbooks'

describe('cutover playbook (commands)', () => {
  afterEach(() => {
    process.exitCode = undefined
    cleanupTempDirs()
  })

  describe('show', () => {
    it('--json: the whole typed playbook of the bundled default', async () => {
      const {stdout, error} = await runCommand(['playbook', 'show', '--json'])
      expect(error).to.equal(undefined)
      expect(process.exitCode ?? 0).to.equal(0)
      const doc = JSON.parse(stdout) as PlaybookShowResult
      expect(doc.file).to.equal('playbooks/llm-gateway-cutover.yaml')
      expect(doc.playbook.name).to.equal('llm-gateway-cutover')
      expect(doc.playbook.phases.map((p) => [p.number, p.id])).to.deep.equal([
        [1, 'validation'],
        [2, 'soft-cutover'],
        [3, 'hard-cutover'],
      ])
      expect(doc.playbook.gates.map((g) => `${g.from}->${g.to}`)).to.deep.equal(['1->2', '2->3'])
      expect(doc.playbook.rollback_triggers.length).to.equal(7)
      expect(doc.playbook.kpis.map((k) => k.id)).to.deep.equal(['availability', 'performance', 'reliability', 'cost-tracking'])
      expect(doc.playbook.target).to.deep.include({name: 'bundled', repo: '../gateway'})
    })

    it('prints a summary, and takes another playbook with --playbook', async () => {
      const {stdout} = await runCommand(['playbook', 'show', '--playbook', `${FIXTURES}/minimal.yaml`])
      expect(stdout).to.contain('minimal v0.1  (test/fixtures/playbooks/minimal.yaml)')
      expect(stdout).to.contain('Phase 2: Switch')
      expect(stdout).to.contain('Gate 1 -> 2: 1 criteria (1 key)')
    })

    it('an invalid playbook: exit 2 with every problem as file:line:col', async () => {
      const {stdout} = await runCommand(['playbook', 'show', '--playbook', `${FIXTURES}/many-errors.yaml`, '--json'])
      expect(process.exitCode).to.equal(2)
      const doc = JSON.parse(stdout) as {error: {code: string; message: string}}
      expect(doc.error.code).to.equal('PLAYBOOK_INVALID')
      expect(doc.error.message).to.contain('test/fixtures/playbooks/many-errors.yaml:14:13: phases[0].checks[0].id: unknown check "gateway.helth" (did you mean "gateway.health"?)')
    })
  })

  describe('lint', () => {
    it('a valid playbook: exit 0', async () => {
      const {stdout, error} = await runCommand(['playbook', 'lint', 'playbooks/llm-gateway-cutover.yaml'])
      expect(error).to.equal(undefined)
      expect(process.exitCode ?? 0).to.equal(0)
      expect(stdout.trim()).to.equal('playbooks/llm-gateway-cutover.yaml: valid')
    })

    it('an invalid playbook: exit 2, every error on stderr as file:line:col', async () => {
      const {stderr} = await runCommand(['playbook', 'lint', `${FIXTURES}/many-errors.yaml`])
      expect(process.exitCode).to.equal(2)
      expect(stderr.trim().split('\n')).to.deep.equal([
        'test/fixtures/playbooks/many-errors.yaml:2:10: version: expected a version string (quote numbers: "1.0"), got the number 1.0 (quote it to keep it as text)',
        'test/fixtures/playbooks/many-errors.yaml:12:19: phases[0].min_duration: negative duration "-2d" (durations must be zero or more)',
        'test/fixtures/playbooks/many-errors.yaml:14:13: phases[0].checks[0].id: unknown check "gateway.helth" (did you mean "gateway.health"?)',
        'test/fixtures/playbooks/many-errors.yaml:17:9: phases[0].checks[1].requird: unknown field "requird" (did you mean "required"?); a check takes: id, name, title, params, required, plan_ref',
        'test/fixtures/playbooks/many-errors.yaml: 4 problems',
      ])
    })

    it('--json: the issues as data, exit 2', async () => {
      const {stdout} = await runCommand(['playbook', 'lint', `${FIXTURES}/malformed.yaml`, '--json'])
      expect(process.exitCode).to.equal(2)
      const doc = JSON.parse(stdout) as PlaybookLintResult
      expect(doc.valid).to.equal(false)
      expect(doc.issues).to.have.length(1)
      expect(doc.issues[0]).to.deep.include({file: 'test/fixtures/playbooks/malformed.yaml', line: 6, col: 3})
    })

    it('a missing file: exit 2 naming it', async () => {
      const {error} = await runCommand(['playbook', 'lint', `${FIXTURES}/nope.yaml`])
      expect(process.exitCode).to.equal(2)
      expect(error?.message).to.match(/cannot read playbook test\/fixtures\/playbooks\/nope\.yaml: no such file/)
    })

    it('no file argument: a usage error', async () => {
      const {error} = await runCommand(['playbook', 'lint'])
      expect(error?.message).to.match(/Missing 1 required arg/)
    })
  })

  describe('render', () => {
    it('prints the Markdown runbook', async () => {
      const {stdout} = await runCommand(['playbook', 'render'])
      expect(stdout).to.match(/^# Runbook: llm-gateway-cutover/)
      expect(stdout).to.contain('## Phase 3: Hard Cutover (Remove Proxy Code)')
      expect(stdout).to.contain('| KPI | Target | Measurement | Metric |')
    })

    it('--out writes the file atomically and --json reports it', async () => {
      const dir = makeTempDir()
      const out = path.join(dir, 'docs', 'RUNBOOK.md')
      const {stdout} = await runCommand(['playbook', 'render', '--format', 'md', '--out', out, '--json'])
      const doc = JSON.parse(stdout) as PlaybookRenderResult
      expect(doc).to.deep.include({format: 'md', out, playbook: 'playbooks/llm-gateway-cutover.yaml'})
      const written = fs.readFileSync(out, 'utf8')
      expect(Buffer.byteLength(written)).to.equal(doc.bytes)
      expect(written).to.contain('## Key performance indicators')
      expect(fs.readdirSync(path.dirname(out))).to.deep.equal(['RUNBOOK.md'])
    })

    it('an unknown format is a usage error', async () => {
      const {error} = await runCommand(['playbook', 'render', '--format', 'html'])
      expect(error?.message).to.match(/Expected --format=html to be one of: md/)
    })
  })
})
