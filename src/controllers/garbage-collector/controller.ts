// The garbage collector (kube-controller-manager's "garbagecollector"): informers on
// every resource that can be listed, watched and deleted feed one dependency graph of
// ownerReferences; two queues act on it:
//   attemptToDelete: an object whose owners may be gone. Each owner reference is
//     checked with a live GET; with no owner left the object is deleted (Background,
//     or as its own finalizers ask); while an owner deletes in the foreground the
//     object is deleted in the foreground too. An owner deleting in the foreground
//     (`foregroundDeletion` finalizer) loses that finalizer once no dependent with
//     blockOwnerDeletion remains.
//   attemptToOrphan: an owner with the `orphan` finalizer; its dependents lose their
//     reference to it, then it loses the finalizer.
// A virtual node (an owner referenced but never seen) is verified the same way, so a
// dangling reference to an owner that never existed gets its dependent collected.
import { RESOURCES, type ResourceType, apiVersionOf } from '../../api/resources.js'
import {
  DeletedFinalStateUnknown,
  errorMessage,
  type EventRecorder,
  type HandlerRegistration,
  type KubeObject,
  type OwnerReference,
  type PropagationPolicy,
  RateLimitingQueue,
  runWorkers,
} from '../../client/index.js'
import type { Controller, ControllerContext } from '../types.js'
import {
  DependencyGraph,
  FINALIZER_FOREGROUND,
  FINALIZER_ORPHAN,
  type GraphActions,
  type GraphNode,
  identityKey,
  type ObjectIdentity,
  ownerIdentity,
} from './graph.js'
import { GcOperations, UnknownKindError } from './operations.js'

/** kube-controller-manager's --concurrent-gc-syncs is 20; our machines are smaller. */
const DELETE_WORKERS = 5
const ORPHAN_WORKERS = 2
const ABSENT_CACHE_SIZE = 500

/** Resources the collector never watches, as upstream: Events are many and own nothing. */
const IGNORED = new Set(['/events', 'events.k8s.io/events'])

/** Every served resource the collector can list, watch and delete. */
export function collectedResources(): ResourceType[] {
  return RESOURCES.filter(
    (rt) => rt.verbs.includes('list') && rt.verbs.includes('watch') && rt.verbs.includes('delete') && !IGNORED.has(`${rt.group}/${rt.plural}`),
  )
}

/** The node is virtual and exists, but no informer has reported it yet: look again later. */
class NotObservedYet extends Error {
  constructor(id: ObjectIdentity) {
    super(`item ${identityKey(id)} hasn't been observed via informer yet`)
  }
}

/** A cluster-scoped dependent names a namespaced owner: retrying cannot help. */
class NamespacedOwnerOfClusterScopedObject extends Error {}

/** Owners recently found absent, so many dependents of one gone owner cost one GET. */
class AbsentOwnerCache {
  private readonly keys = new Map<string, true>()
  has(id: ObjectIdentity): boolean {
    const k = identityKey(id)
    if (!this.keys.has(k)) return false
    this.keys.delete(k)
    this.keys.set(k, true)
    return true
  }
  add(id: ObjectIdentity): void {
    const k = identityKey(id)
    this.keys.delete(k)
    this.keys.set(k, true)
    if (this.keys.size > ABSENT_CACHE_SIZE) this.keys.delete(this.keys.keys().next().value as string)
  }
}

function identityOf(rt: ResourceType, obj: KubeObject): ObjectIdentity | undefined {
  const m = obj.metadata
  if (m?.uid === undefined || m.uid === '' || m.name === undefined) return undefined
  return { apiVersion: apiVersionOf(rt), kind: rt.kind, namespace: rt.namespaced ? (m.namespace ?? '') : '', name: m.name, uid: m.uid }
}

