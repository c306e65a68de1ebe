// The APIResource entries of one group version, derived from the catalog: each
// resource, then its subresources as `pods/status`, `deployments/scale`, … with the
// kind, group/version and verbs kube-apiserver 1.32 reports for them.
import { createHash } from 'node:crypto'
import { CONVERTED_RESOURCES, DISCOVERY_RESOURCES, RESOURCES, storedResourceOf, type ResourceType, type Subresource } from '../../api/resources.js'

/** meta/v1 APIResource, keys in the order kube-apiserver writes them. */
export interface APIResource {
  name: string
  singularName: string
  namespaced: boolean
  /** Only when it differs from the containing group version (scale, eviction). */
  group?: string
  version?: string
  kind: string
  verbs: string[]
  shortNames?: string[]
  categories?: string[]
  storageVersionHash?: string
}

export interface SubresourceKind {
  /** Undefined: the containing group version. */
  group?: string
  version?: string
  kind: string
  verbs: string[]
}

/** What a subresource takes and returns, as discovery reports it. */
export function subresourceKind(rt: ResourceType, sub: Subresource): SubresourceKind {
  switch (sub) {
    case 'status':
      return { kind: rt.kind, verbs: ['get', 'patch', 'update'] }
    case 'scale':
      return { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }
    case 'binding':
      return { kind: 'Binding', verbs: ['create'] }
    case 'eviction':
      return { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] }
    case 'log':
      return { kind: rt.kind, verbs: ['get'] }
    case 'finalize':
      return { kind: rt.kind, verbs: ['update'] }
  }
}

/**
 * kube-apiserver's storageVersionHash: base64 of the first 8 bytes of
 * sha256("<group>/<version>/<kind>") of the version objects are stored in.
 * Clients (the garbage collector, storage migrators) only compare it.
 */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64')
}

/** The resources of one group version in discovery, in catalog order. */
export function resourcesOf(group: string, version: string): ResourceType[] {
  return DISCOVERY_RESOURCES.filter((r) => r.group === group && r.version === version)
}

/** APIResourceList.resources of a group version, sorted by name as kube-apiserver sorts them. */
export function apiResources(group: string, version: string): APIResource[] {
  const out: APIResource[] = []
  for (const rt of resourcesOf(group, version)) {
    // Only stored resources have one (metrics-server's have none); a converted version
    // reports its storage version's, as every version of one resource does upstream.
    const stored = RESOURCES.includes(rt) ? rt : CONVERTED_RESOURCES.includes(rt) ? storedResourceOf(rt) : undefined
    out.push({
      name: rt.plural,
      singularName: rt.singular,
      namespaced: rt.namespaced,
      kind: rt.kind,
      verbs: [...rt.verbs],
      ...(rt.shortNames.length > 0 ? { shortNames: [...rt.shortNames] } : {}),
      ...(rt.categories.length > 0 ? { categories: [...rt.categories] } : {}),
      ...(stored !== undefined ? { storageVersionHash: storageVersionHash(stored.group, stored.version, stored.kind) } : {}),
    })
    for (const sub of rt.subresources) {
      const sk = subresourceKind(rt, sub)
      out.push({
        name: `${rt.plural}/${sub}`,
        singularName: '',
        namespaced: rt.namespaced,
        ...(sk.group !== undefined ? { group: sk.group, version: sk.version } : {}),
        kind: sk.kind,
        verbs: [...sk.verbs],
      })
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}
