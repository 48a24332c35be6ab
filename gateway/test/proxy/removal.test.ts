import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {cleanupHome, GATEWAY_DIR, http, LEGACY_PROXY_INSTALLED, makeTempHome, readLog, writeFlags} from '../helpers/cco.js'

/*
 * Phase 3 of the cutover (plan §3.1-3.2) on a temp copy of gateway/, exactly as
 * `cutover phase advance` does it to the bundled target: delete src/proxy/, delete the one
 * line that imports it, build, test. Offline: node_modules is the repo's, symlinked.
 */

const REPO_NODE_MODULES = join(GATEWAY_DIR, '..', 'node_modules')
/** The playbook's remove-proxy-registration pattern (playbooks/llm-gateway-cutover.yaml). */
const REGISTRATION = /(^\s*import\b.*|\bimport\(\s*)['"](\.{1,2}\/)+proxy\//
/** What the Phase 3 checks search src/ for afterwards. */
const LEFTOVERS = /proxy_port|proxyPort|readProxyPort|read_?proxy_?port|update_?proxy_?port|start_?proxy_?server|(from|import\()\s*['"][./]*proxy\//i

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(command: string, args: string[], opts: {cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = {...process.env, ...opts.env}
    for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'ANTHROPIC_BASE_URL']) delete env[name]
    const child = spawn(command, args, {cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 120_000} ms\n${stdout}\n${stderr}`))
    }, opts.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
  })
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return tsFiles(path)
    return name.endsWith('.ts') ? [path] : []
  })
}

;(LEGACY_PROXY_INSTALLED ? describe : describe.skip)('Phase 3: removing the legacy proxy module (temp copy of gateway/)', function () {
  this.timeout(300_000)
  let work: string
  let copy: string
  const homes: string[] = []
  const cco = (args: string[], home: string) => run(process.execPath, [join(copy, 'bin', 'cco'), ...args], {cwd: copy, env: {CCO_HOME: home}, timeoutMs: 30_000})
  const tempHome = () => {
    const home = makeTempHome('cco-phase3-')
    homes.push(home)
    return home
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'cco-phase3-copy-'))
    copy = join(work, 'gateway')
    for (const entry of ['src', 'test', 'bin', 'package.json', 'tsconfig.json', '.mocharc.json']) {
      cpSync(join(GATEWAY_DIR, entry), join(copy, entry), {recursive: true})
    }
    symlinkSync(REPO_NODE_MODULES, join(copy, 'node_modules'), 'dir')

    // The removal, as the playbook's steps remove-proxy-module and remove-proxy-registration do it.
    rmSync(join(copy, 'src', 'proxy'), {recursive: true, force: true})
    const matches: Array<{file: string; line: number; text: string}> = []
    for (const file of tsFiles(join(copy, 'src'))) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((text, i) => {
          if (REGISTRATION.test(text)) matches.push({file: relative(copy, file), line: i + 1, text})
        })
    }
    expect(matches, 'exactly one line registers the proxy module').to.have.length(1)
    expect(matches[0]!.file).to.equal(join('src', 'daemon', 'modules.ts'))
    expect(matches[0]!.text).to.contain('LEGACY PROXY')
    const modules = join(copy, matches[0]!.file)
    const lines = readFileSync(modules, 'utf8').split('\n')
    lines.splice(matches[0]!.line - 1, 1)
    writeFileSync(modules, lines.join('\n'))
  })

  after(async () => {
    for (const home of homes) await cleanupHome(home)
    if (work) rmSync(work, {recursive: true, force: true})
  })

  it('leaves no proxy_port, readProxyPort or proxy import anywhere in src/', () => {
    const left: string[] = []
    for (const file of tsFiles(join(copy, 'src'))) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((text, i) => {
          if (LEFTOVERS.test(text)) left.push(`${relative(copy, file)}:${i + 1}: ${text.trim()}`)
        })
    }
    expect(left).to.deep.equal([])
  })

  it('compiles (the build and the tests\' type-check)', async () => {
    const tsc = join(REPO_NODE_MODULES, 'typescript', 'bin', 'tsc')
    const build = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], {cwd: copy})
    expect(build.code, `${build.stdout}${build.stderr}`).to.equal(0)
    const typecheck = await run(process.execPath, [tsc, '-p', 'test', '--noEmit'], {cwd: copy})
    expect(typecheck.code, `${typecheck.stdout}${typecheck.stderr}`).to.equal(0)
  })

  it('the daemon starts with the gateway only: no proxy_port in the PID file, no proxy in its status', async () => {
    const home = tempHome()
    const start = await cco(['daemon', 'start'], home)
    expect(start.code, `${start.stdout}${start.stderr}\n${readLog(home)}`).to.equal(0)
    const pidFile = JSON.parse(readFileSync(join(home, 'daemon.pid'), 'utf8')) as Record<string, unknown>
    expect(Object.keys(pidFile)).to.deep.equal(['pid', 'started_at', 'port', 'gateway_port', 'version'])
    expect((await http(`http://127.0.0.1:${String(pidFile.gateway_port)}/gateway/health`)).json).to.include({status: 'healthy'})
    const status = await cco(['daemon', 'status', '--json'], home)
    expect(status.code).to.equal(0)
    const body = JSON.parse(status.stdout) as Record<string, unknown>
    expect(body).to.not.have.any.keys('proxy', 'proxy_port')
    expect(readLog(home)).to.contain('ℹ️  HTTP Proxy disabled - Gateway handles all LLM routing')
    expect((await cco(['daemon', 'stop'], home)).code).to.equal(0)
  })

  it('with the rollback flags {gatewayEnabled:false, proxyEnabled:true} the launcher says no proxy module is installed (exit 1)', async () => {
    const home = tempHome()
    writeFlags(home, {gatewayEnabled: false, proxyEnabled: true})
    expect((await cco(['daemon', 'start'], home)).code).to.equal(0)
    expect(readLog(home)).to.contain('no legacy proxy module is installed in this build')
    const launch = await cco(['launch', '--', process.execPath, '-e', 'console.log("child ran")'], home)
    expect(launch.code).to.equal(1)
    expect(launch.stdout).to.not.contain('child ran')
    expect(launch.stderr).to.contain('❌ Error: No legacy proxy module installed')
    expect(launch.stderr).to.contain('no legacy proxy module is installed in this build')
    expect((await cco(['daemon', 'stop'], home)).code).to.equal(0)
  })

  it('its own daemon, launcher and (self-skipping) proxy tests pass', async () => {
    const mocha = join(REPO_NODE_MODULES, 'mocha', 'bin', 'mocha.js')
    const specs = ['test/daemon/flags.test.ts', 'test/daemon/lifecycle.test.ts', 'test/launcher/launcher.test.ts', 'test/proxy/proxy.test.ts', 'test/proxy/modes.test.ts', 'test/proxy/removal.test.ts']
    // The copy's .mocharc.json would add every suite; this run names its own.
    writeFileSync(join(work, 'mocharc.json'), JSON.stringify({extension: ['ts'], 'node-option': ['import=tsx'], timeout: 60_000, reporter: 'dot', 'forbid-only': true}))
    const result = await run(process.execPath, [mocha, '--config', join(work, 'mocharc.json'), ...specs], {cwd: copy, timeoutMs: 240_000})
    expect(result.code, `${result.stdout}\n${result.stderr}`).to.equal(0)
    expect(result.stdout).to.match(/\d+ passing/)
    // The proxy suites skipped themselves; nothing failed.
    expect(result.stdout).to.match(/\d+ pending/)
    expect(result.stdout).to.not.match(/failing/)
  })
})
