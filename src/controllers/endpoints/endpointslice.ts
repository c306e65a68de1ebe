// The EndpointSlice controller (kube-controller-manager's "endpointslice"): every
// Service with a selector has discovery.k8s.io/v1 EndpointSlices, owned by it (the
// garbage collector removes them with it), labelled with its name and managed-by
// endpointslice-controller.k8s.io, listing the pods it selects with their
// conditions, node and zone (slice-reconciler.ts plans the writes). Terminating pods
// stay listed, serving but not ready, so proxies can drain them. Services without a
// selector keep the slices their users write. Level-triggered on Service keys; our
// own slice writes are told apart from others' by the tracker.
import {
  BucketRateLimiter,
  DeletedFinalStateUnknown,
  deletionHandlingKey,
  errorMessage,
  isNotFound,
  ItemExponentialFailureRateLimiter,
  type KubeObject,
  MaxOfRateLimiter,
  metaNamespaceKey,
  RateLimitingQueue,
  runWorkers,
  splitMetaNamespaceKey,
  isNamespaceTerminating,
} from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { ENDPOINT_SLICES, NODES, PODS, SERVICES } from '../util/resources.js'
import { managesEndpoints, podEventHandler, selectorMatches, serviceSelector } from './membership.js'
import { CONTROLLER_NAME, DEFAULT_MAX_ENDPOINTS_PER_SLICE, MANAGED_BY_LABEL, planEndpointSlices, type SlicePlan } from './slice-reconciler.js'
import { EndpointSliceTracker, SERVICE_NAME_LABEL } from './slice-tracker.js'
import { TriggerTimeTracker } from './trigger-time.js'

const MAX_RETRIES = 15
/** Slice changes made by others wait at least this long, so several are handled in one sync. */
const SLICE_CHANGE_MIN_SYNC_DELAY_MS = 1000
const SERVICE_INDEX = 'service'

export interface EndpointSliceControllerOptions {
  /** --concurrent-service-endpoint-syncs (default 5). */
  workers?: number
  /** --max-endpoints-per-slice (default 100, at most 1000). */
  maxEndpointsPerSlice?: number
  /** --endpointslice-updates-batch-period (default 0). */
  batchPeriodMs?: number
}

export function endpointSliceControllerWith(opts: EndpointSliceControllerOptions = {}): ControllerFactory {
  const max = opts.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE
  if (!Number.isInteger(max) || max < 1 || max > 1000) throw new Error(`max-endpoints-per-slice must be between 1 and 1000, got ${max}`)
  return (ctx) => newEndpointSliceController(ctx, { ...opts, maxEndpointsPerSlice: max })
}

export const endpointSliceController: ControllerFactory = endpointSliceControllerWith()

function managedByUs(slice: KubeObject): boolean {
  return slice.metadata?.labels?.[MANAGED_BY_LABEL] === CONTROLLER_NAME
}


/** The cache has not caught up with our own writes yet: retried, not worth a warning. */
class StaleCacheError extends Error {}

/** Several errors read as upstream's aggregate: one alone, or `[a, b]`. */
function aggregate(messages: string[]): string {
  return messages.length === 1 ? messages[0]! : `[${messages.join(', ')}]`
}

