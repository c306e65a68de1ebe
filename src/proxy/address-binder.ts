// Where this node serves Service IPs. A userspace proxy must listen on each cluster
// IP (and external / load-balancer IP), so those addresses must be local. Two ways:
// - `dummy`: the addresses themselves, as /32s on a dummy interface (root, and a
//   kernel with the dummy driver); see ./dummy-binder.ts.
// - `loopback`: no interface changes: a cluster IP a.b.c.d is served at 127.b.c.d
//   (./ipv4.ts), which every process on the host can reach. Cluster DNS answers the
//   mapped address, so pods connect to what they resolve.
// In both modes an address that is already local (127/8, a node IP) is served as it is.
import { networkInterfaces } from 'node:os'
import { type Cidr, cidrContains, isIPv4, isLoopback, loopbackAddressFor, parseCidr } from './ipv4.js'

export type AddressMode = 'loopback' | 'dummy'

export interface AddressBinder {
  readonly mode: AddressMode
  /** The local address that serves `serviceIP`, or undefined when this binder cannot serve it. */
  localAddress(serviceIP: string): string | undefined
  /** Makes these service IPs (as given to localAddress) present, and those no longer wanted absent. */
  sync(serviceIPs: ReadonlySet<string>): Promise<void>
  /** Removes whatever the binder added. */
  close(): Promise<void>
}

/** kube-apiserver's default --service-cluster-ip-range (as src/apiserver's allocator). */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12'

/** The IPv4 addresses configured on this host's interfaces now. */
export function hostAddresses(): Set<string> {
  const out = new Set<string>()
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4') out.add(a.address)
  return out
}

export interface LoopbackBinderOptions {
  /** The service range whose addresses are mapped into 127/8. Default 10.96.0.0/12. */
  serviceCidr?: string
  /** Addresses that are local already (default: the host's interface addresses, read when asked). */
  localAddresses?: () => ReadonlySet<string>
}

export class LoopbackBinder implements AddressBinder {
  readonly mode = 'loopback'
  private readonly range: Cidr
  private readonly local: () => ReadonlySet<string>

  constructor(opts: LoopbackBinderOptions = {}) {
    const cidr = opts.serviceCidr ?? DEFAULT_SERVICE_CIDR
    const range = parseCidr(cidr)
    if (range === undefined || range.bits < 8) throw new Error(`loopback service addresses: bad service range ${cidr} (an IPv4 CIDR of /8 or longer)`)
    this.range = range
    this.local = opts.localAddresses ?? hostAddresses
  }

  localAddress(serviceIP: string): string | undefined {
    if (!isIPv4(serviceIP)) return undefined
    if (isLoopback(serviceIP)) return serviceIP
    if (cidrContains(this.range, serviceIP)) return loopbackAddressFor(serviceIP)
    // Only addresses outside the service range (external and load-balancer IPs) cost a look at the interfaces.
    return this.local().has(serviceIP) ? serviceIP : undefined
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {}
}
