/** Read a playbook: YAML -> typed Playbook, every problem reported with file:line:col. */
import {readFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {LineCounter, type Node, parseDocument} from 'yaml'

import {ConfigError} from '../errors.js'
import {type CheckCatalog, knownChecks} from './known-checks.js'
import {playbookSchema} from './playbook-schema.js'
import {Ctx, formatIssue, INVALID, type PlaybookIssue} from './schema.js'
import type {Playbook} from './types.js'

export interface LoadOptions {
  /** Check ids a playbook may name (default: the static list in known-checks.ts). */
  catalog?: CheckCatalog
  /** Directory that script/patch paths resolve against (default: the playbook file's directory). */
  baseDir?: string
}

export interface LintResult {
  file: string
  valid: boolean
  issues: PlaybookIssue[]
  /** Present when valid. */
  playbook?: Playbook
}

/** A playbook that failed validation (exit 2); `issues` holds every problem found. */
export class PlaybookError extends ConfigError {
  readonly issues: PlaybookIssue[]

  constructor(file: string, issues: PlaybookIssue[]) {
    const shown = issues.slice(0, 50).map((i) => `  ${formatIssue(i)}`)
    if (issues.length > shown.length) shown.push(`  ... and ${issues.length - shown.length} more`)
    super(`playbook ${file} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${shown.join('\n')}`, [`Run: cutover playbook lint ${file}`], 'PLAYBOOK_INVALID')
    this.name = 'PlaybookError'
    this.issues = issues
  }
}

// yaml's pretty messages end with " at line N, column M:" and a code excerpt; we print the position ourselves.
function yamlMessage(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '')
}

/** Validate playbook text. `file` is used in messages as given. */
export function parsePlaybook(source: string, file: string, opts: LoadOptions = {}): LintResult {
  const lineCounter = new LineCounter()
  const doc = parseDocument(source, {lineCounter, prettyErrors: true, uniqueKeys: true})
  const issues: PlaybookIssue[] = []
  for (const problem of [...doc.errors, ...doc.warnings]) {
    const pos = problem.linePos?.[0] ?? {line: 1, col: 1}
    issues.push({file, line: pos.line, col: pos.col, path: '', message: `invalid YAML: ${yamlMessage(problem.message)}`})
  }
  if (issues.length > 0) return {file, valid: false, issues}
  if (doc.contents === null) {
    return {file, valid: false, issues: [{file, line: 1, col: 1, path: '', message: 'the file is empty; expected a playbook (a map with name, version, target, phases, ...)'}]}
  }
  const baseDir = opts.baseDir ?? path.dirname(path.resolve(file))
  const ctx = new Ctx(file, doc, lineCounter, opts.catalog ?? knownChecks, baseDir)
  ctx.remember('', doc.contents as Node)
  const value = playbookSchema.check(ctx.resolve(doc.contents as Node), '', ctx)
  const sorted = [...ctx.issues].sort((a, b) => a.line - b.line || a.col - b.col)
  if (value === INVALID || sorted.length > 0) {
    if (sorted.length === 0) sorted.push({file, line: 1, col: 1, path: '', message: 'invalid playbook'})
    return {file, valid: false, issues: sorted}
  }
  return {file, valid: true, issues: [], playbook: value}
}

/** Shown path: relative to the working directory when the file lies under it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), path.resolve(file))
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(file)
}

async function readPlaybookText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message
    throw new ConfigError(`cannot read playbook ${file}: ${why}`, ['Pass an existing playbook file, e.g. playbooks/llm-gateway-cutover.yaml'], 'PLAYBOOK_UNREADABLE')
  }
}

/** Validate a playbook file; never throws for content problems (see `issues`). */
export async function lintPlaybookFile(file: string, opts: LoadOptions = {}): Promise<LintResult> {
  const text = await readPlaybookText(file)
  return parsePlaybook(text, displayPath(file), {...opts, baseDir: opts.baseDir ?? path.dirname(path.resolve(file))})
}

/** Load a valid playbook or throw PlaybookError (a ConfigError: exit 2) listing every problem. */
export async function loadPlaybook(file: string, opts: LoadOptions = {}): Promise<Playbook> {
  const result = await lintPlaybookFile(file, opts)
  if (!result.valid || !result.playbook) throw new PlaybookError(result.file, result.issues)
  return result.playbook
}

let cachedRoot: string | undefined

/** The `cutover` package root (holds package.json and playbooks/), from src/ or dist/. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {name?: string}
      if (pkg.name === 'cutover') return (cachedRoot = dir)
    } catch {
      // not here; keep climbing
    }
    const up = path.dirname(dir)
    if (up === dir) throw new Error('cannot find the cutover package root (package.json with name "cutover")')
    dir = up
  }
}

/** The bundled seed playbook. */
export function defaultPlaybookPath(): string {
  return path.join(packageRoot(), 'playbooks', 'llm-gateway-cutover.yaml')
}
