import {expect} from 'chai'
import fc from 'fast-check'
import {SseParser, type SseEvent} from '../../src/llm_gateway/sse.js'
import {fixture} from './fixtures.js'

function feed(chunks: Buffer[]): {events: SseEvent[]; forwarded: Buffer} {
  const events: SseEvent[] = []
  const parser = new SseParser((e) => events.push(e))
  const out: Buffer[] = []
  for (const c of chunks) {
    const f = parser.push(c)
    if (f) out.push(Buffer.from(f))
  }
  return {events, forwarded: Buffer.concat(out)}
}

describe('request path: SSE parser', () => {
  const fixtureB = Buffer.from(fixture('anthropic-fixture-b.sse'))
  const whole = feed([fixtureB])

  it('parses every event of fixture B with its event name and JSON data', () => {
    expect(whole.events.map((e) => e.event)).to.deep.equal([
      'message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_stop', 'content_block_start', 'content_block_delta',
      'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop',
    ])
    for (const e of whole.events) expect((JSON.parse(e.data) as {type: string}).type).to.equal(e.event)
    expect(whole.forwarded.equals(fixtureB)).to.equal(true)
  })

  it('gives the same events and forwards the same bytes when split at every byte boundary', () => {
    for (let i = 1; i < fixtureB.length; i++) {
      const r = feed([fixtureB.subarray(0, i), fixtureB.subarray(i)])
      expect(r.events, `split at ${i}`).to.deep.equal(whole.events)
      expect(r.forwarded.equals(fixtureB), `bytes split at ${i}`).to.equal(true)
    }
  })

  it('gives the same events when fed one byte at a time, including a multi-byte UTF-8 character', () => {
    const text = 'event: content_block_delta\ndata: {"text":"héllo ☃ 日本"}\n\n'
    const bytes = Buffer.from(text)
    const r = feed([...bytes].map((b) => Buffer.from([b])))
    expect(r.events).to.deep.equal([{event: 'content_block_delta', data: '{"text":"héllo ☃ 日本"}'}])
    expect(r.forwarded.equals(bytes)).to.equal(true)
  })

  it('holds back an incomplete event: only bytes up to the last complete event are released', () => {
    const parser = new SseParser(() => undefined)
    const first = parser.push(Buffer.from('event: a\ndata: 1\n\nevent: b\ndata: 2'))
    expect(first?.toString()).to.equal('event: a\ndata: 1\n\n')
    expect(parser.pendingBytes).to.equal('event: b\ndata: 2'.length)
    expect(parser.push(Buffer.from('\n'))).to.equal(null)
    expect(parser.push(Buffer.from('\n'))?.toString()).to.equal('event: b\ndata: 2\n\n')
    expect(parser.pendingBytes).to.equal(0)
  })

  it('returns the chunk itself (zero copy) when it ends on an event boundary', () => {
    const chunk = Buffer.from('event: a\ndata: 1\n\n')
    expect(new SseParser(() => undefined).push(chunk)).to.equal(chunk)
  })

  it('handles CRLF and CR line ends, comments, multi-line data and data-only (OpenAI) frames', () => {
    const r = feed([Buffer.from(': keepalive\r\n\r\nevent: x\r\ndata: a\r\ndata: b\r\n\r\ndata: [DONE]\r\rdata:nospace\n\n')])
    expect(r.events).to.deep.equal([
      {event: 'x', data: 'a\nb'},
      {event: 'message', data: '[DONE]'},
      {event: 'message', data: 'nospace'},
    ])
  })

  it('treats a CR at the end of a chunk as possibly half of a CRLF', () => {
    const r = feed([Buffer.from('data: 1\r'), Buffer.from('\n\r'), Buffer.from('\n')])
    expect(r.events).to.deep.equal([{event: 'message', data: '1'}])
  })

  it('property: any chunking of a stream yields the same events and bytes as one chunk', () => {
    const stream = Buffer.from(fixture('anthropic-fixture-a.sse') + fixture('openai-fixture-d.sse'))
    const reference = feed([stream])
    fc.assert(
      fc.property(fc.array(fc.integer({min: 1, max: stream.length - 1}), {maxLength: 12}), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b)
        const chunks: Buffer[] = []
        let prev = 0
        for (const p of points) {
          chunks.push(stream.subarray(prev, p))
          prev = p
        }
        chunks.push(stream.subarray(prev))
        const r = feed(chunks)
        expect(r.events).to.deep.equal(reference.events)
        expect(r.forwarded.equals(stream)).to.equal(true)
      }),
      {numRuns: 300},
    )
  })
})
