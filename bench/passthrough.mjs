#!/usr/bin/env node
// The floor: a minimal ideal pass-through (node:http + undici, streamed, no features).
// Usage: node bench/passthrough.mjs <upstream-url>   prints "listening on http://127.0.0.1:PORT"
import http from 'node:http'
import {Agent, request} from 'undici'

const upstream = new URL(process.argv[2])
const agent = new Agent({keepAliveTimeout: 30_000, connections: 256})
const hop = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length'])

const server = http.createServer(async (req, res) => {
  try {
    const headers = {}
    for (const [k, v] of Object.entries(req.headers)) if (!hop.has(k)) headers[k] = v
    const up = await request(new URL(req.url, upstream), {method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req, dispatcher: agent})
    const out = {}
    for (const [k, v] of Object.entries(up.headers)) if (!hop.has(k)) out[k] = v
    res.writeHead(up.statusCode, out)
    for await (const chunk of up.body) res.write(chunk)
    res.end()
  } catch (error) {
    res.writeHead(502).end(String(error))
  }
})
server.keepAliveTimeout = 30_000
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
