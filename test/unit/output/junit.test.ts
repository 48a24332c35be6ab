import {expect} from 'chai'

import {escapeXml, renderJUnit} from '../../../src/lib/output/junit.js'

describe('JUnit writer', () => {
  const xml = renderJUnit([
    {
      name: 'phase 1',
      timestamp: '2026-11-26T00:00:00Z',
      properties: {verdict: 'NO-GO'},
      cases: [
        {name: 'gateway.health', classname: 'phase 1', outcome: 'pass', time: 0.01},
        {name: 'audit.complete', classname: 'phase 1', outcome: 'fail', message: '9 of 10 logged', detail: 'remediation: enable audit'},
        {name: 'traffic.streaming_sse', classname: 'phase 1', outcome: 'error', message: 'daemon unreachable'},
        {name: 'records.approval', classname: 'phase 1', outcome: 'inconclusive', message: 'no approval yet'},
      ],
    },
  ])

  it('counts failures, errors and skipped separately', () => {
    expect(xml).to.match(/<testsuites name="cutover" tests="4" failures="1" errors="1" skipped="1">/)
    expect(xml).to.contain('<failure message="9 of 10 logged" type="fail">remediation: enable audit</failure>')
    expect(xml).to.contain('<error message="daemon unreachable" type="error">')
    expect(xml).to.contain('<skipped message="inconclusive: no approval yet"/>')
    expect(xml).to.contain('<property name="verdict" value="NO-GO"/>')
  })

  it('escapes markup and drops characters XML cannot carry', () => {
    expect(escapeXml('a<b & "c" \u0001')).to.equal('a&lt;b &amp; &quot;c&quot; \uFFFD')
  })
})
