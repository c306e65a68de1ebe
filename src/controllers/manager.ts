// The controller-manager: while this master holds the kube-controller-manager Lease,
// every enabled controller runs over one set of shared informers; when the Lease is
// lost the signal aborts and everything of the term stops (informers, queues,
// workers), so the next term starts from a fresh list, not a cache that went stale
// while another master was in charge.
import { setMaxListeners } from 'node:events'
import type { Registry } from 'prom-client'
import { EventRecorder, type Logger, type RestClient, SharedInformerFactory, silentLogger } from '../client/index.js'
import { cronJobController } from './cronjob/controller.js'
import { daemonSetController } from './daemonset/controller.js'
import { deploymentController } from './deployment/controller.js'
import { endpointsController } from './endpoints/endpoints.js'
import { endpointSliceController } from './endpoints/endpointslice.js'
import { garbageCollectorController } from './garbage-collector/controller.js'
import { jobController } from './job/controller.js'
import { horizontalPodAutoscalerController } from './podautoscaler/controller.js'
import { ttlAfterFinishedController } from './job/ttl-after-finished.js'
import { namespaceController } from './namespace.js'
import { nodeLifecycleController } from './node-lifecycle/controller.js'
import { persistentVolumeController } from './volume/persistentvolume.js'
import { taintEvictionController } from './node-lifecycle/taint-eviction.js'
import { replicaSetController, replicationControllerController } from './replicaset/controller.js'
import { resourceQuotaController } from './resourcequota/controller.js'
import { serviceAccountController } from './serviceaccount.js'
import { statefulSetController } from './statefulset/controller.js'
import type { ControllerContext, ControllerFactory } from './types.js'

/** Every controller we have, by kube-controller-manager's name. */
export const CONTROLLERS: Record<string, ControllerFactory> = {
  cronjob: cronJobController,
  daemonset: daemonSetController,
  deployment: deploymentController,
  endpoint: endpointsController,
  endpointslice: endpointSliceController,
  garbagecollector: garbageCollectorController,
  horizontalpodautoscaling: horizontalPodAutoscalerController,
  job: jobController,
  namespace: namespaceController,
  nodelifecycle: nodeLifecycleController,
  'persistentvolume-binder': persistentVolumeController,
  replicaset: replicaSetController,
  replicationcontroller: replicationControllerController,
  resourcequota: resourceQuotaController,
  serviceaccount: serviceAccountController,
  statefulset: statefulSetController,
  'taint-eviction-controller': taintEvictionController,
  'ttl-after-finished': ttlAfterFinishedController,
}

export interface ControllerManagerOptions {
  client: RestClient
  writer: RestClient
  host?: string
  logger?: Logger
  metrics?: Registry
  /** kube-controller-manager's --controllers: `*` for all, `-name` to leave one out. Default all. */
  controllers?: string[]
  /** The controllers to pick from; default CONTROLLERS (tests add their own). */
  registry?: Record<string, ControllerFactory>
}

/** The --controllers flag's value as a list: comma-separated, blanks ignored. */
export function parseControllersFlag(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

export function enabledControllers(spec: readonly string[] = ['*'], registry: Record<string, ControllerFactory> = CONTROLLERS): string[] {
  const all = Object.keys(registry)
  for (const s of spec) {
    const name = s.replace(/^-/, '')
    if (s !== '*' && !all.includes(name)) throw new Error(`unknown controller "${name}"; known: ${all.join(', ')}`)
  }
  return all.filter((n) => !spec.includes(`-${n}`) && (spec.includes('*') || spec.includes(n)))
}

export class ControllerManager {
  constructor(private readonly opts: ControllerManagerOptions) {}

  async run(signal: AbortSignal): Promise<void> {
    // Every informer's cache-sync wait listens on the term's signal.
    setMaxListeners(0, signal)
    const logger = this.opts.logger ?? silentLogger
    // The term's first lists are consistent reads (resourceVersion "", answered by the
    // watch cache once it has caught up with the store), not "0" (whatever this master's
    // cache holds): a new leader whose cache still lags the pods the previous leader
    // created just before it died would create them again. Unpaged, so the cache answers.
    const informers = new SharedInformerFactory(this.opts.client, { informerOptions: { initialResourceVersion: '', pageSize: 0 } })
    const recorders: EventRecorder[] = []
    const ctx: ControllerContext = {
      informers,
      client: this.opts.client,
      writer: this.opts.writer,
      logger,
      ...(this.opts.metrics === undefined ? {} : { metrics: this.opts.metrics }),
      events: (component) => {
        const r = new EventRecorder({ client: this.opts.writer, component, logger, ...(this.opts.host === undefined ? {} : { host: this.opts.host }) })
        recorders.push(r)
        return r
      },
    }
    const registry = this.opts.registry ?? CONTROLLERS
    const controllers = enabledControllers(this.opts.controllers, registry).map((name) => registry[name]!(ctx))
    informers.start()
    try {
      if (!(await informers.waitForCacheSync(signal))) return
      logger.info({ controllers: controllers.map((c) => c.name) }, 'controllers starting')
      await Promise.all(
        controllers.map((c) =>
          c.run(signal).catch((err: unknown) => {
            logger.error({ err, controller: c.name }, 'controller failed')
          }),
        ),
      )
    } finally {
      informers.shutdown()
      await Promise.allSettled(recorders.map((r) => r.flush()))
    }
  }
}
