// The Endpoints and EndpointSlice controllers against a real API server (the test
// plays the kubelet by writing pod status): ready and not-ready pods, ports resolved
// per pod, terminating and deleted pods, relabelled pods, headless Services,
// Services without a selector, Service deletion, and slices split at 100 endpoints.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import type { KubeObject, RestClient } from '../../../src/client/index.js'
import { endpointsController } from '../../../src/controllers/endpoints/endpoints.js'
import { endpointSliceController } from '../../../src/controllers/endpoints/endpointslice.js'
import { ENDPOINT_SLICES, ENDPOINTS, eventually, gone, NODES, PODS, SERVICES, settle, startCluster } from '../helpers.js'

const extra = { endpoint: endpointsController, endpointslice: endpointSliceController }
const NS = 'default'

function svc(name: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels },
    spec: { selector: { app: name }, ports: [{ name: 'web', port: 80, targetPort: 'http' }], ...spec },
  }
}

function podOf(name: string, app: string, containerPort = 8080, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort }] }], ...spec },
  }
}

/** Running with an IP, Ready or not, as a kubelet reports it. */
async function setStatus(client: RestClient, name: string, ip: string, ready: boolean): Promise<void> {
  const pods = client.resource(PODS, NS)
  const p = await pods.get(name)
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  await pods.updateStatus({
    ...p,
    status: { ...(p.status as object), phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] },
  })
}

async function addNode(client: RestClient, name: string, zone: string): Promise<void> {
  await client.resource(NODES).create({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } } })
}

async function endpointsOf(client: RestClient, name: string): Promise<KubeObject | undefined> {
  try {
    return await client.resource(ENDPOINTS, NS).get(name)
  } catch {
    return undefined
  }
}

/** ip → ready, notReady, with the ports of its subset. */
function addressTable(ep: KubeObject | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const s of (ep?.subsets ?? []) as any[]) {
    const ports = (s.ports ?? []).map((p: any) => p.port).join(',')
    for (const a of s.addresses ?? []) out[a.targetRef.name] = `ready:${ports}`
    for (const a of s.notReadyAddresses ?? []) out[a.targetRef.name] = `notReady:${ports}`
  }
  return out
}

async function slicesOf(client: RestClient, service: string): Promise<KubeObject[]> {
  return (await client.resource(ENDPOINT_SLICES, NS).list({ labelSelector: `kubernetes.io/service-name=${service}` })).items
}

/** pod name → `ready/serving/terminating:port` across the Service's slices. */
function sliceTable(slices: KubeObject[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const s of slices) {
    const ports = ((s.ports ?? []) as any[]).map((p) => p.port).join(',')
    for (const e of (s.endpoints ?? []) as any[]) {
      const c = e.conditions
      out[e.targetRef.name] = `${c.ready}/${c.serving}/${c.terminating}:${ports}`
    }
  }
  return out
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  return eventually(what, async () => {
    const v = await probe()
    return ok(v) ? v : undefined
  })
}

const same = (want: Record<string, string>) => (have: Record<string, string>) => JSON.stringify(Object.entries(have).sort()) === JSON.stringify(Object.entries(want).sort())

