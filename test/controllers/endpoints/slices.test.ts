// Planning a Service's EndpointSlices, without a server: conditions, slice sizes,
// reuse of existing slices, the placeholder, foreign slices, hints; and the tracker
// that tells our own writes from others'.
/* eslint-disable @typescript-eslint/no-explicit-any -- slices are read by path in assertions */
import t from 'tap'
import type { KubeObject } from '../../../src/client/index.js'
import { addressTypesForService, podToEndpoint } from '../../../src/controllers/endpoints/slice-endpoints.js'
import { getSliceToFill, planEndpointSlices, type SliceReconcileInput } from '../../../src/controllers/endpoints/slice-reconciler.js'
import { EndpointSliceTracker } from '../../../src/controllers/endpoints/slice-tracker.js'
import { node, pod, service } from './fixtures.js'

const nodes = new Map([
  ['n1', node('n1', 'zone-a')],
  ['n2', node('n2')],
])
let nextUid = 0

function plan(input: Partial<SliceReconcileInput> & { pods: KubeObject[] }): ReturnType<typeof planEndpointSlices> {
  return planEndpointSlices({ service: service('web'), existing: [], node: (n) => nodes.get(n), ...input })
}

/** What the API server would store for planned creates and updates: names, uids and versions. */
function stored(p: ReturnType<typeof planEndpointSlices>, previous: KubeObject[] = []): KubeObject[] {
  const byName = new Map(previous.map((s) => [s.metadata!.name!, s]))
  for (const sp of p.plans) {
    for (const s of sp.delete) byName.delete(s.metadata!.name!)
    for (const s of sp.update) byName.set(s.metadata!.name!, { ...s, metadata: { ...s.metadata, uid: byName.get(s.metadata!.name!)?.metadata?.uid ?? 'x' } })
    for (const s of sp.create) {
      const name = `${s.metadata!.generateName!}${nextUid++}`
      byName.set(name, { ...s, metadata: { ...s.metadata, name, uid: `slice-${name}` } })
    }
  }
  return [...byName.values()]
}

function pods(n: number, o: Parameters<typeof pod>[1] = {}): KubeObject[] {
  return Array.from({ length: n }, (_, i) => pod(`p${i}`, { ...o, ip: `10.0.${i >> 8}.${i & 255}` }))
}

t.test('an endpoint: conditions, node, zone of its node, hostname, the pod as targetRef', async (t) => {
  const svc = service('db')
  t.strictSame(podToEndpoint(pod('p1', { hostname: 'db-0', subdomain: 'db' }), nodes.get('n1'), svc, 'IPv4'), {
    addresses: ['10.0.0.1'],
    conditions: { ready: true, serving: true, terminating: false },
    targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'uid-p1' },
    nodeName: 'n1',
    zone: 'zone-a',
    hostname: 'db-0',
  })
  t.match(podToEndpoint(pod('p1', { ready: false }), undefined, svc, 'IPv4').conditions, { ready: false, serving: false, terminating: false })
  t.match(podToEndpoint(pod('p1', { terminating: true }), undefined, svc, 'IPv4').conditions, { ready: false, serving: true, terminating: true }, 'terminating: serving but not ready')
  t.match(
    podToEndpoint(pod('p1', { terminating: true }), undefined, service('db', { publishNotReadyAddresses: true }), 'IPv4').conditions,
    { ready: true, serving: true, terminating: true },
    'publishNotReadyAddresses: always ready',
  )
  t.strictSame(podToEndpoint(pod('p1'), undefined, svc, 'IPv6').addresses, [], 'no address of another family')
})

t.test('address types follow the Service ip families, else its cluster IP, else both (headless)', async (t) => {
  t.strictSame(addressTypesForService(service('a', { ipFamilies: ['IPv6', 'IPv4'] })), ['IPv6', 'IPv4'])
  t.strictSame(addressTypesForService(service('a', { ipFamilies: undefined, clusterIP: 'fd00::1' })), ['IPv6'])
  t.strictSame(addressTypesForService(service('a', { ipFamilies: undefined, clusterIP: 'None' })), ['IPv4', 'IPv6'])
})

