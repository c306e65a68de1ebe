// Pod IPs from the node's pod CIDR, as the host-local IPAM plugin hands them out
// behind a bridge: the network and broadcast addresses and the first host address
// (the bridge's gateway) are never given; addresses go round the range, so a released
// IP is not reused at once (a Service's endpoints may still name it for a moment).
// The CIDR is node.spec.podCIDR when the cluster assigned one, else --pod-cidr, else
// a /24 derived from the node's name in 10.128.0.0/9 (32768 blocks: two nodes
// collide with probability 1/32768; give --pod-cidr where that matters).

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

export interface Ipv4Cidr {
  /** The network address. */
  base: number
  bits: number
}

/** "10.244.1.0/24" → its network; throws on anything else (IPv6 pod CIDRs are not supported). */
export function parseIPv4Cidr(cidr: string): Ipv4Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim())
  const addr = m === null ? undefined : parseIPv4(m[1]!)
  const bits = m === null ? NaN : Number(m[2])
  if (addr === undefined || !(bits >= 0 && bits <= 32)) throw new Error(`invalid CIDR address: ${cidr}`)
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
  return { base: (addr & mask) >>> 0, bits }
}

function fnv32a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

/** The /24 a node without a pod CIDR uses: one of 10.128.0.0/9's blocks, by its name. */
export function defaultPodCidr(nodeName: string): string {
  const block = fnv32a(nodeName) % 32768
  return `10.${128 + (block >> 8)}.${block & 255}.0/24`
}

/** The i-th /24 of 10.128.0.0/9 (hollow node harnesses number their nodes). */
export function indexedPodCidr(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= 32768) throw new Error(`pod CIDR index out of range: ${i}`)
  return `10.${128 + (i >> 8)}.${i & 255}.0/24`
}

export class PodIpAllocator {
  readonly cidr: string
  private readonly first: number
  private readonly last: number
  private next: number
  private readonly byPod = new Map<string, number>()
  private readonly used = new Set<number>()

  constructor(cidr: string) {
    const c = parseIPv4Cidr(cidr)
    this.cidr = `${formatIPv4(c.base)}/${c.bits}`
    const size = 2 ** (32 - c.bits)
    // Network, gateway and broadcast are not for pods; a /31 or /32 leaves nothing.
    this.first = c.base + 2
    this.last = c.base + size - 2
    this.next = this.first
  }

  /** How many pod IPs the range holds. */
  get capacity(): number {
    return Math.max(0, this.last - this.first + 1)
  }

  get allocated(): number {
    return this.byPod.size
  }

  contains(ip: string): boolean {
    const n = parseIPv4(ip)
    return n !== undefined && n >= this.first && n <= this.last
  }

  /** The pod's IP, allocating one when it has none; throws when the range is full. */
  allocate(podUid: string): string {
    const held = this.byPod.get(podUid)
    if (held !== undefined) return formatIPv4(held)
    const count = this.capacity
    for (let i = 0; i < count; i++) {
      const n = this.next
      this.next = n >= this.last ? this.first : n + 1
      if (this.used.has(n)) continue
      this.used.add(n)
      this.byPod.set(podUid, n)
      return formatIPv4(n)
    }
    throw new Error(`no IP addresses left in ${this.cidr} (${count} in use)`)
  }

  /** Keeps `ip` for the pod (a pod adopted after a restart); false when it is outside the range or taken. */
  reserve(podUid: string, ip: string): boolean {
    const n = parseIPv4(ip)
    if (n === undefined || n < this.first || n > this.last) return false
    const held = this.byPod.get(podUid)
    if (held === n) return true
    if (this.used.has(n) || held !== undefined) return false
    this.used.add(n)
    this.byPod.set(podUid, n)
    return true
  }

  get(podUid: string): string | undefined {
    const n = this.byPod.get(podUid)
    return n === undefined ? undefined : formatIPv4(n)
  }

  release(podUid: string): void {
    const n = this.byPod.get(podUid)
    if (n === undefined) return
    this.byPod.delete(podUid)
    this.used.delete(n)
  }
}
