// Answers for the cluster domain, as the Kubernetes DNS specification and CoreDNS's
// `kubernetes` plugin (with `pods insecure`) give them. Pure: a question and the
// Services/EndpointSlices in, records out.
//   <svc>.<ns>.svc.<zone>                A: the cluster IP (as this node serves it:
//                                          in loopback mode the mapped 127.x address),
//                                          headless: the ready endpoint IPs;
//                                          ExternalName: CNAME to spec.externalName;
//                                          SRV: one per port
//   <ep>.<svc>.<ns>.svc.<zone>           A: the ready endpoint with that hostname, or
//                                          whose IP is <ep> with dashes (a-b-c-d)
//   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV: the named port (headless: per endpoint)
//   <a-b-c-d>.<ns>.pod.<zone>            A: a.b.c.d
//   dns-version.<zone>                   TXT: the specification's version
//   PTR in in-addr.arpa                  for cluster IPs (and their mapped
//                                          addresses) and ready endpoints of Services
// A name that exists without records of the asked type is NODATA, an unknown name
// in the zone NXDOMAIN (a headless Service without ready endpoints too, as CoreDNS),
// both with the zone's SOA for negative caching; so search-path expansions fail at
// once. Reverse names not found here, and names outside the zone, are not ours
// (undefined): the server forwards or refuses them.
import type { KubeObject } from '../../client/index.js'
import { isIPv4 } from '../ipv4.js'
import { canonicalName, type Question, RCODE, type ResourceRecord, TYPE } from './wire.js'

type Json = Record<string, unknown>

/** The Kubernetes DNS specification version this zone follows. */
export const DNS_SPEC_VERSION = '1.1.0'
const MAX_CNAME_CHAIN = 8

export interface ZoneView {
  /** Services and EndpointSlices have been listed (before that, answers would be guesses). */
  readonly synced: boolean
  service(namespace: string, name: string): KubeObject | undefined
  allServices(): Iterable<KubeObject>
  hasNamespace(namespace: string): boolean
  /** EndpointSlices of Service "namespace/name". */
  slicesOf(key: string): Iterable<KubeObject>
}

export interface ZoneOptions {
  /** The cluster domain, e.g. "cluster.local". */
  domain: string
  /** TTL of every record (CoreDNS's default is 5 s). */
  ttl: number
  /** Where this node serves a cluster IP (the loopback mapping), or undefined to answer it unchanged. */
  serviceAddress(clusterIP: string): string | undefined
  /** SOA serial. */
  serial(): number
}

export interface ZoneAnswer {
  rcode: number
  answers: ResourceRecord[]
  authorities: ResourceRecord[]
  additionals: ResourceRecord[]
  /** A CNAME target outside the zone: the server may resolve it upstream and append the result. */
  externalTarget?: string
}

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

interface ReadyEndpoint {
  ip: string
  /** The DNS label: its hostname, else its IP with dashes. */
  label: string
  /** Slice ports by "name/protocol". */
  ports: Map<string, number>
}

function readyEndpoints(view: ZoneView, namespace: string, name: string): ReadyEndpoint[] {
  const byIp = new Map<string, ReadyEndpoint>()
  for (const slice of view.slicesOf(`${namespace}/${name}`)) {
    if (slice.addressType !== 'IPv4') continue
    const ports = new Map<string, number>()
    for (const raw of Array.isArray(slice.ports) ? slice.ports : []) {
      const p = obj(raw)
      if (typeof p.port === 'number') ports.set(`${typeof p.name === 'string' ? p.name : ''}/${typeof p.protocol === 'string' ? p.protocol : 'TCP'}`, p.port)
    }
    for (const raw of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
      const e = obj(raw)
      if (obj(e.conditions).ready === false) continue
      const hostname = typeof e.hostname === 'string' && e.hostname !== '' ? e.hostname.toLowerCase() : undefined
      for (const ip of Array.isArray(e.addresses) ? e.addresses : []) {
        if (typeof ip !== 'string' || !isIPv4(ip)) continue
        const key = `${ip}/${hostname ?? ''}`
        const seen = byIp.get(key)
        if (seen !== undefined) for (const [k, v] of ports) seen.ports.set(k, v)
        else byIp.set(key, { ip, label: hostname ?? ip.replaceAll('.', '-'), ports: new Map(ports) })
      }
    }
  }
  return [...byIp.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0))
}

