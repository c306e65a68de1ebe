// IPv4 arithmetic for kube-proxy: parsing addresses and CIDRs, and the loopback
// mapping that lets a node without a usable `dummy` interface still serve Service
// IPs. In loopback mode a cluster IP a.b.c.d is served at 127.b.c.d: every address of
// 127.0.0.0/8 is local on Linux, so a listener there needs no interface changes, and
// the low 24 bits keep distinct cluster IPs distinct for any service range of /8 or
// longer (the default 10.96.0.0/12 lands in 127.96.0.0 – 127.111.255.255).

/** The address as a 32-bit unsigned number, or undefined when it is not dotted-quad IPv4. */
export function parseIPv4(ip: string): number | undefined {
  const parts = ip.split('.')
  if (parts.length !== 4) return undefined
  let n = 0
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined
    const v = Number(p)
    if (v > 255) return undefined
    n = n * 256 + v
  }
  return n
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

export function isIPv4(ip: string): boolean {
  return parseIPv4(ip) !== undefined
}

export interface Cidr {
  base: number
  bits: number
}

/** "10.96.0.0/12" → its network; a bare address is a /32. Undefined when malformed. */
export function parseCidr(cidr: string): Cidr | undefined {
  const [addr, len] = cidr.split('/')
  const n = parseIPv4(addr ?? '')
  const bits = len === undefined ? 32 : /^\d{1,2}$/.test(len) ? Number(len) : NaN
  if (n === undefined || !(bits >= 0 && bits <= 32)) return undefined
  return { base: (n & mask(bits)) >>> 0, bits }
}

function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const n = parseIPv4(ip)
  return n !== undefined && ((n & mask(cidr.bits)) >>> 0) === cidr.base
}

const LOOPBACK = parseCidr('127.0.0.0/8')!

export function isLoopback(ip: string): boolean {
  return cidrContains(LOOPBACK, ip)
}

/** 127.<low 24 bits of ip>: where loopback mode serves a cluster IP. */
export function loopbackAddressFor(ip: string): string | undefined {
  const n = parseIPv4(ip)
  if (n === undefined) return undefined
  return formatIPv4(((127 << 24) | (n & 0xffffff)) >>> 0)
}

/** The address a client sent from, without the IPv4-mapped-IPv6 prefix a dual-stack socket adds. */
export function clientAddress(remote: string | undefined): string {
  if (remote === undefined) return ''
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote
}
