// The `dummy` address binder: Service IPs become /32 addresses of a dummy interface
// (default raftplane0), so the proxy listens on the real cluster IPs and pods in
// network namespaces reach them through the node's routing. Changes go through
// iproute2 (`ip -batch`, one process per sync). The interface is created when
// missing and deleted on close if we created it; an existing interface (say `lo` on
// a kernel without the dummy driver) is used as it is and only our addresses leave it.
// Addresses left on our own dummy interface by a proxy that died are adopted and
// removed when no Service wants them.
import { spawn } from 'node:child_process'
import { type AddressBinder, hostAddresses } from './address-binder.js'
import { isIPv4 } from './ipv4.js'

/** Runs `ip` with these arguments (and stdin); resolves its stdout, rejects on a non-zero exit. */
export type IpCommand = (args: readonly string[], stdin?: string) => Promise<string>

export const runIp: IpCommand = (args, stdin) =>
  new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ip ${args.join(' ')}: ${err.trim() || `exit ${code}`}`))))
    if (child.stdin !== null) {
      // `ip` may exit (an error) before reading it all: that is its exit status's story, not an EPIPE of ours.
      child.stdin.on('error', () => {})
      child.stdin.end(stdin)
    }
  })

export interface DummyBinderOptions {
  /** Interface name (at most 15 characters). Default raftplane0. */
  device?: string
  /** How iproute2 is run (tests). */
  ip?: IpCommand
  /** Addresses already local elsewhere: never added (default: the host's interface addresses). */
  localAddresses?: () => ReadonlySet<string>
}

export const DEFAULT_DUMMY_DEVICE = 'raftplane0'

export class DummyBinder implements AddressBinder {
  readonly mode = 'dummy'
  readonly device: string
  private readonly ip: IpCommand
  private readonly local: () => ReadonlySet<string>
  /** Addresses on the device that are ours. */
  private readonly present = new Set<string>()
  private created = false
  private opened = false

  constructor(opts: DummyBinderOptions = {}) {
    this.device = opts.device ?? DEFAULT_DUMMY_DEVICE
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(this.device)) throw new Error(`dummy address binder: bad interface name ${JSON.stringify(this.device)}`)
    this.ip = opts.ip ?? runIp
    this.local = opts.localAddresses ?? hostAddresses
  }

  /** Creates (or adopts) the interface and brings it up; throws when the host does not allow it. */
  async open(): Promise<void> {
    if (this.opened) return
    let details: string | undefined
    try {
      details = await this.ip(['-o', '-d', 'link', 'show', 'dev', this.device])
    } catch {
      details = undefined
    }
    if (details === undefined) {
      await this.ip(['link', 'add', this.device, 'type', 'dummy'])
      this.created = true
    } else if (/\bdummy\b/.test(details)) {
      // Our interface from an earlier run: its /32s are ours to clean up.
      for (const addr of await this.addresses()) this.present.add(addr)
    }
    await this.ip(['link', 'set', 'dev', this.device, 'up'])
    this.opened = true
  }

  private async addresses(): Promise<string[]> {
    const out = await this.ip(['-o', '-4', 'addr', 'show', 'dev', this.device])
    const found: string[] = []
    for (const m of out.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\/32\b/g)) found.push(m[1]!)
    return found
  }

  localAddress(serviceIP: string): string | undefined {
    return isIPv4(serviceIP) ? serviceIP : undefined
  }

  async sync(serviceIPs: ReadonlySet<string>): Promise<void> {
    if (!this.opened) await this.open()
    const elsewhere = this.local()
    const wanted = new Set([...serviceIPs].filter((ip) => isIPv4(ip) && (this.present.has(ip) || !elsewhere.has(ip))))
    const add = [...wanted].filter((ip) => !this.present.has(ip))
    const del = [...this.present].filter((ip) => !wanted.has(ip))
    await this.apply(add, del)
  }

  async close(): Promise<void> {
    if (!this.opened) return
    this.opened = false
    if (this.created) {
      await this.ip(['link', 'del', 'dev', this.device]).catch(() => {})
      this.present.clear()
      return
    }
    await this.apply([], [...this.present]).catch(() => {})
  }

  private async apply(add: readonly string[], del: readonly string[]): Promise<void> {
    if (add.length === 0 && del.length === 0) return
    const lines = [...del.map((ip) => `address del ${ip}/32 dev ${this.device}`), ...add.map((ip) => `address add ${ip}/32 dev ${this.device}`)]
    let failure: unknown
    try {
      // -force: one failed line (an address someone removed by hand) does not stop the rest.
      await this.ip(['-force', '-batch', '-'], lines.join('\n') + '\n')
    } catch (err) {
      failure = err
    }
    // Whatever happened, believe the interface rather than our plan.
    const now = new Set(await this.addresses().catch(() => [...this.present]))
    for (const ip of del) if (!now.has(ip)) this.present.delete(ip)
    for (const ip of add) if (now.has(ip)) this.present.add(ip)
    if (failure !== undefined && add.some((ip) => !this.present.has(ip))) throw failure
  }
}
