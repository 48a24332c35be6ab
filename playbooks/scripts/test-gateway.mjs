#!/usr/bin/env zx
// test-gateway.mjs - Validate gateway functionality.
// The plan's Appendix B test-gateway.sh, written anew with its gaps closed: readiness is polled
// (no `sleep 3`), a missing home / PID file / gateway_port fails with a clear message, every HTTP
// call has a timeout, and the health status, metrics and providers are checked, not just printed.
//
//   npx zx playbooks/scripts/test-gateway.mjs [--no-restart] [--json]
//
// Environment:
//   CCO_HOME          the daemon's home (default ~/.cco)
//   CCO_BIN           command that runs cco (default: node <this repo>/bin/cco); split on spaces,
//                     quote parts that contain spaces ("/opt/my cco/bin/cco")
//   READY_TIMEOUT     how long to wait for the gateway after the restart (default 20s)
// Exit: 0 all checks passed, 1 a check failed, 2 bad input (missing home, bad CCO_BIN).
import {$, argv, fs, os, path, sleep} from 'zx'
import {fileURLToPath} from 'node:url'

const started = Date.now()
const json = Boolean(argv.json)
const restart = argv.restart !== false
const home = process.env.CCO_HOME && process.env.CCO_HOME.length > 0 ? process.env.CCO_HOME : path.join(os.homedir(), '.cco')
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const pidFile = path.join(home, 'daemon.pid')
const report = {ok: false, home, restarted: false, gateway_port: null, health: null, total_requests: null, providers: [], steps: []}

// Human lines go to stderr with --json so stdout carries exactly one JSON document.
const say = (line) => (json ? process.stderr : process.stdout).write(`${line}\n`)

function finish(ok, code, error) {
  report.ok = ok
  report.duration_ms = Date.now() - started
  if (error) report.error = error
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  process.exit(code)
}

function fail(step, message, code = 1) {
  report.steps.push({step, ok: false, detail: message})
  say(`❌ ${message}`)
  finish(false, code, message)
}

function pass(step, message) {
  report.steps.push({step, ok: true, detail: message})
  say(`✅ ${message}`)
}

/** Split a command line into argv, honouring single and double quotes. */
function splitCommand(line) {
  const out = []
  let cur = ''
  let quote = null
  let any = false
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null
      else cur += ch
    } else if (ch === '"' || ch === "'") {
      quote = ch
      any = true
    } else if (/\s/.test(ch)) {
      if (cur || any) out.push(cur)
      cur = ''
      any = false
    } else cur += ch
  }
  if (quote) throw new Error(`unbalanced ${quote} in CCO_BIN`)
  if (cur || any) out.push(cur)
  return out
}

async function getJson(port, route) {
  const res = await fetch(`http://127.0.0.1:${port}${route}`, {signal: AbortSignal.timeout(5000)})
  const text = await res.text()
  let body
  try {
    body = JSON.parse(text)
  } catch {
    throw new Error(`GET ${route} answered HTTP ${res.status} with non-JSON: ${text.slice(0, 120)}`)
  }
  return {status: res.status, body}
}

function readPidFile() {
  let text
  try {
    text = fs.readFileSync(pidFile, 'utf8')
  } catch (error) {
    return {problem: error.code === 'ENOENT' ? `PID file not found: ${pidFile}` : `cannot read PID file ${pidFile}: ${error.message}`}
  }
  let content
  try {
    content = JSON.parse(text)
  } catch {
    return {problem: `PID file ${pidFile} is not valid JSON`}
  }
  const port = content?.gateway_port
  if (port === undefined || port === null) return {problem: `Gateway port not found in PID file ${pidFile} (gateway_port is ${port === null ? 'null' : 'missing'}); is the gateway enabled and did it start? See ${path.join(home, 'daemon.log')}`}
  if (!Number.isInteger(port) || port < 1 || port > 65535) return {problem: `PID file ${pidFile} has an invalid gateway_port: ${JSON.stringify(port)}`}
  return {port}
}

say('🔍 Testing LLM Gateway...')

if (!fs.existsSync(home) || !fs.statSync(home).isDirectory()) {
  fail('home', `daemon home ${home} does not exist (CCO_HOME). Set CCO_HOME to the daemon's home, or start the daemon once: cco daemon start`, 2)
}

