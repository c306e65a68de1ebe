// What to create, update and delete so that a Service's EndpointSlices list the pods
// it selects (upstream's endpointslice Reconciler, without its I/O). Per address
// type, pods are grouped by the ports they offer; each group fills slices of at most
// maxEndpointsPerSlice endpoints. Existing slices are reused: endpoints no longer
// wanted leave them, changed endpoints are rewritten in place, new ones go first to
// slices being updated anyway, then to the unchanged slice they fit best, and only
// then to new slices. A Service with no endpoints keeps one empty placeholder slice.
// Creates replace deletes where they can (an update instead of a delete and a create).
import type { KubeObject } from '../../client/index.js'
import { controllerRef } from '../util/controller-ref.js'
import { canonicalJson } from '../util/hash.js'
import { reconcileHints, removeHints } from './hints.js'
import { HEADLESS_LABEL, isServiceIPSet, publishNotReadyAddresses, shouldPodBeInEndpoints } from './membership.js'
import { portMapKey, type SlicePort, slicePorts } from './ports.js'
import { type AddressType, addressTypesForService, endpointKey, endpointsEqualBeyondKey, podToEndpoint, type SliceEndpoint } from './slice-endpoints.js'
import { SERVICE_NAME_LABEL } from './slice-tracker.js'
import { formatTriggerTime, TRIGGER_TIME_ANNOTATION } from './trigger-time.js'

type Json = Record<string, unknown>

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by'
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io'
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100
/** The legacy and current annotations that ask for topology-aware hints. */
const TOPOLOGY_ANNOTATIONS = ['service.kubernetes.io/topology-aware-hints', 'service.kubernetes.io/topology-mode']
const RESERVED_LABELS = new Set([SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL])

export interface SliceReconcileInput {
  service: KubeObject
  /** The pods the Service selects. */
  pods: readonly KubeObject[]
  /** The Service's slices managed by this controller, not being deleted. */
  existing: readonly KubeObject[]
  node: (name: string) => KubeObject | undefined
  maxEndpointsPerSlice?: number
  /** ms since the epoch; undefined clears the trigger-time annotation. */
  triggerTime?: number | undefined
}

/** The writes for one address type, in upstream's order: creates, updates, deletes. */
export interface SlicePlan {
  addressType: AddressType
  create: KubeObject[]
  update: KubeObject[]
  delete: KubeObject[]
}

export interface SliceReconcileResult {
  plans: SlicePlan[]
  /** Slices of an address type the Service no longer has. */
  unsupported: KubeObject[]
  /** Pods left out because their node is unknown: the sync fails and is retried. */
  errors: string[]
}

function endpointsOf(slice: KubeObject): SliceEndpoint[] {
  return Array.isArray(slice.endpoints) ? (slice.endpoints as SliceEndpoint[]) : []
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && b[k] === a[k])
}

/**
 * A slice's labels for its Service: the Service's labels (reserved keys excepted),
 * the headless label for a headless Service, the service-name and managed-by labels.
 * `changed`: the copied Service labels differ from the slice's.
 */
export function sliceLabels(current: Record<string, string> | undefined, service: KubeObject): { labels: Record<string, string>; changed: boolean } {
  const mine: Record<string, string> = {}
  for (const [k, v] of Object.entries(current ?? {})) if (!RESERVED_LABELS.has(k)) mine[k] = v
  const labels: Record<string, string> = {}
  for (const [k, v] of Object.entries(service.metadata?.labels ?? {})) if (!RESERVED_LABELS.has(k)) labels[k] = v
  const changed = !sameLabels(mine, labels)
  if (!isServiceIPSet(service)) labels[HEADLESS_LABEL] = ''
  labels[SERVICE_NAME_LABEL] = service.metadata?.name ?? ''
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
  return { labels, changed }
}

