import {CutoverError} from '../../lib/errors.js'
import type {Target} from '../../lib/target/target.js'
import type {CheckResult} from '../types.js'
import {errorFromException, fail} from '../util.js'

/**
 * Map an exception from a gateway request to a result. The PID file saying the gateway is not
 * running is a measurement (fail: the gateway is down); everything else (no daemon, no answer,
 * garbage) means we could not measure (error).
 */
export function gatewayFailure(error: unknown, target: Target, expected: string): CheckResult {
  if (error instanceof CutoverError && error.code === 'GATEWAY_NOT_RUNNING') {
    let gatewayEnabled: boolean | null = null
    try {
      gatewayEnabled = target.readFlags().gatewayEnabled
    } catch {
      gatewayEnabled = null
    }
    return fail({
      detail: error.message,
      expected,
      measured: gatewayEnabled === false ? 'gateway disabled' : 'gateway not running',
      evidence: {pid_file: target.paths.pidFile, gatewayEnabled, log_tail: target.tailLog(10)},
      remediation:
        gatewayEnabled === false
          ? `Set "gatewayEnabled": true in ${target.paths.flags}, then ${target.restartHint()}.`
          : `Read ${target.paths.log} ("LLM Gateway initialization error"), fix ${target.paths.orchestraConfig}, then ${target.restartHint()}.`,
    })
  }
  return errorFromException(error, expected)
}

export function httpStatusOf(error: unknown): number | null {
  const status = (error as {httpStatus?: unknown} | null)?.httpStatus
  return typeof status === 'number' ? status : null
}
