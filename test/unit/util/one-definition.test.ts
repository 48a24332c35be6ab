import {expect} from 'chai'
import fc from 'fast-check'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {compare, evaluateCriterion} from '../../../src/lib/evaluate/index.js'
import {GATEWAY_STATUSES, isGatewayStatus, UP_STATUSES} from '../../../src/lib/evaluate/types.js'
import {PUBLIC_OUTPUT, writeFileAtomic} from '../../../src/lib/util/atomic-write.js'
import {canonicalJson, hashJson} from '../../../src/lib/util/hash.js'
import {parseSseBlock, readSseEvents} from '../../../src/lib/util/sse.js'

async function* chunks(parts: string[]): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder()
  for (const p of parts) yield encoder.encode(p)
}

async function collect(parts: string[]) {
  const out = []
  for await (const e of readSseEvents(chunks(parts))) out.push(e)
  return out
}

describe('one definition per concept', () => {
  describe('compare: gates, triggers and the report share it', () => {
    const noisy = (999 / 1000) * 100 // 99.9 computed, as an uptime percentage is
    const justAbove = 99.9 + 1e-12

    it('a value equal to the threshold up to rounding is equal', () => {
      expect(compare(noisy, '>=', 99.9)).to.equal(true)
      expect(compare(justAbove, '<=', 99.9)).to.equal(true)
      expect(compare(justAbove, '>', 99.9)).to.equal(false)
      expect(compare(0.1 + 0.2, '==', 0.3)).to.equal(true)
      expect(compare(0.1 + 0.2, '<', 0.3)).to.equal(false)
    })

    it('a real difference is a difference, at every magnitude', () => {
      expect(compare(99.95, '>', 99.9)).to.equal(true)
      expect(compare(99.89, '>=', 99.9)).to.equal(false)
      expect(compare(1e-6, '>', 0)).to.equal(true)
      expect(compare(0, '<', 1e-6)).to.equal(true)
      expect(compare(1e9 + 1, '>', 1e9)).to.equal(true)
      expect(compare(100.000_001, '>', 100)).to.equal(true)
      expect(compare(4, '==', 5)).to.equal(false)
    })

    it('the operators are consistent with each other', () => {
      fc.assert(
        fc.property(fc.double({min: -1e6, max: 1e6, noNaN: true}), fc.double({min: -1e6, max: 1e6, noNaN: true}), (v, t) => {
          const eq = compare(v, '==', t)
          return compare(v, '>=', t) === (compare(v, '>', t) || eq) && compare(v, '<=', t) === (compare(v, '<', t) || eq) && !(compare(v, '<', t) && compare(v, '>', t)) && (compare(v, '<', t) || compare(v, '>', t) || eq)
        }),
      )
    })

    it('a gate criterion at the threshold up to rounding passes ">="', () => {
      const spec = {id: 'uptime', title: 'Uptime', source: 'gateway' as const, metric: 'uptime', statistic: 'ratio' as const, window: '1h', operator: '>=' as const, threshold: 99.9, min_samples: 1, key: true}
      const outcome = evaluateCriterion(spec, {criterionId: 'uptime', value: noisy, samples: 1000, windowStart: '2026-12-07T11:00:00Z', windowEnd: '2026-12-07T12:00:00Z', windowElapsed: true})
      expect(outcome.outcome).to.equal('pass')
    })
  })

  describe('the SSE reader', () => {
    it('assembles events split anywhere across chunks, with CRLF, comments and multi-line data', async () => {
      const stream = 'event: message_start\r\ndata: {"a":1}\r\n\r\n: keep-alive\n\nevent: content_block_delta\ndata: line1\ndata: line2\n\nevent: message_stop\ndata: {}'
      const expected = [
        {event: 'message_start', data: '{"a":1}'},
        {event: 'content_block_delta', data: 'line1\nline2'},
        {event: 'message_stop', data: '{}'},
      ]
      expect(await collect([stream])).to.deep.equal(expected)
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(fc.integer({min: 1, max: stream.length - 1}), {maxLength: 8}), async (cuts) => {
          const sorted = [0, ...cuts.sort((a, b) => a - b), stream.length]
          const parts = sorted.slice(1).map((end, i) => stream.slice(sorted[i], end))
          expect(await collect(parts)).to.deep.equal(expected)
        }),
      )
    })

    it('a multi-byte character split across chunks stays whole', async () => {
      const bytes = new TextEncoder().encode('data: é\n\n')
      async function* split() {
        yield bytes.slice(0, 7)
        yield bytes.slice(7)
      }
      const out = []
      for await (const e of readSseEvents(split())) out.push(e)
      expect(out).to.deep.equal([{event: null, data: 'é'}])
    })

    it('a block with neither event nor data is no event', () => {
      expect(parseSseBlock(': comment')).to.equal(null)
      expect(parseSseBlock('')).to.equal(null)
      expect(parseSseBlock('event')).to.deep.equal({event: '', data: ''})
    })
  })

  describe('canonical JSON and hashes', () => {
    it('key order, undefined members and Dates do not change a hash', () => {
      const a = {b: 1, a: {d: [3, {z: 1, y: 2}], c: undefined}, t: new Date('2026-12-07T00:00:00Z')}
      const b = {t: '2026-12-07T00:00:00.000Z', a: {d: [3, {y: 2, z: 1}]}, b: 1}
      expect(canonicalJson(a)).to.equal(canonicalJson(b))
      expect(hashJson(a)).to.equal(hashJson(b))
      expect(canonicalJson({n: Number.NaN, i: Number.POSITIVE_INFINITY, list: [undefined]})).to.equal('{"i":null,"list":[null],"n":null}')
    })

    it('hashes what the former evaluate/canonical.ts hashed (approvals on record stay valid)', () => {
      // Pinned: printed by the former evaluate/canonical.ts (sha256Hex(canonicalJson(...))) for this input.
      const outcome = {spec: {id: 'uptime', window: '1h', threshold: 99.9, operator: '>='}, outcome: 'pass', value: 99.95, at: new Date('2026-12-07T00:00:00Z'), skip: undefined}
      expect(hashJson({v: 1, context: {from: 1, to: 2}, criteria: [outcome]})).to.equal('27d22722f13a92436da1317ba3322012c002ca9a5f32779ad327aa9d61312336')
    })
  })

  describe('gateway health statuses', () => {
    it('up is healthy or degraded; every up status is a gateway status', () => {
      expect([...UP_STATUSES].sort()).to.deep.equal(['degraded', 'healthy'])
      for (const s of UP_STATUSES) expect(isGatewayStatus(s)).to.equal(true)
      expect(GATEWAY_STATUSES).to.include('unhealthy')
      expect(UP_STATUSES.has('unhealthy')).to.equal(false)
      expect(isGatewayStatus('ok')).to.equal(false)
    })
  })

  describe('atomic writes', () => {
    it('state files are private by default; public outputs (reports, runbooks, JUnit) are world-readable', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-atomic-'))
      try {
        const previous = process.umask(0o022)
        try {
          writeFileAtomic(path.join(dir, 'state.json'), '{}')
          writeFileAtomic(path.join(dir, 'out', 'report.md'), '# r', PUBLIC_OUTPUT)
        } finally {
          process.umask(previous)
        }
        expect(fs.statSync(path.join(dir, 'state.json')).mode & 0o777).to.equal(0o600)
        expect(fs.statSync(path.join(dir, 'out', 'report.md')).mode & 0o777).to.equal(0o644)
        expect(fs.statSync(path.join(dir, 'out')).mode & 0o777).to.equal(0o755)
        expect(fs.readdirSync(path.join(dir, 'out'))).to.deep.equal(['report.md'])
      } finally {
        fs.rmSync(dir, {recursive: true, force: true})
      }
    })
  })
})
