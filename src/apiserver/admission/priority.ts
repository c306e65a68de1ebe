// Priority admission (kube-apiserver's Priority plugin): a pod's spec.priority comes
// from its PriorityClass, never from the user; a pod that names no class gets the
// cluster's globalDefault class, else 0. The scheduler orders its queue by it.
import type { ResourceType } from '../../api/resources.js'
import type { ResourceStore } from '../registry/resource-store.js'
import type { KubeObject } from '../watch-cache/types.js'
import { admissionForbidden } from './forbidden.js'

type Json = Record<string, unknown>

/** The classes every cluster has (created at bootstrap, as kube-apiserver does). */
export const SYSTEM_PRIORITY_CLASSES = [
  { name: 'system-node-critical', value: 2000001000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2000000000, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
] as const

export class PriorityAdmission {
  constructor(private readonly classes: () => ResourceStore) {}

  async admit(op: 'CREATE' | 'UPDATE' | 'DELETE', rt: ResourceType, obj: KubeObject): Promise<void> {
    if (op !== 'CREATE' || rt.group !== '' || rt.kind !== 'Pod') return
    const spec = (obj.spec ?? {}) as Json
    const name = String((obj.metadata as Json | undefined)?.name ?? '')
    const className = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : ''
    let pc: KubeObject | undefined
    if (className !== '') {
      pc = await this.lookup(className)
      if (pc === undefined) throw admissionForbidden(rt, name, `no PriorityClass with name ${className} was found`)
    } else {
      pc = this.globalDefault()
    }
    const value = typeof pc?.value === 'number' ? pc.value : 0
    // Defaulting set 0 for a pod without a class; any other value the user wrote is refused.
    if (typeof spec.priority === 'number' && spec.priority !== value && !(pc !== undefined && className === '' && spec.priority === 0)) {
      throw admissionForbidden(rt, name, `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`)
    }
    if (pc === undefined) return
    if (className === '') spec.priorityClassName = String((pc.metadata as Json).name)
    spec.priority = value
    spec.preemptionPolicy = typeof pc.preemptionPolicy === 'string' ? pc.preemptionPolicy : 'PreemptLowerPriority'
    obj.spec = spec
  }

  private async lookup(name: string): Promise<KubeObject | undefined> {
    const store = this.classes()
    const cached = store.cache.get(store.key('', name))?.object
    if (cached !== undefined) return cached
    // Created a moment ago, maybe through another master: ask the store.
    return store.get('', name).catch(() => undefined)
  }

  private globalDefault(): KubeObject | undefined {
    const store = this.classes()
    let best: KubeObject | undefined
    for (const c of store.cache.list({ keyPrefix: store.scopePrefix('') }).items) {
      const o = c.object
      if (o.globalDefault !== true) continue
      // Several defaults can exist after a race; Kubernetes takes the lowest value.
      if (best === undefined || Number(o.value) < Number(best.value)) best = o
    }
    return best
  }
}
