/**
 * npx tsx bench/table.ts [bench/results/gateway.json]
 *
 * Prints the benchmark result as the Markdown table the README's Performance section shows.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

interface Row {
  target: string
  c1_p50_ms: number
  c1_p99_ms: number
  added_c1_p50_ms: number
  added_c1_p99_ms: number
  c50_rps: number
  c50_share_of_passthrough: number
  c50_p99_ms: number
  c50_cpu_us_per_request?: number | null
  stream_ttfb_p50_ms: number
  added_stream_ttfb_ms: number
  stream_total_p50_ms: number
  rss_mb_after_load: number | null
  errors: number
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const file = process.argv[2] ?? path.join(repo, 'bench', 'results', 'gateway.json')
const result = JSON.parse(readFileSync(file, 'utf8')) as {measured_at: string; machine: Record<string, unknown>; settings: Record<string, unknown>; rows: Row[]}
const f = (n: number | null | undefined, digits = 2): string => (n === null || n === undefined ? '–' : n.toFixed(digits))
console.log('| target | c=1 p50 / p99 ms | added c=1 p50 / p99 ms | c=50 req/s (share of pass-through) | c=50 p99 ms | CPU µs/request at c=50 | stream TTFB p50 ms (added) | stream total p50 ms | RSS after 10k requests MB | errors |')
console.log('|---|---|---|---|---|---|---|---|---|---|')
for (const r of result.rows) {
  const direct = r.added_c1_p50_ms === 0 && r.added_stream_ttfb_ms === 0
  console.log(
    `| ${r.target} | ${f(r.c1_p50_ms)} / ${f(r.c1_p99_ms, 1)} | ${direct ? '–' : `+${f(r.added_c1_p50_ms)} / +${f(r.added_c1_p99_ms, 1)}`} | ${r.c50_rps} (${f(r.c50_share_of_passthrough)}) | ${r.c50_p99_ms} | ${r.c50_cpu_us_per_request ?? '–'} | ${f(r.stream_ttfb_p50_ms)}${direct ? '' : ` (+${f(r.added_stream_ttfb_ms)})`} | ${f(r.stream_total_p50_ms, 1)} | ${r.rss_mb_after_load ?? '–'} | ${r.errors} |`,
  )
}
console.log(`\nMeasured ${result.measured_at}; settings ${JSON.stringify(result.settings)}; machine ${JSON.stringify(result.machine)}`)
