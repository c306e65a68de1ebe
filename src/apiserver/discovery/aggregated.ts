// Aggregated discovery (apidiscovery.k8s.io v2 and v2beta1): every group, version and
// resource of /api or /apis in one APIGroupDiscoveryList, which kubectl 1.32 asks for
// before it falls back to walking the unaggregated documents.
import { discoveryGroups } from '../../api/resources.js'
import { resourcesOf, subresourceKind } from './api-resources.js'

export type AggregatedVersion = 'v2' | 'v2beta1'

interface GroupVersionKind {
  group: string
  version: string
  kind: string
}

interface APISubresourceDiscovery {
  subresource: string
  responseKind: GroupVersionKind
  verbs: string[]
}

interface APIResourceDiscovery {
  resource: string
  responseKind: GroupVersionKind
  scope: 'Namespaced' | 'Cluster'
  singularResource: string
  verbs: string[]
  shortNames?: string[]
  categories?: string[]
  subresources?: APISubresourceDiscovery[]
}

interface APIVersionDiscovery {
  version: string
  resources: APIResourceDiscovery[]
  freshness: 'Current'
}

const byName = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)

function versionDiscovery(group: string, version: string): APIVersionDiscovery {
  const resources = resourcesOf(group, version).map((rt): APIResourceDiscovery => {
    // As in kube-apiserver, a kind of the containing group version has empty group and
    // version; only kinds from elsewhere (autoscaling/v1 Scale, policy/v1 Eviction) name theirs.
    const subresources = rt.subresources
      .map((sub): APISubresourceDiscovery => {
        const sk = subresourceKind(rt, sub)
        return { subresource: sub, responseKind: { group: sk.group ?? '', version: sk.version ?? '', kind: sk.kind }, verbs: [...sk.verbs] }
      })
      .sort(byName((s) => s.subresource))
    return {
      resource: rt.plural,
      responseKind: { group: '', version: '', kind: rt.kind },
      scope: rt.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: rt.singular,
      verbs: [...rt.verbs],
      ...(rt.shortNames.length > 0 ? { shortNames: [...rt.shortNames] } : {}),
      ...(rt.categories.length > 0 ? { categories: [...rt.categories] } : {}),
      ...(subresources.length > 0 ? { subresources } : {}),
    }
  })
  return { version, resources: resources.sort(byName((r) => r.resource)), freshness: 'Current' }
}

/** The APIGroupDiscoveryList served at /api (`core`) or /apis (`named`). */
export function aggregatedDiscovery(scope: 'core' | 'named', version: AggregatedVersion): Record<string, unknown> {
  const items = discoveryGroups()
    .filter((g) => (scope === 'core' ? g.group === '' : g.group !== ''))
    .map((g) => ({
      metadata: g.group === '' ? { creationTimestamp: null } : { name: g.group, creationTimestamp: null },
      // Preferred version first: kubectl takes the first as the group's preferred one.
      versions: g.versions.map((v) => versionDiscovery(g.group, v)),
    }))
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items }
}
