import {expect} from 'chai'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {http, waitFor} from '../helpers/cco.js'
import {anthropicProvider, E2eWorld, messageBody, postMessages, waitForTotal} from './harness.js'

/*
 * A real Prometheus server (the Debian `prometheus` package) scrapes the live gateway's
 * /metrics every second; through Prometheus' HTTP API, sum(gateway_requests_total) must
 * equal the gateway's own summary.total_requests.
 */

const INSTALL_HINT = 'Install it: sudo apt-get install -y prometheus (.ci/run does this on CI)'

function prometheusBinary(): string | null {
  const which = spawnSync('sh', ['-c', 'command -v prometheus'], {encoding: 'utf8'})
  const path = which.stdout.trim()
  return which.status === 0 && path !== '' ? path : null
}

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const {port} = server.address() as {port: number}
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

interface PromVector {
  status: string
  data: {resultType: string; result: Array<{metric: Record<string, string>; value: [number, string]}>}
}

describe('e2e: a real Prometheus scrapes the gateway', function () {
  this.timeout(120_000)
  const world = new E2eWorld()
  const binary = prometheusBinary()
  let prometheus: ChildProcess | undefined
  let output = ''
  let dataDir: string | undefined

  before(function () {
    if (binary) return
    // On CI a missing binary is a failure, not a silent skip.
    if (process.env.CI === 'true') throw new Error(`the prometheus binary is not installed, so the Prometheus scrape test cannot run. ${INSTALL_HINT}`)
    console.warn(`      (skipped: no prometheus binary. ${INSTALL_HINT})`)
    this.skip()
  })

  after(async () => {
    if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
      const exited = once(prometheus, 'exit')
      prometheus.kill('SIGTERM')
      const timer = setTimeout(() => prometheus?.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    if (dataDir) rmSync(dataDir, {recursive: true, force: true})
    await world.cleanup()
  })

  it('sum(gateway_requests_total) in Prometheus equals summary.total_requests', async () => {
    const mock = await world.mock()
    const daemon = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}})

    dataDir = mkdtempSync(join(tmpdir(), 'cco-prometheus-'))
    const config = join(dataDir, 'prometheus.yml')
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: gateway',
        '    scrape_interval: 1s',
        '    scrape_timeout: 1s',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${daemon.gatewayPort}']`,
        '',
      ].join('\n'),
    )
    const port = await freePort()
    const api = `http://127.0.0.1:${port}`
    prometheus = spawn(binary!, [`--config.file=${config}`, `--storage.tsdb.path=${join(dataDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    prometheus.stdout?.on('data', (c: Buffer) => (output += c.toString()))
    prometheus.stderr?.on('data', (c: Buffer) => (output += c.toString()))
    await waitFor(
      async () => {
        if (prometheus!.exitCode !== null) throw new Error(`prometheus exited with ${prometheus!.exitCode}: ${output}`)
        return (await http(`${api}/-/ready`).catch(() => ({status: 0}))).status === 200
      },
      'Prometheus to be ready',
      30_000,
      100,
    )

    // Traffic: successes, a stream, and upstream errors.
    const ok = await Promise.all([...Array(5)].map((_, i) => postMessages(daemon, messageBody({stream: i % 2 === 0}))))
    expect(ok.every((r) => r.status === 200)).to.equal(true)
    await mock.setFaults({errorStatus: 500})
    const failed = await Promise.all([postMessages(daemon, messageBody()), postMessages(daemon, messageBody())])
    expect(failed.map((r) => r.status)).to.deep.equal([500, 500])
    const total = (await waitForTotal(daemon, 7)).total_requests
    expect(total).to.equal(7)

    const query = async (promql: string): Promise<PromVector> => {
      const r = await http(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`)
      if (r.status !== 200) throw new Error(`Prometheus answered ${r.status}: ${r.text}`)
      return r.json as PromVector
    }
    let seen: string | undefined
    await waitFor(
      async () => {
        const v = await query('sum(gateway_requests_total)')
        seen = v.data.result[0]?.value[1]
        return seen !== undefined && Number(seen) === total
      },
      `Prometheus' sum(gateway_requests_total) to reach ${total} (last: ${String(seen)})`,
      60_000,
      250,
    )
    const up = await query('up{job="gateway"}')
    expect(up.data.result[0]?.value[1]).to.equal('1')
    const byStatus = await query('sum by (status_class) (gateway_requests_total)')
    const classes = Object.fromEntries(byStatus.data.result.map((r) => [r.metric.status_class, Number(r.value[1])]))
    expect(classes).to.deep.equal({'2xx': 5, '5xx': 2})
  })
})
