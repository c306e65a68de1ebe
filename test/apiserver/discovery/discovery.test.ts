// The discovery documents against the catalog and against what kube-apiserver 1.32
// serves (names, kinds, subresource kinds, storage version hashes, aggregated shape),
// and the Accept-header negotiation kubectl depends on.
import t from 'tap'
import { DISCOVERY_RESOURCES, RESOURCES, apiVersionOf, discoveryGroups } from '../../../src/api/resources.js'
import { aggregatedDiscovery } from '../../../src/apiserver/discovery/aggregated.js'
import { apiResources, storageVersionHash, type APIResource } from '../../../src/apiserver/discovery/api-resources.js'
import { DiscoveryDocuments, documentHash } from '../../../src/apiserver/discovery/documents.js'
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from '../../../src/apiserver/discovery/legacy.js'
import { negotiateDiscovery, parseAccept } from '../../../src/apiserver/discovery/negotiate.js'
import { ApiError } from '../../../src/apiserver/status.js'

const KUBECTL_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'
const V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'

function find(list: APIResource[], name: string): APIResource {
  const r = list.find((x) => x.name === name)
  if (r === undefined) throw new Error(`no ${name}`)
  return r
}

t.test('storageVersionHash is kube-apiserver’s (values from a real 1.32 server)', async (t) => {
  t.equal(storageVersionHash('', 'v1', 'Pod'), 'xPOwRZ+Yhw8=')
  t.equal(storageVersionHash('apps', 'v1', 'Deployment'), '8aSe+NMegvE=')
  t.equal(storageVersionHash('apps', 'v1', 'ControllerRevision'), '85nkx63pcBU=')
  t.equal(storageVersionHash('apps', 'v1', 'DaemonSet'), 'dd7pWHUlMKQ=')
  t.equal(storageVersionHash('apps', 'v1', 'ReplicaSet'), 'P1RzHs8/mWQ=')
  t.equal(storageVersionHash('apps', 'v1', 'StatefulSet'), 'H+vl74LkKdo=')
})

t.test('every catalog resource is listed once in its group version, as the catalog says', async (t) => {
  for (const rt of RESOURCES) {
    const list = apiResources(rt.group, rt.version)
    const entries = list.filter((x) => x.name === rt.plural)
    t.equal(entries.length, 1, rt.plural)
    const r = entries[0]!
    t.same(r, {
      name: rt.plural,
      singularName: rt.singular,
      namespaced: rt.namespaced,
      kind: rt.kind,
      verbs: [...rt.verbs],
      ...(rt.shortNames.length > 0 ? { shortNames: [...rt.shortNames] } : {}),
      ...(rt.categories.length > 0 ? { categories: [...rt.categories] } : {}),
      storageVersionHash: storageVersionHash(rt.group, rt.version, rt.kind),
    })
    for (const sub of rt.subresources) t.ok(list.some((x) => x.name === `${rt.plural}/${sub}`), `${rt.plural}/${sub}`)
  }
  const names = apiResources('', 'v1').map((r) => r.name)
  t.same(names, [...names].sort(), 'sorted by name, as kube-apiserver sorts them')
})

t.test('subresources carry the kinds kube-apiserver 1.32 reports', async (t) => {
  const core = apiResources('', 'v1')
  t.same(find(core, 'pods/status'), { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] })
  t.same(find(core, 'pods/log'), { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] })
  t.same(find(core, 'pods/binding'), { name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] })
  t.same(find(core, 'pods/eviction'), {
    name: 'pods/eviction',
    singularName: '',
    namespaced: true,
    group: 'policy',
    version: 'v1',
    kind: 'Eviction',
    verbs: ['create'],
  })
  t.same(find(core, 'replicationcontrollers/scale'), {
    name: 'replicationcontrollers/scale',
    singularName: '',
    namespaced: true,
    group: 'autoscaling',
    version: 'v1',
    kind: 'Scale',
    verbs: ['get', 'patch', 'update'],
  })
  t.same(find(core, 'namespaces/status').namespaced, false)
  const apps = apiResources('apps', 'v1')
  t.same(find(apps, 'deployments/scale'), {
    name: 'deployments/scale',
    singularName: '',
    namespaced: true,
    group: 'autoscaling',
    version: 'v1',
    kind: 'Scale',
    verbs: ['get', 'patch', 'update'],
  })
  // Key order is kube-apiserver's, which `kubectl get --raw` users see.
  t.same(Object.keys(find(apps, 'deployments/scale')), ['name', 'singularName', 'namespaced', 'group', 'version', 'kind', 'verbs'])
  t.same(Object.keys(find(apps, 'deployments')), ['name', 'singularName', 'namespaced', 'kind', 'verbs', 'shortNames', 'categories', 'storageVersionHash'])
})

