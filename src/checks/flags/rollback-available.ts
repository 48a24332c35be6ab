import fs from 'node:fs'
import path from 'node:path'

import {defineCheck} from '../types.js'
import {controlUrlHint, errorFromException, fail, pass} from '../util.js'

const EXPECTED = 'the flags file is valid and writable, the daemon reads the flags, the proxy code is still in the build, and the last flag rollback (if any) met its objective'

/**
 * §2.3 "Feature flag allows emergency rollback (if implemented)"; §2.4 Option 2.
 * Verified without flipping anything: the flags file parses and can be written (atomic temp +
 * rename in its directory), the running daemon reports the flags it read, and it does not report the
 * proxy as removed from the build. The last recorded flag rollback or rehearsal is evidence too.
 */
export const flagsRollbackAvailable = defineCheck({
  id: 'flags.rollback_available',
  title: 'Feature flag allows emergency rollback',
  verifies: '§2.3 "Feature flag allows emergency rollback (if implemented)"; §2.4 Option 2 "Feature Flag"',
  params: {},
  touches: ({target}) => ({files: [target.paths.flags, target.paths.configDir], urls: [controlUrlHint(target, '/daemon/status')], records: ['rollbacks (kind flag, flag-rehearsal)']}),
  async run({target, state}) {
    let reading
    try {
      reading = target.readFlagsDetailed()
    } catch (error) {
      const result = errorFromException(error, EXPECTED, {flags_file: target.paths.flags})
      // A flags file the daemon would refuse means the rollback cannot be written either.
      return (error as {exit?: number}).exit === 2 ? {...result, outcome: 'fail', measured: 'flags file invalid'} : result
    }
    const dir = path.dirname(target.paths.flags)
    const writableTarget = fs.existsSync(dir) ? dir : target.home
    let writable = true
    try {
      fs.accessSync(writableTarget, fs.constants.W_OK)
      if (reading.exists) fs.accessSync(target.paths.flags, fs.constants.R_OK)
    } catch {
      writable = false
    }
    let daemonFlags: unknown = null
    let proxyState: string | null = null
    try {
      const status = (await target.gateway.status()).body as {flags?: unknown; proxy?: {state?: unknown}}
      daemonFlags = status.flags ?? null
      proxyState = typeof status.proxy?.state === 'string' ? status.proxy.state : null
    } catch {
      daemonFlags = null
    }
    const lastRollback = state ? (state.listRollbacks({limit: 50}).find((r) => r.kind === 'flag' || r.kind === 'flag-rehearsal') ?? null) : null
    const evidence = {
      flags_file: target.paths.flags,
      flags_file_exists: reading.exists,
      flags: reading.flags,
      writable,
      daemon_flags: daemonFlags,
      daemon_proxy_state: proxyState,
      last_flag_rollback: lastRollback ? {ts: lastRollback.ts, kind: lastRollback.kind, outcome: lastRollback.outcome, total_ms: lastRollback.totalMs, within_objective: lastRollback.withinObjective} : null,
    }
    if (!writable) {
      return fail({detail: `cannot write ${target.paths.flags} (no write permission on ${writableTarget})`, expected: EXPECTED, measured: 'flags not writable', evidence, remediation: `Give the operator write access to ${writableTarget}; a flag rollback writes ${target.paths.flags}.`})
    }
    if (proxyState === 'unavailable') {
      return fail({detail: 'the daemon reports the proxy code removed from this build: a flag rollback cannot bring it back', expected: EXPECTED, measured: 'proxy code removed', evidence, remediation: 'Only a git rollback (plan §3.5) can restore the proxy now.'})
    }
    if (lastRollback && (lastRollback.outcome !== 'success' || !lastRollback.withinObjective)) {
      return fail({
        detail: `the last flag rollback (${lastRollback.kind}, ${lastRollback.ts}) ${lastRollback.outcome !== 'success' ? `ended ${lastRollback.outcome}` : `took ${lastRollback.totalMs} ms, over its objective`}`,
        expected: EXPECTED,
        measured: `last flag rollback ${lastRollback.outcome}`,
        evidence,
        remediation: 'Find out why (cutover rollback history) and rehearse again: cutover rollback --rehearse.',
      })
    }
    const measured = `flags ${reading.exists ? 'file' : 'defaults'} gatewayEnabled=${reading.flags.gatewayEnabled} proxyEnabled=${reading.flags.proxyEnabled}${lastRollback ? ', rehearsed' : ''}`
    return pass({detail: `flag rollback possible: ${measured}${daemonFlags === null ? ' (daemon status unavailable)' : ''}`, expected: EXPECTED, measured, evidence})
  },
})
