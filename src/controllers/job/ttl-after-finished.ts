// The TTL-after-finished controller (kube-controller-manager's "ttl-after-finished"):
// a finished Job with spec.ttlSecondsAfterFinished is deleted (its pods with it,
// propagation Background) that many seconds after its Complete or Failed condition
// appeared. Before deleting, the Job is read again from the API: a TTL changed or the
// Job re-created meanwhile must not be acted on from a stale cache.
import { errorMessage, isNotFound, type KubeObject, metaNamespaceKey, RateLimitingQueue, runWorkers, splitMetaNamespaceKey } from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { JOBS } from '../util/resources.js'
import type { JobStatus } from './status.js'

export interface TtlAfterFinishedOptions {
  now?: () => Date
}

/** When the Job may be deleted (ms since epoch), or undefined when it has no TTL or has not finished. */
export function expiresAt(job: KubeObject): number | undefined {
  const ttl = (job.spec as { ttlSecondsAfterFinished?: unknown } | undefined)?.ttlSecondsAfterFinished
  if (typeof ttl !== 'number' || job.metadata?.deletionTimestamp !== undefined) return undefined
  const finished = ((job.status ?? {}) as JobStatus).conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')
  if (finished === undefined) return undefined
  const at = Date.parse(finished.lastTransitionTime ?? '')
  return Number.isFinite(at) ? at + ttl * 1000 : undefined
}

export function ttlAfterFinishedControllerWith(opts: TtlAfterFinishedOptions = {}): ControllerFactory {
  return (ctx) => newTtlController(ctx, opts)
}

export const ttlAfterFinishedController: ControllerFactory = ttlAfterFinishedControllerWith()

function newTtlController(ctx: ControllerContext, opts: TtlAfterFinishedOptions): Controller {
  const now = opts.now ?? (() => new Date())
  const jobs = ctx.informers.forResource(JOBS)
  const queue = new RateLimitingQueue<string>(undefined, { name: 'ttl_jobs_to_delete' })
  const enqueue = (j: KubeObject): void => {
    if (expiresAt(j) !== undefined) queue.add(metaNamespaceKey(j))
  }
  jobs.addEventHandler({ onAdd: enqueue, onUpdate: (_, j) => enqueue(j) })

  const sync = async (key: string): Promise<void> => {
    const cached = jobs.indexer.getByKey(key)
    if (cached === undefined) return
    const at = expiresAt(cached)
    if (at === undefined) return
    const wait = at - now().getTime()
    if (wait > 0) {
      queue.addAfter(key, wait)
      return
    }
    const { namespace, name } = splitMetaNamespaceKey(key)
    let fresh: KubeObject
    try {
      fresh = await ctx.client.resource(JOBS, namespace).get(name)
    } catch (err) {
      if (isNotFound(err)) return
      throw err
    }
    const freshAt = expiresAt(fresh)
    if (freshAt === undefined) return
    if (freshAt > now().getTime()) {
      queue.addAfter(key, freshAt - now().getTime())
      return
    }
    try {
      await ctx.writer.resource(JOBS, namespace).delete(name, {
        propagationPolicy: 'Background',
        preconditions: { uid: fresh.metadata?.uid, resourceVersion: fresh.metadata?.resourceVersion },
      })
    } catch (err) {
      if (isNotFound(err)) return
      throw err
    }
  }

  return {
    name: 'ttl-after-finished',
    async run(signal) {
      signal.addEventListener('abort', () => queue.shutDown(), { once: true })
      await runWorkers(queue, 2, sync, { onError: (key, err) => ctx.logger.warn({ job: key, err: errorMessage(err) }, 'ttl-after-finished sync failed') })
    },
  }
}
