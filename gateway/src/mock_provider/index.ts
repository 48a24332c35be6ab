/** Mock LLM provider: an offline upstream (Anthropic, OpenAI, Azure) with fault injection, for tests, rehearsals and benchmarks. */
export {startMockProvider} from './server.js'
export {parseFaults, InvalidFaultsError, ERROR_STATUSES} from './faults.js'
export {runMockProviderCli} from './cli.js'
export type {MockErrorStatus, MockFaults, MockProviderOptions, RecordedRequest, RunningMockProvider} from './types.js'