t.test('Endpoints and EndpointSlices follow the pods a Service selects', async (t) => {
  const { client } = await startCluster(t, ['endpoint', 'endpointslice', 'garbagecollector'], extra)
  await addNode(client, 'n1', 'zone-a')
  const service = await client.resource(SERVICES, NS).create(svc('web', {}, { team: 'blue' }))
  await client.resource(PODS, NS).create(podOf('web-1', 'web'))
  await client.resource(PODS, NS).create(podOf('web-2', 'web'))
  await client.resource(PODS, NS).create(podOf('web-3', 'web', 9090))
  await client.resource(PODS, NS).create(podOf('other', 'other'))
  await setStatus(client, 'web-1', '10.1.0.1', true)
  await setStatus(client, 'web-2', '10.1.0.2', true)
  await setStatus(client, 'web-3', '10.1.0.3', true)
  await setStatus(client, 'other', '10.1.0.9', true)

  const ep = await until('three ready addresses', () => endpointsOf(client, 'web'), (e) => same({ 'web-1': 'ready:8080', 'web-2': 'ready:8080', 'web-3': 'ready:9090' })(addressTable(e)))
  t.pass('the named targetPort is resolved on each pod')
  t.match(ep!.metadata!.labels, { team: 'blue' })
  t.equal(ep!.metadata!.labels!['service.kubernetes.io/headless'], undefined)
  t.match(ep!.metadata!.annotations!['endpoints.kubernetes.io/last-change-trigger-time'], /^\d{4}-\d\d-\d\dT/)
  const first = (ep!.subsets as any[]).flatMap((s) => s.addresses).find((a: any) => a.targetRef.name === 'web-1')
  t.match(first, { ip: '10.1.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: NS, name: 'web-1' } })
  t.match((ep!.subsets as any[]).find((s) => s.ports[0].port === 8080).ports, [{ name: 'web', port: 8080, protocol: 'TCP' }])

  const slices = await until('slices of all three pods', () => slicesOf(client, 'web'), (s) => same({ 'web-1': 'true/true/false:8080', 'web-2': 'true/true/false:8080', 'web-3': 'true/true/false:9090' })(sliceTable(s)))
  t.equal(slices.length, 2, 'one slice per set of ports')
  for (const s of slices) {
    t.match(s, { addressType: 'IPv4', metadata: { generateName: 'web-', labels: { team: 'blue', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } } })
    t.match(s.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: service.metadata!.uid, controller: true, blockOwnerDeletion: true }])
  }
  const e1 = slices.flatMap((s) => s.endpoints as any[]).find((e) => e.targetRef.name === 'web-1')
  t.match(e1, { addresses: ['10.1.0.1'], nodeName: 'n1', zone: 'zone-a', targetRef: { kind: 'Pod', name: 'web-1', namespace: NS } })
  const sliceNames = slices.map((s) => s.metadata!.name).sort()
  const versions = async (): Promise<string[]> => [
    String((await endpointsOf(client, 'web'))?.metadata?.resourceVersion),
    ...(await slicesOf(client, 'web')).map((s) => `${s.metadata!.name}@${s.metadata!.resourceVersion}`).sort(),
  ]
  const settled = await versions()
  await settle(1500)
  t.strictSame(await versions(), settled, 'nothing is rewritten once converged')

  await setStatus(client, 'web-1', '10.1.0.1', false)
  await until('web-1 not ready in Endpoints', () => endpointsOf(client, 'web'), (e) => addressTable(e)['web-1'] === 'notReady:8080')
  await until('web-1 not ready in its slice', () => slicesOf(client, 'web'), (s) => sliceTable(s)['web-1'] === 'false/false/false:8080')
  t.strictSame((await slicesOf(client, 'web')).map((s) => s.metadata!.name).sort(), sliceNames, 'the slices are updated, not replaced')

  // A bound pod is deleted gracefully: terminating, it leaves Endpoints but stays in its slice, serving.
  await client.resource(PODS, NS).delete('web-2')
  await until('web-2 gone from Endpoints', () => endpointsOf(client, 'web'), (e) => same({ 'web-1': 'notReady:8080', 'web-3': 'ready:9090' })(addressTable(e)))
  await until('web-2 terminating in its slice', () => slicesOf(client, 'web'), (s) => sliceTable(s)['web-2'] === 'false/true/true:8080')
  await client.resource(PODS, NS).delete('web-2', { gracePeriodSeconds: 0 })
  await until('web-2 gone from the slices', () => slicesOf(client, 'web'), (s) => sliceTable(s)['web-2'] === undefined)

  const p3 = await client.resource(PODS, NS).get('web-3')
  await client.resource(PODS, NS).update({ ...p3, metadata: { ...p3.metadata, labels: { app: 'moved' } } })
  await until('relabelled web-3 gone from Endpoints', () => endpointsOf(client, 'web'), (e) => same({ 'web-1': 'notReady:8080' })(addressTable(e)))
  await until('relabelled web-3 gone from the slices', () => slicesOf(client, 'web'), (s) => same({ 'web-1': 'false/false/false:8080' })(sliceTable(s)))
  t.equal((await slicesOf(client, 'web')).length, 1, 'the emptied slice is deleted')

  await client.resource(SERVICES, NS).delete('web')
  await gone(client, ENDPOINTS, NS, 'web')
  await until('the slices collected with their Service', () => slicesOf(client, 'web'), (s) => s.length === 0)
  t.pass('Endpoints deleted by the controller, slices by the garbage collector')
})

