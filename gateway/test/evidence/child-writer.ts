/**
 * Test child: a process that records requests through the evidence sink the way the gateway does,
 * printing "<request_id> <epoch ms>" after each sink() call (= response completed), until killed.
 * On SIGTERM it closes the evidence layer (as the daemon's shutdown does) and exits 0.
 *
 *   node --import tsx child-writer.ts <home>
 */
import {createEvidence} from '../../src/llm_gateway/evidence.js'
import {recordOfKind, KINDS} from './records.js'

const home = process.argv[2]
if (!home) throw new Error('usage: child-writer.ts <home>')
const evidence = createEvidence({home, log: {info: () => {}, warn: () => {}, error: (m) => process.stderr.write(`${m}\n`)}, audit: {logRequestBodies: true, logResponseBodies: true}, processMetrics: false})

let i = 0
const timer = setInterval(() => {
  for (let k = 0; k < 5; k++) {
    const record = recordOfKind(KINDS[i % KINDS.length] ?? 'ok', Date.now(), {request_id: `child-${process.pid}-${i}`, request_body: Buffer.from(JSON.stringify({n: i, pad: 'x'.repeat(500)}))})
    evidence.sink(record)
    process.stdout.write(`${record.request_id} ${Date.now()}\n`)
    i++
  }
}, 3)

process.on('SIGTERM', () => {
  clearInterval(timer)
  void evidence.close().then(() => {
    process.stdout.write(`closed ${i}\n`, () => process.exit(0))
  })
})
process.stdout.write('ready\n')
