// Service ClusterIP and NodePort allocation. Every allocated IP or port is a key of
// its own in the store, created with a create-if-absent transaction, so two masters
// allocating at the same time can never hand out the same one; a Service's delete
// releases its keys.
import type { Storage } from '../storage/interface.js'
import { ApiError } from '../status.js'

const IP_PREFIX = '/registry/ranges/serviceips/'
const PORT_PREFIX = '/registry/ranges/servicenodeports/'

export interface AllocatorOptions {
  /** IPv4 CIDR of Service cluster IPs (kube-apiserver's --service-cluster-ip-range). */
  serviceCidr: string
  /** --service-node-port-range. */
  nodePortRange: [number, number]
}

export const DEFAULT_ALLOCATOR_OPTIONS: AllocatorOptions = { serviceCidr: '10.96.0.0/12', nodePortRange: [30000, 32767] }

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number)
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return NaN
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

type Json = Record<string, unknown>

function invalid(name: string, field: string, value: unknown, message: string): ApiError {
  return new ApiError(422, 'Invalid', `Service "${name}" is invalid: ${field}: Invalid value: ${JSON.stringify(value)}: ${message}`, {
    name,
    kind: 'Service',
    causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${message}`, field }],
  })
}

export class ServiceAllocator {
  private readonly base: number
  private readonly size: number

  constructor(
    private readonly storage: Storage,
    private readonly opts: AllocatorOptions = DEFAULT_ALLOCATOR_OPTIONS,
  ) {
    const [net, bits] = opts.serviceCidr.split('/')
    const mask = Number(bits)
    this.base = ipToInt(net!)
    if (!Number.isFinite(this.base) || !(mask >= 8 && mask <= 30)) throw new Error(`--service-cluster-ip-range: bad CIDR ${opts.serviceCidr}`)
    this.size = 2 ** (32 - mask)
  }

  /** The first address of the range, which the `kubernetes` Service holds. */
  get apiserverIp(): string {
    return intToIp(this.base + 1)
  }

  private inRange(ip: string): boolean {
    const n = ipToInt(ip)
    // The network and broadcast addresses are never handed out.
    return Number.isFinite(n) && n > this.base && n < this.base + this.size - 1
  }

  private async claim(key: string, owner: string): Promise<boolean> {
    const res = await this.storage.create(key, Buffer.from(owner))
    if (res.ok) return true
    // Already ours (a retried create of the same Service).
    return res.current !== undefined && Buffer.from(res.current.value).toString() === owner
  }

  /** Fills spec.clusterIP(s) and node ports of a new Service, claiming each in the store. */
  async allocate(svc: Json, namespace: string, name: string): Promise<void> {
    const spec = (svc.spec ??= {}) as Json
    const owner = `${namespace}/${name}`
    const claimed: string[] = []
    try {
      const type = (spec.type as string | undefined) ?? 'ClusterIP'
      if (type !== 'ExternalName') {
        const wanted = spec.clusterIP as string | undefined
        if (wanted === 'None') {
          spec.clusterIPs = ['None']
        } else if (wanted !== undefined && wanted !== '') {
          if (!this.inRange(wanted)) throw invalid(name, 'spec.clusterIPs', [wanted], `failed to allocate IP ${wanted}: the provided IP (${wanted}) is not in the valid range. The range of valid IPs is ${this.opts.serviceCidr}`)
          if (!(await this.claim(IP_PREFIX + wanted, owner))) throw invalid(name, 'spec.clusterIPs', [wanted], `failed to allocate IP ${wanted}: provided IP is already allocated`)
          claimed.push(IP_PREFIX + wanted)
          spec.clusterIPs = [wanted]
        } else {
          const ip = await this.pickIp(owner)
          claimed.push(IP_PREFIX + ip)
          spec.clusterIP = ip
          spec.clusterIPs = [ip]
        }
      }
      if (type === 'NodePort' || type === 'LoadBalancer') {
        for (const [i, p] of ((spec.ports as Json[] | undefined) ?? []).entries()) {
          claimed.push(await this.allocatePort(p, i, owner, name))
        }
      }
    } catch (err) {
      await this.release(claimed)
      throw err
    }
  }

  /** Node ports for ports that have none yet (a Service changed to NodePort). */
  async allocateMissingPorts(svc: Json, namespace: string, name: string): Promise<void> {
    const spec = (svc.spec ?? {}) as Json
    const type = spec.type as string | undefined
    if (type !== 'NodePort' && type !== 'LoadBalancer') return
    for (const [i, p] of ((spec.ports as Json[] | undefined) ?? []).entries()) {
      await this.allocatePort(p, i, `${namespace}/${name}`, name)
    }
  }

  private async allocatePort(p: Json, i: number, owner: string, name: string): Promise<string> {
    const [lo, hi] = this.opts.nodePortRange
    const wanted = p.nodePort as number | undefined
    if (wanted !== undefined && wanted !== 0) {
      if (!(wanted >= lo && wanted <= hi)) throw invalid(name, `spec.ports[${i}].nodePort`, wanted, `provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`)
      if (!(await this.claim(PORT_PREFIX + wanted, owner))) throw invalid(name, `spec.ports[${i}].nodePort`, wanted, 'provided port is already allocated')
      return PORT_PREFIX + wanted
    }
    const span = hi - lo + 1
    const start = Math.floor(Math.random() * span)
    for (let k = 0; k < span; k++) {
      const port = lo + ((start + k) % span)
      if (await this.claim(PORT_PREFIX + port, owner)) {
        p.nodePort = port
        return PORT_PREFIX + port
      }
    }
    throw new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full')
  }

  private async pickIp(owner: string): Promise<string> {
    // Random probing, as Kubernetes' allocator does; the first address is the apiserver's.
    const usable = this.size - 3
    const start = Math.floor(Math.random() * usable)
    for (let k = 0; k < usable; k++) {
      const ip = intToIp(this.base + 2 + ((start + k) % usable))
      if (await this.claim(IP_PREFIX + ip, owner)) return ip
    }
    throw new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a serviceIP: range is full')
  }

  /** Claims the apiserver's own address for the `kubernetes` Service. */
  async claimApiserverIp(): Promise<void> {
    await this.claim(IP_PREFIX + this.apiserverIp, 'default/kubernetes')
  }

  /** Releases the cluster IPs and node ports a deleted Service held. */
  async releaseService(svc: Json): Promise<void> {
    const spec = (svc.spec ?? {}) as Json
    const keys: string[] = []
    for (const ip of (spec.clusterIPs as string[] | undefined) ?? [spec.clusterIP as string]) {
      if (typeof ip === 'string' && ip !== '' && ip !== 'None') keys.push(IP_PREFIX + ip)
    }
    for (const p of (spec.ports as Json[] | undefined) ?? []) {
      if (typeof p.nodePort === 'number') keys.push(PORT_PREFIX + p.nodePort)
    }
    await this.release(keys)
  }

  private async release(keys: string[]): Promise<void> {
    for (const k of keys) await this.storage.delete(k).catch(() => undefined)
  }
}
