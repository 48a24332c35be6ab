/**
 * A small schema toolkit over the `yaml` AST. Validators walk the parsed nodes (not the plain JS
 * value), so every problem is reported at the node's line and column, and they build the typed
 * value as they go. Hand-written rather than ajv: ajv reports JSON pointers, and mapping them
 * back to source positions and wording "what was expected" well is more work than this file.
 */
import {existsSync} from 'node:fs'
import path from 'node:path'
import {type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, type YAMLMap} from 'yaml'

import {checkDuration} from '../util/duration.js'
import type {CheckCatalog} from './known-checks.js'

export interface PlaybookIssue {
  file: string
  /** 1-based */
  line: number
  /** 1-based */
  col: number
  /** Where in the playbook, e.g. `phases[1].checks[0].id`. */
  path: string
  message: string
}

export function formatIssue(issue: PlaybookIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`
}

export const INVALID: unique symbol = Symbol('invalid')
export type Result<T> = T | typeof INVALID

type AnyNode = Node | Pair | null | undefined

export class Ctx {
  readonly issues: PlaybookIssue[] = []
  private readonly nodes = new Map<string, Node>()

  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lineCounter: LineCounter,
    readonly catalog: CheckCatalog,
    /** Directory that relative file references (scripts, patches) resolve against. */
    readonly baseDir: string,
  ) {}

  position(node: AnyNode): {line: number; col: number} {
    const range = node && 'range' in node ? node.range : node && 'key' in node ? (node.key as Node | null)?.range : undefined
    if (!range) return {line: 1, col: 1}
    return this.lineCounter.linePos(range[0])
  }

  report(node: AnyNode, at: string, message: string): void {
    const {line, col} = this.position(node ?? this.nodeAt(at))
    this.issues.push({file: this.file, line, col, path: at, message})
  }

  remember(at: string, node: Node): void {
    this.nodes.set(at, node)
  }

  /** The node at a path seen during validation, or the nearest ancestor's node. */
  nodeAt(at: string): Node | undefined {
    let p = at
    for (;;) {
      const node = this.nodes.get(p)
      if (node) return node
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['))
      if (cut <= 0) return this.nodes.get('')
      p = p.slice(0, cut)
    }
  }

  /** Report at a path (used by cross-field rules that run after the walk). */
  reportAt(at: string, message: string): void {
    this.report(this.nodeAt(at), at, message)
  }

  resolve(node: Node | null | undefined): Node | null {
    if (!node) return null
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null
    return node
  }
}

export interface Validator<T> {
  /** What the validator accepts, in words ("a string", "a list of checks"). */
  readonly expected: string
  check(node: Node | null, at: string, ctx: Ctx): Result<T>
}

export interface OptionalField<T> {
  readonly optional: true
  readonly validator: Validator<T>
}

export function opt<T>(validator: Validator<T>): OptionalField<T> {
  return {optional: true, validator}
}

/** A field that may be left out of the YAML but is always present in the typed value. */
export interface DefaultedField<T> extends OptionalField<T> {
  readonly makeDefault: () => T
}

export function withDefault<T>(validator: Validator<T>, makeDefault: () => T): DefaultedField<T> {
  return {optional: true, validator, makeDefault}
}

/** Field validators for every key of T: optional keys need `opt(...)`, required ones a plain validator or `withDefault(...)`. */
export type Shape<T> = {[K in keyof T]-?: undefined extends T[K] ? OptionalField<NonNullable<T[K]>> : Validator<T[K]> | DefaultedField<T[K]>}

export function child(at: string, key: string | number): string {
  return typeof key === 'number' ? `${at}[${key}]` : at ? `${at}.${key}` : key
}

function describe(node: Node | null): string {
  if (!node) return 'nothing'
  if (isMap(node)) return 'a map'
  if (isSeq(node)) return 'a list'
  if (isScalar(node)) {
    const v = node.value
    if (v === null || v === undefined) return 'nothing (null)'
    if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`
    if (typeof v === 'number') return `the number ${typeof node.source === 'string' && node.source !== '' ? node.source : v}`
    if (typeof v === 'boolean') return `the boolean ${v}`
    return `a ${typeof v}`
  }
  return 'an unsupported YAML value'
}

