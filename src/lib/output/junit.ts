/**
 * JUnit XML for CI systems: one <testcase> per check or gate criterion.
 * fail -> <failure>, error ("could not measure") -> <error>, inconclusive -> <skipped>,
 * so a CI dashboard tells "the target is broken" from "we could not look".
 */
export type JUnitOutcome = 'pass' | 'fail' | 'error' | 'inconclusive'

export interface JUnitCase {
  /** Stable id, e.g. a check id or criterion id. */
  name: string
  /** Group shown by CI, e.g. "phase 1" or "gate 1->2". */
  classname: string
  outcome: JUnitOutcome
  /** Seconds spent. */
  time?: number
  /** One-line reason shown as the failure message. */
  message?: string
  /** Longer text: evidence, remediation. */
  detail?: string
}

export interface JUnitSuite {
  name: string
  timestamp: string
  cases: JUnitCase[]
  properties?: Record<string, string>
}

const XML_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

export function escapeXml(text: string): string {
  return text
    .replace(XML_INVALID, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

function renderCase(c: JUnitCase): string {
  const attrs = `name="${escapeXml(c.name)}" classname="${escapeXml(c.classname)}" time="${(c.time ?? 0).toFixed(3)}"`
  const message = escapeXml(c.message ?? '')
  const body = escapeXml(c.detail ?? c.message ?? '')
  switch (c.outcome) {
    case 'pass':
      return `    <testcase ${attrs}/>`
    case 'fail':
      return `    <testcase ${attrs}>\n      <failure message="${message}" type="fail">${body}</failure>\n    </testcase>`
    case 'error':
      return `    <testcase ${attrs}>\n      <error message="${message}" type="error">${body}</error>\n    </testcase>`
    case 'inconclusive':
      return `    <testcase ${attrs}>\n      <skipped message="inconclusive: ${message}"/>\n    </testcase>`
  }
}

export function renderJUnit(suites: JUnitSuite[]): string {
  const count = (s: JUnitSuite, o: JUnitOutcome) => s.cases.filter((c) => c.outcome === o).length
  const all = suites.flatMap((s) => s.cases)
  const total = (o: JUnitOutcome) => all.filter((c) => c.outcome === o).length
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cutover" tests="${all.length}" failures="${total('fail')}" errors="${total('error')}" skipped="${total('inconclusive')}">`,
  ]
  for (const s of suites) {
    const time = s.cases.reduce((sum, c) => sum + (c.time ?? 0), 0)
    lines.push(
      `  <testsuite name="${escapeXml(s.name)}" tests="${s.cases.length}" failures="${count(s, 'fail')}" errors="${count(s, 'error')}" skipped="${count(s, 'inconclusive')}" timestamp="${escapeXml(s.timestamp)}" time="${time.toFixed(3)}">`,
    )
    if (s.properties && Object.keys(s.properties).length > 0) {
      lines.push('    <properties>')
      for (const [k, v] of Object.entries(s.properties)) lines.push(`      <property name="${escapeXml(k)}" value="${escapeXml(v)}"/>`)
      lines.push('    </properties>')
    }
    for (const c of s.cases) lines.push(renderCase(c))
    lines.push('  </testsuite>')
  }
  lines.push('</testsuites>')
  return lines.join('\n') + '\n'
}
