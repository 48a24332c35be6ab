import {hash} from 'node:crypto'

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members dropped.
 * Two equal values always serialise to the same string, so their hash is stable.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value))
}

function normalise(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return null
    if (typeof value === 'bigint') return value.toString()
    return value
  }
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : normalise(item)))
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key]
    if (member !== undefined && typeof member !== 'function') out[key] = normalise(member)
  }
  return out
}

/** One-shot crypto.hash: about twice as fast as createHash for the short inputs hashed per written row. */
export function sha256Hex(data: string | Buffer): string {
  return hash('sha256', data, 'hex')
}

/** sha256 of the canonical JSON of a value. */
export function hashJson(value: unknown): string {
  return sha256Hex(canonicalJson(value))
}
