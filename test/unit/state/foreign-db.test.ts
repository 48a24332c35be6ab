import Database from 'better-sqlite3'
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import {StateFileError, StateStore} from '../../../src/lib/state/store.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

// Found by the reliability suite: opening another program's SQLite file converted it to WAL before failing.
describe('state store: another program\'s SQLite database is refused untouched', () => {
  afterEach(() => cleanupTempDirs())

  it('throws STATE_FILE_FOREIGN naming the file and its tables; the bytes are unchanged', () => {
    const file = path.join(makeTempDir(), 'state.db')
    const other = new Database(file)
    other.exec('CREATE TABLE journal (x TEXT); INSERT INTO journal VALUES (1)')
    other.close()
    const before = fs.readFileSync(file)
    let error: unknown
    try {
      StateStore.open(file).close()
    } catch (e) {
      error = e
    }
    expect(error).to.be.instanceOf(StateFileError)
    expect((error as StateFileError).code).to.equal('STATE_FILE_FOREIGN')
    expect((error as Error).message).to.contain(file).and.contain('tables: journal')
    expect(fs.readFileSync(file).equals(before)).to.equal(true)
  })

  it('an empty SQLite file and an existing cutover state file still open', () => {
    const dir = makeTempDir()
    const empty = path.join(dir, 'empty.db')
    new Database(empty).close()
    StateStore.open(empty).close()
    StateStore.open(empty).close()
  })
})
