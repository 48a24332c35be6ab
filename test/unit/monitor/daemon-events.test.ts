/** #11.4: the monitor turns crashes and unexplained restarts into incidents, once per lost daemon. */
import {expect} from 'chai'

import {cleanShutdownLine, type DaemonWatch, judgeDaemonChange, watchFromSample, watchToSample} from '../../../src/lib/monitor/daemon-events.js'

const T0 = Date.parse('2026-12-08T10:00:00.000Z')
const A = {alive: true as const, pid: 100, started_at: '2026-12-08T09:00:00.000Z'}
const B = {alive: true as const, pid: 200, started_at: '2026-12-08T10:00:05.000Z'}
const GONE = {alive: false as const, problem: 'pid 100 is not running'}
const seenA: DaemonWatch = {last: {pid: 100, started_at: A.started_at, ts: T0}, recordedFor: null}
const SHUTDOWN = '2026-12-08T10:00:03.000Z INFO  Received SIGTERM, shutting down'

describe('monitor: daemon crashes and unplanned restarts (#11.4)', () => {
  it('the same daemon again: nothing to record', () => {
    const r = judgeDaemonChange(seenA, A, T0 + 1000, null)
    expect(r.incident).to.equal(null)
    expect(r.watch.last).to.deep.equal({pid: 100, started_at: A.started_at, ts: T0 + 1000})
  })

  it('the first sample ever: nothing to compare, nothing recorded', () => {
    expect(judgeDaemonChange({last: null, recordedFor: null}, GONE, T0, null).incident).to.equal(null)
    expect(judgeDaemonChange({last: null, recordedFor: null}, A, T0, null).incident).to.equal(null)
  })

  it('the process gone without a clean shutdown is a critical crash, recorded once; the recovery is not a second incident', () => {
    const crash = judgeDaemonChange(seenA, GONE, T0 + 1000, {cleanShutdown: null, byCutover: null})
    expect(crash.incident).to.include({kind: 'crash', severity: 'critical', title: 'cco daemon crashed: pid 100 died without shutting down'})
    expect(crash.incident!.detail).to.contain('was last seen at 2026-12-08T10:00:00.000Z').and.contain('no daemon runs (pid 100 is not running)')
    expect(crash.watch).to.deep.equal({last: seenA.last, recordedFor: 100})
    const stillDown = judgeDaemonChange(crash.watch, GONE, T0 + 2000, {cleanShutdown: null, byCutover: null})
    expect(stillDown.incident).to.equal(null)
    const recovered = judgeDaemonChange(stillDown.watch, B, T0 + 3000, {cleanShutdown: null, byCutover: 'cutover daemon start at ...'})
    expect(recovered.incident).to.equal(null)
    expect(recovered.watch).to.deep.equal({last: {pid: 200, started_at: B.started_at, ts: T0 + 3000}, recordedFor: null})
  })

  it('a new PID between two samples without a clean shutdown is a crash, even when cutover started the new one', () => {
    const r = judgeDaemonChange(seenA, B, T0 + 1000, {cleanShutdown: null, byCutover: 'cutover daemon start at 2026-12-08T10:00:05.000Z'})
    expect(r.incident).to.include({kind: 'crash', severity: 'critical'})
    expect(r.incident!.detail).to.contain('pid 200 runs since 2026-12-08T10:00:05.000Z').and.contain('(cutover: cutover daemon start at')
  })

  it('a clean restart cutover did (maintenance window, daemon action) records nothing', () => {
    expect(judgeDaemonChange(seenA, B, T0 + 1000, {cleanShutdown: SHUTDOWN, byCutover: 'maintenance window #3 (advance: ...)'}).incident).to.equal(null)
    const stopped = judgeDaemonChange(seenA, GONE, T0 + 1000, {cleanShutdown: SHUTDOWN, byCutover: 'cutover daemon stop at ...'})
    expect(stopped.incident).to.equal(null)
    // Settled: the later start is the recovery, not a restart outside cutover.
    expect(judgeDaemonChange(stopped.watch, B, T0 + 5000, {cleanShutdown: SHUTDOWN, byCutover: null}).incident).to.equal(null)
  })

  it('a clean restart or stop nothing explains is a major incident', () => {
    const restarted = judgeDaemonChange(seenA, B, T0 + 1000, {cleanShutdown: SHUTDOWN, byCutover: null})
    expect(restarted.incident).to.include({kind: 'outside_cutover', severity: 'major', title: 'cco daemon restarted outside cutover (pid 100)'})
    expect(restarted.incident!.detail).to.contain(SHUTDOWN)
    const stopped = judgeDaemonChange(seenA, GONE, T0 + 1000, {cleanShutdown: SHUTDOWN, byCutover: null})
    expect(stopped.incident).to.include({severity: 'major', title: 'cco daemon stopped outside cutover (pid 100)'})
  })

  it('the same PID with another start time is another daemon (PID reuse)', () => {
    const r = judgeDaemonChange(seenA, {...A, started_at: '2026-12-08T10:00:09.000Z'}, T0 + 1000, {cleanShutdown: null, byCutover: null})
    expect(r.incident).to.include({severity: 'critical'})
  })

  it('the memory survives in the samples: a sample that saw no daemon keeps the last one seen', () => {
    const crash = judgeDaemonChange(seenA, GONE, T0 + 1000, {cleanShutdown: null, byCutover: null})
    const stored = watchToSample(GONE, crash.watch)
    expect(stored).to.deep.equal({last_pid: 100, last_started_at: A.started_at, last_seen_ts: T0, recorded_for: 100})
    expect(watchFromSample({ts: T0 + 1000, metrics: stored})).to.deep.equal(crash.watch)
    expect(watchToSample(A, seenA)).to.deep.equal({pid: 100, daemon_started_at: A.started_at})
    expect(watchFromSample({ts: T0, metrics: {pid: 100, daemon_started_at: A.started_at}})).to.deep.equal(seenA)
    expect(watchFromSample({ts: T0, metrics: {status: 'healthy'}})).to.deep.equal({last: null, recordedFor: null})
    expect(watchFromSample(null)).to.deep.equal({last: null, recordedFor: null})
  })

  it('finds a clean-shutdown line only after the time given', () => {
    const lines = ['2026-12-08T09:59:00.000Z INFO  Received SIGTERM, shutting down', '2026-12-08T10:00:01.000Z INFO  Routing request: agent_type=x', SHUTDOWN]
    expect(cleanShutdownLine(lines, T0)).to.equal(SHUTDOWN)
    expect(cleanShutdownLine(lines, T0 + 4000)).to.equal(null)
    expect(cleanShutdownLine(['garbage Received SIGTERM, shutting down'], 0)).to.equal(null)
  })
})