t.test('new slices: generateName, owner, labels, ports, at most maxEndpointsPerSlice endpoints each', async (t) => {
  const p = plan({ service: service('web', {}, { team: 'a' }), pods: pods(250), triggerTime: Date.parse('2024-05-01T10:00:00Z') })
  t.equal(p.plans.length, 1)
  const created = p.plans[0]!.create
  t.strictSame(created.map((s) => (s.endpoints as unknown[]).length).sort(), [100, 100, 50])
  t.match(created[0], {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    addressType: 'IPv4',
    ports: [{ name: 'web', port: 8080, protocol: 'TCP' }],
    metadata: {
      generateName: 'web-',
      namespace: 'ns',
      labels: { team: 'a', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2024-05-01T10:00:00Z' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'uid-svc-web', controller: true, blockOwnerDeletion: true }],
    },
  })
  t.equal(created[0]!.metadata!.labels!['service.kubernetes.io/headless'], undefined)
  t.same(p.errors, [])
  const small = plan({ pods: pods(25), maxEndpointsPerSlice: 10 })
  t.strictSame(small.plans[0]!.create.map((s) => (s.endpoints as unknown[]).length).sort(), [10, 10, 5])
})

t.test('a steady state writes nothing; one pod gone rewrites only its slice', async (t) => {
  const all = pods(250)
  const slices = stored(plan({ pods: all }))
  const again = plan({ pods: all, existing: slices })
  t.strictSame(again.plans[0], { addressType: 'IPv4', create: [], update: [], delete: [] })
  const victim = all[123]!
  const home = slices.find((s) => (s.endpoints as any[]).some((e) => e.targetRef.name === victim.metadata!.name))!
  const after = plan({ pods: all.filter((p) => p !== victim), existing: slices })
  t.strictSame(after.plans[0]!.update.map((s) => s.metadata!.name), [home.metadata!.name])
  t.equal((after.plans[0]!.update[0]!.endpoints as unknown[]).length, (home.endpoints as unknown[]).length - 1)
  t.strictSame([after.plans[0]!.create, after.plans[0]!.delete], [[], []])
})

t.test('a pod turning not ready is updated in place; new pods fill slices being written, then the best-fitting one', async (t) => {
  const all = pods(150)
  const slices = stored(plan({ pods: all }))
  const full = slices.find((s) => (s.endpoints as unknown[]).length === 100)!
  const partial = slices.find((s) => (s.endpoints as unknown[]).length === 50)!
  const unready = (name: string): KubeObject[] => all.map((p) => (p.metadata!.name === name ? pod(name, { ready: false, ip: (p.status as any).podIP }) : p))

  const inPartial = (partial.endpoints as any[])[0].targetRef.name as string
  const one = plan({ pods: [...unready(inPartial), pod('extra', { ip: '10.9.9.9' })], existing: slices }).plans[0]!
  t.strictSame([one.create.length, one.delete.length], [0, 0])
  t.strictSame(one.update.map((s) => s.metadata!.name), [partial.metadata!.name], 'the new endpoint joins the slice being rewritten')
  const eps = one.update[0]!.endpoints as any[]
  t.equal(eps.length, 51)
  t.match(eps.find((e) => e.targetRef.name === inPartial), { conditions: { ready: false, serving: false, terminating: false } })

  const inFull = (full.endpoints as any[])[0].targetRef.name as string
  const two = plan({ pods: [...unready(inFull), pod('extra', { ip: '10.9.9.9' })], existing: slices }).plans[0]!
  t.equal(two.create.length, 0, 'no new slice while an existing one has room')
  t.strictSame(two.update.map((s) => [s.metadata!.name, (s.endpoints as unknown[]).length]).sort(), [
    [full.metadata!.name, 100],
    [partial.metadata!.name, 51],
  ].sort())
})

t.test('left-over endpoints go to the unchanged slice they fit best', async (t) => {
  const a = { metadata: { name: 'a' }, endpoints: new Array(60) }
  const b = { metadata: { name: 'b' }, endpoints: new Array(90) }
  const c = { metadata: { name: 'c' }, endpoints: new Array(97) }
  t.equal(getSliceToFill([a, b, c], 5, 100)?.metadata?.name, 'b')
  t.equal(getSliceToFill([a, b, c], 3, 100)?.metadata?.name, 'c', 'an exact fit')
  t.equal(getSliceToFill([b, c], 20, 100), undefined)
})

t.test('no endpoints: one empty placeholder slice, kept while nothing changes', async (t) => {
  const p = plan({ pods: [] })
  t.equal(p.plans[0]!.create.length, 1)
  t.strictSame([p.plans[0]!.create[0]!.endpoints, p.plans[0]!.create[0]!.ports], [[], []])
  const slices = stored(p)
  t.strictSame(plan({ pods: [], existing: slices }).plans[0], { addressType: 'IPv4', create: [], update: [], delete: [] })
  const filled = plan({ pods: pods(3), existing: slices }).plans[0]!
  t.equal(filled.create.length, 0, 'the placeholder becomes the first real slice')
  t.strictSame(filled.delete, [])
  t.equal(filled.update.length, 1)
  t.equal(filled.update[0]!.metadata!.name, slices[0]!.metadata!.name)
  t.equal((filled.update[0]!.endpoints as unknown[]).length, 3)
  const emptied = plan({ pods: [], existing: stored({ plans: [filled], unsupported: [], errors: [] }, slices) }).plans[0]!
  t.equal(emptied.update.length, 1, 'and turns back into the placeholder in place')
  t.strictSame([emptied.create, emptied.delete, emptied.update[0]!.endpoints, emptied.update[0]!.ports], [[], [], [], []])
})

t.test('slices of a previous Service of the same name are deleted, not reused', async (t) => {
  const old = stored(plan({ pods: pods(3), service: { ...service('web'), metadata: { ...service('web').metadata, uid: 'old' } } }))
  const p = plan({ pods: pods(3), existing: old }).plans[0]!
  t.equal(p.create.length, 1)
  t.strictSame(p.delete.map((s) => s.metadata!.name), [old[0]!.metadata!.name])
})

t.test('a pod on an unknown node is left out with an error, unless addresses are published regardless', async (t) => {
  const p = plan({ pods: [pod('p1'), pod('p2', { node: 'gone' }), pod('p3', { node: '' })] })
  t.equal(p.errors.length, 2)
  t.match(p.errors[0], 'skipping Pod p2 for Service ns/web: Node gone Not Found')
  t.strictSame((p.plans[0]!.create[0]!.endpoints as any[]).map((e) => e.targetRef.name), ['p1'])
  const published = plan({ service: service('web', { publishNotReadyAddresses: true }), pods: [pod('p1'), pod('p2', { node: 'gone' })] })
  t.strictSame(published.errors, [])
  t.equal((published.plans[0]!.create[0]!.endpoints as unknown[]).length, 2)
})

t.test('service label changes relabel the slices; the headless label follows the cluster IP', async (t) => {
  const slices = stored(plan({ pods: pods(3) }))
  const relabelled = plan({ service: service('web', {}, { team: 'b' }), pods: pods(3), existing: slices }).plans[0]!
  t.equal(relabelled.update.length, 1)
  t.match(relabelled.update[0]!.metadata!.labels, { team: 'b', 'kubernetes.io/service-name': 'web' })
  const headless = plan({ service: service('web', { clusterIP: 'None' }), pods: pods(1) }).plans[0]!
  t.equal(headless.create[0]!.metadata!.labels!['service.kubernetes.io/headless'], '')
})

t.test('pods offering different ports go to different slices; slices of an address type no longer served go', async (t) => {
  const p = plan({ pods: [pod('p1'), pod('p2', { ports: [{ name: 'http', containerPort: 9090 }] })] })
  t.strictSame(p.plans[0]!.create.map((s) => (s.ports as any[])[0].port).sort(), [8080, 9090])
  const v4 = stored(p)
  const v6 = plan({ service: service('web', { ipFamilies: ['IPv6'], clusterIP: 'fd00::1' }), pods: [], existing: v4 })
  t.equal(v6.unsupported.length, 2)
})

t.test('PreferClose hints ready endpoints for their zone; otherwise hints are removed', async (t) => {
  const close = plan({ service: service('web', { trafficDistribution: 'PreferClose' }), pods: [pod('p1'), pod('p2', { node: 'n2' }), pod('p3', { ready: false })] })
  const eps = close.plans[0]!.create[0]!.endpoints as any[]
  t.strictSame(
    eps.map((e) => [e.targetRef.name, e.hints]),
    [
      ['p1', { forZones: [{ name: 'zone-a' }] }],
      ['p2', undefined],
      ['p3', undefined],
    ],
  )
  const slices = stored(close)
  t.strictSame(plan({ service: service('web', { trafficDistribution: 'PreferClose' }), pods: [pod('p1'), pod('p2', { node: 'n2' }), pod('p3', { ready: false })], existing: slices }).plans[0]!.update, [])
  const cleared = plan({ pods: [pod('p1'), pod('p2', { node: 'n2' }), pod('p3', { ready: false })], existing: slices }).plans[0]!
  t.equal(cleared.update.length, 1, 'an otherwise unchanged slice is rewritten to drop its hints')
  t.ok((cleared.update[0]!.endpoints as any[]).every((e) => e.hints === undefined))
})

t.test('no slices are created for a Service being deleted', async (t) => {
  const svc = service('web')
  svc.metadata!.deletionTimestamp = '2024-05-01T12:00:00Z'
  t.strictSame(plan({ service: svc, pods: pods(3) }).plans[0]!.create, [])
})

t.test('the tracker: our own writes are not news, others are; a lagging cache is stale', async (t) => {
  const tracker = new EndpointSliceTracker()
  const svc = service('web')
  const slice = (uid: string, rv: string): KubeObject => ({ metadata: { name: uid, namespace: 'ns', uid, resourceVersion: rv, labels: { 'kubernetes.io/service-name': 'web' } } })
  t.ok(tracker.shouldSync(slice('a', '5')), 'unknown slice')
  tracker.update(slice('a', '10'))
  t.notOk(tracker.shouldSync(slice('a', '10')), 'the echo of our write')
  t.ok(tracker.shouldSync(slice('a', '11')), 'changed since')
  t.ok(tracker.staleSlices(svc, [slice('a', '9')]), 'older than our write')
  t.ok(tracker.staleSlices(svc, []), 'our slice is missing')
  t.notOk(tracker.staleSlices(svc, [slice('a', '10')]))
  tracker.expectDeletion(slice('a', '10'))
  t.ok(tracker.staleSlices(svc, [slice('a', '10')]), 'deleted by us, still cached')
  t.notOk(tracker.staleSlices(svc, []))
  t.ok(tracker.handleDeletion(slice('a', '10')), 'an expected deletion')
  tracker.update(slice('b', '12'))
  t.notOk(tracker.handleDeletion(slice('b', '12')), 'someone else deleted it')
  tracker.update(slice('c', '20'))
  t.notOk(tracker.staleSlices({ ...svc, metadata: { ...svc.metadata, uid: 'other' } }, []), 'a new Service of the same name starts afresh')
})
