import {parseDuration} from '../util/duration.js'
import type {Measurement, MeasureSpec} from '../evaluate/types.js'

/**
 * A metric source measures one spec at a time. It never throws for "could not measure":
 * it returns a Measurement with `error` set, which the evaluator turns into an 'error'
 * outcome (never a pass or a fail).
 */
export interface MetricSource {
  measure(spec: MeasureSpec, now: Date): Promise<Measurement>
}

export interface Window {
  ms: number
  start: Date
  end: Date
}

/** The trailing window [now - window, now] of a spec. Throws DurationError on a bad window. */
export function windowOf(spec: MeasureSpec, now: Date): Window {
  const ms = parseDuration(spec.window)
  return {ms, start: new Date(now.getTime() - ms), end: now}
}

/** A Measurement saying why nothing could be measured. */
export function errorMeasurement(spec: MeasureSpec, now: Date, error: string, detail?: Record<string, unknown>): Measurement {
  let start = now
  try {
    start = windowOf(spec, now).start
  } catch {
    // a bad window is itself the error being reported
  }
  return {
    criterionId: spec.id,
    value: null,
    samples: 0,
    windowStart: start.toISOString(),
    windowEnd: now.toISOString(),
    windowElapsed: false,
    error,
    ...(detail ? {detail} : {}),
  }
}
