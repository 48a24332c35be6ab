/** `cutover rehearse`: the whole cutover plan in a sandbox, with compressed time. */
export {Deviation, Rehearsal, rehearse, type RehearseOptions} from './run.js'
export {checkTimeScale, compressDuration, compressPlaybook, type CompressedPlaybook, DEFAULT_MIN_WINDOW_MS, DEFAULT_TIME_SCALE, type ScaledDuration} from './scale.js'
export {SCENARIO_DEFS, type Scenario} from './scenarios.js'
export {TrafficGenerator, type TrafficOptions, type TrafficProfile, type TrafficStats} from './traffic.js'
export {startMockProvider, type MockFaults, type MockProvider, NORMAL_PROVIDER} from './mock.js'
export {orchestraConfig, REHEARSAL_KEY_ENV, SANDBOX_TESTS, writeHome, writeTargetFile} from './environment.js'
export * from './types.js'