export function garbageCollectorController(ctx: ControllerContext): Controller {
  const graph = new DependencyGraph()
  const absent = new AbsentOwnerCache()
  const ops = new GcOperations(ctx.client, ctx.writer)
  const attemptToDelete = new RateLimitingQueue<string>(undefined, { name: 'garbage_collector_attempt_to_delete' })
  const attemptToOrphan = new RateLimitingQueue<string>(undefined, { name: 'garbage_collector_attempt_to_orphan' })
  const log = ctx.logger
  const recorder: EventRecorder = ctx.events('garbage-collector-controller')

  const apply = (a: GraphActions): void => {
    for (const id of a.absent) absent.add(id)
    for (const n of a.attemptToDelete) attemptToDelete.add(n.identity.uid)
    for (const n of a.attemptToOrphan) attemptToOrphan.add(n.identity.uid)
    for (const n of a.retryLater) attemptToDelete.addRateLimited(n.identity.uid)
  }

  const registrations: HandlerRegistration[] = []
  for (const rt of collectedResources()) {
    const informer = ctx.informers.forResource(rt)
    registrations.push(
      informer.addEventHandler({
        onAdd: (obj) => {
          const id = identityOf(rt, obj)
          if (id !== undefined) apply(graph.observe(id, obj))
        },
        onUpdate: (old, obj) => {
          const id = identityOf(rt, obj)
          if (id !== undefined) apply(graph.observe(id, obj, old))
        },
        onDelete: (o) => {
          const obj = o instanceof DeletedFinalStateUnknown ? o.obj : o
          const uid = obj.metadata?.uid
          if (uid !== undefined) apply(graph.observeDelete(uid))
        },
      }),
    )
  }

  /** Whether the owner `ref` of `item` is gone (404, or its name now holds another uid); the owner when it is not. */
  const lookupOwner = async (item: GraphNode, ref: OwnerReference): Promise<{ dangling: boolean; owner?: KubeObject }> => {
    const id = ownerIdentity(ref, item.identity.namespace)
    const rt = ops.resourceOf(id)
    if (rt.namespaced && item.identity.namespace === '') {
      const message = `ownerRef [${ref.apiVersion}/${ref.kind}, namespace: , name: ${ref.name}, uid: ${ref.uid}] does not exist in namespace ""`
      recorder.event(objectRefOf(item), 'Warning', 'OwnerRefInvalidNamespace', message)
      throw new NamespacedOwnerOfClusterScopedObject(`cluster-scoped object ${identityKey(item.identity)} has a namespaced owner ${ref.kind} ${ref.name}`)
    }
    if (absent.has(id)) return { dangling: true }
    const owner = await ops.get(id)
    if (owner === undefined || owner.metadata?.uid !== ref.uid) {
      absent.add(id)
      return { dangling: true }
    }
    return { dangling: false, owner }
  }

  /** Splits an object's owner references: owners alive, owners gone, owners deleting in the foreground. */
  const classify = async (item: GraphNode, refs: readonly OwnerReference[]) => {
    const solid: OwnerReference[] = []
    const dangling: OwnerReference[] = []
    const waiting: OwnerReference[] = []
    for (const ref of refs) {
      let found
      try {
        found = await lookupOwner(item, ref)
      } catch (err) {
        // An owner of a kind we do not serve cannot be checked: it holds its dependent.
        if (err instanceof UnknownKindError) {
          solid.push(ref)
          continue
        }
        throw err
      }
      if (found.dangling) dangling.push(ref)
      else if (found.owner?.metadata?.deletionTimestamp != null && (found.owner.metadata.finalizers ?? []).includes(FINALIZER_FOREGROUND)) waiting.push(ref)
      else solid.push(ref)
    }
    return { solid, dangling, waiting }
  }

  const processDeletingDependents = async (item: GraphNode): Promise<void> => {
    const blocking = item.blockingDependents()
    if (blocking.length === 0) {
      log.debug({ item: identityKey(item.identity) }, 'removing the foregroundDeletion finalizer: no blocking dependents left')
      await ops.removeFinalizer(item.identity, FINALIZER_FOREGROUND)
      return
    }
    for (const d of blocking) if (!d.deletingDependents) attemptToDelete.add(d.identity.uid)
  }

  const virtualDelete = (id: ObjectIdentity): void => apply(graph.virtualDelete(id))

  /** 'unknown': the item's kind is not served, so it can be neither verified nor collected. */
  const attemptToDeleteItem = async (item: GraphNode): Promise<'virtual-delete' | 'unknown' | 'done'> => {
    // Being deleted is a one-way trip: wait for the deletion, then see to the dependents.
    if (item.beingDeleted && !item.deletingDependents) return 'done'
    let latest: KubeObject | undefined
    try {
      latest = await ops.get(item.identity)
    } catch (err) {
      if (err instanceof UnknownKindError) return 'unknown'
      throw err
    }
    if (latest === undefined || latest.metadata?.uid !== item.identity.uid) {
      virtualDelete(item.identity)
      return 'virtual-delete'
    }
    if (item.deletingDependents) {
      await processDeletingDependents(item)
      return 'done'
    }
    const refs = latest.metadata.ownerReferences ?? []
    if (refs.length === 0) return 'done'
    const { solid, dangling, waiting } = await classify(item, refs)
    const rv = latest.metadata.resourceVersion
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return 'done'
      // Live owners remain: only the references to gone or foreground-deleting owners go.
      const uids = [...dangling, ...waiting].map((r) => r.uid)
      log.debug({ item: identityKey(item.identity), owners: uids }, 'removing dangling owner references')
      await ops.removeOwnerReferences(item.identity, uids)
      return 'done'
    }
    if (waiting.length > 0 && item.dependents.size > 0) {
      // An owner deletes in the foreground, so this object does too; a dependent of it
      // already deleting in the foreground would wait for us while we wait for it.
      for (const d of item.dependents) {
        if (d.deletingDependents) {
          log.debug({ item: identityKey(item.identity) }, 'unblocking owner references to break a foreground deletion cycle')
          await ops.unblockOwnerReferences(item.identity, refs)
          break
        }
      }
      log.debug({ item: identityKey(item.identity), propagationPolicy: 'Foreground' }, 'deleting dependent')
      await ops.delete(item.identity, rv, refs, 'Foreground')
      return 'done'
    }
    // No owner left: collect it, honouring a propagation it already asked for.
    const finalizers = latest.metadata.finalizers ?? []
    const policy: PropagationPolicy = finalizers.includes(FINALIZER_ORPHAN) ? 'Orphan' : finalizers.includes(FINALIZER_FOREGROUND) ? 'Foreground' : 'Background'
    log.debug({ item: identityKey(item.identity), propagationPolicy: policy }, 'deleting object whose owners are gone')
    await ops.delete(item.identity, rv, refs, policy)
    return 'done'
  }

  const syncDelete = async (uid: string): Promise<void> => {
    const item = graph.get(uid)
    if (item === undefined) return
    const result = await attemptToDeleteItem(item)
    // A virtual node that exists but no informer reported yet: keep looking until one
    // does, or a node added and removed while a watch was down could stay forever.
    if (result === 'done' && item.virtual && graph.get(uid) === item) throw new NotObservedYet(item.identity)
  }

  const syncOrphan = async (uid: string): Promise<void> => {
    const owner = graph.get(uid)
    if (owner === undefined) return
    const dependents = [...owner.dependents]
    const failures: string[] = []
    // A few patches at a time: an owner of thousands should not wait for each in turn.
    for (let i = 0; i < dependents.length; i += 10) {
      const batch = dependents.slice(i, i + 10)
      const results = await Promise.allSettled(batch.map((d) => ops.removeOwnerReferences(d.identity, [uid])))
      for (const r of results) if (r.status === 'rejected') failures.push(errorMessage(r.reason))
    }
    if (failures.length > 0) throw new Error(`orphaning dependents of ${identityKey(owner.identity)}: ${failures.join('; ')}`)
    log.debug({ owner: identityKey(owner.identity), dependents: dependents.length }, 'dependents orphaned; removing the orphan finalizer')
    await ops.removeFinalizer(owner.identity, FINALIZER_ORPHAN)
  }

  const onError =
    (queue: string) =>
    (uid: string, err: unknown): void => {
      if (err instanceof NotObservedYet) return log.debug({ uid, queue }, err.message)
      log.warn({ uid, queue, err: errorMessage(err) }, 'garbage collector sync failed')
    }

  return {
    name: 'garbagecollector',
    async run(signal) {
      const stop = (): void => {
        attemptToDelete.shutDown()
        attemptToOrphan.shutDown()
      }
      if (signal.aborted) return stop()
      signal.addEventListener('abort', stop, { once: true })
      // The graph must hold every object of the first lists before anything is judged.
      while (!signal.aborted && !registrations.every((r) => r.hasSynced())) await new Promise((r) => setTimeout(r, 20))
      log.info({ resources: collectedResources().length }, 'garbage collector: all resource monitors have synced')
      await Promise.all([
        runWorkers(
          attemptToDelete,
          DELETE_WORKERS,
          async (uid) => {
            try {
              await syncDelete(uid)
            } catch (err) {
              // Retrying cannot fix a cluster-scoped object with a namespaced owner.
              if (err instanceof NamespacedOwnerOfClusterScopedObject) return log.warn({ uid, err: err.message }, 'invalid owner reference')
              throw err
            }
          },
          { onError: onError('attemptToDelete') },
        ),
        runWorkers(attemptToOrphan, ORPHAN_WORKERS, syncOrphan, { onError: onError('attemptToOrphan') }),
      ])
    },
  }
}

function objectRefOf(n: GraphNode): KubeObject {
  const id = n.identity
  return { apiVersion: id.apiVersion, kind: id.kind, metadata: { name: id.name, namespace: id.namespace === '' ? undefined : id.namespace, uid: id.uid } }
}
