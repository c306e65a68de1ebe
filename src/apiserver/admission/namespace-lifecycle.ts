// NamespaceLifecycle admission: nothing is created in a namespace that does not exist
// or is being deleted, and the system namespaces cannot be deleted.
import type { ResourceType } from '../../api/resources.js'
import { ApiError, notFound } from '../status.js'

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const

/** The state of a namespace: 'missing', 'active' or 'terminating'. */
export type NamespaceLookup = (name: string) => Promise<'missing' | 'active' | 'terminating'>

export async function admitNamespace(rt: ResourceType, namespace: string, lookup: NamespaceLookup): Promise<void> {
  if (!rt.namespaced || namespace === '') return
  const state = await lookup(namespace)
  if (state === 'missing') {
    const e = notFound('namespaces', '', namespace)
    throw new ApiError(404, 'NotFound', e.message, { name: namespace, kind: 'namespaces' })
  }
  if (state === 'terminating') {
    throw new ApiError(
      403,
      'Forbidden',
      `${rt.plural}${rt.group === '' ? '' : '.' + rt.group} is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      { causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }] },
    )
  }
}

export function admitNamespaceDelete(name: string): void {
  if ((SYSTEM_NAMESPACES as readonly string[]).includes(name)) {
    throw new ApiError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' })
  }
}
