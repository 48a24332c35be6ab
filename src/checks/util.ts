/** Shared helpers for check modules: result builders, error mapping, small probes. */
import net from 'node:net'

import {CutoverError} from '../lib/errors.js'
import {type PidFile, PidFileError} from '../lib/target/files.js'
import type {Target} from '../lib/target/target.js'
import {redactText} from '../lib/util/redact.js'
import type {CheckResult, Evidence} from './types.js'

interface ResultInput {
  detail: string
  expected: string
  measured: string
  evidence?: Evidence
}

export function pass(input: ResultInput): CheckResult {
  return {outcome: 'pass', evidence: {}, remediation: null, ...input}
}

export function fail(input: ResultInput & {remediation: string}): CheckResult {
  return {outcome: 'fail', evidence: {}, ...input}
}

export function inconclusive(input: ResultInput & {remediation: string}): CheckResult {
  return {outcome: 'inconclusive', evidence: {}, ...input}
}

export function couldNotMeasure(input: Omit<ResultInput, 'measured'> & {measured?: string; remediation: string}): CheckResult {
  return {outcome: 'error', evidence: {}, measured: input.measured ?? 'not measured', ...input}
}

/** Turn anything thrown into an `error` result: the message (secrets masked) and the library's suggestion. */
export function errorFromException(error: unknown, expected: string, evidence: Evidence = {}): CheckResult {
  const message = redactText(error instanceof Error ? error.message : String(error), [])
  const suggestions = error instanceof CutoverError ? error.suggestions : []
  const code = error instanceof CutoverError ? error.code : (error as NodeJS.ErrnoException | undefined)?.code
  return couldNotMeasure({
    detail: `could not measure: ${message}`,
    expected,
    evidence: {...evidence, error: message, ...(code ? {error_code: code} : {})},
    remediation: suggestions.length > 0 ? suggestions.join(' ') : 'Check that the daemon runs (cutover daemon status) and try again.',
  })
}

/** Read the PID file (PID alive): the record, or the `error` result that explains why the daemon cannot be measured. */
export function requireDaemon(target: Target, expected: string): {pid: PidFile} | {result: CheckResult} {
  try {
    return {pid: target.readPidFile()}
  } catch (error) {
    const problem = error instanceof PidFileError ? error.problem : 'unreadable'
    return {result: errorFromException(error, expected, {pid_file: target.paths.pidFile, pid_file_problem: problem})}
  }
}

/** True when something accepts a TCP connection on 127.0.0.1:port within timeoutMs. */
export function tcpListening(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({host: '127.0.0.1', port})
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** The last `lines` non-empty lines of a command's output. */
export function tail(text: string, lines = 30): string[] {
  return text.split('\n').filter((line) => line.trim().length > 0).slice(-lines)
}

export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`
}

/** Describe where the gateway is, for dry-run listings (nothing is read). */
export function gatewayUrlHint(target: Target, path: string): string {
  return `http://127.0.0.1:<gateway_port from ${target.paths.pidFile}>${path}`
}

export function controlUrlHint(target: Target, path: string): string {
  return `http://127.0.0.1:<port from ${target.paths.pidFile}>${path}`
}

/** Compile regex params at lint time; a bad pattern is reported with its parameter name. */
export {regexIssues as regexIssuesOf} from './params.js'
