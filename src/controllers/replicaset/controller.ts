// The ReplicaSet controller (kube-controller-manager's "replicaset") and the
// ReplicationController controller ("replicationcontroller"): one controller over two
// shapes (shape.ts). Each sync counts the owner's active pods — adopting matching
// orphans, releasing pods whose labels no longer match — creates the missing ones from
// the template in slow-start batches, deletes the least valuable surplus
// (scale-down.ts), and reports status (status.ts).
//
// Expectations keep a slow watch from causing double work: after asking for N
// creations or for the deletion of given pods, the controller leaves the owner's pod
// count alone until its informer has shown those changes; until then a sync only
// refreshes status. At most burstReplicas pods are created or deleted per sync.
import {
  type Clock,
  DeletedFinalStateUnknown, deletionHandlingKey, errorMessage, type KubeObject, metaNamespaceKey, RateLimitingQueue, realClock, runWorkers,
  isNamespaceTerminating,
} from '../../client/index.js'
import type { Selector } from '../../api/labels.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { claimObjects, CONTROLLER_UID_INDEX, CONTROLLER_UID_INDEXERS, controllerOf, controllerRef } from '../util/controller-ref.js'
import { Expectations } from '../util/expectations.js'
import { canonicalJson } from '../util/hash.js'
import { PodControl, podFromTemplate, slowStartBatch } from '../util/pod-control.js'
import { isPodActive, isPodTerminating } from '../util/pods.js'
import { PODS } from '../util/resources.js'
import { podsToDelete } from './scale-down.js'
import { desiredReplicas, podTemplate, REPLICA_SET, type ReplicaKind, REPLICATION_CONTROLLER } from './shape.js'
import { countReplicas, nextStatus, statusUpToDate } from './status.js'

type Json = Record<string, unknown>

/** Upstream BurstReplicas: at most this many pods created or deleted in one sync. */
export const BURST_REPLICAS = 500
/** Upstream --concurrent-replicaset-syncs / --concurrent-rc-syncs default. */
const WORKERS = 5
/** Past the moment a pod becomes available, so the requeued sync sees it available. */
const AVAILABLE_SLACK_MS = 50

export interface ReplicaControllerOptions {
  /** For expectations' time-to-live. */
  clock?: Clock
  /** Wall-clock time for availability and condition timestamps. */
  now?: () => Date
  workers?: number
  burstReplicas?: number
}

export function replicaSetControllerWith(opts: ReplicaControllerOptions = {}): ControllerFactory {
  return (ctx) => newReplicaController(ctx, REPLICA_SET, opts)
}

export function replicationControllerControllerWith(opts: ReplicaControllerOptions = {}): ControllerFactory {
  return (ctx) => newReplicaController(ctx, REPLICATION_CONTROLLER, opts)
}

export const replicaSetController: ControllerFactory = replicaSetControllerWith()
export const replicationControllerController: ControllerFactory = replicationControllerControllerWith()

/** A create refused because the namespace is going away: nothing to retry (upstream ignores it). */

