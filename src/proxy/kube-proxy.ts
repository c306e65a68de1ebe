// kube-proxy for one node, in userspace mode, with the node's cluster DNS server.
// It talks to the masters only through the node gRPC API (NodeApiClient's Services
// and EndpointSlices watches, which fail over between masters and resume without
// missing a change), keeps what they say in a ServiceStore, and syncs the proxier
// (./proxier.ts) whenever it changes: at once after a quiet period, at most every
// `minSyncPeriodMs`, and every `syncPeriodMs` regardless (upstream's
// --iptables-min-sync-period and --iptables-sync-period); a listener that could not
// bind is retried after `bindRetryMs`, backing off to 5 s while it keeps failing.
// Nothing is proxied before both kinds have been listed once, as upstream waits for
// its informers.
//
// Service IPs are served through an AddressBinder (./address-binder.ts): loopback
// (default) maps cluster IPs into 127/8, dummy puts them on an interface. The DNS
// server listens on the cluster DNS IP (kubelet's --cluster-dns, default
// 10.96.0.10) through the same binder, so in loopback mode it is at 127.96.0.10 and
// answers cluster IPs with their 127.x addresses: what a pod resolves is what it
// can connect to.
//
// Wiring (raftplane node):
//   const proxy = new KubeProxy({ client, nodeName, nodeIPs, binder: await createAddressBinder({ mode }),
//                                 dns: { upstreams: hostNameservers() }, metrics: registry, logger })
//   await proxy.start()          // DNS bound; watches started (does not wait for the masters)
//   await proxy.synced()         // optional: first sync done
//   ... proxy.dnsEndpoint → the kubelet's resolv.conf / pod env; proxy.serviceAddress(ip) → service env vars
//   await proxy.stop()           // listeners, connections, DNS, watches, binder addresses gone
import type { Registry } from 'prom-client'
import type { Logger } from '../client/index.js'
import { errorMessage, silentLogger } from '../client/index.js'
import type { NodeApiClient, NodeWatch } from '../client/node-grpc.js'
import { type AddressBinder, LoopbackBinder } from './address-binder.js'
import { ClusterZone } from './dns/cluster-zone.js'
import { Forwarder, parseUpstream } from './dns/forwarder.js'
import { DnsServer } from './dns/server.js'
import { type ProxyMetrics, proxyMetrics } from './metrics.js'
import { Proxier } from './proxier.js'
import { ServiceStore } from './service-store.js'

/** The conventional kube-dns Service IP of a 10.96.0.0/12 service range. */
export const DEFAULT_CLUSTER_DNS_IP = '10.96.0.10'
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local'
/** The longest pause between retries of listeners that could not bind. */
const MAX_BIND_RETRY_MS = 5000

export interface ClusterDnsOptions {
  /** The service-range IP DNS answers on (kubelet's --cluster-dns), served through the binder. Default 10.96.0.10. */
  clusterIP?: string
  /** A local address to listen on instead of the cluster DNS IP (e.g. a node bridge's address that pods in network namespaces reach). */
  address?: string
  /** Default 53 when running as root, else 10053; 0 picks a free port (tests). */
  port?: number
  /** Default cluster.local. */
  domain?: string
  /** Resolvers for names outside the cluster domain ("ip" or "ip:port"); none: such names are REFUSED. */
  upstreams?: readonly string[]
  /** Record TTL in seconds. Default 5 (CoreDNS's). */
  ttl?: number
}

export interface KubeProxyOptions {
  /** The node API client (owned by the caller: stop() does not close it). */
  client: NodeApiClient
  nodeName: string
  /** The node's addresses (--node-ip): node ports listen on these and on 127.0.0.1. */
  nodeIPs?: readonly string[]
  /** The node's topology.kubernetes.io/zone, for topology hints. */
  zone?: string
  /** Where Service IPs are served (owned by the proxy: closed on stop). Default: loopback over 10.96.0.0/12. */
  binder?: AddressBinder
  /** Cluster DNS; false: none. Default: on, with the defaults of ClusterDnsOptions. */
  dns?: ClusterDnsOptions | false
  metrics?: Registry
  logger?: Logger
  /** Full resync interval. Default 30 s. */
  syncPeriodMs?: number
  /** Least time between syncs. Default 0. */
  minSyncPeriodMs?: number
  /** Retry of listeners (and the DNS server) that could not bind. Default 1 s. */
  bindRetryMs?: number
  /** UDP flow idle timeout. Default 30 s. */
  udpIdleTimeoutMs?: number
  /** Clock of session affinity (tests). */
  now?: () => number
}

