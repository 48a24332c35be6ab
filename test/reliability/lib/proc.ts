/** Linux /proc readers: a process's resident memory, open descriptors and listening sockets. */
import fs from 'node:fs'

/** Resident set size in MiB (VmRSS). */
export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN)
  return Math.round((kb / 1024) * 10) / 10
}

/** Number of open file descriptors. */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length
}

function socketInodes(pid: number): Set<string> {
  const out = new Set<string>()
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) out.add(m[1]!)
    } catch {
      // closed while we looked
    }
  }
  return out
}

/** IPv4 "0100007F:1F90" / IPv6 32-hex-digit addresses of /proc/net/tcp* as text. */
function decodeAddress(hex: string): {address: string; port: number} {
  const [addr, port] = hex.split(':') as [string, string]
  if (addr.length === 8) {
    const bytes = addr.match(/../g)!.map((b) => parseInt(b, 16)).reverse()
    return {address: bytes.join('.'), port: parseInt(port, 16)}
  }
  // IPv6: four little-endian 32-bit words.
  const words = addr.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''))
  const groups = words.join('').match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, ''))
  return {address: groups.join(':'), port: parseInt(port, 16)}
}

export interface Listener {
  address: string
  port: number
  family: 'tcp' | 'tcp6'
}

/** Every TCP socket in LISTEN state owned by the process (from /proc/net/tcp and tcp6). */
export function listeningSockets(pid: number): Listener[] {
  const inodes = socketInodes(pid)
  const out: Listener[] = []
  for (const family of ['tcp', 'tcp6'] as const) {
    let text = ''
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${family}`, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 10 || cols[3] !== '0A' || !inodes.has(cols[9]!)) continue
      out.push({...decodeAddress(cols[1]!), family})
    }
  }
  return out
}

export function isLoopbackAddress(address: string): boolean {
  return address.startsWith('127.') || address === '0:0:0:0:0:0:0:1' || address === '::1' || /^0:0:0:0:0:ffff:7f/i.test(address)
}
