// The ResourceQuota controller (kube-controller-manager's "resourcequota"): keeps
// every quota's status.hard equal to spec.hard and its status.used equal to what the
// objects of its namespace use, counted with the same evaluators quota admission
// charges with, so what the controller records is what admission enforces.
//
// A quota is recounted in full when it appears, when its spec changes, every sync
// period (--resource-quota-sync-period, 5 min) and whenever a change to an object it
// counts gives usage back (see replenishment.ts). Quotas whose status is behind their
// spec wait in a queue of their own, ahead of routine recounts, as upstream's
// missingUsageQueue. A status is written only when it changes, guarded by the quota's
// resourceVersion: a charge admission made meanwhile makes the write conflict, and the
// retry counts again from the newer quota.
import { semanticEqual } from '../../api/json.js'
import { evaluatorFor } from '../../api/quota/evaluators.js'
import { specHard } from '../../api/quota/quota-object.js'
import { calculateUsage, evaluatorsCounting } from '../../api/quota/usage.js'
import {
  deletionHandlingKey,
  errorMessage,
  isConflict,
  isNotFound,
  type KubeObject,
  metaNamespaceKey,
  NAMESPACE_INDEX,
  RateLimitingQueue,
  runWorkers,
  waitForCacheSync,
} from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { CONFIGMAPS, PERSISTENT_VOLUME_CLAIMS, PODS, RESOURCE_QUOTAS, SECRETS, SERVICES } from '../util/resources.js'
import { QuotaMonitors } from './monitors.js'
import { countsKind, lowersUsage, usageChange } from './replenishment.js'
import { needsPriority, nextStatus } from './status.js'

export interface ResourceQuotaControllerOptions {
  /** --resource-quota-sync-period: how often every quota is recounted in full (upstream 5 min). */
  syncPeriodMs?: number
  /** --concurrent-resource-quota-syncs: workers per queue (upstream 5). */
  workers?: number
  /** Wall-clock time, for pods past their deletion grace period. */
  now?: () => Date
}

/** Watched from the start: what quotas name most. */
const ALWAYS_WATCHED = [PODS, SERVICES, PERSISTENT_VOLUME_CLAIMS, CONFIGMAPS, SECRETS, RESOURCE_QUOTAS]

export function resourceQuotaControllerWith(opts: ResourceQuotaControllerOptions = {}): ControllerFactory {
  return (ctx) => newResourceQuotaController(ctx, opts)
}

export const resourceQuotaController: ControllerFactory = resourceQuotaControllerWith()

function newResourceQuotaController(ctx: ControllerContext, opts: ResourceQuotaControllerOptions): Controller {
  const syncPeriodMs = opts.syncPeriodMs ?? 5 * 60_000
  const workers = opts.workers ?? 5
  const now = opts.now ?? (() => new Date())
  const quotas = ctx.informers.forResource(RESOURCE_QUOTAS)
  const primary = new RateLimitingQueue<string>(undefined, { name: 'resourcequota_primary' })
  const priority = new RateLimitingQueue<string>(undefined, { name: 'resourcequota_priority' })

  const enqueue = (q: KubeObject): void => (needsPriority(q) ? priority : primary).add(metaNamespaceKey(q))
  quotas.addEventHandler({
    onAdd: enqueue,
    // Status writes (ours, admission's charges) are not a reason to recount: those
    // happen on spec changes, replenishment and the periodic resync.
    onUpdate: (old, cur) => {
      if (!semanticEqual(old.spec, cur.spec) || needsPriority(cur)) enqueue(cur)
    },
    onDelete: (q) => primary.add(deletionHandlingKey(q)),
  })

  const namespaceQuotas = (obj: KubeObject): KubeObject[] => quotas.indexer.byIndex(NAMESPACE_INDEX, obj.metadata?.namespace ?? '')
  const monitors = new QuotaMonitors(ctx.informers, {
    onUpdate(ev, old, cur) {
      const candidates = namespaceQuotas(cur).filter((q) => countsKind(q, ev))
      if (candidates.length === 0) return
      const change = usageChange(ev, old, cur, now())
      for (const q of candidates) if (lowersUsage(q, ev, change)) primary.add(metaNamespaceKey(q))
    },
    onDelete(ev, obj) {
      for (const q of namespaceQuotas(obj)) if (countsKind(q, ev)) primary.add(metaNamespaceKey(q))
    },
  })
  for (const rt of ALWAYS_WATCHED) monitors.informer(evaluatorFor(rt)!)

  const stopped = new AbortController()

  async function sync(key: string): Promise<void> {
    const quota = quotas.indexer.getByKey(key)
    if (quota === undefined) return
    const needed = evaluatorsCounting([...specHard(quota).keys()]).map(({ ev }) => monitors.informer(ev))
    // An informer just created for a kind this quota names lists it first.
    if (!(await waitForCacheSync(needed, stopped.signal))) return
    const namespace = quota.metadata?.namespace ?? ''
    const counted = calculateUsage(quota, (ev) => monitors.informer(ev).indexer.byIndex(NAMESPACE_INDEX, namespace), now())
    const status = nextStatus(quota, counted)
    if (status === undefined) return
    try {
      await ctx.writer.resource(RESOURCE_QUOTAS, namespace).updateStatus({ ...quota, status })
    } catch (err) {
      if (isNotFound(err)) return
      throw err
    }
  }

  return {
    name: 'resourcequota',
    async run(signal) {
      const timer = setInterval(() => {
        for (const key of quotas.indexer.listKeys()) primary.add(key)
      }, syncPeriodMs)
      const stop = (): void => {
        clearInterval(timer)
        stopped.abort()
        primary.shutDown()
        priority.shutDown()
      }
      if (signal.aborted) stop()
      else signal.addEventListener('abort', stop, { once: true })
      const onError = (key: string, err: unknown): void => {
        // A conflict is admission charging the quota meanwhile: expected, and retried.
        const log = isConflict(err) ? ctx.logger.debug.bind(ctx.logger) : ctx.logger.warn.bind(ctx.logger)
        log({ quota: key, err: errorMessage(err) }, 'resource quota sync failed')
      }
      await Promise.all([runWorkers(primary, workers, sync, { onError }), runWorkers(priority, workers, sync, { onError })])
    },
  }
}
