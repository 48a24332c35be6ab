/** `cco` command-line entry. Returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  process.stderr.write(`cco: not implemented yet: ${argv.join(' ')}\n`)
  return 2
}
