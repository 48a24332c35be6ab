#!/usr/bin/env node
// A stand-in for an installed `cco`, used by target-file tests (the real reference daemon is bin/cco).
// FAKE_CCO_EXIT: exit code of daemon commands; FAKE_CCO_MODE: gateway|proxy|error for `launch`;
// FAKE_CCO_SLEEP_MS: delay before answering; FAKE_CCO_SAY: extra text printed on stdout.
import {spawnSync} from 'node:child_process'

const [cmd, ...rest] = process.argv.slice(2)
const sleep = Number(process.env.FAKE_CCO_SLEEP_MS ?? 0)
if (sleep > 0) await new Promise((resolve) => setTimeout(resolve, sleep))
if (process.env.FAKE_CCO_SAY) console.log(process.env.FAKE_CCO_SAY)

if (cmd === 'daemon') {
  const action = rest[0]
  console.log(`fake cco: daemon ${action} (home ${process.env.CCO_HOME})`)
  const code = Number(process.env.FAKE_CCO_EXIT ?? 0)
  if (code !== 0) console.error(`fake cco: daemon ${action} failed`)
  process.exit(code)
}
if (cmd === 'launch') {
  const args = rest[0] === '--' ? rest.slice(1) : rest
  const mode = process.env.FAKE_CCO_MODE ?? 'gateway'
  const env = {...process.env}
  if (mode === 'gateway') {
    env.ANTHROPIC_BASE_URL = 'http://127.0.0.1:4100'
    console.log('   Gateway: http://127.0.0.1:4100 (LLM routing enabled)')
  } else if (mode === 'proxy') {
    env.HTTP_PROXY = env.HTTPS_PROXY = 'http://127.0.0.1:4200'
    console.log('   Proxy: http://127.0.0.1:4200 (HTTP proxy mode)')
  } else {
    console.error('❌ Error: LLM Gateway not available: gateway_port missing')
    process.exit(1)
  }
  const child = spawnSync(args[0], args.slice(1), {env, stdio: 'inherit'})
  process.exit(child.status ?? 1)
}
console.error(`fake cco: unknown command ${cmd}`)
process.exit(2)
