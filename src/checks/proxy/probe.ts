import type {Target} from '../../lib/target/target.js'
import type {PidFile} from '../../lib/target/files.js'
import {tcpListening} from '../util.js'

export interface ProxyObservation {
  proxy_port: number | null
  /** Something accepts connections on proxy_port. */
  listening: boolean
  /** The daemon's own view (/daemon/status "proxy.state"), when it answers. */
  daemon_proxy_state: string | null
  proxyEnabled: boolean | null
}

/** What the PID file, a TCP connect and the daemon's status say about the legacy proxy. */
export async function observeProxy(target: Target, pid: PidFile): Promise<ProxyObservation> {
  const port = pid.proxy_port ?? null
  const listening = port === null ? false : await tcpListening(port)
  let state: string | null = null
  try {
    const status = (await target.gateway.status()).body as {proxy?: {state?: unknown}}
    state = typeof status.proxy?.state === 'string' ? status.proxy.state : null
  } catch {
    state = null
  }
  let proxyEnabled: boolean | null = null
  try {
    proxyEnabled = target.readFlags().proxyEnabled
  } catch {
    proxyEnabled = null
  }
  return {proxy_port: port, listening, daemon_proxy_state: state, proxyEnabled}
}