function newReplicaController(ctx: ControllerContext, kind: ReplicaKind, opts: ReplicaControllerOptions): Controller {
  const now = opts.now ?? (() => new Date())
  const burst = opts.burstReplicas ?? BURST_REPLICAS
  const owners = ctx.informers.forResource(kind.resource, { indexers: CONTROLLER_UID_INDEXERS })
  const pods = ctx.informers.forResource(PODS, { indexers: CONTROLLER_UID_INDEXERS })
  // Upstream's queue names: "replicaset", "replicationmanager".
  const queue = new RateLimitingQueue<string>(undefined, { name: kind.controllerName === 'replicaset' ? 'replicaset' : 'replicationmanager' })
  const expectations = new Expectations(opts.clock ?? realClock)
  const podControl = new PodControl(ctx.writer, ctx.events(kind.component))

  /** The key of the owner a controllerRef names, if it is one of ours and still the same object. */
  const resolve = (namespace: string | undefined, ref: ReturnType<typeof controllerOf>): string | undefined => {
    if (ref?.kind !== kind.kind) return undefined
    const key = `${namespace ?? ''}/${ref.name}`
    return owners.indexer.getByKey(key)?.metadata?.uid === ref.uid ? key : undefined
  }
  const selectorOf = (owner: KubeObject): Selector | undefined => {
    try {
      return kind.selector(owner)
    } catch {
      return undefined
    }
  }
  /** An orphan may be adopted by any owner whose (non-empty) selector matches it. */
  const enqueueMatching = (pod: KubeObject): void => {
    for (const o of owners.indexer.byIndex('namespace', pod.metadata?.namespace ?? '')) {
      const sel = selectorOf(o)
      if (sel !== undefined && !sel.empty() && sel.matches(pod.metadata?.labels ?? {})) queue.add(metaNamespaceKey(o))
    }
  }
  /** A pod deleted, or marked for deletion (which already makes it inactive: a replacement is due now). */
  const podGone = (pod: KubeObject): void => {
    const key = resolve(pod.metadata?.namespace, controllerOf(pod))
    if (key === undefined) return
    expectations.deletionObserved(key, metaNamespaceKey(pod))
    queue.add(key)
  }

  owners.addEventHandler({
    onAdd: (o) => queue.add(metaNamespaceKey(o)),
    onUpdate: (old, o) => {
      if (old.metadata?.uid !== o.metadata?.uid) expectations.delete(metaNamespaceKey(old))
      queue.add(metaNamespaceKey(o))
    },
    onDelete: (o) => {
      const key = deletionHandlingKey(o)
      expectations.delete(key)
      queue.add(key)
    },
  })
  pods.addEventHandler({
    onAdd: (p) => {
      if (isPodTerminating(p)) {
        podGone(p)
        return
      }
      const ref = controllerOf(p)
      if (ref === undefined) {
        enqueueMatching(p)
        return
      }
      const key = resolve(p.metadata?.namespace, ref)
      if (key === undefined) return
      expectations.creationObserved(key)
      queue.add(key)
    },
    onUpdate: (old, p) => {
      if (old.metadata?.resourceVersion === p.metadata?.resourceVersion) return
      const labelsChanged = canonicalJson(old.metadata?.labels ?? {}) !== canonicalJson(p.metadata?.labels ?? {})
      if (isPodTerminating(p)) {
        podGone(p)
        // Its old labels may have belonged to another owner's count.
        if (labelsChanged) podGone(old)
        return
      }
      const oldRef = controllerOf(old)
      const ref = controllerOf(p)
      const refChanged = canonicalJson(oldRef ?? null) !== canonicalJson(ref ?? null)
      if (refChanged && oldRef !== undefined) {
        const oldKey = resolve(old.metadata?.namespace, oldRef)
        if (oldKey !== undefined) queue.add(oldKey)
      }
      if (ref !== undefined) {
        const key = resolve(p.metadata?.namespace, ref)
        if (key !== undefined) queue.add(key)
        return
      }
      if (labelsChanged || refChanged) enqueueMatching(p)
    },
    onDelete: (p) => podGone(p instanceof DeletedFinalStateUnknown ? p.obj : p),
  })

  /** Pods of the owner and of its siblings (the other ReplicaSets of its Deployment), for spreading on scale-down. */
  function relatedPods(owner: KubeObject): KubeObject[] {
    const ref = controllerOf(owner)
    const siblings = ref === undefined ? [] : owners.indexer.byIndex(CONTROLLER_UID_INDEX, ref.uid).filter((o) => o.metadata?.uid !== owner.metadata?.uid)
    return [owner, ...siblings].flatMap((o) => pods.indexer.byIndex(CONTROLLER_UID_INDEX, o.metadata?.uid ?? ''))
  }

  /** True once the informer shows the pod deleted or terminating: its event has been (or is being) handled. */
  function deletionSeen(pod: KubeObject): boolean {
    const cached = pods.indexer.getByKey(metaNamespaceKey(pod))
    return cached === undefined || cached.metadata?.uid !== pod.metadata?.uid || isPodTerminating(cached)
  }

  async function manageReplicas(key: string, owner: KubeObject, active: KubeObject[]): Promise<void> {
    const ns = owner.metadata?.namespace ?? ''
    const name = owner.metadata?.name ?? ''
    const diff = active.length - desiredReplicas(owner)
    if (diff < 0) {
      const n = Math.min(-diff, burst)
      expectations.expect(key, n)
      const template = podTemplate(owner)
      const ref = controllerRef(owner, kind.apiVersion, kind.kind)
      const res = await slowStartBatch(n, async () => {
        try {
          await podControl.create(ns, podFromTemplate(template, name, ref), owner)
        } catch (err) {
          if (!isNamespaceTerminating(err)) throw err
        }
      })
      // Creations that failed or were never tried will not be observed.
      for (let i = res.succeeded; i < n; i++) expectations.creationObserved(key)
      if (res.error !== undefined) throw res.error
    } else if (diff > 0) {
      const victims = podsToDelete(active, relatedPods(owner), Math.min(diff, burst))
      expectations.expect(key, 0, victims.map((p) => metaNamespaceKey(p)))
      const results = await Promise.allSettled(victims.map((p) => podControl.delete(p, owner)))
      let firstError: unknown
      results.forEach((r, i) => {
        const pod = victims[i]!
        // A failed delete will not be observed; a pod whose deletion the informer showed
        // before it was expected (while this sync was adopting) must not wait for the TTL.
        if (r.status === 'rejected') firstError ??= r.reason
        if (r.status === 'rejected' || deletionSeen(pod)) expectations.deletionObserved(key, metaNamespaceKey(pod))
      })
      if (firstError !== undefined) throw firstError
    }
  }

  async function writeStatus(owner: KubeObject, status: Json): Promise<void> {
    const ns = owner.metadata?.namespace ?? ''
    const client = ctx.writer.resource(kind.resource, ns)
    try {
      await client.updateStatus({ ...owner, status })
    } catch {
      // One more try on the latest version (upstream statusUpdateRetries); after that the sync fails and is requeued.
      const fresh = await ctx.client.resource(kind.resource, ns).get(owner.metadata?.name ?? '')
      await client.updateStatus({ ...fresh, status })
    }
  }

  async function sync(key: string): Promise<void> {
    const cached = owners.indexer.getByKey(key)
    if (cached === undefined) {
      expectations.delete(key)
      return
    }
    // Asked before reading the pod cache: what it shows is then at least as new as what was observed.
    const needsSync = expectations.satisfied(key)
    // Events name the owner's kind, which cached list items may lack.
    const owner: KubeObject = { ...cached, apiVersion: kind.apiVersion, kind: kind.kind }
    const selector = selectorOf(owner)
    if (selector === undefined) {
      ctx.logger.warn({ [kind.controllerName]: key }, 'invalid pod selector; not syncing')
      return
    }
    const ns = owner.metadata?.namespace ?? ''
    const uid = owner.metadata?.uid
    const candidates = pods.indexer.byIndex('namespace', ns).filter((p) => isPodActive(p) && (controllerOf(p) === undefined ? selector.matches(p.metadata?.labels ?? {}) : controllerOf(p)!.uid === uid))
    const active = await claimObjects(
      {
        owner,
        apiVersion: kind.apiVersion,
        kind: kind.kind,
        selector,
        objects: ctx.writer.resource(PODS, ns),
        fetchOwner: () => ctx.client.resource(kind.resource, ns).get(owner.metadata?.name ?? ''),
      },
      candidates,
    )
    let manageError: unknown
    if (needsSync && owner.metadata?.deletionTimestamp === undefined) {
      try {
        await manageReplicas(key, owner, active)
      } catch (err) {
        manageError = err
        ctx.logger.warn({ [kind.controllerName]: key, err: errorMessage(err) }, 'managing replicas failed')
      }
    }
    const t = now()
    const counts = countReplicas(owner, active, t)
    const status = nextStatus(owner, active, counts, manageError, t)
    if (!statusUpToDate(owner, status)) await writeStatus(owner, status)
    // Nothing else wakes the controller when a Ready pod completes its minReadySeconds.
    if (counts.nextAvailableAt !== undefined) queue.addAfter(key, Math.max(0, counts.nextAvailableAt - t.getTime()) + AVAILABLE_SLACK_MS)
    // Requeued rate-limited: a quota or admission refusal is retried with back-off.
    if (manageError !== undefined) throw manageError
  }

  return {
    name: kind.controllerName,
    async run(signal) {
      signal.addEventListener('abort', () => queue.shutDown(), { once: true })
      await runWorkers(queue, opts.workers ?? WORKERS, sync, {
        onError: (key, err) => ctx.logger.warn({ [kind.controllerName]: key, err: errorMessage(err) }, `${kind.controllerName} sync failed`),
      })
    },
  }
}
