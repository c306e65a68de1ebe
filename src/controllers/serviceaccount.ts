// The ServiceAccount controller (kube-controller-manager's "serviceaccount"): every
// active namespace has a `default` ServiceAccount, recreated if someone deletes it.
import { findResource } from '../api/resources.js'
import { ApiError, DeletedFinalStateUnknown, errorMessage, type KubeObject, RateLimitingQueue, runWorkers, isNamespaceTerminating } from '../client/index.js'
import type { Controller, ControllerContext } from './types.js'

const NAMESPACES = findResource('', 'v1', 'namespaces')!
const SERVICE_ACCOUNTS = findResource('', 'v1', 'serviceaccounts')!
const DEFAULT_NAMES = ['default']

export function serviceAccountController(ctx: ControllerContext): Controller {
  const namespaces = ctx.informers.forResource(NAMESPACES)
  const accounts = ctx.informers.forResource(SERVICE_ACCOUNTS)
  const queue = new RateLimitingQueue<string>(undefined, { name: 'serviceaccount' })
  const enqueue = (ns: string | undefined): void => {
    if (ns !== undefined && ns !== '') queue.add(ns)
  }
  namespaces.addEventHandler({ onAdd: (n) => enqueue(n.metadata?.name), onUpdate: (_, n) => enqueue(n.metadata?.name) })
  accounts.addEventHandler({
    onDelete: (sa) => {
      const obj: KubeObject = sa instanceof DeletedFinalStateUnknown ? sa.obj : sa
      if (DEFAULT_NAMES.includes(obj.metadata?.name ?? '')) enqueue(obj.metadata?.namespace)
    },
  })

  const sync = async (ns: string): Promise<void> => {
    const namespace = namespaces.indexer.getByKey(ns)
    if (namespace === undefined || namespace.metadata?.deletionTimestamp !== undefined) return
    if ((namespace.status as { phase?: string } | undefined)?.phase === 'Terminating') return
    for (const name of DEFAULT_NAMES) {
      if (accounts.indexer.getByKey(`${ns}/${name}`) !== undefined) continue
      try {
        await ctx.writer.resource(SERVICE_ACCOUNTS, ns).create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } })
      } catch (err) {
        // Created meanwhile (by us before the informer saw it, or by a user): done.
        if (err instanceof ApiError && err.code === 409) continue
        // A namespace being terminated refuses new content: nothing to do there.
        if (isNamespaceTerminating(err)) continue
        throw err
      }
    }
  }

  return {
    name: 'serviceaccount',
    async run(signal) {
      signal.addEventListener('abort', () => queue.shutDown(), { once: true })
      await runWorkers(queue, 2, sync, { onError: (ns, err) => ctx.logger.warn({ namespace: ns, err: errorMessage(err) }, 'serviceaccount sync failed') })
    },
  }
}
