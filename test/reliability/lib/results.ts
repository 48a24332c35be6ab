/**
 * The suite's results: every test file adds its figures here, and the root hook (hooks.ts)
 * writes them, with each test's outcome, to test/reliability/results/last-run.json once the
 * run is over. docs/RELIABILITY.md is generated from that file (write-report.ts).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const RELIABILITY_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const REPO_ROOT = path.resolve(RELIABILITY_DIR, '..', '..')
export const RESULTS_FILE = process.env.RELIABILITY_RESULTS_FILE ?? path.join(RELIABILITY_DIR, 'results', 'last-run.json')

export interface TestOutcome {
  suite: string
  title: string
  state: 'passed' | 'failed' | 'pending'
  durationMs: number
  error?: string
}

export interface LoadFigures {
  concurrency: number
  seconds: number
  requests: number
  streamed: number
  nonStreamed: number
  errors: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  rssWarmMb: number
  rssEndMb: number
  rssMaxMb: number
  rssGrowthMb: number
  rssGrowthBoundMb: number
  fdBaseline: number
  fdAfter: number
  fdGrowth: number
  fdGrowthBound: number
  auditRows: number
  metricsTotal: number
  prometheusTotal: number
  recordsLost: number
}

export interface UpstreamFaultFigure {
  fault: string
  daemon: 'no retries' | 'retries + fallback'
  requests: number
  clientSaw: string
  auditRow: string
  counters: string
  healthyAfter: boolean
}

export interface ProcessFaultFigure {
  fault: string
  detail: string
  recordsLost: number
  held: boolean
}

export interface FuzzFigure {
  target: string
  inputs: number
  statuses: Record<string, number>
  serverErrors: number
  crashes: number
}

export interface MalformedFileFigure {
  file: string
  variants: number
  clearError: boolean
  untouched: boolean
}

export interface SecurityFigures {
  listeners: Array<{process: string; address: string}>
  nonLoopbackListeners: number
  remotePeersRefused: string[]
  ssrfRefused: string[]
  artefactsScanned: string[]
  secretsLeaked: number
  fileModes: Array<{path: string; mode: string}>
  badModes: number
  npmAudit: {status: 'ok' | 'findings' | 'unreachable'; high: number; critical: number; detail: string}
}

export interface ReliabilityResults {
  startedAt: string
  finishedAt?: string
  machine: {node: string; platform: string; cpus: number; cpuModel: string; memoryGb: number}
  settings: {soakSeconds: number; fuzzRuns: number; ci: boolean}
  tests: TestOutcome[]
  load?: LoadFigures
  upstreamFaults: UpstreamFaultFigure[]
  processFaults: ProcessFaultFigure[]
  fuzz: FuzzFigure[]
  malformedFiles: MalformedFileFigure[]
  security?: SecurityFigures
}

export const CI = process.env.CI === 'true' || process.env.CI === '1'
/** Soak duration (bounded; CI keeps the default). */
export const SOAK_SECONDS = positive(process.env.RELIABILITY_SOAK_SECONDS, 60)
/** fast-check runs per property (each run is one request). */
export const FUZZ_RUNS = positive(process.env.RELIABILITY_FUZZ_RUNS, 400)

function positive(raw: string | undefined, fallback: number): number {
  const n = Number(raw)
  return raw !== undefined && Number.isFinite(n) && n > 0 ? n : fallback
}

const cpus = os.cpus()
/**
 * One store per process, on globalThis: mocha may load this module twice (the root hooks through
 * one loader, a spec file through the other), and both must add to the same results.
 */
const GLOBAL_KEY = Symbol.for('cutover.reliability.results')
const store = globalThis as typeof globalThis & {[GLOBAL_KEY]?: ReliabilityResults}
export const results: ReliabilityResults = (store[GLOBAL_KEY] ??= {
  startedAt: new Date().toISOString(),
  machine: {node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 1e9)},
  settings: {soakSeconds: SOAK_SECONDS, fuzzRuns: FUZZ_RUNS, ci: CI},
  tests: [],
  upstreamFaults: [],
  processFaults: [],
  fuzz: [],
  malformedFiles: [],
})

export function writeResults(): void {
  results.finishedAt = new Date().toISOString()
  fs.mkdirSync(path.dirname(RESULTS_FILE), {recursive: true})
  const tmp = `${RESULTS_FILE}.${process.pid}.tmp`
  fs.writeFileSync(tmp, `${JSON.stringify(results, null, 2)}\n`)
  fs.renameSync(tmp, RESULTS_FILE)
}
