/**
 * Check parameters: a small declarative schema per check, validated when a playbook is linted
 * (through the check catalog, so a bad parameter is reported at its file:line:col) and again
 * before a check runs (defaults applied). Hand-written: the messages name the parameter and say
 * what is expected, which is what an operator editing YAML needs.
 */
import {parseFlagDuration} from '../lib/util/duration.js'

export type ParamSpec =
  | {type: 'string'; description: string; default?: string; required?: boolean; pattern?: RegExp; patternText?: string}
  | {type: 'number'; description: string; default?: number; required?: boolean; integer?: boolean; min?: number; max?: number}
  | {type: 'boolean'; description: string; default?: boolean; required?: boolean}
  /** A duration such as `10s`, `1h`; validated value is milliseconds. */
  | {type: 'duration'; description: string; default?: string; required?: boolean; minMs?: number}
  | {type: 'enum'; description: string; values: readonly string[]; default?: string; required?: boolean}
  | {type: 'string[]'; description: string; default?: readonly string[]; required?: boolean; minItems?: number}

export type ParamsSchema = Record<string, ParamSpec>

export interface ParamIssue {
  /** The parameter at fault, or null for the params object itself. */
  param: string | null
  message: string
}

export type ParamsValidation = {ok: true; value: Record<string, unknown>} | {ok: false; issues: ParamIssue[]}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  if (typeof v === 'string') return `"${v}"`
  return `${typeof v} ${String(v)}`
}

function checkOne(name: string, spec: ParamSpec, raw: unknown, issues: ParamIssue[]): unknown {
  const bad = (message: string): undefined => {
    issues.push({param: name, message})
    return undefined
  }
  switch (spec.type) {
    case 'string':
      if (typeof raw !== 'string' || raw.length === 0) return bad(`expected a non-empty string, got ${describe(raw)}`)
      if (spec.pattern && !spec.pattern.test(raw)) return bad(`expected ${spec.patternText ?? `a string matching ${spec.pattern}`}, got "${raw}"`)
      return raw
    case 'number':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return bad(`expected a number, got ${describe(raw)}`)
      if (spec.integer && !Number.isInteger(raw)) return bad(`expected a whole number, got ${raw}`)
      if (spec.min !== undefined && raw < spec.min) return bad(`must be at least ${spec.min}, got ${raw}`)
      if (spec.max !== undefined && raw > spec.max) return bad(`must be at most ${spec.max}, got ${raw}`)
      return raw
    case 'boolean':
      if (typeof raw !== 'boolean') return bad(`expected true or false, got ${describe(raw)}`)
      return raw
    case 'duration': {
      if (typeof raw !== 'string') return bad(`expected a duration such as 10s or 1h, got ${describe(raw)}`)
      let ms: number
      try {
        ms = parseFlagDuration(raw, name)
      } catch {
        return bad(`"${raw}" is not a duration (use e.g. 500ms, 10s, 15m, 1h)`)
      }
      if (ms <= 0) return bad('must be greater than zero')
      if (spec.minMs !== undefined && ms < spec.minMs) return bad(`must be at least ${spec.minMs} ms, got ${raw}`)
      return ms
    }
    case 'enum':
      if (typeof raw !== 'string' || !spec.values.includes(raw)) return bad(`expected one of ${spec.values.join(', ')}, got ${describe(raw)}`)
      return raw
    case 'string[]': {
      if (!Array.isArray(raw)) return bad(`expected a list of strings, got ${describe(raw)}`)
      if (spec.minItems !== undefined && raw.length < spec.minItems) return bad(`expected at least ${spec.minItems} item${spec.minItems === 1 ? '' : 's'}`)
      const out: string[] = []
      for (const [i, item] of raw.entries()) {
        if (typeof item !== 'string' || item.length === 0) return bad(`item ${i + 1}: expected a non-empty string, got ${describe(item)}`)
        out.push(item)
      }
      return out
    }
  }
}

/** Compile regex-valued params so a syntax error is reported at lint time, not at run time. */
export function regexIssues(name: string, values: string[], flags: string): ParamIssue[] {
  const issues: ParamIssue[] = []
  for (const [i, source] of values.entries()) {
    try {
      new RegExp(source, flags)
    } catch (error) {
      issues.push({param: name, message: `item ${i + 1}: invalid regular expression /${source}/: ${(error as Error).message}`})
    }
  }
  return issues
}

/**
 * Validate raw params against a schema and apply defaults. Unknown names are errors (a typo must
 * not silently fall back to a default). Durations come back as milliseconds.
 */
export function validateParams(schema: ParamsSchema, raw: unknown): ParamsValidation {
  const issues: ParamIssue[] = []
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    return {ok: false, issues: [{param: null, message: `params must be a mapping of name: value, got ${describe(raw)}`}]}
  }
  const given = (raw ?? {}) as Record<string, unknown>
  const known = Object.keys(schema)
  for (const name of Object.keys(given)) {
    if (!(name in schema)) issues.push({param: name, message: `unknown parameter "${name}" (${known.length > 0 ? `known: ${known.join(', ')}` : 'this check takes no parameters'})`})
  }
  const value: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(schema)) {
    const v = given[name]
    if (v === undefined || v === null) {
      if (spec.required) issues.push({param: name, message: `missing required parameter "${name}" (${spec.description})`})
      else if (spec.default !== undefined) value[name] = spec.type === 'duration' ? parseFlagDuration(spec.default, name) : spec.default
      continue
    }
    const checked = checkOne(name, spec, v, issues)
    if (checked !== undefined) value[name] = checked
  }
  return issues.length > 0 ? {ok: false, issues} : {ok: true, value}
}

/** One line per parameter, for `--dry-run` and docs. */
export function describeSchema(schema: ParamsSchema): string[] {
  return Object.entries(schema).map(([name, spec]) => {
    const def = spec.default === undefined ? '' : ` (default ${JSON.stringify(spec.default)})`
    return `${name}${spec.required ? ' (required)' : ''}: ${spec.description}${def}`
  })
}
