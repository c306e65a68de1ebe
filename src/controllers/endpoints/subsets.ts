// The subsets of a Service's core/v1 Endpoints: each selected pod's address, ready
// or not ready, with the ports it offers, regrouped as upstream's RepackSubsets does
// so that addresses offering the same ports share one subset (an address not ready on
// one port counts as not ready there); then capped at 1000 addresses, ready ones
// first, with the over-capacity annotation (upstream truncateEndpoints).
import type { KubeObject } from '../../client/index.js'
import { canonicalJson } from '../util/hash.js'
import { isPodReady } from '../util/pods.js'
import { isHeadless, isIPv6, isServiceIPSet, podIPs, publishNotReadyAddresses, shouldPodBeInEndpoints, shouldSetHostname } from './membership.js'
import { endpointPort, type EndpointPort, findPort, servicePorts } from './ports.js'

type Json = Record<string, unknown>

export const MAX_ENDPOINTS_CAPACITY = 1000
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity'

export interface ObjectReference {
  kind?: string
  namespace?: string
  name?: string
  uid?: string
  apiVersion?: string
  resourceVersion?: string
  fieldPath?: string
}

export interface EndpointAddress {
  ip: string
  hostname?: string
  nodeName?: string
  targetRef?: ObjectReference
}

export interface EndpointSubset {
  addresses?: EndpointAddress[]
  notReadyAddresses?: EndpointAddress[]
  ports?: EndpointPort[]
}

/** The family the Service's endpoints use: its first ipFamily, else its cluster IP's, else (headless) the pod's. */
function serviceFamily(service: KubeObject, pod: KubeObject): 'IPv4' | 'IPv6' {
  const spec = (service.spec ?? {}) as Json
  const families = Array.isArray(spec.ipFamilies) ? spec.ipFamilies : []
  if (families[0] === 'IPv4' || families[0] === 'IPv6') return families[0]
  if (isServiceIPSet(service)) return isIPv6(String(spec.clusterIP)) ? 'IPv6' : 'IPv4'
  return isIPv6(podIPs(pod)[0] ?? '') ? 'IPv6' : 'IPv4'
}

/** The pod's address for the Service, or undefined when it has no IP of the Service's family. */
export function podEndpointAddress(service: KubeObject, pod: KubeObject): EndpointAddress | undefined {
  const want6 = serviceFamily(service, pod) === 'IPv6'
  const ip = podIPs(pod).find((a) => isIPv6(a) === want6)
  if (ip === undefined) return undefined
  const addr: EndpointAddress = { ip }
  if (shouldSetHostname(pod, service)) addr.hostname = String((pod.spec as Json).hostname)
  const nodeName = (pod.spec as Json | undefined)?.nodeName
  if (typeof nodeName === 'string' && nodeName !== '') addr.nodeName = nodeName
  addr.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' }
  return addr
}

/** The Endpoints subsets for a Service with a selector and the pods it selects. */
export function desiredSubsets(service: KubeObject, pods: readonly KubeObject[]): EndpointSubset[] {
  const tolerateUnready = publishNotReadyAddresses(service)
  const ports = servicePorts(service)
  const raw: EndpointSubset[] = []
  const add = (addr: EndpointAddress, ready: boolean, port?: EndpointPort): void => {
    raw.push({ [ready ? 'addresses' : 'notReadyAddresses']: [addr], ...(port === undefined ? {} : { ports: [port] }) })
  }
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue
    const addr = podEndpointAddress(service, pod)
    if (addr === undefined) continue
    const ready = tolerateUnready || isPodReady(pod)
    // A headless Service may have no ports: its endpoints are addresses alone.
    if (ports.length === 0) {
      if (isHeadless(service)) add(addr, ready)
      continue
    }
    for (const sp of ports) {
      const port = findPort(pod, sp)
      if (port !== undefined) add(addr, ready, endpointPort(sp, port))
    }
  }
  return repackSubsets(raw)
}

function addressKey(a: EndpointAddress): string {
  return `${a.ip}\u0000${a.targetRef?.uid ?? ''}`
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1
  const ua = a.targetRef?.uid ?? ''
  const ub = b.targetRef?.uid ?? ''
  return ua < ub ? -1 : ua > ub ? 1 : 0
}

function byCanonical<T>(a: T, b: T): number {
  const ca = canonicalJson(a)
  const cb = canonicalJson(b)
  return ca < cb ? -1 : ca > cb ? 1 : 0
}

/**
 * Regroups subsets so that each distinct set of addresses (with their readiness)
 * appears once, with every port it offers; addresses and ports sorted, subsets in a
 * stable order.
 */
