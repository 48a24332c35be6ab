/**
 * The rehearsal's sandbox environment: a target home whose gateway routes to the mock provider
 * (with an apiKeyRef to a variable holding a dummy key, so no real credential is involved), the
 * Phase 1 flags, and a target file naming the sandbox repo's cco, build and tests. The target file
 * stays in the sandbox, so a kept sandbox can be inspected with the ordinary commands.
 */
import fs from 'node:fs'
import path from 'node:path'

import type {Sandbox} from '../sandbox/index.js'
import {DEFAULT_STABLE_COMMIT_MARKER, loadTargetFile, type TargetSpec} from '../target/spec.js'

/** The variable the gateway's apiKeyRef names; its value is a dummy the mock provider accepts. */
export const REHEARSAL_KEY_ENV = 'CUTOVER_REHEARSAL_API_KEY'
export const REHEARSAL_DUMMY_KEY = 'rehearsal-dummy-key-not-a-secret'

/**
 * The sandbox repo's tests that Phase 3 and the rollback rehearsal run: a quick, relevant part of
 * the reference daemon's suite (flags, log, routing, and the proxy's own tests, which skip
 * themselves once Phase 3 has removed the module). The full suite runs in the project's CI.
 */
export const SANDBOX_TESTS = ['npx', 'mocha', '--no-config', '--extension', 'ts', '--node-option', 'import=tsx', '--timeout', '60000', 'test/daemon/flags.test.ts', 'test/daemon/log.test.ts', 'test/request_path/router.test.ts', 'test/proxy/proxy.test.ts']
export const SANDBOX_BUILD = ['npx', 'tsc', '-p', '.']

export const PHASE1_FLAGS = {gatewayEnabled: true, proxyEnabled: true}

/** orchestra-config.json (plan Appendix C, minimal gateway config) with the mock as the Anthropic upstream. */
export function orchestraConfig(mockUrl: string): Record<string, unknown> {
  return {
    llmGateway: {
      providers: {
        anthropic: {enabled: true, providerType: 'anthropic', baseUrl: mockUrl, apiKeyRef: REHEARSAL_KEY_ENV, timeoutSecs: 60, maxRetries: 2},
      },
      routing: {defaultProvider: 'anthropic', modelTierRules: {opus: 'anthropic', sonnet: 'anthropic', haiku: 'anthropic'}, fallbackChain: ['anthropic']},
      costTracking: {enabled: true},
      audit: {enabled: true, logRequestBodies: true, logResponseBodies: true, retentionDays: 30},
    },
  }
}

/** Write a target home: orchestra config, flags (mode 0600 like the daemon's own files). */
export function writeHome(home: string, mockUrl: string, flags: {gatewayEnabled: boolean; proxyEnabled: boolean}): void {
  fs.mkdirSync(path.join(home, 'config'), {recursive: true, mode: 0o700})
  fs.writeFileSync(path.join(home, 'orchestra-config.json'), `${JSON.stringify(orchestraConfig(mockUrl), null, 2)}\n`, {mode: 0o600})
  fs.writeFileSync(path.join(home, 'config', 'daemon-config.json'), `${JSON.stringify(flags, null, 2)}\n`, {mode: 0o600})
}

/** The sandbox's target file (YAML); returns its path and the validated spec. */
export function writeTargetFile(sandbox: Sandbox, home: string, file = path.join(sandbox.root, 'target.yaml')): {file: string; spec: TargetSpec} {
  const list = (argv: string[]) => `[${argv.map((a) => JSON.stringify(a)).join(', ')}]`
  const text = [
    '# The cutover rehearsal sandbox: the reference daemon built from a git copy of gateway/.',
    'name: rehearsal-sandbox',
    `home: ${JSON.stringify(home)}`,
    `cco: ${list(sandbox.cco)}`,
    `repo: ${JSON.stringify(sandbox.repo)}`,
    `build: ${list(SANDBOX_BUILD)}`,
    `test: ${list(SANDBOX_TESTS)}`,
    `stable_commit_marker: ${JSON.stringify(DEFAULT_STABLE_COMMIT_MARKER)}`,
    '# A dummy key for the mock provider (the gateway reads it through apiKeyRef); not a credential.',
    'env:',
    `  ${REHEARSAL_KEY_ENV}: ${JSON.stringify(REHEARSAL_DUMMY_KEY)}`,
    'timeouts:',
    '  restart: 60s',
    '  build: 5m',
    '  test: 5m',
    '',
  ].join('\n')
  fs.writeFileSync(file, text)
  return {file, spec: loadTargetFile(file, {defaultHome: home})}
}
