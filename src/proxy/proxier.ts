// The proxier (upstream's syncProxyRules, for a userspace proxy): from all Services
// and EndpointSlices it computes the frontends this node should have and brings the
// listeners to match, level-triggered, every sync:
// - each service port of a proxied Service (see ./service-ports.ts) listens on its
//   cluster IP (where the address binder serves it), on its node port at every node
//   address, and on its external and load-balancer IPs the binder can serve;
// - a frontend listens only while its service port has a usable endpoint for that
//   traffic (./topology.ts), so a Service without one refuses connections at once;
// - endpoint changes swap the load balancer's endpoints; established TCP connections
//   are never touched (UDP flows to vanished endpoints end, as upstream clears their
//   conntrack entries).
// A listener that cannot bind (the address is taken, e.g. by the kube-proxy of
// another node sharing this host, which serves the same Services) is retried at the
// next sync.
import type { KubeObject, Logger } from '../client/index.js'
import { errorMessage } from '../client/index.js'
import type { AddressBinder } from './address-binder.js'
import { endpointsForPort } from './endpoints.js'
import { type Frontend, type FrontendDeps, frontendKey, type FrontendTarget } from './frontend.js'
import { type Cidr, parseCidr } from './ipv4.js'
import { LoadBalancer } from './load-balancer.js'
import type { ProxyMetrics } from './metrics.js'
import { type ServicePort, servicePorts } from './service-ports.js'
import { TcpFrontend } from './tcp-frontend.js'
import { categorizeEndpoints, type NodeTopology } from './topology.js'
import { UdpFrontend } from './udp-frontend.js'

export interface ProxierState {
  allServices(): Iterable<KubeObject>
  slicesOf(serviceKey: string): Iterable<KubeObject>
}

export interface ProxierOptions {
  binder: AddressBinder
  /** Where node ports listen. */
  nodeAddresses: readonly string[]
  topology: NodeTopology
  udpIdleTimeoutMs?: number
  metrics?: ProxyMetrics
  logger: Logger
  /** The clock of session affinity (tests). */
  now?: () => number
}

export interface SyncResult {
  /** Frontends that should listen but could not bind. */
  bindFailures: number
}

interface DesiredFrontend {
  protocol: 'TCP' | 'UDP'
  address: string
  port: number
  balancerKey: string
  servicePort: string
  sourceRanges: readonly Cidr[]
}

export class Proxier {
  private readonly frontends = new Map<string, Frontend>()
  /** Frontends no longer wanted whose TCP connections are still open (closed on stop). */
  private readonly retired = new Set<Frontend>()
  private readonly balancers = new Map<string, LoadBalancer>()
  private readonly deps: FrontendDeps
  /** Bind errors already logged, so a retried failure is not logged every sync. */
  private readonly loggedBindErrors = new Map<string, string>()
  private endpointGauges = new Set<string>()
  private readonly skippedProtocols = new Set<string>()
  private readonly unservable = new Set<string>()

  constructor(private readonly o: ProxierOptions) {
    this.deps = { metrics: o.metrics, logger: o.logger }
  }

  /** The frontends listening now, by "PROTOCOL/address:port" (tests, status). */
  listeners(): string[] {
    return [...this.frontends.entries()].filter(([, f]) => f.listening).map(([k]) => k)
  }

