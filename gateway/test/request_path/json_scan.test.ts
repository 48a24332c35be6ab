import {expect} from 'chai'
import fc from 'fast-check'
import {decodeSpan, scanTopLevel} from '../../src/llm_gateway/json_scan.js'

/** What JSON.parse says about a body: the top-level fields of an object, or why it is not one. */
function viaParse(text: string): Record<string, unknown> | 'invalid' | 'not-object' {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return 'invalid'
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : 'not-object'
}

function viaScan(text: string): Record<string, unknown> | undefined {
  const buf = Buffer.from(text)
  const scan = scanTopLevel(buf)
  if (!scan) return undefined
  const out: Record<string, unknown> = {}
  for (const [k, span] of scan.fields) {
    let value: unknown
    try {
      value = decodeSpan(buf, span)
    } catch {
      value = 'undecodable: the defect is inside a string literal'
    }
    // defineProperty, not assignment: a "__proto__" key is an own property for JSON.parse too.
    Object.defineProperty(out, k, {value, enumerable: true, writable: true, configurable: true})
  }
  return out
}

/** True when offset `at` of valid JSON text lies inside a string literal (after its opening quote). */
function insideString(text: string, at: number): boolean {
  let inside = false
  for (let i = 0; i < at; i++) {
    if (inside && text[i] === '\\') i++
    else if (text[i] === '"') inside = !inside
  }
  return inside
}

describe('request path: top-level JSON scan', () => {
  it('finds the same top-level values as JSON.parse for any JSON object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean(), (obj, pretty) => {
        const text = JSON.stringify(obj, null, pretty ? 2 : undefined)
        expect(viaScan(text)).to.deep.equal(JSON.parse(text))
      }),
      {numRuns: 500},
    )
  })

  it('rejects what JSON.parse rejects, unless the defect is inside a string literal', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), {minKeys: 1}), fc.nat(), fc.constantFrom(',', ']', '}', ':', 'x', '1', '"', '\\', '\n'), (obj, cut, insert) => {
        const text = JSON.stringify(obj)
        const at = cut % text.length
        const mutated = text.slice(0, at) + insert + text.slice(at)
        const truth = viaParse(mutated)
        const scanned = viaScan(mutated)
        if (truth === 'invalid' || truth === 'not-object') {
          if (scanned !== undefined) expect(insideString(text, at), `accepted ${JSON.stringify(mutated)}`).to.equal(true)
          return
        }
        expect(scanned).to.deep.equal(truth)
      }),
      {numRuns: 2000},
    )
  })

  it('rejects the classic malformed bodies', () => {
    for (const bad of ['', ' ', 'null', '[]', '"x"', '{', '{"model": "claude-sonnet-4-6", "messages": [', '{"a":1,}', '{"a":[1,]}', '{"a" 1}', '{"a":tru}', '{"a":01}', '{"a":1}x', '{"a":1}{', "{'a':1}", '{"a":[}']) {
      expect(viaScan(bad), bad).to.equal(undefined)
    }
  })

  it('keeps the last occurrence of a duplicated key, as JSON.parse does', () => {
    expect(viaScan('{"model":"a","x":[1,{"model":"inner"}],"model":"b"}')).to.deep.equal({model: 'b', x: [1, {model: 'inner'}]})
  })

  it('handles escaped quotes and backslashes at string ends', () => {
    const text = JSON.stringify({a: 'x\\', b: 'say "hi"\\"', 'k\\"ey': ['\\\\', '"']})
    expect(viaScan(text)).to.deep.equal(JSON.parse(text))
  })
})
