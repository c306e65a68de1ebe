// The admission chain every write passes after defaulting and validation:
// NamespaceLifecycle, then Service IP/port allocation. (LimitRange and ResourceQuota
// join it here.)
import type { ResourceType } from '../../api/resources.js'
import type { KubeObject } from '../watch-cache/types.js'
import { admitNamespace, admitNamespaceDelete, type NamespaceLookup } from './namespace-lifecycle.js'
import type { ServiceAllocator } from './service-allocation.js'

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
  ) {}

  async admit(op: 'CREATE' | 'UPDATE' | 'DELETE', rt: ResourceType, obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): Promise<void> {
    const m = meta(obj)
    if (op === 'CREATE') await admitNamespace(rt, String(m.namespace ?? ''), this.namespaces)
    if (op === 'DELETE' && isCore(rt, 'Namespace')) admitNamespaceDelete(String(m.name))
    if (isCore(rt, 'Service') && !dryRun) {
      if (op === 'CREATE') await this.allocator.allocate(obj, String(m.namespace), String(m.name))
      else if (op === 'UPDATE') await this.allocator.allocateMissingPorts(obj, String(m.namespace), String(m.name))
    }
    void old
  }

  async createFailed(rt: ResourceType, obj: KubeObject): Promise<void> {
    if (isCore(rt, 'Service')) await this.allocator.releaseService(obj)
  }

  async deleted(rt: ResourceType, obj: KubeObject): Promise<void> {
    if (isCore(rt, 'Service')) await this.allocator.releaseService(obj)
  }
}