function mismatch(node: Node | null, at: string, ctx: Ctx, expected: string): typeof INVALID {
  ctx.report(node, at, `expected ${expected}, got ${describe(node)}`)
  return INVALID
}

export function levenshtein(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length] as number
}

/** The closest candidate, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

function didYouMean(word: string, candidates: readonly string[]): string {
  const near = closest(word, candidates)
  return near ? ` (did you mean "${near}"?)` : ''
}

function scalar(node: Node | null): {ok: true; value: unknown} | {ok: false} {
  return node && isScalar(node) ? {ok: true, value: node.value} : {ok: false}
}

export function str(opts: {pattern?: RegExp; patternText?: string; nonEmpty?: boolean} = {}): Validator<string> {
  const expected = opts.patternText ?? 'a string'
  return {
    expected,
    check(node, at, ctx) {
      const s = scalar(node)
      if (!s.ok || typeof s.value !== 'string') {
        const hint = s.ok && typeof s.value === 'number' ? ' (quote it to keep it as text)' : ''
        ctx.report(node, at, `expected ${expected}, got ${describe(node)}${hint}`)
        return INVALID
      }
      if ((opts.nonEmpty ?? true) && s.value.trim() === '') return ctx.report(node, at, `expected ${expected}, got an empty string`), INVALID
      if (opts.pattern && !opts.pattern.test(s.value)) return ctx.report(node, at, `expected ${expected}, got ${describe(node)}`), INVALID
      return s.value
    },
  }
}

export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/
export const id = (): Validator<string> => str({pattern: ID_PATTERN, patternText: 'an id (lower-case letters, digits, ".", "_" or "-")'})

export function lit<const T extends string>(value: T): Validator<T> {
  return oneOf([value])
}

export function oneOf<const T extends string>(values: readonly T[]): Validator<T> {
  const expected = values.length === 1 ? `"${values[0]}"` : `one of ${values.map((v) => `"${v}"`).join(', ')}`
  return {
    expected,
    check(node, at, ctx) {
      const s = scalar(node)
      if (!s.ok || typeof s.value !== 'string') return mismatch(node, at, ctx, expected)
      if (!(values as readonly string[]).includes(s.value)) {
        ctx.report(node, at, `unknown value "${s.value}"${didYouMean(s.value, values)}; expected ${expected}`)
        return INVALID
      }
      return s.value as T
    },
  }
}

export function num(opts: {min?: number; max?: number; integer?: boolean; what?: string} = {}): Validator<number> {
  const kind = opts.integer ? 'an integer' : 'a number'
  const range =
    opts.min !== undefined && opts.max !== undefined ? ` from ${opts.min} to ${opts.max}` : opts.min !== undefined ? ` >= ${opts.min}` : opts.max !== undefined ? ` <= ${opts.max}` : ''
  const expected = `${kind}${range}${opts.what ? ` (${opts.what})` : ''}`
  return {
    expected,
    check(node, at, ctx) {
      const s = scalar(node)
      if (!s.ok || typeof s.value !== 'number' || !Number.isFinite(s.value)) return mismatch(node, at, ctx, expected)
      const v = s.value
      if ((opts.integer && !Number.isInteger(v)) || (opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
        ctx.report(node, at, `${v} is out of range; expected ${expected}`)
        return INVALID
      }
      return v
    },
  }
}

export function bool(): Validator<boolean> {
  return {
    expected: 'true or false',
    check(node, at, ctx) {
      const s = scalar(node)
      if (!s.ok || typeof s.value !== 'boolean') return mismatch(node, at, ctx, 'true or false')
      return s.value
    },
  }
}

export function duration(opts: {signed?: boolean; positive?: boolean} = {}): Validator<string> {
  const expected = opts.signed ? 'a signed duration such as "-48h" or "+24h"' : opts.positive ? 'a duration longer than 0, such as "30s", "10m" or "2d"' : 'a duration such as "30s", "10m" or "2d"'
  return {
    expected,
    check(node, at, ctx) {
      const s = scalar(node)
      if (!s.ok || (typeof s.value !== 'string' && typeof s.value !== 'number')) return mismatch(node, at, ctx, expected)
      if (typeof s.value === 'number') {
        ctx.report(node, at, s.value < 0 ? `negative duration ${s.value} (durations must be zero or more)` : `expected ${expected}, got the number ${s.value} (add a unit, e.g. "${s.value}s")`)
        return INVALID
      }
      const parsed = checkDuration(s.value, {signed: opts.signed, positive: opts.positive})
      if (!parsed.ok) return ctx.report(node, at, parsed.reason), INVALID
      return s.value
    },
  }
}

/** A check id from the catalog the loader was given. */
export function checkId(): Validator<string> {
  return {
    expected: 'a check id from the checks library',
    check(node, at, ctx) {
      const s = scalar(node)
      if (!s.ok || typeof s.value !== 'string') return mismatch(node, at, ctx, 'a check id from the checks library')
      if (!ctx.catalog.has(s.value)) {
        const hint = didYouMean(s.value, ctx.catalog.ids())
        ctx.report(node, at, `unknown check "${s.value}"${hint || `; known checks: ${ctx.catalog.ids().join(', ')}`}`)
        return INVALID
      }
      return s.value
    },
  }
}

