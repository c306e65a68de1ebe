// The admission chain every write passes after defaulting and validation:
// NamespaceLifecycle, DefaultTolerationSeconds, Priority, LimitRanger, ResourceQuota
// (last, as in Kubernetes, so it charges what the object finally is), then Service
// IP/port allocation.
import type { ResourceType } from '../../api/resources.js'
import type { KubeObject } from '../watch-cache/types.js'
import type { DefaultStorageClassAdmission } from './default-storage-class.js'
import { addDefaultTolerations } from './default-toleration-seconds.js'
import type { LimitRanger } from './limit-range.js'
import { admitNamespace, admitNamespaceDelete, type NamespaceLookup } from './namespace-lifecycle.js'
import type { PriorityAdmission } from './priority.js'
import type { ResourceQuotaAdmission } from './resource-quota.js'
import type { ServiceAllocator } from './service-allocation.js'

/** The plugins that read policies from the API server's own stores. */
export interface AdmissionPlugins {
  priority?: PriorityAdmission
  defaultStorageClass?: DefaultStorageClassAdmission
  limitRanger?: LimitRanger
  resourceQuota?: ResourceQuotaAdmission
}

type Json = Record<string, unknown>

function meta(obj: KubeObject): Json {
  return (obj.metadata ?? {}) as Json
}

function isCore(rt: ResourceType, kind: string): boolean {
  return rt.group === '' && rt.kind === kind
}

export class Admission {
  constructor(
    private readonly namespaces: NamespaceLookup,
    private readonly allocator: ServiceAllocator,
    private readonly plugins: AdmissionPlugins = {},
  ) {}

  async admit(op: 'CREATE' | 'UPDATE' | 'DELETE', rt: ResourceType, obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): Promise<void> {
    const m = meta(obj)
    if (op === 'CREATE') await admitNamespace(rt, String(m.namespace ?? ''), this.namespaces)
    if (op === 'DELETE' && isCore(rt, 'Namespace')) admitNamespaceDelete(String(m.name))
    addDefaultTolerations(op, rt, obj)
    this.plugins.defaultStorageClass?.admit(op, rt, obj)
    await this.plugins.priority?.admit(op, rt, obj)
    await this.plugins.limitRanger?.admit(op, rt, obj, old)
    await this.plugins.resourceQuota?.admit(op, rt, obj, old, dryRun)
    if (isCore(rt, 'Service') && !dryRun) {
      try {
        if (op === 'CREATE') await this.allocator.allocate(obj, String(m.namespace), String(m.name))
        else if (op === 'UPDATE') await this.allocator.allocateMissingPorts(obj, String(m.namespace), String(m.name))
      } catch (err) {
        // The quota was charged for a Service that will not be written.
        if (op === 'CREATE') await this.plugins.resourceQuota?.createFailed(rt, obj)
        throw err
      }
    }
  }

  async createFailed(rt: ResourceType, obj: KubeObject): Promise<void> {
    if (isCore(rt, 'Service')) await this.allocator.releaseService(obj)
    await this.plugins.resourceQuota?.createFailed(rt, obj)
  }

  async deleted(rt: ResourceType, obj: KubeObject): Promise<void> {
    if (isCore(rt, 'Service')) await this.allocator.releaseService(obj)
  }
}