export function repackSubsets(subsets: readonly EndpointSubset[]): EndpointSubset[] {
  const addresses = new Map<string, EndpointAddress>()
  // Port (canonical JSON; '' for "no port") → the addresses offering it, ready or not.
  const byPort = new Map<string, { port: EndpointPort | undefined; ready: Map<string, boolean> }>()
  for (const s of subsets) {
    const ports: (EndpointPort | undefined)[] = s.ports !== undefined && s.ports.length > 0 ? s.ports : [undefined]
    for (const port of ports) {
      const pk = port === undefined ? '' : canonicalJson(port)
      let entry = byPort.get(pk)
      if (entry === undefined) byPort.set(pk, (entry = { port, ready: new Map() }))
      const mark = (a: EndpointAddress, ready: boolean): void => {
        const ak = addressKey(a)
        if (!addresses.has(ak)) addresses.set(ak, a)
        // Not ready on any subset means not ready.
        if (entry.ready.get(ak) !== false) entry.ready.set(ak, ready)
      }
      for (const a of s.addresses ?? []) mark(a, true)
      for (const a of s.notReadyAddresses ?? []) mark(a, false)
    }
  }
  const groups = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>()
  for (const { port, ready } of byPort.values()) {
    const gk = [...ready].map(([k, r]) => `${k}\u0001${r ? 1 : 0}`).sort().join('\u0002')
    let g = groups.get(gk)
    if (g === undefined) groups.set(gk, (g = { ready, ports: [] }))
    if (port !== undefined) g.ports.push(port)
  }
  const out: EndpointSubset[] = []
  for (const g of groups.values()) {
    const ready: EndpointAddress[] = []
    const notReady: EndpointAddress[] = []
    for (const [ak, r] of g.ready) (r ? ready : notReady).push(addresses.get(ak)!)
    const subset: EndpointSubset = {}
    if (ready.length > 0) subset.addresses = ready.sort(compareAddresses)
    if (notReady.length > 0) subset.notReadyAddresses = notReady.sort(compareAddresses)
    if (g.ports.length > 0) subset.ports = g.ports.sort(byCanonical)
    if (ready.length + notReady.length > 0) out.push(subset)
  }
  return out.sort(byCanonical)
}

function countAddresses(subsets: readonly EndpointSubset[]): { ready: number; notReady: number } {
  let ready = 0
  let notReady = 0
  for (const s of subsets) {
    ready += s.addresses?.length ?? 0
    notReady += s.notReadyAddresses?.length ?? 0
  }
  return { ready, notReady }
}

/**
 * Caps the subsets at `max` addresses: ready ones are kept before not-ready ones,
 * and what is cut is spread over the subsets in proportion to their size (rounded
 * up, so the last subsets may get less). `truncated` says whether anything was cut.
 */
export function truncateSubsets(subsets: readonly EndpointSubset[], max = MAX_ENDPOINTS_CAPACITY): { subsets: EndpointSubset[]; truncated: boolean } {
  const { ready, notReady } = countAddresses(subsets)
  if (ready + notReady <= max) return { subsets: [...subsets], truncated: false }
  const cutReady = ready > max
  const budget = cutReady ? max : max - ready
  const total = cutReady ? ready : notReady
  let left = budget
  const out = subsets.map((s) => {
    const pool = (cutReady ? s.addresses : s.notReadyAddresses) ?? []
    const share = Math.min(Math.ceil((pool.length / total) * budget), left)
    const kept = pool.slice(0, share)
    left -= kept.length
    const next: EndpointSubset = { ...s }
    if (cutReady) {
      next.addresses = kept
      delete next.notReadyAddresses
    } else {
      next.notReadyAddresses = kept
    }
    if (next.addresses?.length === 0) delete next.addresses
    if (next.notReadyAddresses?.length === 0) delete next.notReadyAddresses
    return next
  })
  // Upstream keeps a subset left with no address, which validation then refuses; we drop it.
  return { subsets: out.filter((s) => s.addresses !== undefined || s.notReadyAddresses !== undefined), truncated: true }
}

/** The over-capacity annotation is right for stored subsets: never over the cap, and absent below it. */
export function capacityAnnotationSetCorrectly(annotations: Record<string, string> | undefined, subsets: readonly EndpointSubset[]): boolean {
  const { ready, notReady } = countAddresses(subsets)
  if (ready + notReady > MAX_ENDPOINTS_CAPACITY) return false
  return annotations?.[OVER_CAPACITY_ANNOTATION] === undefined
}

/** Drops what Go's omitempty would not write, so stored and computed subsets compare alike. */
function omitEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(omitEmpty)
  if (v === null || typeof v !== 'object') return v
  const out: Json = {}
  for (const [k, x] of Object.entries(v as Json)) {
    const c = omitEmpty(x)
    if (c === undefined || c === null || c === '' || (Array.isArray(c) && c.length === 0)) continue
    if (typeof c === 'object' && !Array.isArray(c) && Object.keys(c as Json).length === 0) continue
    out[k] = c
  }
  return out
}

/** Equal subsets, ignoring the pods' resourceVersions in targetRefs (upstream compares them so). */
export function subsetsEqual(a: unknown, b: unknown): boolean {
  const strip = (v: unknown): unknown =>
    (Array.isArray(v) ? v : []).map((s: EndpointSubset) => {
      const addrs = (list: EndpointAddress[] | undefined): unknown =>
        list?.map((x) => (x.targetRef === undefined ? x : { ...x, targetRef: { ...x.targetRef, resourceVersion: undefined } }))
      return { ...s, addresses: addrs(s.addresses), notReadyAddresses: addrs(s.notReadyAddresses) }
    })
  return canonicalJson(omitEmpty(strip(a))) === canonicalJson(omitEmpty(strip(b)))
}
