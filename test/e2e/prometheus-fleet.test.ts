import {expect} from 'chai'
import {execa, type ResultPromise} from 'execa'
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import type {GonogoCommandResult} from '../../src/commands/gonogo.js'
import {built, cutover, freePort, type RunningMock, startDaemon, startMock, stopDaemon, waitFor, writeOrchestraConfig} from '../commands/gate/env.js'
import {cleanupTempDirs, makeTempDir} from '../helpers/tmp.js'

/**
 * A fleet gate over a real Prometheus: three reference daemons on loopback, scraped every second
 * at their gateway's /metrics; one of them cannot start its gateway (invalid orchestra-config.json,
 * gateway_port null), so its scrape target is down. The criterion "gateway fails to start on
 * > 5 % of systems" must report 1 of 3 failing and name the host.
 */
function havePrometheus(): boolean {
  try {
    execFileSync('prometheus', ['--version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

const FLEET_QUERY = 'min_over_time(up{job="cco-gateway"}[$window])'

function fleetPlaybook(dir: string): string {
  const file = path.join(dir, 'fleet-playbook.yaml')
  const criterion = (id: string, minHosts: number) =>
    `      - {id: ${id}, title: Gateway fails to start on at most 5% of systems, source: prometheus, metric: '${FLEET_QUERY}', host_label: host, min_hosts: ${minHosts}, statistic: last, window: 5s, operator: '<=', threshold: 5, unit: percent, min_samples: 0, key: true, plan_ref: 'test: "fleet"'}`
  fs.writeFileSync(
    file,
    `name: fleet-test
version: "1"
target: {name: reference, cco: [cco]}
phases:
  - {id: one, number: 1, title: One, goal: Fleet., plan_ref: 't: "1"', checks: [{id: gateway.health, plan_ref: 't: "h"'}]}
  - {id: two, number: 2, title: Two, goal: Fleet., plan_ref: 't: "2"', checks: [{id: gateway.health, plan_ref: 't: "h"'}]}
  - {id: three, number: 3, title: Three, goal: Fleet., plan_ref: 't: "3"', checks: [{id: gateway.health, plan_ref: 't: "h"'}]}
gates:
  - id: fleet-1-2
    from: 1
    to: 2
    title: Fleet gate
    plan_ref: 't: "gate"'
    criteria:
${criterion('gateway-start-failures', 3)}
  - id: fleet-2-3
    from: 2
    to: 3
    title: Fleet gate needing more hosts
    plan_ref: 't: "gate"'
    criteria:
${criterion('gateway-start-failures-10-hosts', 10)}
`,
  )
  return file
}

describe('e2e: fleet criterion through a real Prometheus scraping three reference daemons', function () {
  this.timeout(180_000)
  let dir: string
  let mock: RunningMock
  let prometheus: ResultPromise | undefined
  let promUrl: string
  let playbook: string
  const homes: Record<string, string> = {}

  before(async function () {
    if (!built()) this.skip()
    if (!havePrometheus()) throw new Error('the prometheus binary is not installed: apt-get install -y prometheus (.ci/run installs it)')
    dir = makeTempDir('cutover-fleet-')
    mock = await startMock()
    const targets: Array<{host: string; address: string}> = []
    for (const host of ['alpha', 'beta', 'gamma']) {
      const home = path.join(dir, host)
      fs.mkdirSync(home, {mode: 0o700})
      homes[host] = home
      if (host === 'gamma') fs.writeFileSync(path.join(home, 'orchestra-config.json'), '{"llmGateway": {') // the gateway cannot start
      else writeOrchestraConfig(home, mock.url)
      const pid = await startDaemon(home)
      if (host === 'gamma') {
        expect(pid.gateway_port, 'gamma must fail to start its gateway').to.equal(null)
        // Where its gateway would listen: nothing answers there.
        targets.push({host, address: `127.0.0.1:${await freePort()}`})
      } else {
        expect(pid.gateway_port).to.be.a('number')
        targets.push({host, address: `127.0.0.1:${pid.gateway_port}`})
      }
    }
    const config = [
      'global: {scrape_interval: 1s, evaluation_interval: 1s}',
      'scrape_configs:',
      '  - job_name: cco-gateway',
      '    metrics_path: /metrics',
      '    scrape_timeout: 900ms',
      '    static_configs:',
      ...targets.map((t) => `      - {targets: ['${t.address}'], labels: {host: ${t.host}}}`),
    ].join('\n')
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), `${config}\n`)
    const port = await freePort()
    promUrl = `http://127.0.0.1:${port}`
    prometheus = execa('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], {reject: false, cleanup: true})
    await waitFor(async () => {
      try {
        return (await fetch(`${promUrl}/-/ready`)).ok
      } catch {
        return false
      }
    }, 'Prometheus to be ready', 60_000, 250)
    playbook = fleetPlaybook(dir)
    // Until the healthy hosts have been up for the whole 5 s window.
    const query = FLEET_QUERY.replace('$window', '5s')
    await waitFor(
      async () => {
        const body = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as {data: {result: Array<{metric: {host: string}; value: [number, string]}>}}
        const byHost = new Map(body.data.result.map((r) => [r.metric.host, r.value[1]]))
        return byHost.size === 3 && byHost.get('alpha') === '1' && byHost.get('beta') === '1'
      },
      'Prometheus to see alpha and beta up for 5 s (is /metrics served by the gateway?)',
      60_000,
      500,
    )
  })

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM')
      await prometheus
    }
    for (const home of Object.values(homes)) await stopDaemon(home)
    await mock?.close()
    cleanupTempDirs()
  })

  it('NO-GO: 1 of 3 hosts failing (33.3 % > 5 %), the failing host named', async () => {
    const run = await cutover(['gonogo', '--home', homes.alpha!, '--playbook', playbook, '--prometheus-url', promUrl, '--json'])
    expect(run.exitCode, run.stderr).to.equal(1)
    const doc = JSON.parse(run.stdout) as GonogoCommandResult
    expect(doc.verdict).to.equal('NO-GO')
    const fleet = doc.criteria[0]!
    expect(fleet.outcome).to.equal('fail')
    expect(fleet.hosts?.map((h) => h.name)).to.deep.equal(['alpha', 'beta', 'gamma'])
    expect(fleet.failingHosts).to.deep.equal(['gamma'])
    expect(fleet.samples).to.equal(3)
    expect(fleet.value).to.be.closeTo(100 / 3, 1e-9)
    expect(fleet.reason).to.contain('1 of 3 host(s) failing').and.contain('failing: gamma')
    expect(doc.prometheusUrl).to.equal(`${promUrl}/`)

    const human = await cutover(['gonogo', '--home', homes.alpha!, '--playbook', playbook, '--prometheus-url', promUrl])
    expect(human.stdout).to.contain('1/3 hosts').and.contain('gamma')
  })

  it('INCONCLUSIVE when fewer hosts report than the criterion needs; ERROR when Prometheus is unreachable or not given', async () => {
    const few = await cutover(['gonogo', '--home', homes.alpha!, '--playbook', playbook, '--prometheus-url', promUrl, '--from', '2', '--to', '3', '--json'])
    expect(few.exitCode).to.equal(3)
    const doc = JSON.parse(few.stdout) as GonogoCommandResult
    expect(doc.criteria[0]!.outcome).to.equal('inconclusive')
    expect(doc.criteria[0]!.reason).to.contain('only 3 host(s) reported, at least 10 needed')

    const closed = `http://127.0.0.1:${await freePort()}`
    const down = await cutover(['gonogo', '--home', homes.alpha!, '--playbook', playbook, '--prometheus-url', closed, '--json'])
    expect(down.exitCode).to.equal(4)
    expect((JSON.parse(down.stdout) as GonogoCommandResult).criteria[0]!.error).to.contain('unreachable')

    const missing = await cutover(['gonogo', '--home', homes.alpha!, '--playbook', playbook, '--json'])
    expect(missing.exitCode).to.equal(4)
    expect((JSON.parse(missing.stdout) as GonogoCommandResult).criteria[0]!.error).to.contain('--prometheus-url')
  })
})
