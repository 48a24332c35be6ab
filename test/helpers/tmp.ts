import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** A fresh temp directory per test; removed by cleanupTempDirs() (call it in afterEach). */
const created: string[] = []

export function makeTempDir(prefix = 'cutover-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  created.push(dir)
  return dir
}

export function cleanupTempDirs(): void {
  while (created.length > 0) fs.rmSync(created.pop()!, {recursive: true, force: true})
}
