// The informers the quota controller counts from and hears replenishing changes on
// (upstream's QuotaMonitor). Pods, Services, claims, ConfigMaps, Secrets and quotas
// themselves are watched from the start. Any other kind is watched from the first
// time a quota names it (`count/deployments.apps`), through the shared factory, so
// the informer the garbage collector already runs over every resource serves us too.
// That is preferred to a LIST per recalculation: counting reads a cache, and a
// delete of any counted kind gives its usage back at once instead of at the next
// full recalculation. An informer, once started, lives for the term.
import type { ResourceType } from '../../api/resources.js'
import type { Evaluator } from '../../api/quota/evaluators.js'
import { DeletedFinalStateUnknown, type KubeObject, type SharedIndexInformer, type SharedInformerFactory } from '../../client/index.js'

export interface MonitorHandlers {
  onUpdate(ev: Evaluator, old: KubeObject, cur: KubeObject): void
  onDelete(ev: Evaluator, obj: KubeObject): void
}

export class QuotaMonitors {
  private readonly watched = new Map<ResourceType, SharedIndexInformer>()

  constructor(
    private readonly factory: SharedInformerFactory,
    private readonly handlers: MonitorHandlers,
  ) {}

  /** The informer of the evaluator's resource, created (and started, once the factory runs) on first need. */
  informer(ev: Evaluator): SharedIndexInformer {
    let informer = this.watched.get(ev.rt)
    if (informer !== undefined) return informer
    informer = this.factory.forResource(ev.rt)
    informer.addEventHandler({
      onUpdate: (old, cur) => this.handlers.onUpdate(ev, old, cur),
      onDelete: (o) => this.handlers.onDelete(ev, o instanceof DeletedFinalStateUnknown ? o.obj : o),
    })
    this.watched.set(ev.rt, informer)
    return informer
  }
}
