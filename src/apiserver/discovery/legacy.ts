// The unaggregated discovery documents: /api (APIVersions), /apis (APIGroupList),
// /apis/<group> (APIGroup), /api/v1 and /apis/<group>/<version> (APIResourceList).
// Clients that do not ask for aggregated discovery walk these one by one.
import { apiVersionOf, discoveryGroups } from '../../api/resources.js'
import { apiResources, type APIResource } from './api-resources.js'

export interface GroupVersionForDiscovery {
  groupVersion: string
  version: string
}

export interface APIGroup {
  name: string
  versions: GroupVersionForDiscovery[]
  preferredVersion: GroupVersionForDiscovery
}

/** /api. kube-apiserver writes no apiVersion here. */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: discoveryGroups()
      .filter((g) => g.group === '')
      .map((g) => g.version),
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  }
}

/** The named (non-core) groups, in discovery order. */
export function namedGroups(): APIGroup[] {
  return discoveryGroups()
    .filter((g) => g.group !== '')
    .map(({ group, version, versions }) => {
      const gv = (v: string): GroupVersionForDiscovery => ({ groupVersion: apiVersionOf({ group, version: v }), version: v })
      return { name: group, versions: versions.map(gv), preferredVersion: gv(version) }
    })
}

/** /apis */
export function apiGroupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: namedGroups() }
}

/** /apis/<group>, or undefined when the group is not served. */
export function apiGroup(name: string): Record<string, unknown> | undefined {
  const g = namedGroups().find((x) => x.name === name)
  return g === undefined ? undefined : { kind: 'APIGroup', apiVersion: 'v1', ...g }
}

/** /api/v1 and /apis/<group>/<version>, or undefined when not served. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  const resources: APIResource[] = apiResources(group, version)
  if (resources.length === 0) return undefined
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources }
}