function defaultDnsPort(): number {
  return process.getuid?.() === 0 ? 53 : 10053
}

export class KubeProxy {
  readonly store = new ServiceStore()
  private readonly log: Logger
  private readonly binder: AddressBinder
  private readonly proxier: Proxier
  private readonly metrics: ProxyMetrics | undefined
  private readonly dnsIP: string | undefined
  private readonly dns: DnsServer | undefined
  private dnsBound = false
  private watches: NodeWatch[] = []
  private timer: NodeJS.Timeout | undefined
  private timerDue = 0
  private periodic: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  private lastSyncEnd = 0
  /** Syncs in a row that left something unbound: the retry backs off (an address held by another node's proxy on this host). */
  private bindFailureStreak = 0
  private stopped = false
  private started = false
  private lastChange = Math.floor(Date.now() / 1000)
  private syncedOnce = false
  private readonly syncedWaiters: (() => void)[] = []

  constructor(private readonly o: KubeProxyOptions) {
    this.log = o.logger ?? silentLogger
    this.binder = o.binder ?? new LoopbackBinder()
    this.metrics = o.metrics === undefined ? undefined : proxyMetrics(o.metrics)
    const nodeAddresses = [...new Set([...(o.nodeIPs ?? []), '127.0.0.1'])]
    this.proxier = new Proxier({
      binder: this.binder,
      nodeAddresses,
      topology: { nodeName: o.nodeName, zone: o.zone ?? '' },
      logger: this.log,
      ...(o.udpIdleTimeoutMs === undefined ? {} : { udpIdleTimeoutMs: o.udpIdleTimeoutMs }),
      ...(this.metrics === undefined ? {} : { metrics: this.metrics }),
      ...(o.now === undefined ? {} : { now: o.now }),
    })
    if (o.dns !== false) {
      const d = o.dns ?? {}
      this.dnsIP = d.address === undefined ? (d.clusterIP ?? DEFAULT_CLUSTER_DNS_IP) : undefined
      const address = d.address ?? this.binder.localAddress(this.dnsIP!)
      if (address === undefined) throw new Error(`cluster DNS: the ${this.binder.mode} address binder cannot serve ${this.dnsIP}`)
      const zone = new ClusterZone(this.store, {
        domain: d.domain ?? DEFAULT_CLUSTER_DOMAIN,
        ttl: d.ttl ?? 5,
        serviceAddress: (ip) => this.binder.localAddress(ip),
        serial: () => this.lastChange,
      })
      const upstreams = (d.upstreams ?? []).map(parseUpstream).filter((u) => !(u.address === address && (d.port === undefined || u.port === d.port)))
      this.dns = new DnsServer({
        address,
        port: d.port ?? defaultDnsPort(),
        zone,
        forwarder: new Forwarder(upstreams),
        logger: this.log,
        ...(o.metrics === undefined ? {} : { metrics: o.metrics }),
      })
    }
    this.store.onChange((kind, keys) => {
      this.lastChange = Math.floor(Date.now() / 1000)
      if (kind === 'services') this.metrics?.serviceChanges.inc(keys.size)
      else this.metrics?.endpointChanges.inc(keys.size)
      this.schedule(0)
    })
  }

  /** Where the cluster DNS server listens (undefined without DNS, or until it could bind). */
  get dnsEndpoint(): { address: string; port: number } | undefined {
    return this.dns !== undefined && this.dnsBound ? { address: this.dns.address, port: this.dns.port } : undefined
  }

  /** The address this node serves a Service IP at (what pods should connect to; loopback mode maps it into 127/8). */
  serviceAddress(serviceIP: string): string | undefined {
    return this.binder.localAddress(serviceIP)
  }

  /** The frontends listening now, as "PROTOCOL/address:port". */
  listeners(): string[] {
    return this.proxier.listeners()
  }