interface ServicePortSpec {
  name: string
  protocol: string
  port: number
}

function servicePortSpecs(svc: KubeObject): ServicePortSpec[] {
  const out: ServicePortSpec[] = []
  for (const raw of Array.isArray(obj(svc.spec).ports) ? (obj(svc.spec).ports as unknown[]) : []) {
    const p = obj(raw)
    if (typeof p.port !== 'number') continue
    out.push({ name: typeof p.name === 'string' ? p.name : '', protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP', port: p.port })
  }
  return out
}

function clusterIPOf(svc: KubeObject): string | undefined {
  const ip = obj(svc.spec).clusterIP
  return typeof ip === 'string' && isIPv4(ip) ? ip : undefined
}

export class ClusterZone {
  private readonly domain: string

  constructor(
    private readonly view: ZoneView,
    private readonly o: ZoneOptions,
  ) {
    this.domain = canonicalName(o.domain)
  }

  /** Whether the name is in the cluster domain. */
  inZone(name: string): boolean {
    const n = canonicalName(name)
    return n === this.domain || n.endsWith('.' + this.domain)
  }

  /** The answer, or undefined when the question is not ours (outside the zone, an unknown reverse name). */
  answer(q: Question): ZoneAnswer | undefined {
    const name = canonicalName(q.name)
    if (name.endsWith('.in-addr.arpa')) return this.reverse(q, name)
    if (!this.inZone(name)) return undefined
    if (!this.view.synced) return { rcode: RCODE.SERVFAIL, answers: [], authorities: [], additionals: [] }
    return this.forward(q, name, 0)
  }

  private soa(): ResourceRecord {
    const d = this.domain
    return { name: d, ttl: this.o.ttl, type: 'SOA', mname: `ns.dns.${d}`, rname: `hostmaster.${d}`, serial: this.o.serial(), refresh: 7200, retry: 1800, expire: 86400, minimum: this.o.ttl }
  }

  private nxdomain(): ZoneAnswer {
    return { rcode: RCODE.NXDOMAIN, answers: [], authorities: [this.soa()], additionals: [] }
  }

  private nodata(): ZoneAnswer {
    return { rcode: RCODE.NOERROR, answers: [], authorities: [this.soa()], additionals: [] }
  }

  private records(answers: ResourceRecord[], additionals: ResourceRecord[] = []): ZoneAnswer {
    return answers.length === 0 ? this.nodata() : { rcode: RCODE.NOERROR, answers, authorities: [], additionals }
  }

  private forward(q: Question, name: string, depth: number): ZoneAnswer {
    const rel = name === this.domain ? [] : name.slice(0, -(this.domain.length + 1)).split('.')
    const owner = depth === 0 ? q.name : name
    if (rel.length === 0) {
      if (q.type === TYPE.SOA) return this.records([{ ...this.soa(), name: owner }])
      if (q.type === TYPE.NS) return this.records([{ name: owner, ttl: this.o.ttl, type: 'NS', target: `ns.dns.${this.domain}` }])
      return this.nodata()
    }
    const kind = rel[rel.length - 1]
    const l = rel.slice(0, -1)
    if (rel.length === 1) {
      if (kind === 'svc' || kind === 'pod') return this.nodata()
      if (kind === 'dns-version') return q.type === TYPE.TXT ? this.records([{ name: owner, ttl: this.o.ttl, type: 'TXT', texts: [DNS_SPEC_VERSION] }]) : this.nodata()
      return this.nxdomain()
    }
    if (kind === 'pod') return this.pod(q, owner, l)
    if (kind !== 'svc') return this.nxdomain()
    if (l.length === 1) return this.view.hasNamespace(l[0]!) ? this.nodata() : this.nxdomain()
    const [ns, svcName] = [l[l.length - 1]!, l[l.length - 2]!]
    const svc = this.view.service(ns, svcName)
    if (svc === undefined) return this.nxdomain()
    if (l.length === 2) return this.serviceRecords(q, owner, svc, depth)
    if (l.length === 3) {
      if (l[0]!.startsWith('_')) {
        // "_tcp.<svc>…": an empty non-terminal above the SRV names of named ports.
        const proto = l[0]!.slice(1).toUpperCase()
        return servicePortSpecs(svc).some((p) => p.name !== '' && p.protocol === proto) ? this.nodata() : this.nxdomain()
      }
      return this.endpointRecords(q, owner, svc, l[0]!)
    }
    if (l.length === 4 && l[0]!.startsWith('_') && l[1]!.startsWith('_')) return this.srvRecords(q, owner, svc, l[0]!.slice(1), l[1]!.slice(1).toUpperCase())
    return this.nxdomain()
  }

  private serviceFqdn(svc: KubeObject): string {
    return `${svc.metadata?.name ?? ''}.${svc.metadata?.namespace ?? ''}.svc.${this.domain}`
  }

  private serviceRecords(q: Question, owner: string, svc: KubeObject, depth: number): ZoneAnswer {
    const spec = obj(svc.spec)
    if (spec.type === 'ExternalName') return this.externalName(q, owner, String(spec.externalName ?? ''), depth)
    const ttl = this.o.ttl
    const clusterIP = clusterIPOf(svc)
    const ns = svc.metadata?.namespace ?? ''
    const name = svc.metadata?.name ?? ''
    const wantsA = q.type === TYPE.A || q.type === TYPE.ANY
    if (clusterIP !== undefined) {
      const address = this.o.serviceAddress(clusterIP) ?? clusterIP
      if (wantsA) return this.records([{ name: owner, ttl, type: 'A', address }])
      if (q.type === TYPE.SRV) {
        const ports = servicePortSpecs(svc)
        const target = this.serviceFqdn(svc)
        const weight = srvWeight(ports.length)
        return this.records(
          ports.map((p) => ({ name: owner, ttl, type: 'SRV', priority: 0, weight, port: p.port, target })),
          [{ name: target, ttl, type: 'A', address }],
        )
      }
      return this.nodata()
    }
    if (spec.clusterIP !== 'None') return this.nxdomain()
    const eps = readyEndpoints(this.view, ns, name)
    if (eps.length === 0) return this.nxdomain()
    if (wantsA) return this.records(uniqueIps(eps).map((address) => ({ name: owner, ttl, type: 'A', address })))
    if (q.type === TYPE.SRV) {
      const recs: ResourceRecord[] = []
      const extra: ResourceRecord[] = []
      for (const ep of eps) {
        const target = `${ep.label}.${this.serviceFqdn(svc)}`
        for (const port of new Set(ep.ports.values())) recs.push({ name: owner, ttl, type: 'SRV', priority: 0, weight: 0, port, target })
        extra.push({ name: target, ttl, type: 'A', address: ep.ip })
      }
      const weight = srvWeight(recs.length)
      for (const r of recs) if (r.type === 'SRV') r.weight = weight
      return this.records(recs, extra)
    }
    return this.nodata()
  }

  private externalName(q: Question, owner: string, target: string, depth: number): ZoneAnswer {
    const cname: ResourceRecord = { name: owner, ttl: this.o.ttl, type: 'CNAME', target: canonicalName(target) }
    if (q.type === TYPE.CNAME || target === '') return this.records([cname])
    if (!this.inZone(target)) return { rcode: RCODE.NOERROR, answers: [cname], authorities: [], additionals: [], externalTarget: canonicalName(target) }
    if (depth >= MAX_CNAME_CHAIN) return { rcode: RCODE.SERVFAIL, answers: [], authorities: [], additionals: [] }
    // A target inside the zone is followed here, as a recursive resolver would.
    const next = this.forward({ ...q, name: canonicalName(target) }, canonicalName(target), depth + 1)
    return { ...next, answers: [cname, ...next.answers] }
  }

  private endpointRecords(q: Question, owner: string, svc: KubeObject, label: string): ZoneAnswer {
    const eps = readyEndpoints(this.view, svc.metadata?.namespace ?? '', svc.metadata?.name ?? '').filter((ep) => ep.label === label)
    if (eps.length === 0) return this.nxdomain()
    if (q.type !== TYPE.A && q.type !== TYPE.ANY) return this.nodata()
    return this.records(uniqueIps(eps).map((address) => ({ name: owner, ttl: this.o.ttl, type: 'A', address })))
  }

  private srvRecords(q: Question, owner: string, svc: KubeObject, portName: string, protocol: string): ZoneAnswer {
    const sp = servicePortSpecs(svc).find((p) => p.name !== '' && p.name.toLowerCase() === portName && p.protocol === protocol)
    if (sp === undefined) return this.nxdomain()
    if (q.type !== TYPE.SRV && q.type !== TYPE.ANY) return this.nodata()
    const ttl = this.o.ttl
    const clusterIP = clusterIPOf(svc)
    if (clusterIP !== undefined) {
      const target = this.serviceFqdn(svc)
      return this.records([{ name: owner, ttl, type: 'SRV', priority: 0, weight: 100, port: sp.port, target }], [{ name: target, ttl, type: 'A', address: this.o.serviceAddress(clusterIP) ?? clusterIP }])
    }
    if (obj(svc.spec).clusterIP !== 'None') return this.nxdomain()
    const recs: ResourceRecord[] = []
    const extra: ResourceRecord[] = []
    const eps = readyEndpoints(this.view, svc.metadata?.namespace ?? '', svc.metadata?.name ?? '')
    for (const ep of eps) {
      const port = ep.ports.get(`${sp.name}/${sp.protocol}`)
      if (port === undefined) continue
      const target = `${ep.label}.${this.serviceFqdn(svc)}`
      recs.push({ name: owner, ttl, type: 'SRV', priority: 0, weight: 0, port, target })
      extra.push({ name: target, ttl, type: 'A', address: ep.ip })
    }
    if (recs.length === 0) return this.nxdomain()
    const weight = srvWeight(recs.length)
    for (const r of recs) if (r.type === 'SRV') r.weight = weight
    return this.records(recs, extra)
  }

  private pod(q: Question, owner: string, l: string[]): ZoneAnswer {
    if (l.length === 1) return this.nodata()
    if (l.length !== 2) return this.nxdomain()
    const ip = l[0]!.replaceAll('-', '.')
    if (!isIPv4(ip)) return this.nxdomain()
    if (q.type !== TYPE.A && q.type !== TYPE.ANY) return this.nodata()
    return this.records([{ name: owner, ttl: this.o.ttl, type: 'A', address: ip }])
  }

  private reverse(q: Question, name: string): ZoneAnswer | undefined {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.')
    if (parts.length !== 4) return undefined
    const ip = parts.reverse().join('.')
    if (!isIPv4(ip) || !this.view.synced) return undefined
    const targets = new Set<string>()
    for (const svc of this.view.allServices()) {
      const clusterIP = clusterIPOf(svc)
      if (clusterIP !== undefined && (clusterIP === ip || this.o.serviceAddress(clusterIP) === ip)) targets.add(this.serviceFqdn(svc))
      if (obj(svc.spec).type === 'ExternalName') continue
      for (const ep of readyEndpoints(this.view, svc.metadata?.namespace ?? '', svc.metadata?.name ?? '')) {
        if (ep.ip === ip) targets.add(`${ep.label}.${this.serviceFqdn(svc)}`)
      }
    }
    if (targets.size === 0) return undefined
    if (q.type !== TYPE.PTR && q.type !== TYPE.ANY) return { rcode: RCODE.NOERROR, answers: [], authorities: [], additionals: [] }
    return { rcode: RCODE.NOERROR, answers: [...targets].sort().map((target) => ({ name: q.name, ttl: this.o.ttl, type: 'PTR', target })), authorities: [], additionals: [] }
  }
}

/** CoreDNS spreads SRV weight evenly: 100 / the number of records, rounded down. */
function srvWeight(n: number): number {
  return n === 0 ? 0 : Math.floor(100 / n)
}

function uniqueIps(eps: readonly ReadyEndpoint[]): string[] {
  return [...new Set(eps.map((ep) => ep.ip))]
}
