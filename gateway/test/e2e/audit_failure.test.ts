import Database from 'better-sqlite3'
import {expect} from 'chai'
import {join} from 'node:path'
import {http, waitFor} from '../helpers/cco.js'
import {anthropicProvider, E2eWorld, messageBody, postMessages, prometheusSum, waitForTotal} from './harness.js'

/*
 * An audit write failure (here: another process holds the database's write lock) never fails
 * a request: requests are served, the failure is counted and shown as "degraded" in
 * /gateway/health, and the queued rows are written once the database is writable again.
 */

interface Health {
  status: string
  checks: Record<string, {ok: boolean; reason?: string}>
}

describe('e2e: audit write failures degrade /gateway/health but never fail a request', function () {
  this.timeout(60_000)
  const world = new E2eWorld()
  let locker: Database.Database | undefined
  after(async () => {
    if (locker?.inTransaction) locker.exec('ROLLBACK')
    locker?.close()
    await world.cleanup()
  })

  it('serves, counts, reports degraded, then catches up', async () => {
    const mock = await world.mock()
    const daemon = await world.startDaemon({providers: {anthropic: anthropicProvider(mock.url)}, routing: {defaultProvider: 'anthropic'}})
    expect((await postMessages(daemon, messageBody())).status).to.equal(200)
    await waitForTotal(daemon, 1)
    expect(((await http(`${daemon.url}/gateway/health`)).json as Health).status).to.equal('healthy')

    locker = new Database(join(daemon.home, 'gateway', 'audit.db'))
    locker.exec('BEGIN EXCLUSIVE')
    const served = await Promise.all([postMessages(daemon, messageBody()), postMessages(daemon, messageBody({stream: true})), postMessages(daemon, messageBody())])
    expect(served.map((r) => r.status)).to.deep.equal([200, 200, 200])

    const degraded = await waitFor(
      async () => {
        const r = await http(`${daemon.url}/gateway/health`)
        const health = r.json as Health
        return r.status === 200 && health.status === 'degraded' ? health : null
      },
      '/gateway/health to report degraded',
      15_000,
      100,
    )
    expect(degraded.checks.audit!.ok).to.equal(false)
    expect(degraded.checks.audit!.reason).to.match(/audit/)
    expect(await prometheusSum(daemon, 'gateway_audit_write_errors_total')).to.be.greaterThan(0)

    locker.exec('COMMIT')
    locker.close()
    locker = undefined
    // The queued rows are retried: nothing is lost.
    const s = await waitForTotal(daemon, 4)
    expect(s.total_requests).to.equal(4)
  })
})
