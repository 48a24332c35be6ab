import {Command, Flags, Interfaces} from '@oclif/core'
import chalk from 'chalk'
import os from 'node:os'
import path from 'node:path'

import {CutoverError, ExitCode, type ExitCodeValue} from './lib/errors.js'
import type {StateStore} from './lib/state/store.js'
import type {Target} from './lib/target/target.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>
type ErrorWithExit = Error & {exitCode?: number; oclif?: {exit?: number}}

/** The target's home: --home, else $CCO_HOME, else ~/.cco. */
export function defaultHome(): string {
  return process.env.CCO_HOME && process.env.CCO_HOME.length > 0 ? process.env.CCO_HOME : path.join(os.homedir(), '.cco')
}

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    home: Flags.string({
      description: "The target's home directory (default: $CCO_HOME, else ~/.cco).",
      helpGroup: 'GLOBAL',
      // No computed default: help and the README show the rule above, not the home of whoever built the manifest.
    }),
    target: Flags.string({
      description: 'Target file (YAML) describing the cco installation to act on (default: the bundled reference daemon).',
      helpGroup: 'GLOBAL',
      env: 'CUTOVER_TARGET',
    }),
    state: Flags.string({
      description: "cutover's state database (default: <home>/cutover/state.db).",
      helpGroup: 'GLOBAL',
      env: 'CUTOVER_STATE',
    }),
  }

  static override enableJsonFlag = true
  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  /** True when --home was given on the command line (it then wins over the target file's home). */
  private homeFromCommandLine = false
  private cachedTarget?: Target
  private cachedState?: StateStore

  public override async init(): Promise<void> {
    await super.init()
    // chalk ignores NO_COLOR by itself.
    if ('NO_COLOR' in process.env) chalk.level = 0
    const {args, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.homeFromCommandLine = (flags as {home?: string}).home !== undefined
  }

  /** The target selected by --target / --home (cached per command run). Throws ConfigError for a bad target file. */
  protected async target(): Promise<Target> {
    if (!this.cachedTarget) {
      const [{resolveTargetSpec}, {Target}] = await Promise.all([import('./lib/target/spec.js'), import('./lib/target/target.js')])
      const flags = this.flags as {home?: string; target?: string}
      const spec = resolveTargetSpec({
        targetFile: flags.target,
        explicitHome: this.homeFromCommandLine ? flags.home : undefined,
        defaultHome: defaultHome(),
      })
      const selector = [flags.target ? `--target ${flags.target}` : '', this.homeFromCommandLine || !flags.target ? `--home ${spec.home}` : ''].filter(Boolean).join(' ')
      this.cachedTarget = new Target(spec, {cliSelector: selector})
    }
    return this.cachedTarget
  }

  /** cutover's state store: --state, else <target home>/cutover/state.db. Closed when the command finishes. */
  protected async state(): Promise<StateStore> {
    if (!this.cachedState) {
      const {StateStore, defaultStatePath} = await import('./lib/state/store.js')
      const flags = this.flags as {state?: string}
      const file = flags.state ? path.resolve(flags.state) : defaultStatePath((await this.target()).home)
      this.cachedState = StateStore.open(file)
    }
    return this.cachedState
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    // Closing releases any operation lock this command still holds.
    this.cachedState?.close()
    this.cachedState = undefined
    return super.finally(err)
  }

  /** Set the exit code of a command that completed and produced a result (e.g. NO-GO = 1). */
  protected setExitCode(code: ExitCodeValue): void {
    process.exitCode = code
  }

  // Typed library errors become oclif errors with their exit code and suggestions.
  // oclif 4 quirk: in --json mode Command.catch takes the exit code from err.exitCode, not err.oclif.exit.
  protected override async catch(err: ErrorWithExit): Promise<unknown> {
    if (err instanceof CutoverError) {
      const wrapped = Object.assign(new Error(err.message), {
        code: err.code,
        exitCode: err.exit,
        oclif: {exit: err.exit},
        suggestions: err.suggestions,
      })
      if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = err.exit
      return super.catch(wrapped)
    }
    if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = err.oclif?.exit ?? err.exitCode ?? ExitCode.Fail
    return super.catch(err)
  }
}
