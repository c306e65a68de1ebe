// Which pods a Service's endpoints list, which port each offers, which Services a pod
// change concerns, and the last-change trigger time: without a server.
import t from 'tap'
import { podEndpointsChanged, serviceSelector, servicesToUpdateOnPodChange, shouldPodBeInEndpoints, shouldSetHostname } from '../../../src/controllers/endpoints/membership.js'
import { findPort, portMapKey, slicePorts } from '../../../src/controllers/endpoints/ports.js'
import { formatTriggerTime, TriggerTimeTracker } from '../../../src/controllers/endpoints/trigger-time.js'
import { pod, service } from './fixtures.js'

t.test('a numeric targetPort is used as it is; a named one is resolved on each pod by name and protocol', async (t) => {
  const a = pod('a', { ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] })
  const b = pod('b', { ports: [{ name: 'http', containerPort: 9090 }] })
  const udp = pod('c', { ports: [{ name: 'http', containerPort: 7070, protocol: 'UDP' }] })
  t.equal(findPort(a, { port: 80, targetPort: 'http', protocol: 'TCP' }), 8080)
  t.equal(findPort(b, { port: 80, targetPort: 'http' }), 9090, 'protocol defaults to TCP on both sides')
  t.equal(findPort(udp, { port: 80, targetPort: 'http', protocol: 'TCP' }), undefined, 'same name, other protocol: no port')
  t.equal(findPort(a, { port: 80, targetPort: 'grpc' }), undefined)
  t.equal(findPort(a, { port: 80, targetPort: 3000 }), 3000)
  t.equal(findPort(a, { port: 80 }), 80, 'no targetPort: the port itself')
})

t.test('a sidecar (restartable init container) may offer the named port; a plain init container may not', async (t) => {
  const p = pod('a', { ports: [] })
  ;(p.spec as Record<string, unknown>).initContainers = [
    { name: 'init', image: 'x', ports: [{ name: 'metrics', containerPort: 1000 }] },
    { name: 'side', image: 'x', restartPolicy: 'Always', ports: [{ name: 'admin', containerPort: 2000 }] },
  ]
  t.equal(findPort(p, { port: 1, targetPort: 'metrics' }), undefined)
  t.equal(findPort(p, { port: 1, targetPort: 'admin' }), 2000)
})

t.test('slice ports carry the service port name always, and group pods whatever their order', async (t) => {
  const svc = service('web', { ports: [{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }, { port: 81, targetPort: 'missing', protocol: 'TCP' }] })
  t.strictSame(slicePorts(svc, pod('a')), [{ name: 'web', port: 8080, protocol: 'TCP' }], 'an unresolvable port is left out')
  t.equal(portMapKey([{ name: 'a', port: 1, protocol: 'TCP' }, { name: 'b', port: 2, protocol: 'TCP' }]), portMapKey([{ name: 'b', port: 2 }, { port: 1, name: 'a', protocol: 'TCP' }]))
  t.not(portMapKey([{ name: 'a', port: 1 }]), portMapKey([{ name: 'a', port: 2 }]))
  t.equal(portMapKey(undefined), portMapKey([]))
})

t.test('a pod is listed while it has an IP and is not terminal; terminating only when asked', async (t) => {
  t.ok(shouldPodBeInEndpoints(pod('a'), false))
  t.notOk(shouldPodBeInEndpoints(pod('a', { ip: '' }), true), 'no IP yet')
  t.notOk(shouldPodBeInEndpoints(pod('a', { phase: 'Succeeded' }), true))
  t.notOk(shouldPodBeInEndpoints(pod('a', { phase: 'Failed' }), true))
  t.notOk(shouldPodBeInEndpoints(pod('a', { terminating: true }), false))
  t.ok(shouldPodBeInEndpoints(pod('a', { terminating: true }), true))
  t.ok(shouldPodBeInEndpoints(pod('a', { ready: false }), false), 'not ready still counts (as not ready)')
  const ips = pod('a', { ip: '' })
  ;(ips.status as Record<string, unknown>).podIPs = [{ ip: '10.1.1.1' }]
  t.ok(shouldPodBeInEndpoints(ips, false), 'podIPs alone')
})

t.test('a Service without a selector (absent or empty) has user-managed endpoints', async (t) => {
  t.strictSame(serviceSelector(service('a')), { app: 'web' })
  t.equal(serviceSelector(service('a', { selector: undefined })), undefined)
  t.equal(serviceSelector(service('a', { selector: {} })), undefined)
})

