import {runCommand} from '@oclif/test'
import Database from 'better-sqlite3'
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {StateStore} from '../../../src/lib/state/store.js'
import type {DaemonActionResult, DaemonStatusResult} from '../../../src/lib/target/daemon-ops.js'
import {deadPid, writeFakeTargetFile, writeFlagsFile, writePidFile} from '../../helpers/fixtures.js'
import {cleanupTempDirs, makeTempDir} from '../../helpers/tmp.js'

describe('cutover daemon (commands, against a target file)', () => {
  let dir: string
  let home: string
  beforeEach(() => {
    dir = makeTempDir()
    home = path.join(dir, 'home')
    fs.mkdirSync(home)
  })
  afterEach(() => {
    process.exitCode = undefined
    cleanupTempDirs()
  })

  it('start: exit 0, the target output, the PID file it left, and a trail record', async () => {
    const target = writeFakeTargetFile(dir, home)
    writePidFile(home, {gateway_port: 40_123})
    const {stdout, result, error} = await runCommand<DaemonActionResult>(['daemon', 'start', '--target', target])
    expect(error).to.equal(undefined)
    expect(process.exitCode ?? 0).to.equal(0)
    expect(stdout).to.contain(`fake cco: daemon start (home ${home})`)
    expect(stdout).to.contain('gateway port 40123')
    expect(result?.ok).to.equal(true)
    expect(result?.pidFile?.gateway_port).to.equal(40_123)
    const store = StateStore.open(path.join(home, 'cutover', 'state.db'))
    try {
      expect(store.listTrail({kind: 'daemon.start'})).to.have.length(1)
      expect(store.lockHolder()).to.equal(null)
      expect(store.verifyTrail().ok).to.equal(true)
    } finally {
      store.close()
    }
  })

  it('stop failing: exit 1 with the target output in the --json result', async () => {
    const target = writeFakeTargetFile(dir, home, 'env: {FAKE_CCO_EXIT: "5"}\n')
    const {stdout} = await runCommand(['daemon', 'stop', '--target', target, '--json'])
    expect(process.exitCode).to.equal(1)
    const doc = JSON.parse(stdout) as DaemonActionResult
    expect(doc).to.deep.include({action: 'stop', ok: false, exitCode: 5})
    expect(doc.stderr).to.contain('daemon stop failed')
  })

  it('a target command that cannot run: exit 4', async () => {
    const target = path.join(dir, 't.yaml')
    fs.writeFileSync(target, `name: gone\nhome: ${home}\ncco: [/nonexistent/bin/cco]\n`)
    const {error} = await runCommand(['daemon', 'restart', '--target', target])
    expect(error?.oclif?.exit).to.equal(4)
    expect(error?.message).to.contain('command not found')
  })

  it('a bad target file: exit 2 naming file and key', async () => {
    const target = path.join(dir, 't.yaml')
    fs.writeFileSync(target, 'name: x\ncco: [cco]\nlauncher: cco launch\n')
    const {stdout} = await runCommand(['daemon', 'status', '--target', target, '--json'])
    expect(process.exitCode).to.equal(2)
    const doc = JSON.parse(stdout) as {error: {message: string; code: string}}
    expect(doc.error.code).to.equal('TARGET_FILE_INVALID')
    expect(doc.error.message).to.contain(`${target}:3:11: launcher: must be a non-empty list`)
  })

  it('a corrupted state file: exit 2 naming it, file untouched', async () => {
    const target = writeFakeTargetFile(dir, home)
    const state = path.join(dir, 'state.db')
    fs.writeFileSync(state, 'garbage, not sqlite')
    const {error} = await runCommand(['daemon', 'start', '--target', target, '--state', state])
    expect(error?.oclif?.exit).to.equal(2)
    expect(error?.message).to.contain(state)
    expect(fs.readFileSync(state, 'utf8')).to.equal('garbage, not sqlite')
  })

  it('status, not running (stale PID): exit 1, typed result says why', async () => {
    const target = writeFakeTargetFile(dir, home)
    writePidFile(home, {pid: deadPid()})
    writeFlagsFile(home, {gatewayEnabled: false, proxyEnabled: true})
    const {stdout} = await runCommand(['daemon', 'status', '--target', target, '--json'])
    expect(process.exitCode).to.equal(1)
    const status = JSON.parse(stdout) as DaemonStatusResult
    expect(status.running).to.equal(false)
    expect(status.pid_file.problem).to.equal('dead')
    expect(status.flags).to.deep.equal({gatewayEnabled: false, proxyEnabled: true, fromFile: true})
    expect(status.command.exitCode).to.equal(0)
  })

  it('status, running but the control port is closed: running with control unreachable', async () => {
    const target = writeFakeTargetFile(dir, home)
    writePidFile(home, {port: 1, gateway_port: null})
    const {stdout, result} = await runCommand<DaemonStatusResult>(['daemon', 'status', '--target', target])
    expect(process.exitCode ?? 0).to.equal(0)
    expect(result?.running).to.equal(true)
    expect(result?.control.reachable).to.equal(false)
    expect(result?.gateway.state).to.equal('not_running')
    expect(stdout).to.contain('Daemon:   running')
    expect(stdout).to.contain('Flags:    gatewayEnabled=true proxyEnabled=false (defaults: no flags file)')
  })

  it('--home on the command line wins over the target file home', async () => {
    const target = writeFakeTargetFile(dir, path.join(dir, 'elsewhere'))
    const {stdout} = await runCommand(['daemon', 'start', '--target', target, '--home', home])
    expect(stdout).to.contain(`(home ${home})`)
    expect(fs.existsSync(path.join(home, 'cutover', 'state.db'))).to.equal(true)
  })

  it('refuses while another command holds the operation lock (exit 4, names the holder)', async () => {
    const target = writeFakeTargetFile(dir, home)
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {stdio: 'ignore'})
    try {
      StateStore.open(path.join(home, 'cutover', 'state.db')).close()
      const raw = new Database(path.join(home, 'cutover', 'state.db'))
      raw.prepare('INSERT INTO operation_lock (id, name, pid, host, token, acquired_at) VALUES (1, ?, ?, ?, ?, ?)').run('phase advance', holder.pid, os.hostname(), 't', new Date().toISOString())
      raw.close()
      const {stdout} = await runCommand(['daemon', 'stop', '--target', target, '--wait', '0s', '--json'])
      expect(process.exitCode).to.equal(4)
      const doc = JSON.parse(stdout) as {error: {code: string; message: string}}
      expect(doc.error.code).to.equal('OPERATION_LOCKED')
      expect(doc.error.message).to.contain(`"phase advance" (pid ${holder.pid}`)
    } finally {
      holder.kill()
    }
  })
})
