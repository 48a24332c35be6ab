/** What each rehearsal scenario does during Phase 2, and how it is expected to end. */
import type {ScenarioName} from './types.js'

export interface Scenario {
  name: ScenarioName
  summary: string
  /** The outcome that makes the rehearsal exit 0. */
  expected: string
  /** Does the cutover go on to Phase 3? */
  reachesPhase3: boolean
}

export const SCENARIO_DEFS: Record<ScenarioName, Scenario> = {
  happy: {
    name: 'happy',
    summary: 'The whole plan with a healthy provider: gates GO after approval, the flag-rollback drill (its re-entry into Phase 2 is forced, and named), the git rollback rehearsal, Phase 3.',
    expected: 'gates 1 -> 2 and 2 -> 3 GO after approval (the re-entry after the drill forced, with its reason), Phase 2 watch quiet, flag rollback within 30 s, git rollback rehearsed, Phase 3 validated',
    reachesPhase3: true,
  },
  'streaming-outage': {
    name: 'streaming-outage',
    summary: 'In Phase 2 the provider cuts every stream: the streaming-failures trigger fires and the watcher rolls back by flag automatically.',
    expected: 'the streaming-failures trigger fires in Phase 2 and the automatic flag rollback leaves the target in Phase 1 with the proxy serving',
    reachesPhase3: false,
  },
  'slow-provider': {
    name: 'slow-provider',
    summary: 'In Phase 2 the provider answers about 37% slower than the pinned baseline: an alert (25-50% band), no rollback; the cutover goes on.',
    expected: 'a latency-degradation alert in the 25-50% band, no rollback, and the cutover reaches Phase 3',
    reachesPhase3: true,
  },
  'gateway-crash': {
    name: 'gateway-crash',
    summary: 'In Phase 2 the daemon is killed (SIGKILL): the monitor records it down and opens a critical incident itself, `cco daemon start` recovers it (stale PID file cleaned), the incident is resolved; the Phase 2 re-entry after the drill restarts the phase clock, and the cutover goes on.',
    expected: 'the crash is detected by the monitor, which records a critical incident; the daemon recovers by daemon start, the incident is resolved, and the cutover reaches Phase 3',
    reachesPhase3: true,
  },
}
