/** Placeholder: the mock provider's CLI (`cco mock-provider`) is being built. */
export async function runMockProviderCli(_argv: string[]): Promise<number> {
  process.stderr.write('cco mock-provider: not implemented yet\n')
  return 2
}