export function newEndpointSlice(service: KubeObject, ports: SlicePort[], addressType: AddressType): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${service.metadata?.name ?? ''}-`,
      namespace: service.metadata?.namespace ?? '',
      labels: sliceLabels({}, service).labels,
      ownerReferences: [controllerRef(service, 'v1', 'Service')],
    },
    addressType,
    endpoints: [],
    ports,
  }
}

export function ownedBy(slice: KubeObject, service: KubeObject): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((o) => o.uid === service.metadata?.uid && o.kind === 'Service' && o.apiVersion === 'v1')
}

/** Of the unchanged slices, the one `count` more endpoints fill closest to `max` (upstream getSliceToFill). */
export function getSliceToFill(slices: readonly KubeObject[], count: number, max: number): KubeObject | undefined {
  let closestDiff = max
  let closest: KubeObject | undefined
  for (const s of slices) {
    const diff = max - (count + endpointsOf(s).length)
    if (diff >= 0 && diff < closestDiff) {
      closestDiff = diff
      closest = s
      if (diff === 0) return s
    }
  }
  return closest
}

/** Desired endpoints by identity; taken out as they are placed. */
type EndpointSet = Map<string, SliceEndpoint>

function popAny(set: EndpointSet): SliceEndpoint {
  const [key, ep] = set.entries().next().value as [string, SliceEndpoint]
  set.delete(key)
  return ep
}

/** Slices of one port group: what to create, update and delete to hold `desired`. */
export function reconcilePortGroup(
  service: KubeObject,
  existing: readonly KubeObject[],
  desired: EndpointSet,
  ports: SlicePort[],
  addressType: AddressType,
  max: number,
): { create: KubeObject[]; update: KubeObject[]; delete: KubeObject[] } {
  const byName = new Map<string, KubeObject>()
  const unchanged = new Set<string>()
  const toUpdate = new Set<string>()
  const toDelete = new Set<string>()

  // 1. Existing slices keep the endpoints still wanted, rewritten where they changed.
  for (const slice of existing) {
    const name = slice.metadata?.name ?? ''
    byName.set(name, slice)
    const kept: SliceEndpoint[] = []
    let endpointChanged = false
    for (const ep of endpointsOf(slice)) {
      const key = endpointKey(ep)
      const want = desired.get(key)
      if (want === undefined) continue
      kept.push(want)
      if (!endpointsEqualBeyondKey(want, ep)) endpointChanged = true
      desired.delete(key)
    }
    const { labels, changed: labelsChanged } = sliceLabels(slice.metadata?.labels, service)
    if (endpointChanged || kept.length !== endpointsOf(slice).length) {
      if (kept.length === 0) {
        toDelete.add(name)
      } else {
        const copy = structuredClone(slice)
        copy.endpoints = kept
        copy.metadata = { ...copy.metadata, labels }
        byName.set(name, copy)
        toUpdate.add(name)
      }
    } else if (labelsChanged) {
      const copy = structuredClone(slice)
      copy.metadata = { ...copy.metadata, labels }
      byName.set(name, copy)
      toUpdate.add(name)
    } else {
      unchanged.add(name)
    }
  }

  // 2. Slices being written anyway take new endpoints first, fullest first.
  if (desired.size > 0 && toUpdate.size > 0) {
    const filling = [...toUpdate].map((n) => byName.get(n)!).sort((a, b) => endpointsOf(b).length - endpointsOf(a).length)
    for (const slice of filling) {
      const eps = endpointsOf(slice)
      while (desired.size > 0 && eps.length < max) eps.push(popAny(desired))
      slice.endpoints = eps
    }
  }

  // 3. The rest go to the unchanged slice they fit best, or to new slices.
  const create: KubeObject[] = []
  while (desired.size > 0) {
    let slice: KubeObject | undefined
    if (desired.size < max && unchanged.size > 0) {
      const found = getSliceToFill(
        [...unchanged].map((n) => byName.get(n)!),
        desired.size,
        max,
      )
      if (found !== undefined) {
        slice = structuredClone(found)
        byName.set(slice.metadata?.name ?? '', slice)
      }
    }
    slice ??= newEndpointSlice(service, ports, addressType)
    const eps = endpointsOf(slice)
    while (desired.size > 0 && eps.length < max) eps.push(popAny(desired))
    slice.endpoints = eps
    const name = slice.metadata?.name
    if (name !== undefined && name !== '') {
      toUpdate.add(name)
      unchanged.delete(name)
    } else {
      create.push(slice)
    }
  }
  return { create, update: [...toUpdate].map((n) => byName.get(n)!), delete: [...toDelete].map((n) => byName.get(n)!) }
}

function ownerRefsKey(slice: KubeObject): string {
  return canonicalJson(
    (slice.metadata?.ownerReferences ?? []).map((o) => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.name,
      uid: o.uid,
      controller: o.controller,
      blockOwnerDeletion: o.blockOwnerDeletion,
    })),
  )
}

/** An existing slice is already the placeholder a Service without endpoints needs. */
function isPlaceholder(slice: KubeObject, placeholder: KubeObject): boolean {
  const empty = (v: unknown): boolean => !Array.isArray(v) || v.length === 0
  return (
    slice.metadata?.namespace === placeholder.metadata?.namespace &&
    sameLabels(slice.metadata?.labels ?? {}, placeholder.metadata?.labels ?? {}) &&
    ownerRefsKey(slice) === ownerRefsKey(placeholder) &&
    slice.addressType === placeholder.addressType &&
    empty(slice.endpoints) &&
    empty(slice.ports)
  )
}

function hintsRequested(service: KubeObject): boolean {
  const annotations = service.metadata?.annotations ?? {}
  const legacy = annotations[TOPOLOGY_ANNOTATIONS[0]!]
  const v = legacy ?? annotations[TOPOLOGY_ANNOTATIONS[1]!]
  return v === 'Auto' || v === 'auto'
}

function withTriggerTime(slice: KubeObject, triggerTime: number | undefined): void {
  const annotations = { ...(slice.metadata?.annotations ?? {}) }
  if (triggerTime !== undefined) annotations[TRIGGER_TIME_ANNOTATION] = formatTriggerTime(triggerTime)
  else delete annotations[TRIGGER_TIME_ANNOTATION]
  slice.metadata = { ...slice.metadata, annotations }
}

function planAddressType(input: SliceReconcileInput, addressType: AddressType, existing: readonly KubeObject[], errors: string[]): SlicePlan {
  const { service } = input
  const max = input.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE
  const ns = service.metadata?.namespace ?? ''
  const svcName = service.metadata?.name ?? ''
  let create: KubeObject[] = []
  let update: KubeObject[] = []
  const del: KubeObject[] = []

  // Slices of a previous Service of the same name wait for the garbage collector; not ours to reuse.
  const existingByPorts = new Map<string, KubeObject[]>()
  for (const slice of existing) {
    if (!ownedBy(slice, service)) {
      del.push(slice)
      continue
    }
    const key = portMapKey(slice.ports as unknown[] | undefined)
    existingByPorts.set(key, [...(existingByPorts.get(key) ?? []), slice])
  }

  const desiredByPorts = new Map<string, { ports: SlicePort[]; endpoints: EndpointSet }>()
  for (const pod of input.pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue
    const ports = slicePorts(service, pod)
    const key = portMapKey(ports)
    let group = desiredByPorts.get(key)
    if (group === undefined) desiredByPorts.set(key, (group = { ports, endpoints: new Map() }))
    const nodeName = String((pod.spec as Json | undefined)?.nodeName ?? '')
    const node = input.node(nodeName)
    // A pod on an unknown node is left out (and the sync retried), unless the Service
    // publishes addresses regardless of readiness.
    if (node === undefined && !publishNotReadyAddresses(service)) {
      errors.push(`skipping Pod ${pod.metadata?.name ?? ''} for Service ${ns}/${svcName}: Node ${nodeName} Not Found`)
      continue
    }
    const ep = podToEndpoint(pod, node, service, addressType)
    if (ep.addresses.length > 0) group.endpoints.set(endpointKey(ep), ep)
  }

  for (const [key, group] of desiredByPorts) {
    const r = reconcilePortGroup(service, existingByPorts.get(key) ?? [], group.endpoints, group.ports, addressType, max)
    create.push(...r.create)
    update.push(...r.update)
    del.push(...r.delete)
  }
  for (const [key, slices] of existingByPorts) if (!desiredByPorts.has(key)) del.push(...slices)

  // No endpoints at all: one empty slice still says "this Service has none".
  if (existing.length === del.length && create.length === 0) {
    const placeholder = newEndpointSlice(service, [], addressType)
    if (del.length === 1 && isPlaceholder(del[0]!, placeholder)) del.length = 0
    else create.push(placeholder)
  }

  const changed = new Set([...update, ...del].map((s) => s.metadata?.name))
  const unchanged = existing.filter((s) => !changed.has(s.metadata?.name))
  if (hintsRequested(service)) {
    // Topology-aware hints (the topology-mode annotation) are not computed here: slices go without hints.
    removeHints([...create, ...update])
  } else {
    ;({ create, update } = reconcileHints((service.spec as Json | undefined)?.trafficDistribution, create, update, unchanged))
  }

  // A slice to create takes the place of one to delete when it can.
  for (let i = 0; i < del.length && create.length > 0; ) {
    const old = del[i]!
    const slice = create[create.length - 1]!
    if (old.addressType === slice.addressType && ownedBy(old, service)) {
      slice.metadata = { ...slice.metadata, name: old.metadata?.name ?? '' }
      create.pop()
      update.push(slice)
      del.splice(i, 1)
    } else {
      i++
    }
  }
  // Never create slices for a Service being deleted: the garbage collector is removing them.
  if (service.metadata?.deletionTimestamp !== undefined && service.metadata.deletionTimestamp !== null) create = []
  for (const s of [...create, ...update]) withTriggerTime(s, input.triggerTime)
  return { addressType, create, update, delete: del }
}

/** The writes that make the Service's slices match its pods. */
export function planEndpointSlices(input: SliceReconcileInput): SliceReconcileResult {
  const types = addressTypesForService(input.service)
  const byType = new Map<string, KubeObject[]>()
  const unsupported: KubeObject[] = []
  for (const slice of input.existing) {
    const t = String(slice.addressType ?? '')
    if (!(types as string[]).includes(t)) unsupported.push(slice)
    else byType.set(t, [...(byType.get(t) ?? []), slice])
  }
  const errors: string[] = []
  const plans = types.map((t) => planAddressType(input, t, byType.get(t) ?? [], errors))
  return { plans, unsupported, errors }
}
