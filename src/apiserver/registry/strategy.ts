// Per-resource rules the generic registry applies around every write (the role of
// a Kubernetes REST strategy): what a create resets, what an update may change,
// when metadata.generation moves, which resources accept create-on-update.
import type { ResourceType } from '../../api/resources.js'
import type { KubeObject } from '../watch-cache/types.js'
import { jsonEqual } from './object-meta.js'

export interface Strategy {
  /** Has a status subresource: the main resource's writes keep the stored status. */
  readonly hasStatus: boolean
  /** metadata.generation starts at 1 and moves when the spec changes. */
  readonly tracksGeneration: boolean
  /** A PUT of a missing object creates it (Endpoints, Events, Leases). */
  readonly allowCreateOnUpdate: boolean
  /** What a create resets (status, as Kubernetes clears a client-sent status). */
  prepareForCreate(obj: KubeObject): void
  /** Carries server-assigned fields a client may leave out of an update (a Service's cluster IP, node ports). */
  prepareForUpdate(next: KubeObject, old: KubeObject): void
  /** Whether an update changed what generation counts. */
  specChanged(next: KubeObject, old: KubeObject): boolean
}

type Json = Record<string, unknown>

function asRecord(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function containersOf(pod: KubeObject): Json[] {
  const spec = asRecord(pod.spec)
  const list = (k: string): Json[] => (Array.isArray(spec[k]) ? (spec[k] as unknown[]).map(asRecord) : [])
  return [...list('initContainers'), ...list('containers')]
}

/** The pod's QoS class from its containers' requests and limits (as kubelet's qos.GetPodQOS). */
export function podQosClass(pod: KubeObject): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  let anySet = false
  let guaranteed = true
  for (const c of containersOf(pod)) {
    const res = asRecord(c.resources)
    const requests = asRecord(res.requests)
    const limits = asRecord(res.limits)
    for (const r of ['cpu', 'memory']) {
      if (requests[r] !== undefined || limits[r] !== undefined) anySet = true
      const req = requests[r] ?? limits[r]
      if (limits[r] === undefined || String(req) !== String(limits[r])) guaranteed = false
    }
  }
  if (!anySet) return 'BestEffort'
  return guaranteed ? 'Guaranteed' : 'Burstable'
}

// Kinds whose create keeps a client-sent status: a kubelet registers its Node with status.
const KEEP_STATUS_ON_CREATE = new Set(['Node', 'Namespace'])

const GENERATION_KINDS = new Set([
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'ReplicationController',
  'Job',
  'CronJob',
  'HorizontalPodAutoscaler',
  'Ingress',
  'PersistentVolumeClaim',
  'Service',
])

const CREATE_ON_UPDATE = new Set(['Endpoints', 'Event', 'Lease', 'EndpointSlice'])

export function strategyFor(rt: ResourceType): Strategy {
  const hasStatus = rt.subresources.includes('status')
  const tracksGeneration = GENERATION_KINDS.has(rt.kind)
  return {
    hasStatus,
    tracksGeneration,
    allowCreateOnUpdate: CREATE_ON_UPDATE.has(rt.kind),
    prepareForCreate(obj) {
      if (rt.kind === 'Pod') {
        obj.status = { phase: 'Pending', qosClass: podQosClass(obj) }
      } else if (hasStatus && !KEEP_STATUS_ON_CREATE.has(rt.kind)) {
        delete obj.status
      }
    },
    prepareForUpdate(next, old) {
      if (rt.kind === 'Service' && rt.group === '') keepAllocatedValues(next, old)
    },
    specChanged(next, old) {
      if (!jsonEqual(next.spec, old.spec)) return true
      // Deployments also count annotation changes (the legacy rollback annotation lives there).
      if (rt.kind === 'Deployment') return !jsonEqual(asRecord(next.metadata).annotations, asRecord(old.metadata).annotations)
      // Kinds without a spec (none served today) would never move.
      return false
    },
  }
}

/** A Service update without clusterIP or nodePort keeps the allocated ones, as Kubernetes does. */
function keepAllocatedValues(next: KubeObject, old: KubeObject): void {
  const ns = asRecord(next.spec)
  const os = asRecord(old.spec)
  if (next.spec === undefined) return
  const sameType = (ns.type ?? 'ClusterIP') === (os.type ?? 'ClusterIP') || ns.type !== 'ExternalName'
  if (sameType && (ns.clusterIP === undefined || ns.clusterIP === '') && os.clusterIP !== undefined) {
    ns.clusterIP = os.clusterIP
    if (os.clusterIPs !== undefined) ns.clusterIPs = os.clusterIPs
  }
  if (ns.ipFamilies === undefined && os.ipFamilies !== undefined) ns.ipFamilies = os.ipFamilies
  if (ns.ipFamilyPolicy === undefined && os.ipFamilyPolicy !== undefined) ns.ipFamilyPolicy = os.ipFamilyPolicy
  const oldPorts = Array.isArray(os.ports) ? (os.ports as unknown[]).map(asRecord) : []
  if (Array.isArray(ns.ports)) {
    for (const p of (ns.ports as unknown[]).map(asRecord)) {
      if (p.nodePort !== undefined && p.nodePort !== 0) continue
      const match = oldPorts.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'))
      if (match?.nodePort !== undefined) p.nodePort = match.nodePort
    }
  }
}