t.test('unaggregated documents: /api, /apis, /apis/<g>, resource lists', async (t) => {
  t.same(apiVersions('10.0.0.1:6443'), { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.0.0.1:6443' }] })
  const named = discoveryGroups().filter((g) => g.group !== '')
  const list = apiGroupList() as { kind: string; apiVersion: string; groups: { name: string; preferredVersion: { groupVersion: string } }[] }
  t.equal(list.kind, 'APIGroupList')
  t.equal(list.apiVersion, 'v1')
  t.same(
    list.groups.map((g) => g.name),
    named.map((g) => g.group),
  )
  t.same(apiGroup('apps'), {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: 'apps',
    versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
    preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
  })
  t.equal(apiGroup('nope.example.com'), undefined)
  const hpa = apiResourceList('autoscaling', 'v2') as { groupVersion: string; kind: string }
  t.equal(hpa.kind, 'APIResourceList')
  t.equal(hpa.groupVersion, 'autoscaling/v2')
  t.equal(apiResourceList('autoscaling', 'v2beta2'), undefined, 'a version we do not serve')
})

interface Item {
  metadata: { name?: string }
  versions: { version: string; freshness: string; resources: Record<string, unknown>[] }[]
}

t.test('aggregated discovery has kube-apiserver’s shape', async (t) => {
  const apis = aggregatedDiscovery('named', 'v2') as { kind: string; apiVersion: string; items: Item[] }
  t.equal(apis.kind, 'APIGroupDiscoveryList')
  t.equal(apis.apiVersion, 'apidiscovery.k8s.io/v2')
  t.same(
    apis.items.map((i) => i.metadata.name),
    discoveryGroups()
      .filter((g) => g.group !== '')
      .map((g) => g.group),
  )
  const apps = apis.items.find((i) => i.metadata.name === 'apps')!
  t.equal(apps.versions[0]!.freshness, 'Current')
  const deployments = apps.versions[0]!.resources.find((r) => r.resource === 'deployments')!
  t.same(deployments, {
    resource: 'deployments',
    responseKind: { group: '', version: '', kind: 'Deployment' },
    scope: 'Namespaced',
    singularResource: 'deployment',
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: [
      { subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] },
      { subresource: 'status', responseKind: { group: '', version: '', kind: 'Deployment' }, verbs: ['get', 'patch', 'update'] },
    ],
  })

  const core = aggregatedDiscovery('core', 'v2beta1') as { apiVersion: string; items: Item[] }
  t.equal(core.apiVersion, 'apidiscovery.k8s.io/v2beta1')
  t.equal(core.items.length, 1)
  t.equal(core.items[0]!.metadata.name, undefined, 'the core group has no name')
  const pods = core.items[0]!.versions[0]!.resources.find((r) => r.resource === 'pods') as { subresources: { subresource: string; responseKind: unknown }[] }
  t.same(
    pods.subresources.map((s) => s.subresource),
    ['binding', 'eviction', 'log', 'status'],
  )
  t.same(pods.subresources[1]!.responseKind, { group: 'policy', version: 'v1', kind: 'Eviction' })
  const nodes = core.items[0]!.versions[0]!.resources.find((r) => r.resource === 'nodes')!
  t.equal(nodes.scope, 'Cluster')
  const every = [...core.items, ...apis.items].flatMap((i) => i.versions.flatMap((v) => v.resources.map((r) => r.resource)))
  t.same(every.sort(), DISCOVERY_RESOURCES.map((r) => r.plural).sort(), 'every catalog resource, once')
})

t.test('Accept negotiation', async (t) => {
  t.same(negotiateDiscovery(KUBECTL_ACCEPT, true), { format: 'aggregated-v2', contentType: V2 })
  t.same(negotiateDiscovery(KUBECTL_ACCEPT, false), { format: 'unaggregated', contentType: 'application/json' }, 'group documents are never aggregated')
  t.same(negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json', true), {
    format: 'aggregated-v2beta1',
    contentType: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
  })
  t.same(negotiateDiscovery('application/json', true), { format: 'unaggregated', contentType: 'application/json' })
  t.same(negotiateDiscovery(undefined, true), { format: 'unaggregated', contentType: 'application/json' })
  t.same(negotiateDiscovery('application/json, */*', true)?.format, 'unaggregated')
  t.same(negotiateDiscovery('*/*', true)?.format, 'unaggregated')
  t.same(negotiateDiscovery('application/json;q=0.5, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', true)?.format, 'aggregated-v2', 'q orders')
  t.same(negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList, application/json', true)?.format, 'unaggregated', 'unknown version skipped')
  t.equal(negotiateDiscovery('application/vnd.kubernetes.protobuf', true), undefined)
  t.equal(negotiateDiscovery(V2, false), undefined)
  t.equal(negotiateDiscovery('application/json;as=Table;v=v1;g=meta.k8s.io', true), undefined)
  t.same(
    parseAccept('a/b;q=0, c/d ; x="y"').map((r) => [r.type, Object.fromEntries(r.params)]),
    [['c/d', { x: 'y' }]],
  )
})

t.test('DiscoveryDocuments serves precomputed bytes by path and Accept', async (t) => {
  let asked = 0
  const docs = new DiscoveryDocuments({
    serverAddress: () => {
      asked++
      return '127.0.0.1:6443'
    },
  })
  const api = docs.serve('/api', 'application/json')!
  t.equal(api.contentType, 'application/json')
  t.equal(api.etag, undefined)
  t.same(JSON.parse(api.body.toString()), apiVersions('127.0.0.1:6443'))
  docs.serve('/api/', undefined)
  t.equal(asked, 1, 'the server address is read once')

  const agg = docs.serve('/apis', KUBECTL_ACCEPT)!
  t.equal(agg.contentType, V2)
  t.equal(agg.etag, documentHash(agg.body))
  t.match(agg.etag, /^[0-9A-F]{128}$/)
  t.equal(agg.etag, docs.etag('named'))
  t.ok(docs.etag('named', 'v2') !== docs.etag('named', 'v2beta1'))
  t.ok(docs.etag('core') !== docs.etag('named'))
  t.same(JSON.parse(agg.body.toString()), aggregatedDiscovery('named', 'v2'))

  for (const { group, version } of discoveryGroups()) {
    const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`
    const doc = docs.serve(`${path}/`, KUBECTL_ACCEPT)!
    t.equal(doc.contentType, 'application/json', path)
    t.same(JSON.parse(doc.body.toString()), apiResourceList(group, version), path)
    if (group !== '') t.same(JSON.parse(docs.serve(`/apis/${group}`, undefined)!.body.toString()), apiGroup(group))
  }
  t.equal(docs.serve('/apis/nope.example.com', undefined), undefined)
  t.equal(docs.serve('/apis/apps/v2', undefined), undefined)
  t.equal(docs.serve('/healthz', undefined), undefined)
  t.throws(() => docs.serve('/apis/apps/v1', V2), { code: 406, reason: 'NotAcceptable' }, 'aggregated discovery exists for /api and /apis only')
  t.throws(() => docs.serve('/apis', 'application/vnd.kubernetes.protobuf'), ApiError)
  t.ok(RESOURCES.every((r) => JSON.parse(docs.serve(`/${r.group === '' ? 'api' : 'apis/' + r.group}/${r.version}`, undefined)!.body.toString()).groupVersion === apiVersionOf(r)))
})
