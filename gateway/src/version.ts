import {readFileSync} from 'node:fs'

/** The daemon's version, read once from gateway/package.json (same path from src/ under tsx and from dist/). */
function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version?: unknown}
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}

export const VERSION: string = readVersion()
