// The Deployment controller (kube-controller-manager's "deployment"): a Deployment runs
// its pods through ReplicaSets, one per pod template, named `<deployment>-<hash>`.
// A template change rolls out by RollingUpdate (new ReplicaSet up, old ones down,
// within maxSurge and maxUnavailable) or Recreate (old ones down, then the new one
// up); a resize mid-rollout is shared out proportionally; a paused Deployment only
// resizes. Status, conditions and revisions are what `kubectl rollout
// status|history|undo|pause|resume|restart` read and write.
//
// A sync reads the informer caches and takes at most one step; the ReplicaSets'
// status (written by the ReplicaSet controller) drives the next. Pods are only read:
// Recreate waits for the old ones to be gone.
import { selectorFromLabelSelector, type Selector } from '../../api/labels.js'
import { rec, semanticEqual } from '../../api/json.js'
import { DeletedFinalStateUnknown, errorMessage, isConflict, isNamespaceTerminating, type KubeObject, metaNamespaceKey, RateLimitingQueue, runWorkers } from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { claimObjects, CONTROLLER_UID_INDEX, CONTROLLER_UID_INDEXERS, controllerOf } from '../util/controller-ref.js'
import { DEPLOYMENTS, PODS, REPLICASETS } from '../util/resources.js'
import { generation, observedGeneration, paused, specOf, strategyType, uidOf } from './fields.js'
import { type PodMap, rolloutRecreate } from './recreate.js'
import { rollback, rollbackTo } from './rollback.js'
import { rolloutRolling } from './rolling.js'
import { DeploymentSync } from './sync.js'

/** Upstream maxRetries: a Deployment failing this often is dropped until its next change. */
const MAX_RETRIES = 15

export interface DeploymentControllerOptions {
  now?: () => Date
  /** kube-controller-manager's --concurrent-deployment-syncs (5). */
  workers?: number
}

export function deploymentControllerWith(opts: DeploymentControllerOptions = {}): ControllerFactory {
  return (ctx) => newDeploymentController(ctx, opts)
}

export const deploymentController: ControllerFactory = deploymentControllerWith()

const unwrap = <T>(o: T | DeletedFinalStateUnknown<T>): T => (o instanceof DeletedFinalStateUnknown ? o.obj : o)

function selectorOf(d: KubeObject): Selector | undefined {
  try {
    return selectorFromLabelSelector(specOf(d).selector)
  } catch {
    return undefined
  }
}

