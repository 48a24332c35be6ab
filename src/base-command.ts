import {Command, Flags, Interfaces} from '@oclif/core'
import chalk from 'chalk'
import os from 'node:os'
import path from 'node:path'

import {CutoverError, ExitCode, type ExitCodeValue} from './lib/errors.js'

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
      default: async () => defaultHome(),
    }),
  }

  static override enableJsonFlag = true
  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>

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
