/** Exit codes shared by every command (documented in the README). */
export const ExitCode = {
  /** pass / go */
  Ok: 0,
  /** fail / no-go */
  Fail: 1,
  /** usage, playbook or configuration error */
  Usage: 2,
  /** inconclusive, or awaiting approval */
  Inconclusive: 3,
  /** could not evaluate (target unreachable, no data) */
  CouldNotEvaluate: 4,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * An error the operator can act on: what is wrong, which exit code it maps to,
 * and the next thing to try. Library code throws these; BaseCommand renders them.
 */
export class CutoverError extends Error {
  readonly code: string
  readonly exit: ExitCodeValue
  readonly suggestions: string[]

  constructor(message: string, opts: {code: string; exit: ExitCodeValue; suggestions?: string[]; cause?: unknown}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = 'CutoverError'
    this.code = opts.code
    this.exit = opts.exit
    this.suggestions = opts.suggestions ?? []
  }
}

/** Bad flags, playbook, target file or configuration (exit 2). */
export class ConfigError extends CutoverError {
  constructor(message: string, suggestions: string[] = [], code = 'CONFIG_INVALID') {
    super(message, {code, exit: ExitCode.Usage, suggestions})
    this.name = 'ConfigError'
  }
}

/** The target could not be reached or measured (exit 4). */
export class TargetUnavailableError extends CutoverError {
  constructor(message: string, suggestions: string[] = [], code = 'TARGET_UNAVAILABLE') {
    super(message, {code, exit: ExitCode.CouldNotEvaluate, suggestions})
    this.name = 'TargetUnavailableError'
  }
}