t.test('hostname is published when the pod names itself under this Service', async (t) => {
  const svc = service('db')
  t.ok(shouldSetHostname(pod('a', { hostname: 'db-0', subdomain: 'db' }), svc))
  t.notOk(shouldSetHostname(pod('a', { hostname: 'db-0', subdomain: 'other' }), svc))
  t.notOk(shouldSetHostname(pod('a', { subdomain: 'db' }), svc))
})

t.test('pod updates: resyncs and irrelevant changes concern no one', async (t) => {
  const services = [service('web'), service('api', { selector: { tier: 'api' } })]
  const p = pod('a', { resourceVersion: '5' })
  t.equal(servicesToUpdateOnPodChange(services, p, p).size, 0, 'same resourceVersion: a resync')
  const annotated = { ...p, metadata: { ...p.metadata, resourceVersion: '6', annotations: { x: 'y' } } }
  t.equal(servicesToUpdateOnPodChange(services, p, annotated).size, 0, 'an annotation changes no endpoint')
  t.strictSame(podEndpointsChanged(p, annotated), { podChanged: false, labelsChanged: false })
})

t.test('pod updates: readiness, IP, deletion or turning terminal concern the selecting Services', async (t) => {
  const services = [service('web'), service('api', { selector: { tier: 'api' } })]
  const p = pod('a', { resourceVersion: '5' })
  for (const [what, next] of [
    ['readiness', pod('a', { ready: false, resourceVersion: '6' })],
    ['IP', pod('a', { ip: '10.0.9.9', resourceVersion: '6' })],
    ['deletion', pod('a', { terminating: true, resourceVersion: '6' })],
    ['terminal phase', pod('a', { phase: 'Succeeded', resourceVersion: '6' })],
  ] as const) {
    t.strictSame([...servicesToUpdateOnPodChange(services, p, next)], ['ns/web'], what)
  }
})

t.test('pod label changes: only the Services that gained or lost it, or all when the pod changed too', async (t) => {
  const services = [service('web'), service('all', { selector: { app: 'web' } }), service('api', { selector: { tier: 'api' } })]
  const before = pod('a', { labels: { app: 'web' }, resourceVersion: '5' })
  const relabelled = pod('a', { labels: { app: 'web', tier: 'api' }, resourceVersion: '6' })
  t.strictSame([...servicesToUpdateOnPodChange(services, before, relabelled)].sort(), ['ns/api'])
  const moved = pod('a', { labels: { tier: 'api' }, resourceVersion: '6' })
  t.strictSame([...servicesToUpdateOnPodChange(services, before, moved)].sort(), ['ns/all', 'ns/api', 'ns/web'])
  const movedAndUnready = pod('a', { labels: { app: 'web', tier: 'api' }, ready: false, resourceVersion: '6' })
  t.strictSame([...servicesToUpdateOnPodChange(services, before, movedAndUnready)].sort(), ['ns/all', 'ns/api', 'ns/web'])
})

t.test('trigger time: the Service creation first, then the earliest change since the last sync, then none', async (t) => {
  const tracker = new TriggerTimeTracker()
  const svc = service('web')
  const a = pod('a', { readySince: '2024-05-01T10:00:00Z' })
  const b = pod('b', { readySince: '2024-05-01T10:00:05Z' })
  t.equal(tracker.compute('ns/web', svc, [a, b]), Date.parse('2024-05-01T09:00:00Z'), 'first sync: the Service creation')
  t.equal(tracker.compute('ns/web', svc, [a, b]), undefined, 'nothing moved')
  const b2 = pod('b', { readySince: '2024-05-01T10:01:00Z' })
  const c = pod('c', { readySince: '2024-05-01T10:02:00Z' })
  t.equal(tracker.compute('ns/web', svc, [a, b2, c]), Date.parse('2024-05-01T10:01:00Z'), 'the earliest of the pods that moved')
  tracker.deleteService('ns/web')
  t.equal(tracker.compute('ns/web', svc, [a]), Date.parse('2024-05-01T09:00:00Z'), 'forgotten: known afresh')
  t.equal(formatTriggerTime(Date.parse('2024-05-01T10:01:00Z')), '2024-05-01T10:01:00Z')
  t.equal(formatTriggerTime(Date.parse('2024-05-01T10:01:00.120Z')), '2024-05-01T10:01:00.12Z')
})