/** A path to an existing file, relative to the playbook's directory. */
export function fileRef(what: string): Validator<string> {
  const inner = str()
  return {
    expected: `a path to ${what}, relative to the playbook file`,
    check(node, at, ctx) {
      const v = inner.check(node, at, ctx)
      if (v === INVALID) return v
      if (path.isAbsolute(v)) return ctx.report(node, at, `expected a path relative to the playbook file, got the absolute path "${v}"`), INVALID
      const full = path.resolve(ctx.baseDir, v)
      if (!existsSync(full)) return ctx.report(node, at, `${what} "${v}" not found (looked for ${full})`), INVALID
      return v
    },
  }
}

export function list<T>(item: Validator<T>, opts: {minItems?: number; uniqueBy?: (value: T) => string | undefined; uniqueWhat?: string} = {}): Validator<T[]> {
  const expected = `a list of ${item.expected}`
  return {
    expected,
    check(node, at, ctx) {
      if (!node || !isSeq(node)) return mismatch(node, at, ctx, expected)
      ctx.remember(at, node)
      const out: T[] = []
      let ok = true
      const seen = new Map<string, number>()
      node.items.forEach((raw, i) => {
        const itemNode = ctx.resolve(raw as Node | null)
        const p = child(at, i)
        if (itemNode) ctx.remember(p, itemNode)
        const v = item.check(itemNode, p, ctx)
        if (v === INVALID) {
          ok = false
          return
        }
        const key = opts.uniqueBy?.(v)
        if (key !== undefined) {
          const first = seen.get(key)
          if (first !== undefined) {
            const firstLine = ctx.position(ctx.nodeAt(child(at, first))).line
            ctx.reportAt(`${p}.${opts.uniqueWhat ?? 'id'}`, `duplicate ${opts.uniqueWhat ?? 'id'} "${key}" (already used by ${child(at, first)} at line ${firstLine})`)
            ok = false
          } else seen.set(key, i)
        }
        out.push(v)
      })
      if (opts.minItems !== undefined && node.items.length < opts.minItems) {
        ctx.report(node, at, `expected at least ${opts.minItems} item${opts.minItems === 1 ? '' : 's'}, got ${node.items.length}`)
        ok = false
      }
      return ok ? out : INVALID
    },
  }
}

/** A map with free keys (flags, params, env). */
export function record<T>(value: Validator<T>, opts: {keyPattern?: RegExp; keyText?: string} = {}): Validator<{[key: string]: T}> {
  const expected = `a map of ${opts.keyText ?? 'names'} to ${value.expected}`
  return {
    expected,
    check(node, at, ctx) {
      if (!node || !isMap(node)) return mismatch(node, at, ctx, expected)
      ctx.remember(at, node)
      const out: {[key: string]: T} = {}
      let ok = true
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : undefined
        if (typeof key !== 'string' || (opts.keyPattern && !opts.keyPattern.test(key))) {
          ctx.report(pair.key as Node, at, `expected keys that are ${opts.keyText ?? 'names'}, got ${describe(pair.key as Node)}`)
          ok = false
          continue
        }
        const p = child(at, key)
        const valueNode = ctx.resolve(pair.value as Node | null)
        if (valueNode) ctx.remember(p, valueNode)
        const v = value.check(valueNode, p, ctx)
        if (v === INVALID) ok = false
        else out[key] = v
      }
      return ok ? out : INVALID
    },
  }
}