  /** The service IPs the binder must serve for these Services. */
  serviceIPs(state: ProxierState): Set<string> {
    const ips = new Set<string>()
    for (const svc of state.allServices()) {
      for (const sp of servicePorts(svc)) {
        ips.add(sp.clusterIP)
        for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs]) ips.add(ip)
      }
    }
    return ips
  }

  async sync(state: ProxierState): Promise<SyncResult> {
    const desired = new Map<string, DesiredFrontend>()
    const wantedBalancers = new Set<string>()
    const gauges = new Set<string>()
    const ports = [...state.allServices()].flatMap(servicePorts).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    for (const sp of ports) {
      if (sp.protocol === 'SCTP') {
        if (!this.skippedProtocols.has(sp.key)) this.o.logger.info({ servicePort: sp.key }, 'SCTP is not proxied by the userspace proxy')
        this.skippedProtocols.add(sp.key)
        continue
      }
      const endpoints = endpointsForPort(state.slicesOf(`${sp.namespace}/${sp.name}`), sp.portName, sp.protocol, this.o.topology.nodeName)
      const cat = categorizeEndpoints(endpoints, sp, this.o.topology)
      const internalKey = `${sp.key}/${sp.protocol}/internal`
      const externalKey = `${sp.key}/${sp.protocol}/external`
      this.balancer(internalKey).update(cat.internal, sp.affinitySeconds)
      wantedBalancers.add(internalKey)
      if (sp.externallyAccessible) {
        this.balancer(externalKey).update(cat.external, sp.affinitySeconds)
        wantedBalancers.add(externalKey)
      }
      const gaugeLabels = { namespace: sp.namespace, service: sp.name, port: sp.portName }
      this.o.metrics?.endpoints.set(gaugeLabels, cat.internal.length)
      gauges.add(JSON.stringify(gaugeLabels))
      this.addDesired(desired, sp, internalKey, externalKey)
    }
    for (const g of this.endpointGauges) if (!gauges.has(g)) this.o.metrics?.endpoints.remove(JSON.parse(g) as Record<string, string>)
    this.endpointGauges = gauges

    for (const [key, f] of this.frontends) {
      if (desired.has(key)) continue
      this.frontends.delete(key)
      void f.setListening(false)
      if (f.active > 0) this.retired.add(f)
    }
    for (const f of this.retired) if (f.active === 0) this.retired.delete(f)

    const binds: Promise<[string, Error | undefined]>[] = []
    for (const [key, d] of desired) {
      const target: FrontendTarget = { servicePort: d.servicePort, balancer: this.balancers.get(d.balancerKey)!, sourceRanges: d.sourceRanges }
      let f = this.frontends.get(key)
      if (f === undefined) {
        f = d.protocol === 'TCP' ? new TcpFrontend(d.address, d.port, target, this.deps) : new UdpFrontend(d.address, d.port, target, this.deps, this.o.udpIdleTimeoutMs)
        this.frontends.set(key, f)
      } else f.target = target
      f.pruneFlows()
      const want = target.balancer.size > 0
      if (want === f.listening) continue
      binds.push(f.setListening(want).then((err) => [key, err]))
    }
    for (const key of this.balancers.keys()) if (!wantedBalancers.has(key)) this.balancers.delete(key)

    let bindFailures = 0
    for (const [key, err] of await Promise.all(binds)) {
      if (err === undefined) {
        if (this.loggedBindErrors.delete(key)) this.o.logger.info({ listener: key }, 'service listener bound after earlier failures')
        continue
      }
      bindFailures++
      const code = (err as NodeJS.ErrnoException).code ?? err.message
      if (this.loggedBindErrors.get(key) !== code) this.o.logger.warn({ listener: key, err: errorMessage(err) }, 'service listener could not bind; retrying at the next sync')
      this.loggedBindErrors.set(key, code)
    }
    for (const key of this.loggedBindErrors.keys()) if (!desired.has(key)) this.loggedBindErrors.delete(key)
    this.o.metrics?.bindFailures.set(bindFailures)
    return { bindFailures }
  }

  /** Closes every listener and connection. */
  stop(): void {
    for (const f of this.frontends.values()) f.destroy()
    for (const f of this.retired) f.destroy()
    this.frontends.clear()
    this.retired.clear()
    this.balancers.clear()
    for (const g of this.endpointGauges) this.o.metrics?.endpoints.remove(JSON.parse(g) as Record<string, string>)
    this.endpointGauges.clear()
  }

  private balancer(key: string): LoadBalancer {
    let b = this.balancers.get(key)
    if (b === undefined) this.balancers.set(key, (b = new LoadBalancer(this.o.now)))
    return b
  }

  private addDesired(desired: Map<string, DesiredFrontend>, sp: ServicePort, internalKey: string, externalKey: string): void {
    const protocol = sp.protocol as 'TCP' | 'UDP'
    const add = (address: string | undefined, port: number, balancerKey: string, sourceRanges: readonly Cidr[] = []): void => {
      if (address === undefined || port === 0) return
      const key = frontendKey(protocol, address, port)
      // Two service ports on one address:port (an IP both a cluster IP and an external IP): the first, in key order, keeps it.
      if (desired.has(key)) return
      desired.set(key, { protocol, address, port, balancerKey, servicePort: sp.key, sourceRanges })
    }
    const clusterAddress = this.o.binder.localAddress(sp.clusterIP)
    if (clusterAddress === undefined && !this.unservable.has(sp.clusterIP)) {
      // The apiserver's service range and ours differ.
      this.unservable.add(sp.clusterIP)
      this.o.logger.warn({ servicePort: sp.key, clusterIP: sp.clusterIP, mode: this.o.binder.mode }, 'cannot serve this cluster IP (outside the service range?)')
    }
    add(clusterAddress, sp.port, internalKey)
    if (!sp.externallyAccessible) return
    for (const ip of sp.externalIPs) add(this.o.binder.localAddress(ip), sp.port, externalKey)
    const ranges = sp.loadBalancerSourceRanges.map(parseCidr).filter((c): c is Cidr => c !== undefined)
    for (const ip of sp.loadBalancerIPs) add(this.o.binder.localAddress(ip), sp.port, externalKey, ranges)
    for (const addr of this.o.nodeAddresses) add(addr, sp.nodePort, externalKey)
  }
}
