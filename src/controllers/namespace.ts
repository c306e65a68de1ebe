// The namespace controller (kube-controller-manager's "namespace"): a namespace being
// deleted is emptied of every namespaced object, then loses its `kubernetes`
// finalizer through namespaces/<name>/finalize, at which point the API server deletes
// it. Content that takes time (pods in their grace period, objects held by
// finalizers) is waited for with a requeue after about half the estimated time, and
// the namespace's status conditions say what remains, with upstream's types, reasons
// and messages, because `kubectl describe namespace` is where users look.
import { metaTime } from '../api/time.js'
import { RESOURCES, type ResourceType } from '../api/resources.js'
import {
  BucketRateLimiter,
  errorMessage,
  isConflict,
  isMethodNotAllowed,
  isNotFound,
  ItemExponentialFailureRateLimiter,
  type KubeObject,
  MaxOfRateLimiter,
  RateLimitingQueue,
  runWorkers,
} from '../client/index.js'
import type { Controller, ControllerContext } from './types.js'

const NAMESPACES = RESOURCES.find((r) => r.group === '' && r.kind === 'Namespace')!
const FINALIZER_KUBERNETES = 'kubernetes'
/** How long an object with finalizers is assumed to need (upstream's finalizerEstimateSeconds). */
const FINALIZER_ESTIMATE_SECONDS = 15
/** Upstream's namespace sync period: every namespace is looked at again this often. */
const RESYNC_MS = 5 * 60_000
/** kube-controller-manager's --concurrent-namespace-syncs is 10. */
const WORKERS = 3

export type NamespaceConditionType =
  | 'NamespaceDeletionDiscoveryFailure'
  | 'NamespaceDeletionGroupVersionParsingFailure'
  | 'NamespaceDeletionContentFailure'
  | 'NamespaceContentRemaining'
  | 'NamespaceFinalizersRemaining'

export interface NamespaceCondition {
  type: NamespaceConditionType
  status: 'True' | 'False'
  lastTransitionTime: string
  reason: string
  message: string
}

/** The conditions the namespace controller owns, and what each says when all is well. */
const CONDITION_TYPES: readonly NamespaceConditionType[] = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
]
const OK: Record<NamespaceConditionType, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
}

/** What is left of one resource in the namespace after a round of deletes. */
interface ResourceRemaining {
  /** Seconds the remaining objects are expected to need. */
  estimate: number
  remaining: number
  finalizers: Map<string, number>
}

/**
 * The conditions of one deletion round, merged into the namespace's status as
 * upstream's namespaceConditionUpdater: every owned type present, the "ok" variant
 * when nothing failed, lastTransitionTime moved only when the status flips.
 */
export function updateConditions(
  existing: readonly NamespaceCondition[],
  failures: { contentErrors: string[]; remainingByResource: Map<string, number>; remainingByFinalizer: Map<string, number> },
): { conditions: NamespaceCondition[]; changed: boolean } {
  const fresh = new Map<NamespaceConditionType, NamespaceCondition>()
  const ts = metaTime()
  if (failures.contentErrors.length > 0) {
    const msgs = [...failures.contentErrors].sort()
    fresh.set('NamespaceDeletionContentFailure', {
      type: 'NamespaceDeletionContentFailure',
      status: 'True',
      lastTransitionTime: ts,
      reason: 'ContentDeletionFailed',
      message: `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(', ')}`,
    })
  }
  const byResource = [...failures.remainingByResource].filter(([, n]) => n > 0).map(([r, n]) => `${r} has ${n} resource instances`)
  if (failures.remainingByResource.size > 0) {
    fresh.set('NamespaceContentRemaining', {
      type: 'NamespaceContentRemaining',
      status: 'True',
      lastTransitionTime: ts,
      reason: 'SomeResourcesRemain',
      message: `Some resources are remaining: ${byResource.sort().join(', ')}`,
    })
  }
  const byFinalizer = [...failures.remainingByFinalizer].filter(([, n]) => n > 0).map(([f, n]) => `${f} in ${n} resource instances`)
  if (failures.remainingByFinalizer.size > 0) {
    fresh.set('NamespaceFinalizersRemaining', {
      type: 'NamespaceFinalizersRemaining',
      status: 'True',
      lastTransitionTime: ts,
      reason: 'SomeFinalizerRemain',
      message: `Some finalizers are remaining: ${byFinalizer.sort().join(', ')}`,
    })
  }
  const conditions = existing.map((c) => ({ ...c }))
  let changed = false
  for (const type of CONDITION_TYPES) {
    const want = fresh.get(type) ?? { type, status: 'False' as const, lastTransitionTime: ts, ...OK[type] }
    const have = conditions.find((c) => c.type === type)
    if (have === undefined) {
      conditions.push(want)
      changed = true
    } else if (have.status !== want.status || have.reason !== want.reason || have.message !== want.message) {
      if (have.status !== want.status) have.lastTransitionTime = ts
      have.status = want.status
      have.reason = want.reason
      have.message = want.message
      changed = true
    }
  }
  return { conditions, changed }
}

