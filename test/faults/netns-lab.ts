// Network partitions for the fault tests: each member runs in its own network
// namespace with its own address on a bridge the test process also sits on, so the
// test's clients reach every member while the members' links to each other can be
// cut one by one. A cut is a pair of blackhole routes (each side drops what it would
// send the other), which looks to both like a dead network: packets vanish, nothing
// is refused. The host's own address is never cut, so clients keep reaching each
// member. Needs root; `available()` says whether this host can.
//
// Names carry the test process's pid, so two test files running at once (tap runs
// two) do not collide, and `destroy()` removes everything (also called on failure).
import { execFileSync } from 'node:child_process'

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

export class NetnsLab {
  readonly namespaces: string[]
  readonly hosts: string[]
  /** The test process's own address on the bridge. */
  readonly gateway: string
  private readonly bridge: string
  private readonly cuts = new Set<string>()

  /** Whether this host lets us make namespaces (root, iproute2). */
  static available(): boolean {
    if (process.getuid?.() !== 0) return false
    try {
      execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  }

  /** Creates `size` namespaces on one bridge. */
  constructor(size: number) {
    const tag = `rp${process.pid % 100_000}`
    // A /24 from the pid, in 10.200.0.0/13, away from the pod and service ranges.
    const net = `10.${200 + (process.pid % 8)}.${(process.pid >> 3) % 256}`
    this.bridge = `${tag}br`
    this.gateway = `${net}.1`
    this.namespaces = Array.from({ length: size }, (_, i) => `${tag}m${i}`)
    this.hosts = Array.from({ length: size }, (_, i) => `${net}.${10 + i}`)
    try {
      ip('link', 'add', this.bridge, 'type', 'bridge')
      ip('addr', 'add', `${this.gateway}/24`, 'dev', this.bridge)
      ip('link', 'set', this.bridge, 'up')
      this.namespaces.forEach((ns, i) => {
        const veth = `${tag}v${i}`
        ip('netns', 'add', ns)
        ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
        ip('link', 'set', veth, 'master', this.bridge)
        ip('link', 'set', veth, 'up')
        ip('-n', ns, 'addr', 'add', `${this.hosts[i]}/24`, 'dev', 'eth0')
        ip('-n', ns, 'link', 'set', 'eth0', 'up')
        ip('-n', ns, 'link', 'set', 'lo', 'up')
      })
    } catch (err) {
      this.destroy()
      throw err
    }
  }

  /** The argv prefix that runs a command in member i's namespace. */
  wrap(i: number): string[] {
    return ['ip', 'netns', 'exec', this.namespaces[i]!]
  }

  /** Cuts the link between members a and b (both directions). */
  cut(a: number, b: number): void {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const key = `${from}>${to}`
      if (this.cuts.has(key)) continue
      ip('-n', this.namespaces[from]!, 'route', 'add', 'blackhole', `${this.hosts[to]}/32`)
      this.cuts.add(key)
    }
  }

  /** Cuts member i off from every other member (clients still reach it). */
  isolate(i: number): void {
    for (let j = 0; j < this.hosts.length; j++) if (j !== i) this.cut(i, j)
  }

  /** Takes member i's link down, as a pulled cable: nobody reaches it, clients included. */
  linkDown(i: number): void {
    ip('-n', this.namespaces[i]!, 'link', 'set', 'eth0', 'down')
  }

  linkUp(i: number): void {
    ip('-n', this.namespaces[i]!, 'link', 'set', 'eth0', 'up')
  }

  healAll(): void {
    for (const key of this.cuts) {
      const [from, to] = key.split('>').map(Number) as [number, number]
      ip('-n', this.namespaces[from]!, 'route', 'del', 'blackhole', `${this.hosts[to]}/32`)
    }
    this.cuts.clear()
  }

  destroy(): void {
    for (const ns of this.namespaces) {
      try {
        ip('netns', 'del', ns) // takes its end of the veth, and so the pair, with it
      } catch {
        // Never made, or gone.
      }
    }
    try {
      ip('link', 'del', this.bridge)
    } catch {
      // Never made, or gone.
    }
  }
}