function newDeploymentController(ctx: ControllerContext, opts: DeploymentControllerOptions): Controller {
  const now = opts.now ?? (() => new Date())
  const deployments = ctx.informers.forResource(DEPLOYMENTS)
  const replicaSets = ctx.informers.forResource(REPLICASETS, { indexers: CONTROLLER_UID_INDEXERS })
  const pods = ctx.informers.forResource(PODS, { indexers: CONTROLLER_UID_INDEXERS })
  const queue = new RateLimitingQueue<string>(undefined, { name: 'deployment' })
  const events = ctx.events('deployment-controller')

  const enqueue = (d: KubeObject): void => queue.add(metaNamespaceKey(d))

  /** The Deployment a controllerRef names, if it is the one in the cache (same uid). */
  const resolve = (namespace: string, ref: { kind: string; name: string; uid: string } | undefined): KubeObject | undefined => {
    if (ref?.kind !== 'Deployment') return undefined
    const d = deployments.indexer.getByKey(`${namespace}/${ref.name}`)
    return d !== undefined && uidOf(d) === ref.uid ? d : undefined
  }

  /** Deployments whose selector matches an orphan ReplicaSet: they may adopt it. */
  const matchingDeployments = (rs: KubeObject): KubeObject[] => {
    const labels = rs.metadata?.labels ?? {}
    if (Object.keys(labels).length === 0) return []
    return deployments.indexer.byIndex('namespace', rs.metadata?.namespace ?? '').filter((d) => {
      const sel = selectorOf(d)
      return sel !== undefined && !sel.empty() && sel.matches(labels)
    })
  }

  const onReplicaSet = (rs: KubeObject): void => {
    const ref = controllerOf(rs)
    if (ref !== undefined) {
      const d = resolve(rs.metadata?.namespace ?? '', ref)
      if (d !== undefined) enqueue(d)
      return
    }
    for (const d of matchingDeployments(rs)) enqueue(d)
  }

  deployments.addEventHandler({
    onAdd: enqueue,
    onUpdate: (_, cur) => enqueue(cur),
    // Syncing a deleted Deployment finds nothing to do; it is queued all the same, as upstream.
    onDelete: (o) => enqueue(unwrap(o)),
  })
  replicaSets.addEventHandler({
    onAdd: (rs) => {
      if (rs.metadata?.deletionTimestamp != null) {
        const d = resolve(rs.metadata.namespace ?? '', controllerOf(rs))
        if (d !== undefined) enqueue(d)
        return
      }
      onReplicaSet(rs)
    },
    onUpdate: (old, cur) => {
      // A resync delivers the same version: nothing changed.
      if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return
      const oldRef = controllerOf(old)
      const curRef = controllerOf(cur)
      const refChanged = !semanticEqual(oldRef, curRef)
      if (refChanged && oldRef !== undefined) {
        const d = resolve(old.metadata?.namespace ?? '', oldRef)
        if (d !== undefined) enqueue(d)
      }
      if (curRef !== undefined) {
        const d = resolve(cur.metadata?.namespace ?? '', curRef)
        if (d !== undefined) enqueue(d)
        return
      }
      // An orphan: wake whoever might adopt it now.
      if (refChanged || !semanticEqual(old.metadata?.labels, cur.metadata?.labels)) for (const d of matchingDeployments(cur)) enqueue(d)
    },
    onDelete: (o) => {
      const rs = unwrap(o)
      const d = resolve(rs.metadata?.namespace ?? '', controllerOf(rs))
      if (d !== undefined) enqueue(d)
    },
  })
  // A Recreate rollout waits for the old pods to be gone: the last one going wakes it.
  pods.addEventHandler({
    onDelete: (o) => {
      const pod = unwrap(o)
      const ref = controllerOf(pod)
      if (ref?.kind !== 'ReplicaSet') return
      const ns = pod.metadata?.namespace ?? ''
      const rs = replicaSets.indexer.getByKey(`${ns}/${ref.name}`)
      if (rs === undefined || uidOf(rs) !== ref.uid) return
      const d = resolve(ns, controllerOf(rs))
      if (d === undefined || strategyType(d) !== 'Recreate') return
      const left = replicaSets.indexer.byIndex(CONTROLLER_UID_INDEX, uidOf(d)).reduce((n, r) => n + pods.indexer.byIndex(CONTROLLER_UID_INDEX, uidOf(r)).length, 0)
      if (left === 0) enqueue(d)
    },
  })

  async function syncDeployment(key: string): Promise<void> {
    const cached = deployments.indexer.getByKey(key)
    if (cached === undefined) return
    const ns = cached.metadata?.namespace ?? ''
    const name = cached.metadata?.name ?? ''
    const d = structuredClone(cached)

    const selector = selectorOf(d)
    if (selector === undefined) throw new Error(`deployment ${key} has invalid label selector`)
    // An empty selector (validation refuses it) would claim every ReplicaSet in the namespace.
    if (selector.empty()) {
      events.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.')
      if (observedGeneration(d) < generation(d)) {
        d.status = { ...rec(d.status), observedGeneration: generation(d) }
        await ctx.writer.resource(DEPLOYMENTS, ns).updateStatus(d).catch(() => undefined)
      }
      return
    }

    // Every ReplicaSet of the namespace: owned ones that stopped matching are released.
    const rsList = await claimObjects(
      { owner: d, apiVersion: 'apps/v1', kind: 'Deployment', selector, objects: ctx.writer.resource(REPLICASETS, ns), fetchOwner: () => ctx.client.resource(DEPLOYMENTS, ns).get(name) },
      replicaSets.indexer.byIndex('namespace', ns),
    )
    // Inactive pods count too: Recreate must see that no old pod is still running.
    const podMap: PodMap = new Map(rsList.map((rs) => [uidOf(rs), pods.indexer.byIndex(CONTROLLER_UID_INDEX, uidOf(rs)).filter((p) => selector.matches(p.metadata?.labels ?? {}))]))

    const sync = new DeploymentSync(
      {
        writer: ctx.writer,
        events,
        logger: ctx.logger,
        now,
        cachedReplicaSet: (namespace, rsName) => replicaSets.indexer.getByKey(`${namespace}/${rsName}`),
        requeueAfter: (ms) => queue.addAfter(key, ms),
        requeueRateLimited: () => queue.addRateLimited(key),
      },
      d,
      rsList,
    )
    if (d.metadata?.deletionTimestamp != null) return sync.syncStatusOnly()
    await sync.checkPausedConditions()
    if (paused(d)) return sync.sync()
    // Not re-entrant: nothing else happens until the annotation is cleared.
    if (rollbackTo(d) !== undefined) return rollback(sync)
    if (await sync.isScalingEvent()) return sync.sync()
    switch (strategyType(d)) {
      case 'Recreate':
        return rolloutRecreate(sync, podMap)
      case 'RollingUpdate':
        return rolloutRolling(sync)
      default:
        throw new Error(`unexpected deployment strategy type: ${strategyType(d)}`)
    }
  }

  return {
    name: 'deployment',
    async run(signal) {
      signal.addEventListener('abort', () => queue.shutDown(), { once: true })
      // A namespace being deleted refuses every creation: nothing to retry (upstream handleErr).
      const sync = (key: string): Promise<void> =>
        syncDeployment(key).catch((err: unknown) => {
          if (!isNamespaceTerminating(err)) throw err
        })
      await runWorkers(queue, opts.workers ?? 5, sync, {
        maxRetries: MAX_RETRIES,
        onError: (key, err, requeued) => {
          // A write from a cache a step behind is refused and retried: routine, not worth a warning.
          const level = isConflict(err) ? 'debug' : 'warn'
          ctx.logger[level]({ deployment: key, err: errorMessage(err), requeued }, 'deployment sync failed')
        },
      })
    },
  }
}