function newEndpointSliceController(ctx: ControllerContext, opts: EndpointSliceControllerOptions): Controller {
  const services = ctx.informers.forResource(SERVICES)
  const pods = ctx.informers.forResource(PODS)
  const nodes = ctx.informers.forResource(NODES)
  const slices = ctx.informers.forResource(ENDPOINT_SLICES, {
    indexers: {
      [SERVICE_INDEX]: (s: KubeObject): string[] => {
        const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL]
        return svc === undefined || svc === '' ? [] : [`${s.metadata?.namespace ?? ''}/${svc}`]
      },
    },
  })
  // Upstream backs off slower than the default (1 s doubling to 1000 s): a sync can
  // mean many slice writes, and retries should not swamp the API server.
  const queue = new RateLimitingQueue<string>(new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter(1000, 1_000_000), new BucketRateLimiter(10, 100)), {
    name: 'endpoint_slice',
  })
  const events = ctx.events('endpoint-slice-controller')
  const tracker = new EndpointSliceTracker()
  const triggerTimes = new TriggerTimeTracker()
  const batchMs = opts.batchPeriodMs ?? 0
  const max = opts.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE

  const queueServiceOf = (slice: KubeObject): void => {
    const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL]
    if (svc === undefined || svc === '') return
    queue.addAfter(`${slice.metadata?.namespace ?? ''}/${svc}`, Math.max(SLICE_CHANGE_MIN_SYNC_DELAY_MS, batchMs))
  }

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
  slices.addEventHandler({
    onAdd: (s) => {
      if (managedByUs(s) && tracker.shouldSync(s)) queueServiceOf(s)
    },
    onUpdate: (old, s) => {
      // A relabelled slice may have moved between Services: both resync.
      if (old.metadata?.labels?.[SERVICE_NAME_LABEL] !== s.metadata?.labels?.[SERVICE_NAME_LABEL]) {
        queueServiceOf(s)
        queueServiceOf(old)
        return
      }
      if (managedByUs(old) !== managedByUs(s) || (managedByUs(s) && tracker.shouldSync(s))) queueServiceOf(s)
    },
    onDelete: (d) => {
      const s = d instanceof DeletedFinalStateUnknown ? d.obj : d
      // A slice someone else deleted is put back.
      if (managedByUs(s) && tracker.has(s) && !tracker.handleDeletion(s)) queueServiceOf(s)
    },
  })

  async function apply(service: KubeObject, plan: SlicePlan): Promise<void> {
    const ns = service.metadata?.namespace ?? ''
    const svc = `${ns}/${service.metadata?.name ?? ''}`
    const client = ctx.writer.resource(ENDPOINT_SLICES, ns)
    for (const slice of plan.create) {
      try {
        tracker.update(await client.create(slice))
      } catch (err) {
        // A namespace being deleted refuses new slices: nothing more to do there.
        if (isNamespaceTerminating(err)) return
        throw new Error(`failed to create EndpointSlice for Service ${svc}: ${errorMessage(err)}`, { cause: err })
      }
    }
    for (const slice of plan.update) {
      try {
        tracker.update(await client.update(slice))
      } catch (err) {
        throw new Error(`failed to update ${slice.metadata?.name ?? ''} EndpointSlice for Service ${svc}: ${errorMessage(err)}`, { cause: err })
      }
    }
    for (const slice of plan.delete) {
      try {
        await deleteSlice(service, slice)
      } catch (err) {
        throw new Error(`failed to delete ${slice.metadata?.name ?? ''} EndpointSlice for Service ${svc}: ${errorMessage(err)}`, { cause: err })
      }
    }
  }

  async function deleteSlice(service: KubeObject, slice: KubeObject): Promise<void> {
    try {
      await ctx.writer.resource(ENDPOINT_SLICES, service.metadata?.namespace ?? '').delete(slice.metadata?.name ?? '')
    } catch (err) {
      if (isNotFound(err)) return
      throw err
    }
    tracker.expectDeletion(slice)
  }

  async function sync(key: string): Promise<void> {
    const service = services.indexer.getByKey(key)
    if (service === undefined) {
      // Its slices go with it: the garbage collector follows their ownerReferences.
      triggerTimes.deleteService(key)
      tracker.deleteService(key)
      return
    }
    if (!managesEndpoints(service)) return
    const { namespace } = splitMetaNamespaceKey(key)
    const selector = serviceSelector(service)!
    const selected = pods.indexer.byIndex('namespace', namespace).filter((p) => selectorMatches(selector, p.metadata?.labels))
    const existing = slices.indexer.byIndex(SERVICE_INDEX, key).filter((s) => managedByUs(s) && (s.metadata?.deletionTimestamp ?? null) === null)
    if (tracker.staleSlices(service, existing)) throw new StaleCacheError('EndpointSlice informer cache is out of date')
    const triggerTime = triggerTimes.compute(key, service, selected)

    const result = planEndpointSlices({
      service,
      pods: selected,
      existing,
      node: (name) => (name === '' ? undefined : nodes.indexer.getByKey(name)),
      maxEndpointsPerSlice: max,
      triggerTime,
    })
    const errors = [...result.errors]
    for (const plan of result.plans) {
      try {
        await apply(service, plan)
      } catch (err) {
        errors.push(errorMessage(err))
      }
    }
    for (const slice of result.unsupported) {
      try {
        await deleteSlice(service, slice)
      } catch (err) {
        errors.push(`error deleting ${slice.metadata?.name ?? ''} EndpointSlice for Service ${key}: ${errorMessage(err)}`)
      }
    }
    if (errors.length > 0) {
      const message = aggregate(errors)
      events.event(service, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${key}: ${message}`)
      throw new Error(message)
    }
  }

  return {
    name: 'endpointslice',
    async run(signal) {
      signal.addEventListener('abort', () => queue.shutDown(), { once: true })
      await runWorkers(queue, opts.workers ?? 5, sync, {
        maxRetries: MAX_RETRIES,
        onError: (key, err, requeued) => {
          if (err instanceof StaleCacheError && requeued) ctx.logger.debug({ service: key }, 'endpointslice cache behind our writes, retrying')
          else ctx.logger.warn({ service: key, err: errorMessage(err), requeued }, 'endpointslice sync failed')
        },
      })
    },
  }
}
