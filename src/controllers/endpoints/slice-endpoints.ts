// One pod as an endpoint of a discovery/v1 EndpointSlice (upstream podToEndpoint):
// its addresses of the slice's family, conditions (serving: the pod is Ready;
// terminating: it is being deleted; ready: serving and not terminating, or always
// with publishNotReadyAddresses), the pod as targetRef, its node and that node's zone,
// and its hostname when it names itself under the Service. An endpoint's identity is
// its addresses, hostname and pod name, so a change of conditions or zone updates it
// in place instead of moving it to another slice.
import type { KubeObject } from '../../client/index.js'
import { canonicalJson } from '../util/hash.js'
import { isPodReady, isPodTerminating } from '../util/pods.js'
import { isIPv6, isServiceIPSet, podIPs, publishNotReadyAddresses, shouldSetHostname } from './membership.js'
import type { ObjectReference } from './subsets.js'

type Json = Record<string, unknown>

export type AddressType = 'IPv4' | 'IPv6'

export const TOPOLOGY_ZONE_LABEL = 'topology.kubernetes.io/zone'

export interface EndpointConditions {
  ready?: boolean
  serving?: boolean
  terminating?: boolean
}

export interface SliceEndpoint {
  addresses: string[]
  conditions?: EndpointConditions
  hostname?: string
  targetRef?: ObjectReference
  nodeName?: string
  zone?: string
  hints?: { forZones?: { name: string }[]; [k: string]: unknown }
  [k: string]: unknown
}

/**
 * The address types of a Service's slices: one per ipFamily; without ipFamilies
 * (an API server that does not set them), its cluster IP's, or both for a headless one.
 */
export function addressTypesForService(service: KubeObject): AddressType[] {
  const spec = (service.spec ?? {}) as Json
  const families = Array.isArray(spec.ipFamilies) ? spec.ipFamilies : []
  const out = new Set<AddressType>()
  for (const f of families) if (f === 'IPv4' || f === 'IPv6') out.add(f)
  if (out.size > 0) return [...out]
  if (isServiceIPSet(service)) return [isIPv6(String(spec.clusterIP)) ? 'IPv6' : 'IPv4']
  return ['IPv4', 'IPv6']
}

export function podToEndpoint(pod: KubeObject, node: KubeObject | undefined, service: KubeObject, addressType: AddressType): SliceEndpoint {
  const serving = isPodReady(pod)
  const terminating = isPodTerminating(pod)
  // A terminating pod is never "ready", unless the Service publishes unready addresses.
  const ready = publishNotReadyAddresses(service) || (serving && !terminating)
  const ep: SliceEndpoint = {
    addresses: podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === 'IPv6')),
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
  }
  const spec = (pod.spec ?? {}) as Json
  if (typeof spec.nodeName === 'string' && spec.nodeName !== '') ep.nodeName = spec.nodeName
  const zone = node?.metadata?.labels?.[TOPOLOGY_ZONE_LABEL]
  if (zone !== undefined && zone !== '') ep.zone = zone
  if (shouldSetHostname(pod, service)) ep.hostname = String(spec.hostname)
  return ep
}

/** An endpoint's identity within a Service's slices (upstream hashEndpoint). */
export function endpointKey(ep: SliceEndpoint): string {
  const addresses = [...(Array.isArray(ep.addresses) ? ep.addresses : [])].sort()
  return canonicalJson([addresses, ep.hostname ?? '', ep.targetRef?.namespace ?? '', ep.targetRef?.name ?? ''])
}

function refWithoutVersion(ref: ObjectReference | undefined): string {
  return ref === undefined ? '' : canonicalJson({ ...ref, resourceVersion: undefined })
}

/** Two endpoints of the same identity carry the same node, zone, conditions and pod (upstream EndpointsEqualBeyondHash). */
export function endpointsEqualBeyondKey(a: SliceEndpoint, b: SliceEndpoint): boolean {
  const ca = a.conditions ?? {}
  const cb = b.conditions ?? {}
  return (
    a.nodeName === b.nodeName &&
    a.zone === b.zone &&
    ca.ready === cb.ready &&
    ca.serving === cb.serving &&
    ca.terminating === cb.terminating &&
    refWithoutVersion(a.targetRef) === refWithoutVersion(b.targetRef)
  )
}
