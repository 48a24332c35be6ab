/** The cutover CLI as an operator runs it (bin/run.js), from the e2e fixtures' harness. */
export {built, cutover, cliEnv, parseJson, readFlags, spawnCutover, stopDaemon, withState, FIXTURES, CCO, RUN} from '../../fixtures/apply/harness.js'
export type {CliRun} from '../../fixtures/apply/harness.js'
