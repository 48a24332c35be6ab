/**
 * npm run bench:cutover
 *
 * How long the cutover itself takes, as figures rather than test assertions: runs the happy-path
 * rehearsal (`cutover rehearse --json`) BENCH_ROUNDS times (default 3) and reports, per round and as
 * the median, the whole rehearsal's wall-clock time and each measured recovery time (flag drill,
 * flag rehearsal, git rehearsal) beside the plan's objective. Writes bench/results/cutover.json.
 *
 * Environment: BENCH_ROUNDS (default 3), BENCH_SCENARIO (default happy).
 */
import {execFileSync} from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {RehearsalResult} from '../src/lib/rehearse/types.js'
import {writeJsonAtomic} from '../src/lib/util/atomic-write.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))
const scenario = process.env.BENCH_SCENARIO ?? 'happy'

interface Round {
  ok: boolean
  rehearsalMs: number
  recovery: Record<string, {totalMs: number; objectiveMs: number | null; withinObjective: boolean | null}>
}

function runRound(): Round {
  let out: string
  try {
    out = execFileSync(process.execPath, [path.join(repo, 'bin', 'run.js'), 'rehearse', '--scenario', scenario, '--json'], {cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024})
  } catch (error) {
    // A rehearsal that ends in NO-GO exits 1 and still prints its result.
    out = String((error as {stdout?: string}).stdout ?? '')
  }
  const result = JSON.parse(out) as RehearsalResult
  const recovery: Round['recovery'] = {}
  for (const r of result.recoveryTimes) recovery[`${r.step} (${r.kind})`] = {totalMs: r.totalMs, objectiveMs: r.objectiveMs, withinObjective: r.withinObjective}
  return {ok: result.ok, rehearsalMs: result.durationMs, recovery}
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const results: Round[] = []
for (let i = 0; i < rounds; i++) {
  const r = runRound()
  results.push(r)
  console.log(`round ${i + 1}/${rounds}: rehearsal ${(r.rehearsalMs / 1000).toFixed(1)} s, ${r.ok ? 'as expected' : 'DEVIATED'}`)
}

const names = [...new Set(results.flatMap((r) => Object.keys(r.recovery)))]
const rows = [
  {what: `rehearsal (${scenario}), whole run`, ms: results.map((r) => r.rehearsalMs), objectiveMs: null as number | null},
  ...names.map((n) => ({what: n, ms: results.flatMap((r) => (r.recovery[n] ? [r.recovery[n].totalMs] : [])), objectiveMs: results.find((r) => r.recovery[n])?.recovery[n]?.objectiveMs ?? null})),
]
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
console.log(`\n| measured | median | min | max | objective |\n|---|---|---|---|---|`)
for (const row of rows) console.log(`| ${row.what} | ${seconds(median(row.ms))} | ${seconds(Math.min(...row.ms))} | ${seconds(Math.max(...row.ms))} | ${row.objectiveMs === null ? '–' : seconds(row.objectiveMs)} |`)

const machine = {cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadavg: os.loadavg().map((l) => Number(l.toFixed(2)))}
const file = path.join(repo, 'bench', 'results', 'cutover.json')
writeJsonAtomic(file, {measured_at: new Date().toISOString(), machine, settings: {rounds, scenario}, rows: rows.map((r) => ({...r, median_ms: median(r.ms)})), rounds: results})
console.log(`\nwrote ${path.relative(repo, file)}`)
if (results.some((r) => !r.ok)) process.exitCode = 1
