import type {MockErrorStatus, MockFaults} from './types.js'

export const ERROR_STATUSES: readonly MockErrorStatus[] = [429, 500, 503, 529, 400, 401, 403, 404, 413]

/** Non-negative numeric knobs; `integer` ones count requests or events. */
const NUMERIC_KNOBS = {
  latencyMs: {integer: false},
  ttfbMs: {integer: false},
  eventDelayMs: {integer: false},
  retryAfterSecs: {integer: false},
  failFirstN: {integer: true},
  cutStreamAfterEvents: {integer: true},
  endStreamAfterEvents: {integer: true},
  stallAfterEvents: {integer: true},
} as const satisfies Partial<Record<keyof MockFaults, {integer: boolean}>>

const BOOLEAN_KNOBS = ['resetBeforeHeaders', 'malformedSse', 'neverRespond'] as const satisfies readonly (keyof MockFaults)[]

const KNOWN_KNOBS: readonly string[] = [...Object.keys(NUMERIC_KNOBS), ...BOOLEAN_KNOBS, 'errorRate', 'errorStatus']

export class InvalidFaultsError extends Error {}

/** Validates untrusted fault settings (HTTP control surface, CLI); throws InvalidFaultsError naming the bad knob. */
export function parseFaults(input: unknown): MockFaults {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidFaultsError(`faults must be a JSON object such as {"latencyMs": 100}; got ${describe(input)}`)
  }
  const faults: MockFaults = {}
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue
    if (key in NUMERIC_KNOBS) {
      const {integer} = NUMERIC_KNOBS[key as keyof typeof NUMERIC_KNOBS]
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
        throw new InvalidFaultsError(`faults.${key}: expected ${integer ? 'an integer' : 'a number'} >= 0, got ${describe(value)}`)
      }
      faults[key as keyof typeof NUMERIC_KNOBS] = value
    } else if ((BOOLEAN_KNOBS as readonly string[]).includes(key)) {
      if (typeof value !== 'boolean') throw new InvalidFaultsError(`faults.${key}: expected true or false, got ${describe(value)}`)
      faults[key as (typeof BOOLEAN_KNOBS)[number]] = value
    } else if (key === 'errorRate') {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        throw new InvalidFaultsError(`faults.errorRate: expected a number from 0 to 1, got ${describe(value)}`)
      }
      faults.errorRate = value
    } else if (key === 'errorStatus') {
      if (!ERROR_STATUSES.includes(value as MockErrorStatus)) {
        throw new InvalidFaultsError(`faults.errorStatus: expected one of ${ERROR_STATUSES.join(', ')}, got ${describe(value)}`)
      }
      faults.errorStatus = value as MockErrorStatus
    } else {
      throw new InvalidFaultsError(`faults.${key}: unknown fault; known faults: ${KNOWN_KNOBS.join(', ')}`)
    }
  }
  return faults
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)
  if (typeof value === 'object') return 'an object'
  return String(value)
}
