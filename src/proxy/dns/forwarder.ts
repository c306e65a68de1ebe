// Relays queries for names outside the cluster domain to upstream resolvers (what
// CoreDNS's `forward . /etc/resolv.conf` does): the query's bytes as they came, over
// the transport the client used, to each upstream in turn until one answers. A
// fresh UDP socket per query keeps answers from being confused across clients.
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { isIPv4 } from '../ipv4.js'
import { messageId } from './wire.js'

export interface Upstream {
  address: string
  port: number
}

/** "1.2.3.4" or "1.2.3.4:5353". */
export function parseUpstream(s: string): Upstream {
  const [address, port] = s.includes(':') ? s.split(':') : [s, '53']
  const p = Number(port)
  if (address === undefined || !isIPv4(address) || !Number.isInteger(p) || p <= 0 || p > 65535) throw new Error(`bad DNS upstream ${JSON.stringify(s)} (want IPv4[:port])`)
  return { address, port: p }
}

/** The IPv4 nameservers of the host's /etc/resolv.conf (none when it cannot be read). */
export function hostNameservers(path = '/etc/resolv.conf'): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  const out: string[] = []
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line)
    if (m !== null && isIPv4(m[1]!)) out.push(m[1]!)
  }
  return out
}

export class Forwarder {
  constructor(
    private readonly upstreams: readonly Upstream[],
    private readonly timeoutMs = 2000,
  ) {}

  get enabled(): boolean {
    return this.upstreams.length > 0
  }

  /** The first upstream answer to `query`, or undefined when none answered. */
  async forward(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    for (const u of this.upstreams) {
      const res = await (transport === 'udp' ? this.udp(u, query) : this.tcp(u, query)).catch(() => undefined)
      if (res !== undefined) return res
    }
    return undefined
  }

  private udp(u: Upstream, query: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = createSocket('udp4')
      let finished = false
      const done = (res: Buffer | undefined): void => {
        if (finished) return
        finished = true
        clearTimeout(timer)
        sock.close()
        resolve(res)
      }
      const timer = setTimeout(() => done(undefined), this.timeoutMs)
      sock.on('error', () => done(undefined))
      sock.on('message', (msg, rinfo) => {
        if (rinfo.address === u.address && rinfo.port === u.port && messageId(msg) === messageId(query)) done(msg)
      })
      sock.send(query, u.port, u.address)
    })
  }

  private tcp(u: Upstream, query: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = connect({ host: u.address, port: u.port })
      let got = Buffer.alloc(0)
      const done = (res: Buffer | undefined): void => {
        clearTimeout(timer)
        sock.destroy()
        resolve(res)
      }
      const timer = setTimeout(() => done(undefined), this.timeoutMs)
      sock.on('error', () => done(undefined))
      sock.on('close', () => done(undefined))
      sock.on('connect', () => {
        const len = Buffer.alloc(2)
        len.writeUInt16BE(query.length)
        sock.write(Buffer.concat([len, query]))
      })
      sock.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d])
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) done(got.subarray(2, 2 + got.readUInt16BE(0)))
      })
    })
  }
}