t.test('a headless Service: hostnames, the headless label, addresses without ports; publishNotReadyAddresses', async (t) => {
  const { client } = await startCluster(t, ['endpoint', 'endpointslice'], extra)
  await addNode(client, 'n1', 'zone-a')
  await client.resource(SERVICES, NS).create(svc('db', { clusterIP: 'None', ports: undefined, publishNotReadyAddresses: true }))
  await client.resource(PODS, NS).create(podOf('db-0', 'db', 5432, { hostname: 'db-0', subdomain: 'db' }))
  await client.resource(PODS, NS).create(podOf('db-1', 'db', 5432, { hostname: 'db-1', subdomain: 'db' }))
  await setStatus(client, 'db-0', '10.2.0.1', true)
  await setStatus(client, 'db-1', '10.2.0.2', false)

  const ep = await until('both pods published', () => endpointsOf(client, 'db'), (e) => same({ 'db-0': 'ready:', 'db-1': 'ready:' })(addressTable(e)))
  t.equal(ep!.metadata!.labels!['service.kubernetes.io/headless'], '')
  t.strictSame(
    (ep!.subsets as any[])[0].addresses.map((a: any) => [a.ip, a.hostname]),
    [
      ['10.2.0.1', 'db-0'],
      ['10.2.0.2', 'db-1'],
    ],
  )
  t.equal((ep!.subsets as any[])[0].ports, undefined)

  const slices = await until('slice of both pods', () => slicesOf(client, 'db'), (s) => same({ 'db-0': 'true/true/false:', 'db-1': 'true/false/false:' })(sliceTable(s)))
  t.equal(slices[0]!.metadata!.labels!['service.kubernetes.io/headless'], '')
  t.strictSame(((slices[0]!.endpoints ?? []) as any[]).map((e) => e.hostname).sort(), ['db-0', 'db-1'])

  // What someone else deletes is put back.
  await client.resource(ENDPOINTS, NS).delete('db')
  await until('the Endpoints recreated', () => endpointsOf(client, 'db'), (e) => e?.metadata?.uid !== undefined && e.metadata.uid !== ep!.metadata!.uid && Object.keys(addressTable(e)).length === 2)
  await client.resource(ENDPOINT_SLICES, NS).delete(slices[0]!.metadata!.name!)
  await until('a slice recreated', () => slicesOf(client, 'db'), (s) => s.length === 1 && s[0]!.metadata!.uid !== slices[0]!.metadata!.uid && Object.keys(sliceTable(s)).length === 2)
  t.pass('Endpoints and slices deleted by a user come back')
})

t.test('a Service without a selector keeps the Endpoints and slices its user writes', async (t) => {
  const { client } = await startCluster(t, ['endpoint', 'endpointslice'], extra)
  await addNode(client, 'n1', 'zone-a')
  await client.resource(SERVICES, NS).create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { ports: [{ port: 80 }] } })
  const manual = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ext' }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 80 }] }] }
  await client.resource(ENDPOINTS, NS).create(manual)
  await client.resource(ENDPOINT_SLICES, NS).create({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'ext-manual', labels: { 'kubernetes.io/service-name': 'ext' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['192.0.2.10'] }],
    ports: [{ port: 80 }],
  })
  // Pods that would match an empty selector must not be listed.
  await client.resource(PODS, NS).create(podOf('ext-1', 'ext'))
  await setStatus(client, 'ext-1', '10.3.0.1', true)
  // A Service with a selector started at the same time shows the controllers are running.
  await client.resource(SERVICES, NS).create(svc('ext2', { selector: { app: 'ext' } }))
  await until('the other Service gets its Endpoints', () => endpointsOf(client, 'ext2'), (e) => addressTable(e)['ext-1'] === 'ready:8080')
  await settle(1500)
  const ep = await client.resource(ENDPOINTS, NS).get('ext')
  t.strictSame(ep.subsets, [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 80, protocol: 'TCP' }] }])
  t.equal(ep.metadata!.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], undefined)
  const slices = await slicesOf(client, 'ext')
  t.strictSame(
    slices.map((s) => s.metadata!.name),
    ['ext-manual'],
  )
})

t.test('more than 100 endpoints are spread over several slices; Endpoints lists them all', async (t) => {
  const { client } = await startCluster(t, ['endpoint', 'endpointslice'], extra)
  await addNode(client, 'n1', 'zone-a')
  await client.resource(SERVICES, NS).create(svc('big'))
  const n = 105
  const names = Array.from({ length: n }, (_, i) => `big-${i}`)
  for (let i = 0; i < n; i += 15) {
    await Promise.all(names.slice(i, i + 15).map((name) => client.resource(PODS, NS).create(podOf(name, 'big'))))
  }
  for (let i = 0; i < n; i += 15) {
    await Promise.all(names.slice(i, i + 15).map((name, j) => setStatus(client, name, `10.4.${(i + j) >> 8}.${((i + j) & 255) + 1}`, true)))
  }
  const slices = await until(`${n} endpoints in slices`, () => slicesOf(client, 'big'), (s) => Object.keys(sliceTable(s)).length === n)
  t.ok(slices.length >= 2, `${slices.length} slices`)
  t.ok(
    slices.every((s) => (s.endpoints as unknown[]).length <= 100),
    'none over 100',
  )
  const ep = await until(`${n} addresses`, () => endpointsOf(client, 'big'), (e) => Object.keys(addressTable(e)).length === n)
  t.equal(ep!.metadata!.annotations?.['endpoints.kubernetes.io/over-capacity'], undefined)
})
