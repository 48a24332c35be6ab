import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'chai'
import {parseMockProviderArgs} from '../../src/mock_provider/cli.js'
import {anthropicHeaders, parseSse, rawRequest} from './helpers.js'

const gatewayDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const binCco = join(gatewayDir, 'bin/cco')
const cliSource = join(gatewayDir, 'src/mock_provider/cli.ts')

interface Running {
  child: ChildProcess
  url: string
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

/** Spawns a process and resolves once it prints the "listening on" line. */
function startProcess(command: string, args: string[]): Promise<Running> {
  const child = spawn(command, args, {cwd: gatewayDir, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
  return new Promise((resolvePromise, reject) => {
    const onData = () => {
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout)
      if (!match) return
      child.stdout?.off('data', onData)
      resolvePromise({child, url: match[1] as string, stdout: () => stdout, stderr: () => stderr, exited})
    }
    child.stdout?.on('data', onData)
    void exited.then((code) => reject(new Error(`exited with ${code} before listening; stderr: ${stderr}`)))
  })
}

function runToExit(command: string, args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((done) => {
    const child = spawn(command, args, {cwd: gatewayDir, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('exit', (code) => done({code, stdout, stderr}))
  })
}

/** Runs runMockProviderCli from source in its own node process (so signals and exit codes are real). */
const sourceArgs = (args: string[]) => [
  '--import', 'tsx', '--input-type=module', '-e',
  `const {runMockProviderCli} = await import(${JSON.stringify(cliSource)}); process.exitCode = await runMockProviderCli(${JSON.stringify(args)})`,
]

describe('mock provider: CLI', () => {
  const children: ChildProcess[] = []
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  })

  async function checkServesAndStops(running: Running, signal: NodeJS.Signals) {
    children.push(running.child)
    expect(running.stdout()).to.equal(`listening on ${running.url}\n`)
    const response = await rawRequest(`${running.url}/v1/messages`, {headers: anthropicHeaders, body: JSON.stringify({model: 'm', max_tokens: 50, stream: true, messages: [{role: 'user', content: 'hi'}]})})
    expect(response.status).to.equal(200)
    expect(parseSse(response.body).at(-1)?.event).to.equal('message_stop')
    running.child.kill(signal)
    expect(await running.exited).to.equal(0)
    expect(running.stderr()).to.equal('')
  }

  it('gateway/bin/cco mock-provider --port 0 listens, serves, and exits 0 on SIGTERM', async function () {
    if (!existsSync(join(gatewayDir, 'dist/cli.js'))) throw new Error('gateway/dist is missing: run "npm run build -w gateway" first')
    await checkServesAndStops(await startProcess(process.execPath, [binCco, 'mock-provider', '--port', '0']), 'SIGTERM')
  })

  it('runMockProviderCli applies fault flags and exits 0 on SIGINT', async () => {
    const running = await startProcess(process.execPath, sourceArgs(['--port=0', '--seed', '9', '--error-status', '429', '--retry-after', '4']))
    children.push(running.child)
    const response = await rawRequest(`${running.url}/v1/messages`, {headers: anthropicHeaders, body: '{}'})
    expect(response.status).to.equal(429)
    expect(response.headers['retry-after']).to.equal('4')
    const faults = JSON.parse((await rawRequest(`${running.url}/_mock/faults`, {method: 'GET'})).body)
    expect(faults).to.deep.equal({faults: {errorStatus: 429, retryAfterSecs: 4}})
    await rawRequest(`${running.url}/_mock/faults`, {body: '{}'})
    await checkServesAndStops(running, 'SIGINT')
  })

  it('rejects bad flags with a clear message and exit code 2', async () => {
    const unknown = await runToExit(process.execPath, sourceArgs(['--latency', '5']))
    expect(unknown.code).to.equal(2)
    expect(unknown.stderr).to.match(/unknown option "--latency"; run "cco mock-provider --help"/)
    expect(unknown.stdout).to.equal('')
    const badRate = await runToExit(process.execPath, sourceArgs(['--error-rate', '1.5']))
    expect(badRate.code).to.equal(2)
    expect(badRate.stderr).to.match(/--error-rate: expected a number from 0 to 1, got 1.5/)
  })

  it('reports a port in use and exits 1', async () => {
    const first = await startProcess(process.execPath, sourceArgs(['--port', '0']))
    children.push(first.child)
    const port = new URL(first.url).port
    const second = await runToExit(process.execPath, sourceArgs(['--port', port]))
    expect(second.code).to.equal(1)
    expect(second.stderr).to.match(/port is in use/)
  })

  it('parses every flag form', () => {
    expect(parseMockProviderArgs(['--port', '8080', '--host=0.0.0.0', '--seed', '5', '--output-tokens', '7', '--stream-events', '3'])).to.deep.include({port: 8080, host: '0.0.0.0', seed: 5, outputTokens: 7, streamEvents: 3})
    const options = parseMockProviderArgs([
      '--latency-ms', '10', '--ttfb-ms=20', '--event-delay-ms', '30', '--error-rate', '0.25', '--error-status', '529', '--fail-first-n', '2',
      '--cut-stream-after', '3', '--end-stream-after', '4', '--stall-after', '5', '--malformed-sse', '--reset-before-headers', '--never-respond',
    ])
    expect(options).to.not.equal('help')
    expect(options !== 'help' && options.faults).to.deep.equal({
      latencyMs: 10, ttfbMs: 20, eventDelayMs: 30, errorRate: 0.25, errorStatus: 529, failFirstN: 2,
      cutStreamAfterEvents: 3, endStreamAfterEvents: 4, stallAfterEvents: 5, malformedSse: true, resetBeforeHeaders: true, neverRespond: true,
    })
    expect(parseMockProviderArgs(['--help'])).to.equal('help')
    expect(() => parseMockProviderArgs(['--port', '70000'])).to.throw(/--port: expected an integer from 0 to 65535/)
    expect(() => parseMockProviderArgs(['--port', '--seed', '1'])).to.throw(/--port needs a value/)
    expect(() => parseMockProviderArgs(['--malformed-sse=1'])).to.throw(/--malformed-sse takes no value/)
    expect(() => parseMockProviderArgs(['--error-status', '418'])).to.throw(/--error-status: expected one of/)
  })
})
