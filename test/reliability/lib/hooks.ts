/** Mocha root hooks: record each test's outcome and write the results file when the run ends. */
import type {Context} from 'mocha'
import {results, writeResults} from './results.js'

export const mochaHooks = {
  afterEach(this: Context) {
    const test = this.currentTest
    if (!test) return
    results.tests.push({
      suite: test.parent?.fullTitle() ?? '',
      title: test.title,
      state: test.state === 'passed' ? 'passed' : test.state === 'failed' ? 'failed' : 'pending',
      durationMs: test.duration ?? 0,
      ...(test.err ? {error: test.err.message.split('\n')[0]} : {}),
    })
  },
  afterAll() {
    writeResults()
  },
}