/** Any JSON-like value (check parameters are validated by the check itself). */
export function jsonValue(): Validator<unknown> {
  return {
    expected: 'a value',
    check(node, at, ctx) {
      if (!node) return null
      return node.toJS(ctx.doc) as unknown
    },
  }
}

export function obj<T>(name: string, shape: Shape<T>, refine?: (value: T, at: string, ctx: Ctx) => void): Validator<T> {
  const fields = shape as unknown as Record<string, Validator<unknown> | OptionalField<unknown>>
  const keys = Object.keys(fields)
  const expected = name
  return {
    expected,
    check(node, at, ctx) {
      if (!node || !isMap(node)) return mismatch(node, at, ctx, expected)
      ctx.remember(at, node)
      const out: Record<string, unknown> = {}
      let ok = true
      const present = new Set<string>()
      for (const pair of (node as YAMLMap).items) {
        const key = isScalar(pair.key) ? pair.key.value : undefined
        if (typeof key !== 'string') {
          ctx.report(pair.key as Node, at, `expected field names, got ${describe(pair.key as Node)}`)
          ok = false
          continue
        }
        const spec = fields[key]
        const p = child(at, key)
        if (!spec) {
          ctx.report(pair.key as Node, p, `unknown field "${key}"${didYouMean(key, keys)}; ${name} takes: ${keys.join(', ')}`)
          ok = false
          continue
        }
        present.add(key)
        const validator = 'optional' in spec ? spec.validator : spec
        const valueNode = ctx.resolve(pair.value as Node | null)
        if (valueNode) ctx.remember(p, valueNode)
        else ctx.remember(p, pair.key as Node)
        const v = validator.check(valueNode, p, ctx)
        if (v === INVALID) ok = false
        else out[key] = v
      }
      for (const key of keys) {
        const spec = fields[key] as Validator<unknown> | OptionalField<unknown> | DefaultedField<unknown>
        if (!present.has(key) && 'makeDefault' in spec) out[key] = spec.makeDefault()
        if (!('optional' in spec) && !present.has(key)) {
          ctx.report(node, at, `missing required field "${key}" (expected ${spec.expected})`)
          ok = false
        }
      }
      if (!ok) return INVALID
      const value = out as T
      if (refine) {
        const before = ctx.issues.length
        refine(value, at, ctx)
        if (ctx.issues.length > before) return INVALID
      }
      return value
    },
  }
}

/** Objects told apart by one field (`type: set_flags`, `action: branch`, ...). */
export function tagged<T>(name: string, tag: string, variants: Record<string, Validator<T>>): Validator<T> {
  const tags = Object.keys(variants)
  const expected = `${name} (with ${tag}: ${tags.join(' | ')})`
  return {
    expected,
    check(node, at, ctx) {
      if (!node || !isMap(node)) return mismatch(node, at, ctx, expected)
      const tagNode = ctx.resolve(node.get(tag, true) as Node | undefined)
      const tagValue = tagNode && isScalar(tagNode) ? tagNode.value : undefined
      if (tagValue === undefined) {
        ctx.report(node, at, `missing required field "${tag}" (expected one of: ${tags.join(', ')})`)
        return INVALID
      }
      if (typeof tagValue !== 'string' || !variants[tagValue]) {
        const hint = typeof tagValue === 'string' ? didYouMean(tagValue, tags) : ''
        ctx.report(tagNode, child(at, tag), `unknown ${tag} ${JSON.stringify(tagValue)}${hint}; expected one of: ${tags.join(', ')}`)
        return INVALID
      }
      return (variants[tagValue] as Validator<T>).check(node, at, ctx)
    },
  }
}

/** Accept either of two validators, chosen by the node's shape (no double reporting). */
export function either<A, B>(expected: string, pick: (node: Node | null) => 'a' | 'b', a: Validator<A>, b: Validator<B>): Validator<A | B> {
  return {
    expected,
    check(node, at, ctx) {
      return pick(node) === 'a' ? a.check(node, at, ctx) : b.check(node, at, ctx)
    },
  }
}

export function isScalarNode(node: Node | null): boolean {
  return Boolean(node && isScalar(node))
}
