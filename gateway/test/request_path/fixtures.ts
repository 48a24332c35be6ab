import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')

/** Reads a file from gateway/test/fixtures (copied verbatim from the wire-format reference §1.5, §2.3, §2.5, §3.4). */
export function fixture(name: string): string {
  return readFileSync(path.join(dir, name), 'utf8')
}