let cco
try {
  cco = process.env.CCO_BIN ? splitCommand(process.env.CCO_BIN) : [process.execPath, path.join(repoRoot, 'bin', 'cco')]
} catch (error) {
  fail('cco', `bad CCO_BIN: ${error.message}`, 2)
}
if (!cco || cco.length === 0) fail('cco', 'CCO_BIN is empty; set it to the command that runs cco, e.g. "cco" or "node /path/to/bin/cco"', 2)

const readyTimeoutText = process.env.READY_TIMEOUT || '20s'
const readyMatch = /^(\d+)(ms|s|m)?$/.exec(readyTimeoutText)
if (!readyMatch) fail('ready', `READY_TIMEOUT "${readyTimeoutText}" is not a duration such as 20s or 500ms`, 2)
const readyTimeoutMs = Number(readyMatch[1]) * {ms: 1, s: 1000, m: 60_000}[readyMatch[2] ?? 's']

if (restart) {
  say('Starting daemon...')
  const sh = $({env: {...process.env, CCO_HOME: home}, nothrow: true, quiet: true, timeout: '90s'})
  const result = await sh`${cco} daemon restart`
  if (result.exitCode !== 0) {
    const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-8).join('\n')
    fail('restart', `cco daemon restart failed (exit ${result.exitCode ?? result.signal}):\n${tail}`)
  }
  report.restarted = true
  pass('restart', 'Daemon restarted')
}

// Wait for readiness: the PID file names the gateway port and the gateway answers /gateway/health.
const deadline = Date.now() + readyTimeoutMs
let port = null
let lastProblem = 'not checked yet'
for (;;) {
  const pid = readPidFile()
  if (pid.port) {
    try {
      await getJson(pid.port, '/gateway/health')
      port = pid.port
      break
    } catch (error) {
      lastProblem = `gateway on port ${pid.port} does not answer: ${error.cause?.code ?? error.message}`
    }
  } else lastProblem = pid.problem
  if (Date.now() >= deadline) break
  await sleep(200)
}
if (port === null) fail('ready', `${lastProblem} (waited ${readyTimeoutText})`)
report.gateway_port = port
pass('port', `Gateway port: ${port}`)

say('Testing health endpoint...')
try {
  const {status, body} = await getJson(port, '/gateway/health')
  report.health = body?.status ?? null
  if (body?.status !== 'healthy') {
    const unhealthy = Object.entries(body?.providers ?? {})
      .filter(([, p]) => p && p.healthy === false)
      .map(([name]) => name)
    fail('health', `Gateway health check failed: status ${JSON.stringify(body?.status)} (HTTP ${status})${unhealthy.length ? `; unhealthy providers: ${unhealthy.join(', ')}` : ''}`)
  }
  pass('health', 'Gateway healthy')
} catch (error) {
  fail('health', `Gateway health check failed: ${error.message}`)
}

say('Testing metrics endpoint...')
try {
  const {status, body} = await getJson(port, '/gateway/metrics')
  const total = body?.summary?.total_requests
  if (status !== 200 || typeof total !== 'number') fail('metrics', `Metrics endpoint invalid: HTTP ${status}, summary.total_requests is ${JSON.stringify(total)}`)
  report.total_requests = total
  pass('metrics', `Metrics endpoint working (total requests: ${total})`)
} catch (error) {
  fail('metrics', `Metrics endpoint failed: ${error.message}`)
}

say('Testing providers endpoint...')
try {
  const {status, body} = await getJson(port, '/gateway/providers')
  if (status !== 200 || !Array.isArray(body?.providers)) fail('providers', `Providers endpoint invalid: HTTP ${status}, expected {"providers": [...]}`)
  const names = body.providers.map((p) => p?.name).filter((n) => typeof n === 'string')
  if (names.length === 0) fail('providers', 'Providers endpoint lists no providers; configure llmGateway.providers in orchestra-config.json')
  report.providers = names
  pass('providers', `Providers: ${names.join(', ')}`)
} catch (error) {
  fail('providers', `Providers endpoint failed: ${error.message}`)
}

say('🎉 All gateway tests passed!')
finish(true, 0)
