// The real kubectl (1.32) against the discovery documents: `api-resources` and
// `api-versions` read the catalog back, through aggregated discovery (no fallback to
// walking the group documents), and a second run revalidates with the ETag.
import { existsSync } from 'node:fs'
import t from 'tap'
import { CONVERTED_RESOURCES, DISCOVERY_RESOURCES, apiVersionOf, discoveryGroups } from '../../../src/api/resources.js'
import { KUBECTL, outcome, startFakeApiServer } from './kubectl-harness.js'

const V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'

t.test('kubectl api-resources and api-versions', { skip: existsSync(KUBECTL) ? false : `no ${KUBECTL}` }, async (t) => {
  const server = await startFakeApiServer()
  t.teardown(() => server.close())

  const res = await server.kubectl(['api-resources', '-v=6'])
  t.equal(res.code, 0, outcome(res))
  const lines = res.stdout.trimEnd().split('\n')
  const header = lines[0]!
  t.match(header, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/)
  const col = (name: string): number => header.indexOf(name)
  const cut = (line: string, from: string, to?: string): string => line.slice(col(from), to === undefined ? undefined : col(to)).trim()
  const rows = lines.slice(1).map((l) => ({
    name: cut(l, 'NAME', 'SHORTNAMES'),
    shortNames: cut(l, 'SHORTNAMES', 'APIVERSION'),
    apiVersion: cut(l, 'APIVERSION', 'NAMESPACED'),
    namespaced: cut(l, 'NAMESPACED', 'KIND'),
    kind: cut(l, 'KIND'),
  }))
  // kubectl lists each resource in its group's preferred version only.
  const expected = DISCOVERY_RESOURCES.filter((r) => !CONVERTED_RESOURCES.includes(r)).map((r) => ({
    name: r.plural,
    shortNames: r.shortNames.join(','),
    apiVersion: apiVersionOf(r),
    namespaced: String(r.namespaced),
    kind: r.kind,
  }))
  const key = (r: { name: string; apiVersion: string }): string => `${r.apiVersion} ${r.name}`
  t.same(rows.sort((a, b) => key(a).localeCompare(key(b))), expected.sort((a, b) => key(a).localeCompare(key(b))))

  // Aggregated discovery answered both requests; nothing fell back to group documents.
  const discovery = server.requests.filter((r) => r.url.startsWith('/api'))
  t.same(
    discovery.map((r) => [r.url.split('?')[0], r.status, r.responseType]),
    [
      ['/api', 200, V2],
      ['/apis', 200, V2],
    ],
  )
  t.notMatch(res.stderr, /falling back|failed to|error/i)

  const versions = await server.kubectl(['api-versions'])
  t.equal(versions.code, 0, outcome(versions))
  t.same(
    versions.stdout.trim().split('\n'),
    discoveryGroups()
      .flatMap((g) => g.versions.map((version) => apiVersionOf({ group: g.group, version })))
      .sort(),
  )
  // kubectl's discovery cache sent the ETag back and got 304s.
  const again = server.requests.filter((r) => r.url.startsWith('/api')).slice(2)
  t.ok(again.length > 0 && again.every((r) => r.status === 304), 'revalidated with If-None-Match')

  const raw = await server.kubectl(['get', '--raw', '/apis/apps/v1'])
  t.equal(raw.code, 0, outcome(raw))
  t.match(JSON.parse(raw.stdout), { kind: 'APIResourceList', groupVersion: 'apps/v1' })
})

// An older kubectl asks for the v2beta1 aggregated document (1.26 to 1.29 did).
const OLD_KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27'
t.test('kubectl 1.27 reads aggregated discovery v2beta1', { skip: existsSync(OLD_KUBECTL) ? false : `no ${OLD_KUBECTL}` }, async (t) => {
  const server = await startFakeApiServer()
  t.teardown(() => server.close())
  const res = await server.kubectl(['api-resources', '--api-group=apps', '-o', 'name'], { binary: OLD_KUBECTL })
  t.equal(res.code, 0, outcome(res))
  t.same(res.stdout.trim().split('\n').sort(), ['controllerrevisions.apps', 'daemonsets.apps', 'deployments.apps', 'replicasets.apps', 'statefulsets.apps'])
  const apis = server.requests.find((r) => r.url.startsWith('/apis?') || r.url === '/apis')
  t.equal(apis?.responseType, 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList')
})