/** `/v1, Resource=pods`, as a GroupVersionResource prints in upstream's messages. */
function gvrString(rt: ResourceType): string {
  return `${rt.group}/${rt.version}, Resource=${rt.plural}`
}

/** Every namespaced resource that can be deleted (discovery is our own catalog, so it never fails). */
function deletableNamespacedResources(): ResourceType[] {
  return RESOURCES.filter((rt) => rt.namespaced && rt.verbs.includes('delete'))
}

function isTerminal(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase
  return phase === 'Succeeded' || phase === 'Failed'
}

export function namespaceController(ctx: ControllerContext): Controller {
  const namespaces = ctx.informers.forResource(NAMESPACES)
  // Upstream's nsControllerRateLimiter: per item 5 ms doubling to 60 s, overall 10 qps.
  const queue = new RateLimitingQueue<string>(new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter(5, 60_000), new BucketRateLimiter(10, 100)), {
    name: 'namespace',
  })
  const log = ctx.logger
  const enqueue = (ns: KubeObject): void => {
    const name = ns.metadata?.name
    if (name !== undefined && ns.metadata?.deletionTimestamp != null) queue.add(name)
  }
  namespaces.addEventHandler({ onAdd: enqueue, onUpdate: (_, ns) => enqueue(ns) }, RESYNC_MS)
  const nsClient = ctx.writer.resource(NAMESPACES)

  /** Writes the namespace through `write`, reading it again after a conflict; undefined once it is gone. */
  const retryOnConflict = async (ns: KubeObject, write: (ns: KubeObject) => Promise<KubeObject>): Promise<KubeObject | undefined> => {
    let current = ns
    for (;;) {
      try {
        return await write(current)
      } catch (err) {
        if (isNotFound(err)) return undefined
        if (!isConflict(err)) throw err
      }
      const latest = await ctx.client
        .resource(NAMESPACES)
        .get(String(current.metadata?.name))
        .catch((err: unknown) => {
          if (isNotFound(err)) return undefined
          throw err
        })
      if (latest === undefined) return undefined
      if (latest.metadata?.uid !== current.metadata?.uid) throw new Error('namespace uid has changed across retries')
      current = latest
    }
  }

  /** The longest grace period of the namespace's running pods, or 0 once that long has passed since the deletion began. */
  const estimatePods = async (namespace: string, deletedAt: number): Promise<number> => {
    const pods = await ctx.client.resource(RESOURCES.find((r) => r.group === '' && r.kind === 'Pod')!, namespace).listAll()
    let estimate = 0
    for (const pod of pods.items) {
      if (isTerminal(pod)) continue
      const grace = (pod.spec as { terminationGracePeriodSeconds?: number } | undefined)?.terminationGracePeriodSeconds
      if (typeof grace === 'number' && grace > estimate) estimate = grace
    }
    return Date.now() - deletedAt >= estimate * 1000 ? 0 : estimate
  }

  /** Deletes every object of one resource in the namespace; says what remains. Throws when objects remain for no known reason. */
  const deleteResource = async (rt: ResourceType, namespace: string, deletedAt: number): Promise<ResourceRemaining & { error?: Error }> => {
    const estimate = rt.group === '' && rt.kind === 'Pod' ? await estimatePods(namespace, deletedAt) : 0
    const writer = ctx.writer.resource(rt, namespace)
    let eachItem = !rt.verbs.includes('deletecollection')
    if (!eachItem) {
      try {
        await writer.deleteCollection({ propagationPolicy: 'Background' })
      } catch (err) {
        if (!isMethodNotAllowed(err) && !isNotFound(err)) throw err
        eachItem = true
      }
    }
    if (eachItem) {
      const list = await ctx.client.resource(rt, namespace).listAll()
      for (const item of list.items) {
        try {
          await writer.delete(String(item.metadata?.name), { propagationPolicy: 'Background' })
        } catch (err) {
          if (!isNotFound(err)) throw err
        }
      }
    }
    const left = await ctx.client.resource(rt, namespace).listAll()
    const finalizers = new Map<string, number>()
    for (const item of left.items) for (const f of item.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1)
    const remaining = left.items.length
    if (remaining === 0) return { estimate: 0, remaining, finalizers }
    if (estimate !== 0) return { estimate, remaining, finalizers }
    // Finalizers are a normal wait: give their controllers (the garbage collector, …) time.
    if (finalizers.size > 0) return { estimate: FINALIZER_ESTIMATE_SECONDS, remaining, finalizers }
    return { estimate: 0, remaining, finalizers, error: new Error(`unexpected items still remain in namespace: ${namespace} for gvr: ${gvrString(rt)}`) }
  }

  /** One round over every resource; returns the estimate in seconds until the content is gone (0: it is). */
  const deleteAllContent = async (ns: KubeObject): Promise<number> => {
    const name = String(ns.metadata?.name)
    const deletedAt = Date.parse(String(ns.metadata?.deletionTimestamp))
    let estimate = 0
    const contentErrors: string[] = []
    const remainingByResource = new Map<string, number>()
    const remainingByFinalizer = new Map<string, number>()
    for (const rt of deletableNamespacedResources()) {
      let r: ResourceRemaining & { error?: Error }
      try {
        r = await deleteResource(rt, name, deletedAt)
      } catch (err) {
        contentErrors.push(errorMessage(err))
        continue
      }
      if (r.error !== undefined) contentErrors.push(r.error.message)
      estimate = Math.max(estimate, r.estimate)
      if (r.remaining > 0) {
        remainingByResource.set(`${rt.plural}.${rt.group}`, r.remaining)
        for (const [f, n] of r.finalizers) remainingByFinalizer.set(f, (remainingByFinalizer.get(f) ?? 0) + n)
      }
    }
    // Always written when it changed: a condition that cleared must say so too.
    const status = (ns.status ?? {}) as { conditions?: NamespaceCondition[] }
    const { conditions, changed } = updateConditions(status.conditions ?? [], { contentErrors, remainingByResource, remainingByFinalizer })
    if (changed) {
      try {
        await nsClient.updateStatus({ ...ns, status: { ...status, conditions } })
      } catch (err) {
        log.warn({ namespace: name, err: errorMessage(err) }, 'namespace status conditions not updated')
      }
    }
    if (contentErrors.length > 0) throw new Error(contentErrors.length === 1 ? contentErrors[0] : `[${contentErrors.join(', ')}]`)
    return estimate
  }

  const sync = async (name: string): Promise<void> => {
    if (namespaces.get(name) === undefined) return
    // Several parties edit a terminating namespace: start from its latest state.
    let ns: KubeObject | undefined
    try {
      ns = await ctx.client.resource(NAMESPACES).get(name)
    } catch (err) {
      if (isNotFound(err)) return
      throw err
    }
    if (ns.metadata?.deletionTimestamp == null) return
    ns = await retryOnConflict(ns, async (cur) => {
      if ((cur.status as { phase?: string } | undefined)?.phase === 'Terminating') return cur
      return nsClient.updateStatus({ ...cur, status: { ...((cur.status ?? {}) as object), phase: 'Terminating' } })
    })
    if (ns === undefined || ns.metadata?.deletionTimestamp == null) return
    const specFinalizers = ((ns.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).slice()
    if (!specFinalizers.includes(FINALIZER_KUBERNETES)) return

    const estimate = await deleteAllContent(ns)
    if (estimate > 0) {
      const after = Math.floor(estimate / 2) + 1
      log.debug({ namespace: name, estimate }, 'content remains in the namespace; looking again later')
      queue.addAfter(name, after * 1000)
      return
    }
    // Everything is gone: our finalizer goes, and with the last one the namespace.
    await retryOnConflict(ns, (cur) => {
      const finalizers = [...new Set(((cur.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES))].sort()
      const body = { apiVersion: 'v1', kind: 'Namespace', metadata: cur.metadata, spec: { ...((cur.spec ?? {}) as object), finalizers } }
      return ctx.writer.requestJson<KubeObject>({ method: 'PUT', path: `/api/v1/namespaces/${encodeURIComponent(name)}/finalize`, body })
    })
    log.info({ namespace: name }, 'namespace content removed; finalized')
  }

  return {
    name: 'namespace',
    async run(signal) {
      if (signal.aborted) return
      signal.addEventListener('abort', () => queue.shutDown(), { once: true })
      await runWorkers(queue, WORKERS, sync, {
        onError: (name, err) => log.warn({ namespace: name, err: errorMessage(err) }, 'namespace deletion failed; will retry'),
      })
    },
  }
}
