// The subsets of a Service's Endpoints, without a server: ready and not-ready
// addresses, per-pod ports, regrouping, and the 1000-address cap.
import t from 'tap'
import {
  capacityAnnotationSetCorrectly,
  desiredSubsets,
  type EndpointAddress,
  type EndpointSubset,
  OVER_CAPACITY_ANNOTATION,
  repackSubsets,
  subsetsEqual,
  truncateSubsets,
} from '../../../src/controllers/endpoints/subsets.js'
import { pod, service } from './fixtures.js'

const ref = (name: string): EndpointAddress['targetRef'] => ({ kind: 'Pod', namespace: 'ns', name, uid: `uid-${name}` })

t.test('ready pods are addresses, the others notReadyAddresses, sharing one subset per port set', async (t) => {
  const subsets = desiredSubsets(service('web'), [pod('p3', { ready: false }), pod('p1'), pod('p2')])
  t.strictSame(subsets, [
    {
      addresses: [
        { ip: '10.0.0.1', nodeName: 'n1', targetRef: ref('p1') },
        { ip: '10.0.0.2', nodeName: 'n1', targetRef: ref('p2') },
      ],
      notReadyAddresses: [{ ip: '10.0.0.3', nodeName: 'n1', targetRef: ref('p3') }],
      ports: [{ name: 'web', port: 8080, protocol: 'TCP' }],
    },
  ])
})

t.test('a named targetPort resolving to different numbers splits the pods into subsets', async (t) => {
  const subsets = desiredSubsets(service('web'), [pod('p1'), pod('p2', { ports: [{ name: 'http', containerPort: 9090 }] })])
  t.equal(subsets.length, 2)
  t.strictSame(subsets.map((s) => [s.addresses?.map((a) => a.ip), s.ports?.map((p) => p.port)]).sort(), [
    [['10.0.0.1'], [8080]],
    [['10.0.0.2'], [9090]],
  ])
})

t.test('pods without an IP, terminal or terminating are left out; publishNotReadyAddresses lists all as ready', async (t) => {
  const pods = [pod('p1', { ip: '' }), pod('p2', { phase: 'Failed' }), pod('p3', { terminating: true }), pod('p4', { ready: false })]
  t.strictSame(
    desiredSubsets(service('web'), pods).map((s) => [s.addresses?.length ?? 0, s.notReadyAddresses?.length ?? 0]),
    [[0, 1]],
  )
  const published = desiredSubsets(service('web', { publishNotReadyAddresses: true }), pods)
  t.strictSame(
    published[0]!.addresses!.map((a) => a.targetRef?.name),
    ['p3', 'p4'],
    'terminating and not-ready pods are published as ready',
  )
  t.equal(published[0]!.notReadyAddresses, undefined)
})

t.test('a headless Service without ports lists bare addresses, with hostnames', async (t) => {
  const svc = service('db', { clusterIP: 'None', ports: [] })
  const subsets = desiredSubsets(svc, [pod('p1', { hostname: 'db-0', subdomain: 'db' }), pod('p2')])
  t.strictSame(subsets, [{ addresses: [{ ip: '10.0.0.1', hostname: 'db-0', nodeName: 'n1', targetRef: ref('p1') }, { ip: '10.0.0.2', nodeName: 'n1', targetRef: ref('p2') }] }])
  t.strictSame(desiredSubsets(service('web', { ports: [] }), [pod('p1')]), [], 'a Service with a cluster IP and no ports has no endpoints')
})

t.test('repacking: an address not ready on one port stays not ready there; equal address sets merge their ports', async (t) => {
  const a: EndpointAddress = { ip: '10.0.0.1', targetRef: ref('a') }
  const b: EndpointAddress = { ip: '10.0.0.2', targetRef: ref('b') }
  const p1 = { name: 'x', port: 1, protocol: 'TCP' }
  const p2 = { name: 'y', port: 2, protocol: 'TCP' }
  const packed = repackSubsets([
    { addresses: [a], ports: [p1] },
    { addresses: [b], ports: [p1] },
    { addresses: [b], ports: [p2] },
    { addresses: [a], ports: [p2] },
    { notReadyAddresses: [a], ports: [p2] },
  ])
  t.strictSame(packed, [
    { addresses: [a, b], ports: [p1] },
    { addresses: [b], notReadyAddresses: [a], ports: [p2] },
  ])
  const merged = repackSubsets([
    { addresses: [b], ports: [p2] },
    { addresses: [a], ports: [p1] },
    { addresses: [a], ports: [p2] },
    { addresses: [b], ports: [p1] },
  ])
  t.strictSame(merged, [{ addresses: [a, b], ports: [p1, p2] }])
})

function many(n: number, ready: boolean, from = 0): EndpointAddress[] {
  return Array.from({ length: n }, (_, i) => ({ ip: `10.${ready ? 1 : 2}.${(from + i) >> 8}.${(from + i) & 255}` }))
}

t.test('over 1000 addresses: ready ones kept first, cut in proportion across subsets', async (t) => {
  const port = (n: number): EndpointSubset['ports'] => [{ port: n, protocol: 'TCP' }]
  const under: EndpointSubset[] = [{ addresses: many(600, true), ports: port(1) }, { addresses: many(400, true), ports: port(2) }]
  t.equal(truncateSubsets(under).truncated, false, 'exactly 1000: not truncated')

  const notReadyCut = truncateSubsets([
    { addresses: many(700, true), notReadyAddresses: many(300, false), ports: port(1) },
    { notReadyAddresses: many(100, false, 300), ports: port(2) },
  ])
  t.ok(notReadyCut.truncated)
  t.strictSame(
    notReadyCut.subsets.map((s) => [s.addresses?.length ?? 0, s.notReadyAddresses?.length ?? 0]),
    [
      [700, 225],
      [0, 75],
    ],
    '300 not-ready places shared 3:1',
  )

  const readyCut = truncateSubsets([
    { addresses: many(900, true), notReadyAddresses: many(10, false), ports: port(1) },
    { addresses: many(300, true, 900), ports: port(2) },
    { notReadyAddresses: many(5, false, 10), ports: port(3) },
  ])
  t.strictSame(
    readyCut.subsets.map((s) => [s.addresses?.length ?? 0, s.notReadyAddresses?.length ?? 0]),
    [
      [750, 0],
      [250, 0],
    ],
    'ready addresses alone fill the cap; a subset left empty is dropped',
  )
})

t.test('the over-capacity annotation is right only when absent and within the cap', async (t) => {
  const within: EndpointSubset[] = [{ addresses: many(10, true) }]
  t.ok(capacityAnnotationSetCorrectly({}, within))
  t.notOk(capacityAnnotationSetCorrectly({ [OVER_CAPACITY_ANNOTATION]: 'truncated' }, within))
  t.notOk(capacityAnnotationSetCorrectly({}, [{ addresses: many(1001, true) }]))
})

t.test('subsets compare equal whatever the pods resourceVersions and empty fields', async (t) => {
  const a: EndpointSubset[] = [{ addresses: [{ ip: '10.0.0.1', targetRef: { ...ref('a'), resourceVersion: '7' } }], notReadyAddresses: [], ports: [{ port: 1, protocol: 'TCP' }] }]
  const b: EndpointSubset[] = [{ addresses: [{ ip: '10.0.0.1', hostname: '', targetRef: ref('a') }], ports: [{ port: 1, protocol: 'TCP' }] }]
  t.ok(subsetsEqual(a, b))
  t.ok(subsetsEqual(undefined, []))
  t.notOk(subsetsEqual(a, [{ notReadyAddresses: b[0]!.addresses, ports: b[0]!.ports }]))
})
