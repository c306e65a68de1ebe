// Which pods are a Service's endpoints, and which Services a pod change concerns:
// shared by the Endpoints and EndpointSlice controllers, as upstream's endpointslice
// util package. A Service selects pods by an equality map (spec.selector); one without
// a selector (nil or empty, which the API stores alike) has user-managed endpoints.
// A pod counts while it has an IP and is not terminal; terminating pods only where the
// caller includes them.
import { DeletedFinalStateUnknown, type KubeObject, metaNamespaceKey, type ResourceEventHandler } from '../../client/index.js'
import { isPodReady, isPodTerminal, isPodTerminating } from '../util/pods.js'

type Json = Record<string, unknown>

export const HEADLESS_LABEL = 'service.kubernetes.io/headless'

function spec(obj: KubeObject): Json {
  const s = obj.spec
  return s !== null && typeof s === 'object' ? (s as Json) : {}
}

/** The Service's selector, or undefined when it has none (its endpoints are not ours). */
export function serviceSelector(service: KubeObject): Record<string, string> | undefined {
  const sel = spec(service).selector
  if (sel === null || typeof sel !== 'object' || Object.keys(sel).length === 0) return undefined
  return sel as Record<string, string>
}

export function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false
  return true
}

/** Services whose endpoints this controller computes: with a selector, not ExternalName. */
export function managesEndpoints(service: KubeObject): boolean {
  return spec(service).type !== 'ExternalName' && serviceSelector(service) !== undefined
}

/** A cluster IP is allocated (not headless, not ExternalName). */
export function isServiceIPSet(service: KubeObject): boolean {
  const ip = spec(service).clusterIP
  return typeof ip === 'string' && ip !== '' && ip !== 'None'
}

export function isHeadless(service: KubeObject): boolean {
  return spec(service).clusterIP === 'None'
}

export function publishNotReadyAddresses(service: KubeObject): boolean {
  return spec(service).publishNotReadyAddresses === true
}

/**
 * The pod's IPs. The API keeps status.podIPs[0] equal to status.podIP (a client
 * that sets only podIP gets podIPs from it), so podIP alone stands for a one-IP list.
 */
export function podIPs(pod: KubeObject): string[] {
  const status = (pod.status ?? {}) as Json
  const list = Array.isArray(status.podIPs) ? (status.podIPs as Json[]).map((p) => (typeof p?.ip === 'string' ? p.ip : '')).filter((ip) => ip !== '') : []
  if (list.length > 0) return list
  return typeof status.podIP === 'string' && status.podIP !== '' ? [status.podIP] : []
}

export function isIPv6(ip: string): boolean {
  return ip.includes(':')
}

/** Upstream ShouldPodBeInEndpoints. */
export function shouldPodBeInEndpoints(pod: KubeObject, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false
  if (podIPs(pod).length === 0) return false
  return includeTerminating || !isPodTerminating(pod)
}

/** A pod names itself under a Service by spec.hostname with spec.subdomain = the Service's name. */
export function shouldSetHostname(pod: KubeObject, service: KubeObject): boolean {
  const s = spec(pod)
  return typeof s.hostname === 'string' && s.hostname !== '' && s.subdomain === service.metadata?.name && pod.metadata?.namespace === service.metadata?.namespace
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {})
  if (ka.length !== Object.keys(b ?? {}).length) return false
  return ka.every((k) => b !== undefined && Object.hasOwn(b, k) && b[k] === a![k])
}

/**
 * Whether a pod update can change endpoints (podChanged) or which Services select
 * it (labelsChanged; a new hostname or subdomain counts too). Beyond upstream's
 * deletion, readiness and IP checks, a pod turning terminal counts: it leaves every
 * endpoint list even if its readiness did not move.
 */
export function podEndpointsChanged(old: KubeObject, cur: KubeObject): { podChanged: boolean; labelsChanged: boolean } {
  const labelsChanged =
    !sameLabels(old.metadata?.labels, cur.metadata?.labels) || spec(old).hostname !== spec(cur).hostname || spec(old).subdomain !== spec(cur).subdomain
  const podChanged =
    (old.metadata?.deletionTimestamp ?? undefined) !== (cur.metadata?.deletionTimestamp ?? undefined) ||
    isPodReady(old) !== isPodReady(cur) ||
    podIPs(old).join(',') !== podIPs(cur).join(',') ||
    isPodTerminal(old) !== isPodTerminal(cur)
  return { podChanged, labelsChanged }
}

/** Keys of the Services (among `services`, the pod's namespace's) whose selector matches `labels`. */
export function servicesSelecting(services: readonly KubeObject[], labels: Record<string, string> | undefined): Set<string> {
  const out = new Set<string>()
  for (const s of services) {
    const sel = serviceSelector(s)
    if (sel !== undefined && selectorMatches(sel, labels)) out.add(metaNamespaceKey(s))
  }
  return out
}

/**
 * The Services to resync after a pod update: none for a resync or an irrelevant
 * change; those selecting the pod when it changed; when only its labels changed,
 * those that gained or lost it; when both, all old and new ones.
 */
export function servicesToUpdateOnPodChange(services: readonly KubeObject[], old: KubeObject, cur: KubeObject): Set<string> {
  if (old.metadata?.resourceVersion !== undefined && old.metadata.resourceVersion === cur.metadata?.resourceVersion) return new Set()
  const { podChanged, labelsChanged } = podEndpointsChanged(old, cur)
  if (!podChanged && !labelsChanged) return new Set()
  const now = servicesSelecting(services, cur.metadata?.labels)
  if (!labelsChanged) return now
  const before = servicesSelecting(services, old.metadata?.labels)
  if (podChanged) return new Set([...now, ...before])
  return new Set([...[...now].filter((k) => !before.has(k)), ...[...before].filter((k) => !now.has(k))])
}

/**
 * The pod event handler both controllers register: every Service a pod add, update
 * or delete concerns is handed to `enqueue`.
 */
export function podEventHandler(servicesIn: (namespace: string) => readonly KubeObject[], enqueue: (serviceKey: string) => void): ResourceEventHandler<KubeObject> {
  const memberships = (pod: KubeObject): void => {
    for (const key of servicesSelecting(servicesIn(pod.metadata?.namespace ?? ''), pod.metadata?.labels)) enqueue(key)
  }
  return {
    onAdd: memberships,
    onUpdate: (old, cur) => {
      for (const key of servicesToUpdateOnPodChange(servicesIn(cur.metadata?.namespace ?? ''), old, cur)) enqueue(key)
    },
    onDelete: (p) => memberships(p instanceof DeletedFinalStateUnknown ? p.obj : p),
  }
}
