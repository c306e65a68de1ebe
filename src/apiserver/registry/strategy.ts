// Per-resource rules the generic registry applies around every write (the role of
// a Kubernetes REST strategy): what a create resets, what an update may change,
// when metadata.generation moves, which resources accept create-on-update.
import type { ResourceType } from '../../api/resources.js'
import type { KubeObject } from '../watch-cache/types.js'
import { rec, semanticEqual } from '../../api/json.js'
import { computePodQOS } from '../../api/validation/pod.js'
import { conflict } from '../status.js'

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
  /**
   * The object stays when deleted even with no finalizers and no grace period: a
   * Namespace is only marked Terminating by its first delete, and goes once its
   * spec.finalizers (the namespace controller's `kubernetes`) are gone.
   */
  holdsDeletion(obj: KubeObject): boolean
  /** What marking `old` for deletion changes beyond deletionTimestamp (`next`, in place); may refuse the delete. */
  prepareForDelete(next: KubeObject, old: KubeObject): void
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
  'EndpointSlice',
])

const CREATE_ON_UPDATE = new Set(['Endpoints', 'Event', 'Lease'])

export function strategyFor(rt: ResourceType): Strategy {
  const hasStatus = rt.subresources.includes('status')
  const tracksGeneration = GENERATION_KINDS.has(rt.kind)
  const isNamespace = rt.kind === 'Namespace' && rt.group === ''
  return {
    hasStatus,
    tracksGeneration,
    allowCreateOnUpdate: CREATE_ON_UPDATE.has(rt.kind),
    prepareForCreate(obj) {
      if (rt.kind === 'Pod') {
        obj.status = { phase: 'Pending', qosClass: computePodQOS(obj) }
      } else if (hasStatus && !KEEP_STATUS_ON_CREATE.has(rt.kind)) {
        delete obj.status
      }
    },
    prepareForUpdate(next, old) {
      if (rt.kind === 'Service' && rt.group === '') keepAllocatedValues(next, old)
      // Only the finalize subresource changes a Namespace's spec.finalizers.
      if (isNamespace) keepNamespaceFinalizers(next, old)
    },
    specChanged(next, old) {
      // An EndpointSlice has no spec: any change outside metadata counts, and so do its labels.
      if (rt.kind === 'EndpointSlice') {
        const { metadata: nm, ...n } = next
        const { metadata: om, ...o } = old
        return !semanticEqual(n, o) || !semanticEqual(rec(nm).labels, rec(om).labels)
      }
      if (!semanticEqual(next.spec, old.spec)) return true
      // Deployments also count annotation changes (the legacy rollback annotation lives there).
      if (rt.kind === 'Deployment') return !semanticEqual(rec(next.metadata).annotations, rec(old.metadata).annotations)
      // Kinds without a spec (none served today) would never move.
      return false
    },
    holdsDeletion(obj) {
      if (!isNamespace) return false
      return rec(obj.metadata).deletionTimestamp == null || namespaceFinalizers(obj).length > 0
    },
    prepareForDelete(next, old) {
      if (!isNamespace) return
      const name = String(rec(old.metadata).name ?? '')
      // As kube-apiserver's namespace REST: a namespace already terminating goes only once finalized.
      if (rec(old.metadata).deletionTimestamp != null && namespaceFinalizers(old).length > 0) {
        throw conflict('namespaces', '', name, 'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.')
      }
      next.status = { ...rec(next.status), phase: 'Terminating' }
    },
  }
}

function keepNamespaceFinalizers(next: KubeObject, old: KubeObject): void {
  const kept = rec(old.spec).finalizers
  if (kept === undefined && next.spec === undefined) return
  const spec = { ...rec(next.spec) }
  if (kept === undefined) delete spec.finalizers
  else spec.finalizers = kept
  next.spec = spec
}

function namespaceFinalizers(obj: KubeObject): unknown[] {
  const f = rec(obj.spec).finalizers
  return Array.isArray(f) ? f : []
}

/** A Service update without clusterIP or nodePort keeps the allocated ones, as Kubernetes does. */
function keepAllocatedValues(next: KubeObject, old: KubeObject): void {
  const ns = rec(next.spec)
  const os = rec(old.spec)
  if (next.spec === undefined) return
  const sameType = (ns.type ?? 'ClusterIP') === (os.type ?? 'ClusterIP') || ns.type !== 'ExternalName'
  if (sameType && (ns.clusterIP === undefined || ns.clusterIP === '') && os.clusterIP !== undefined) {
    ns.clusterIP = os.clusterIP
    if (os.clusterIPs !== undefined) ns.clusterIPs = os.clusterIPs
  }
  if (ns.ipFamilies === undefined && os.ipFamilies !== undefined) ns.ipFamilies = os.ipFamilies
  if (ns.ipFamilyPolicy === undefined && os.ipFamilyPolicy !== undefined) ns.ipFamilyPolicy = os.ipFamilyPolicy
  const oldPorts = Array.isArray(os.ports) ? (os.ports as unknown[]).map(rec) : []
  if (Array.isArray(ns.ports)) {
    for (const p of (ns.ports as unknown[]).map(rec)) {
      if (p.nodePort !== undefined && p.nodePort !== 0) continue
      const match = oldPorts.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'))
      if (match?.nodePort !== undefined) p.nodePort = match.nodePort
    }
  }
}
