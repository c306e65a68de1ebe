// The Endpoints controller (kube-controller-manager's "endpoint"): every Service with
// a selector has a core/v1 Endpoints of its name listing the pods it selects, ready
// ones under `addresses` and the others under `notReadyAddresses` (all under
// `addresses` with publishNotReadyAddresses), with the ports each pod offers
// (subsets.ts). The Endpoints carries the Service's labels (plus the headless label
// for a headless Service) and the last-change-trigger-time annotation; it goes when
// the Service goes. Services without a selector keep the Endpoints their users write.
// Level-triggered on Service keys: pod changes enqueue the Services selecting the pod
// before and after.
import {
  deletionHandlingKey,
  errorMessage,
  isForbidden,
  isNotFound,
  type KubeObject,
  metaNamespaceKey,
  RateLimitingQueue,
  runWorkers,
  splitMetaNamespaceKey,
  isNamespaceTerminating,
} from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { ENDPOINTS, PODS, SERVICES } from '../util/resources.js'
import { HEADLESS_LABEL, isServiceIPSet, managesEndpoints, podEventHandler, selectorMatches, serviceSelector } from './membership.js'
import { capacityAnnotationSetCorrectly, desiredSubsets, type EndpointSubset, OVER_CAPACITY_ANNOTATION, subsetsEqual, truncateSubsets } from './subsets.js'
import { formatTriggerTime, TRIGGER_TIME_ANNOTATION, TriggerTimeTracker } from './trigger-time.js'

/** Endpoints kept by leader election (client-go's resourcelock) have no Service and must stay. */
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader'
/** Upstream drops a Service from the queue after this many failed syncs in a row. */
const MAX_RETRIES = 15

export interface EndpointsControllerOptions {
  /** --concurrent-endpoint-syncs (default 5). */
  workers?: number
  /** --endpoint-updates-batch-period: how long pod changes wait to be synced together (default 0). */
  batchPeriodMs?: number
}

export function endpointsControllerWith(opts: EndpointsControllerOptions = {}): ControllerFactory {
  return (ctx) => newEndpointsController(ctx, opts)
}

export const endpointsController: ControllerFactory = endpointsControllerWith()

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {})
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => b !== undefined && Object.hasOwn(b, k) && b[k] === a![k])
}

/** The cache has not caught up with our own update yet: retried, not worth a warning. */
class StaleCacheError extends Error {}


