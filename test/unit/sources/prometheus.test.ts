import {expect} from 'chai'
import nock from 'nock'

import type {MeasureSpec} from '../../../src/lib/evaluate/index.js'
import {PrometheusSource, SourceError, parsePromValue} from '../../../src/lib/sources/index.js'

const PROM = 'http://prometheus.example:9090'
const NOW = new Date('2026-01-05T12:00:00.000Z')
const NOW_S = NOW.getTime() / 1000

function vector(samples: Array<[Record<string, string>, string]>) {
  return {status: 'success', data: {resultType: 'vector', result: samples.map(([metric, v]) => ({metric, value: [NOW_S, v]}))}}
}

describe('sources/prometheus', () => {
  before(() => {
    nock.disableNetConnect()
  })
  afterEach(() => {
    const pending = nock.pendingMocks()
    nock.cleanAll()
    expect(pending, 'every mocked Prometheus call was made').to.deep.equal([])
  })
  after(() => {
    nock.enableNetConnect()
  })

  const source = () => new PrometheusSource(PROM, {timeoutMs: 2000})

  describe('query / queryRange', () => {
    it('sends an instant query with the time in unix seconds and parses a vector', async () => {
      nock(PROM)
        .get('/api/v1/query')
        .query({query: 'up{job="cco"}', time: String(NOW_S)})
        .reply(200, vector([[{instance: 'a:9100', job: 'cco'}, '1']]))
      const r = await source().query('up{job="cco"}', NOW)
      expect(r.resultType).to.equal('vector')
      if (r.resultType !== 'vector') return
      expect(r.result).to.deep.equal([{metric: {instance: 'a:9100', job: 'cco'}, value: [NOW_S, 1]}])
    })

    it('sends a range query with start, end and step and parses a matrix', async () => {
      nock(PROM)
        .get('/api/v1/query_range')
        .query({query: 'x', start: '100', end: '200', step: '15'})
        .reply(200, {status: 'success', data: {resultType: 'matrix', result: [{metric: {}, values: [[100, '1.5'], [115, 'NaN'], [130, '+Inf']]}]}})
      const r = await source().queryRange('x', 100_000, 200_000, 15)
      if (r.resultType !== 'matrix') throw new Error('expected matrix')
      const values = r.result[0]!.values
      expect(values[0]).to.deep.equal([100, 1.5])
      expect(Number.isNaN(values[1]![1])).to.equal(true)
      expect(values[2]![1]).to.equal(Number.POSITIVE_INFINITY)
    })

    it('keeps a path prefix of the base URL', async () => {
      nock(PROM).get('/prom/api/v1/query').query(true).reply(200, {status: 'success', data: {resultType: 'scalar', result: [NOW_S, '42']}})
      const r = await new PrometheusSource(`${PROM}/prom`).query('42', NOW)
      expect(r).to.deep.equal({resultType: 'scalar', result: [NOW_S, 42]})
    })

    it('turns an API error into a SourceError with errorType and message', async () => {
      nock(PROM).get('/api/v1/query').query(true).reply(400, {status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error: unexpected end of input'})
      const err = await source().query('sum(', NOW).then(() => undefined, (error: unknown) => error)
      expect(err).to.be.instanceOf(SourceError)
      expect(err).to.include({kind: 'api', errorType: 'bad_data', status: 400})
      expect((err as Error).message).to.contain('bad_data').and.contain('parse error')
    })

    it('turns a refused connection into kind unreachable', async () => {
      nock(PROM).get('/api/v1/query').query(true).replyWithError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:9090'), {code: 'ECONNREFUSED'}))
      const err = await source().query('up', NOW).then(() => undefined, (error: unknown) => error)
      expect(err).to.be.instanceOf(SourceError)
      expect((err as SourceError).kind).to.equal('unreachable')
      expect((err as Error).message).to.contain('Prometheus is unreachable at http://prometheus.example:9090/').and.contain('ECONNREFUSED')
    })

    it('times out a Prometheus that does not answer', async () => {
      nock(PROM).get('/api/v1/query').query(true).delay(1500).reply(200, vector([]))
      const err = await new PrometheusSource(PROM, {timeoutMs: 100}).query('up', NOW).then(() => undefined, (error: unknown) => error)
      expect((err as SourceError).kind).to.equal('timeout')
      expect((err as Error).message).to.contain('did not answer within 100 ms')
    })

    it('sends URL credentials as Basic auth, and reports a non-Prometheus answer and HTTP errors without them', async () => {
      nock(PROM, {reqheaders: {authorization: `Basic ${Buffer.from('user:s3cret').toString('base64')}`}}).get('/api/v1/query').query(true).reply(200, '<html>login</html>')
      const html = await new PrometheusSource('http://user:s3cret@prometheus.example:9090').query('up', NOW).then(() => undefined, (error: unknown) => error)
      expect((html as SourceError).kind).to.equal('bad_response')
      expect((html as Error).message).to.not.contain('s3cret')
      nock(PROM).get('/api/v1/query').query(true).reply(502, 'Bad Gateway')
      const bad = await source().query('up', NOW).then(() => undefined, (error: unknown) => error)
      expect(bad).to.include({kind: 'http', status: 502})
    })

    it('sends configured headers', async () => {
      nock(PROM, {reqheaders: {authorization: 'Bearer t0ken'}}).get('/api/v1/query').query(true).reply(200, vector([]))
      await new PrometheusSource(PROM, {headers: {authorization: 'Bearer t0ken'}}).query('up', NOW)
    })

    it('rejects a bad base URL at construction', () => {
      expect(() => new PrometheusSource('prometheus:9090')).to.throw(SourceError, /http or https|not a valid URL/)
      expect(() => new PrometheusSource('not a url')).to.throw(SourceError, /not a valid URL/)
    })

    it('parses Prometheus sample strings', () => {
      expect(parsePromValue('0.25')).to.equal(0.25)
      expect(parsePromValue('-Inf')).to.equal(Number.NEGATIVE_INFINITY)
      expect(() => parsePromValue('abc')).to.throw(SourceError)
    })
  })

  describe('measure', () => {
    const base: MeasureSpec = {id: 'error_rate', source: 'prometheus', metric: '', window: '15m'}

    it('substitutes $window and measures an instant statistic', async () => {
      const expr = 'sum(increase(gateway_requests_total{status_class="5xx"}[15m])) / sum(increase(gateway_requests_total[15m])) * 100'
      nock(PROM).get('/api/v1/query').query({query: expr, time: String(NOW_S)}).reply(200, vector([[{}, '0.04']]))
      const m = await source().measure({...base, statistic: 'ratio', metric: expr.split('15m').join('$window')}, NOW)
      expect(m).to.include({criterionId: 'error_rate', value: 0.04, samples: 1, windowElapsed: true})
      expect(m.windowStart).to.equal('2026-01-05T11:45:00.000Z')
      expect(m.windowEnd).to.equal('2026-01-05T12:00:00.000Z')
      expect(m.error).to.equal(undefined)
    })

    it('NaN (0/0, no traffic) is no data, not an error', async () => {
      nock(PROM).get('/api/v1/query').query(true).reply(200, vector([[{}, 'NaN']]))
      const m = await source().measure({...base, statistic: 'ratio', metric: 'a/b'}, NOW)
      expect(m).to.include({value: null, samples: 0})
      expect(m.error).to.equal(undefined)
    })

    it('range statistics: p95 over the points of a range query, samples = points', async () => {
      const start = NOW_S - 900
      const values = Array.from({length: 60}, (_, i) => [start + i * 15, String(100 + i)])
      nock(PROM)
        .get('/api/v1/query_range')
        .query({query: 'gateway_latency_ms', start: String(start), end: String(NOW_S), step: '15'})
        .reply(200, {status: 'success', data: {resultType: 'matrix', result: [{metric: {}, values}]}})
      const m = await source().measure({...base, id: 'p95', statistic: 'p95', metric: 'gateway_latency_ms'}, NOW)
      expect(m).to.include({value: 156, samples: 60, windowElapsed: true}) // rank ceil(0.95*60)=57 -> 100+56
    })

    it('a series that began late has not covered the window', async () => {
      nock(PROM).get('/api/v1/query_range').query(true).reply(200, {status: 'success', data: {resultType: 'matrix', result: [{metric: {}, values: [[NOW_S - 60, '1'], [NOW_S, '1']]}]}})
      const m = await source().measure({...base, statistic: 'avg', metric: 'x'}, NOW)
      expect(m).to.include({value: 1, samples: 2, windowElapsed: false})
    })

    it('caps the points of long windows by widening the step', async () => {
      nock(PROM)
        .get('/api/v1/query_range')
        .query((q) => q.step === String(Math.ceil((4 * 86_400) / 500)))
        .reply(200, {status: 'success', data: {resultType: 'matrix', result: []}})
      const m = await source().measure({...base, statistic: 'avg', window: '4d', metric: 'avg_over_time(up[5m])'}, NOW)
      expect(m).to.include({value: null, samples: 0, windowElapsed: false})
    })

    it('several series for a non-fleet criterion is an error that says how to fix the query', async () => {
      nock(PROM).get('/api/v1/query').query(true).reply(200, vector([[{instance: 'a'}, '1'], [{instance: 'b'}, '2']]))
      const m = await source().measure({...base, statistic: 'last', metric: 'up'}, NOW)
      expect(m.error).to.contain('returned 2 series').and.contain('min_hosts')
    })

    it('fleet: one sample per instance -> hosts with ok flags and the failing share', async () => {
      nock(PROM)
        .get('/api/v1/query')
        .query({query: 'min_over_time(cco_gateway_up[1h])', time: String(NOW_S)})
        .reply(200, vector([[{instance: 'gw-1:8080'}, '1'], [{instance: 'gw-2:8080'}, '0'], [{instance: 'gw-3:8080'}, '1']]))
      const m = await source().measure({id: 'fleet', source: 'prometheus', metric: 'min_over_time(cco_gateway_up[$window])', window: '1h', min_hosts: 3}, NOW)
      expect(m.hosts).to.deep.equal([
        {name: 'gw-1:8080', value: 1, ok: true},
        {name: 'gw-2:8080', value: 0, ok: false},
        {name: 'gw-3:8080', value: 1, ok: true},
      ])
      expect(m.value).to.equal(100 / 3)
      expect(m.samples).to.equal(3)
    })

    it('fleet: a custom host label, NaN hosts are not ok, duplicate hosts are an error', async () => {
      nock(PROM).get('/api/v1/query').query(true).reply(200, vector([[{host: 'alpha'}, 'NaN'], [{host: 'beta'}, '2']]))
      const m = await new PrometheusSource(PROM, {hostLabel: 'host'}).measure({id: 'f', source: 'prometheus', metric: 'x', window: '5m', min_hosts: 1}, NOW)
      expect(m.hosts).to.deep.equal([
        {name: 'alpha', value: null, ok: false},
        {name: 'beta', value: 2, ok: true},
      ])
      nock(PROM).get('/api/v1/query').query(true).reply(200, vector([[{instance: 'a', job: 'x'}, '1'], [{instance: 'a', job: 'y'}, '1']]))
      const dup = await source().measure({id: 'f', source: 'prometheus', metric: 'up', window: '5m', min_hosts: 1}, NOW)
      expect(dup.error).to.contain("host 'a' appears more than once")
    })

    it('never throws: an unreachable Prometheus becomes a measurement with error', async () => {
      nock(PROM).get('/api/v1/query').query(true).replyWithError(Object.assign(new Error('getaddrinfo ENOTFOUND prometheus.example'), {code: 'ENOTFOUND'}))
      const m = await source().measure({...base, statistic: 'last', metric: 'up'}, NOW)
      expect(m).to.include({criterionId: 'error_rate', value: null, samples: 0})
      expect(m.error).to.contain('unreachable').and.contain('ENOTFOUND')
      expect(m.detail).to.deep.include({kind: 'unreachable'})
    })

    it('never throws: an API error becomes a measurement with error and errorType', async () => {
      nock(PROM).get('/api/v1/query').query(true).reply(422, {status: 'error', errorType: 'execution', error: 'query processing would load too many samples'})
      const m = await source().measure({...base, statistic: 'last', metric: 'up'}, NOW)
      expect(m.error).to.contain('execution').and.contain('too many samples')
      expect(m.detail).to.deep.include({kind: 'api', errorType: 'execution', status: 422})
    })

    it('never throws: a bad window becomes a measurement with error (no request made)', async () => {
      const m = await source().measure({...base, window: 'fortnight', metric: 'up'}, NOW)
      expect(m.error).to.contain('"fortnight" is not a duration at "fortnight"')
    })
  })
})
