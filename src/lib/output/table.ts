/**
 * A small plain-text table: columns padded to their widest cell, an optional colour per
 * cell through chalk (which prints no escape codes when stdout is not a terminal or
 * NO_COLOR is set, so piped output and tests stay plain). Widths are measured without
 * escape codes, so coloured cells line up too.
 */
import chalk from 'chalk'

export type Align = 'left' | 'right'

export interface Column<Row> {
  header: string
  /** The cell text for a row. */
  get: (row: Row) => string
  align?: Align
  /** Longer cells are cut with an ellipsis. */
  maxWidth?: number
  /** Colour for a cell (receives the already padded text). */
  color?: (text: string, row: Row) => string
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*m/g

/** Display width of a string without ANSI colour codes. */
export function visibleWidth(text: string): number {
  return [...text.replace(ANSI, '')].length
}

function truncate(text: string, max: number | undefined): string {
  if (max === undefined || max < 1) return text
  const chars = [...text]
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`
}

function pad(text: string, width: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, width - visibleWidth(text)))
  return align === 'right' ? fill + text : text + fill
}

/** Render rows as lines of text (header, a rule, then one line per row). Trailing spaces are trimmed. */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[], opts: {gap?: number} = {}): string[] {
  const gap = ' '.repeat(opts.gap ?? 2)
  const cells = rows.map((row) => columns.map((c) => truncate(c.get(row).replace(/\s*\n\s*/g, ' '), c.maxWidth)))
  const widths = columns.map((c, i) => Math.max(visibleWidth(c.header), ...cells.map((r) => visibleWidth(r[i]!))))
  const header = columns.map((c, i) => pad(c.header, widths[i]!, c.align ?? 'left')).join(gap).trimEnd()
  const rule = widths.map((w) => '─'.repeat(w)).join(gap)
  const lines = [chalk.bold(header), chalk.dim(rule)]
  rows.forEach((row, r) => {
    const line = columns.map((c, i) => {
      const text = pad(cells[r]![i]!, widths[i]!, c.align ?? 'left')
      return c.color ? c.color(text, row) : text
    })
    lines.push(line.join(gap).trimEnd())
  })
  return lines
}

/** Colour for an outcome word: pass green, fail red, error magenta, inconclusive / awaiting yellow. */
export function colorOutcome(text: string, outcome: string): string {
  switch (outcome) {
    case 'pass':
    case 'GO':
      return chalk.green(text)
    case 'fail':
    case 'NO-GO':
      return chalk.red(text)
    case 'error':
    case 'ERROR':
      return chalk.magenta(text)
    default:
      return chalk.yellow(text)
  }
}