function newEndpointsController(ctx: ControllerContext, opts: EndpointsControllerOptions): Controller {
  const services = ctx.informers.forResource(SERVICES)
  const pods = ctx.informers.forResource(PODS)
  const endpoints = ctx.informers.forResource(ENDPOINTS)
  const queue = new RateLimitingQueue<string>(undefined, { name: 'endpoint' })
  const events = ctx.events('endpoint-controller')
  const triggerTimes = new TriggerTimeTracker()
  // The resourceVersion an Endpoints had before our last update of it: seeing it in
  // the cache again means the cache has not caught up with that update yet.
  const staleVersions = new Map<string, string>()
  const batchMs = opts.batchPeriodMs ?? 0

  services.addEventHandler({
    onAdd: (s) => queue.add(metaNamespaceKey(s)),
    onUpdate: (_, s) => queue.add(metaNamespaceKey(s)),
    onDelete: (s) => queue.add(deletionHandlingKey(s)),
  })
  pods.addEventHandler(
    podEventHandler(
      (ns) => services.indexer.byIndex('namespace', ns),
      (key) => queue.addAfter(key, batchMs),
    ),
  )
  // Someone deleted an Endpoints: its Service (if any) gets it back.
  endpoints.addEventHandler({ onDelete: (e) => queue.add(deletionHandlingKey(e)) })

  async function sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key)
    const service = services.indexer.getByKey(key)
    if (service === undefined) {
      try {
        await ctx.writer.resource(ENDPOINTS, namespace).delete(name)
      } catch (err) {
        if (!isNotFound(err)) throw err
      }
      triggerTimes.deleteService(key)
      staleVersions.delete(key)
      return
    }
    if (!managesEndpoints(service)) return
    const selector = serviceSelector(service)!
    const selected = pods.indexer.byIndex('namespace', namespace).filter((p) => selectorMatches(selector, p.metadata?.labels))
    // Computed before deciding whether to write, so the tracker sees every sync.
    const triggerTime = triggerTimes.compute(key, service, selected)
    const subsets = desiredSubsets(service, selected)

    const current = endpoints.indexer.getByKey(key)
    if (current !== undefined && staleVersions.get(key) === current.metadata?.resourceVersion) {
      throw new StaleCacheError(`endpoints informer cache is out of date, resource version ${String(current.metadata?.resourceVersion)} already processed for endpoints ${key}`)
    }
    const serviceLabels = service.metadata?.labels ?? {}
    if (current !== undefined) {
      const currentLabels = { ...(current.metadata?.labels ?? {}) }
      delete currentLabels[HEADLESS_LABEL]
      const currentSubsets = (current.subsets ?? []) as EndpointSubset[]
      if (subsetsEqual(currentSubsets, subsets) && sameLabels(currentLabels, serviceLabels) && capacityAnnotationSetCorrectly(current.metadata?.annotations, currentSubsets)) return
    }

    const annotations = { ...(current?.metadata?.annotations ?? {}) }
    if (triggerTime !== undefined) annotations[TRIGGER_TIME_ANNOTATION] = formatTriggerTime(triggerTime)
    else delete annotations[TRIGGER_TIME_ANNOTATION]
    const capped = truncateSubsets(subsets)
    if (capped.truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated'
    else delete annotations[OVER_CAPACITY_ANNOTATION]
    const labels: Record<string, string> = { ...serviceLabels }
    if (isServiceIPSet(service)) delete labels[HEADLESS_LABEL]
    else labels[HEADLESS_LABEL] = ''

    const next: KubeObject = {
      ...(current ?? {}),
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { ...(current?.metadata ?? { name, namespace }), labels, annotations },
    }
    if (capped.subsets.length > 0) next.subsets = capped.subsets
    else delete next.subsets

    const client = ctx.writer.resource(ENDPOINTS, namespace)
    try {
      if (current === undefined) {
        await client.create(next)
        return
      }
      const updated = await client.update(next)
      if (updated.metadata?.resourceVersion !== current.metadata?.resourceVersion) staleVersions.set(key, current.metadata?.resourceVersion ?? '')
    } catch (err) {
      // A namespace being deleted refuses new objects: nothing more to do there.
      if (current === undefined && isForbidden(err) && isNamespaceTerminating(err)) return
      if (current === undefined) events.event(next, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${namespace}/${name}: ${errorMessage(err)}`)
      else events.event(next, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${namespace}/${name}: ${errorMessage(err)}`)
      throw err
    }
  }

  return {
    name: 'endpoint',
    async run(signal) {
      signal.addEventListener('abort', () => queue.shutDown(), { once: true })
      // Endpoints whose Service went while no controller was running are found once
      // at start: syncing their key deletes them (upstream checkLeftoverEndpoints).
      for (const e of endpoints.indexer.list()) {
        if (e.metadata?.annotations?.[LEADER_ANNOTATION] === undefined) queue.add(metaNamespaceKey(e))
      }
      await runWorkers(queue, opts.workers ?? 5, sync, {
        maxRetries: MAX_RETRIES,
        onError: (key, err, requeued) => {
          if (err instanceof StaleCacheError && requeued) ctx.logger.debug({ service: key }, 'endpoints cache behind our update, retrying')
          else ctx.logger.warn({ service: key, err: errorMessage(err), requeued }, 'endpoints sync failed')
        },
      })
    },
  }
}