  /** Binds the DNS server and starts the watches; does not wait for the masters (see synced()). */
  async start(): Promise<void> {
    if (this.started) throw new Error('KubeProxy: started twice')
    this.started = true
    try {
      if (this.dnsIP !== undefined) await this.binder.sync(new Set([this.dnsIP]))
      await this.bindDns(true)
    } catch (err) {
      // The DNS port is not ours to take (EACCES for 53 without root, a bad address): leave nothing behind.
      await this.stop()
      throw err
    }
    const onError = (what: string) => (err: Error) => this.log.warn({ err: errorMessage(err) }, `${what} watch failed; resuming`)
    this.watches = [
      this.o.client.watchServices({ onEvent: (ev) => this.store.applyServiceEvent(ev), onError: onError('Services') }),
      this.o.client.watchEndpointSlices({ onEvent: (ev) => this.store.applySliceEvent(ev), onError: onError('EndpointSlices') }),
    ]
    this.periodic = setInterval(() => this.schedule(0), this.o.syncPeriodMs ?? 30_000)
  }

  /** Resolves once the proxy has synced with a complete view of Services and EndpointSlices. */
  synced(): Promise<void> {
    if (this.syncedOnce) return Promise.resolve()
    return new Promise((resolve) => this.syncedWaiters.push(resolve))
  }

  /** Runs a sync now (or waits for the one running, and runs another after it). */
  async syncNow(): Promise<void> {
    await this.running
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    await this.run()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const w of this.watches) w.stop()
    this.watches = []
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.periodic !== undefined) clearInterval(this.periodic)
    await this.running?.catch(() => {})
    this.proxier.stop()
    await this.dns?.stop()
    await this.binder.close().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'could not remove service addresses'))
  }

  private async bindDns(first: boolean): Promise<void> {
    if (this.dns === undefined || this.dnsBound) return
    try {
      await this.dns.start()
      this.dnsBound = true
      if (!first) this.log.info({ address: this.dns.address, port: this.dns.port }, 'cluster DNS bound after earlier failures')
    } catch (err) {
      // Another node's proxy on this host holds it (and answers the same): keep trying.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
      if (first) this.log.warn({ err: errorMessage(err) }, 'cluster DNS address in use; retrying')
    }
  }

  /** Syncs after `delayMs` (or later, to keep minSyncPeriodMs), unless one is due sooner. */
  private schedule(delayMs: number): void {
    if (this.stopped) return
    const now = performance.now()
    const wait = Math.max(delayMs, (this.o.minSyncPeriodMs ?? 0) - (now - this.lastSyncEnd))
    if (this.timer !== undefined) {
      if (this.timerDue <= now + wait) return
      clearTimeout(this.timer)
    }
    this.timerDue = now + wait
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.run()
    }, wait)
  }

  private run(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true
      return this.running
    }
    const p = this.syncOnce()
      .catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'proxy sync failed'))
      .finally(() => {
        this.running = undefined
        this.lastSyncEnd = performance.now()
        if (this.again) {
          this.again = false
          this.schedule(0)
        }
      })
    this.running = p
    return p
  }

  private async syncOnce(): Promise<void> {
    if (this.stopped || !this.store.synced) return
    const started = performance.now()
    const ips = this.proxier.serviceIPs(this.store)
    if (this.dnsIP !== undefined) ips.add(this.dnsIP)
    try {
      await this.binder.sync(ips)
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'could not configure service addresses')
    }
    if (this.stopped) return
    const { bindFailures } = await this.proxier.sync(this.store)
    if (this.stopped) return this.proxier.stop()
    await this.bindDns(false).catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'cluster DNS cannot bind'))
    this.metrics?.syncDuration.observe((performance.now() - started) / 1000)
    this.metrics?.lastSync.set(Date.now() / 1000)
    if (bindFailures > 0 || (this.dns !== undefined && !this.dnsBound)) {
      const base = this.o.bindRetryMs ?? 1000
      this.schedule(Math.min(base * 2 ** this.bindFailureStreak, Math.max(base, MAX_BIND_RETRY_MS)))
      this.bindFailureStreak = Math.min(this.bindFailureStreak + 1, 16)
    } else this.bindFailureStreak = 0
    if (!this.syncedOnce) {
      this.syncedOnce = true
      for (const w of this.syncedWaiters.splice(0)) w()
    }
  }
}
