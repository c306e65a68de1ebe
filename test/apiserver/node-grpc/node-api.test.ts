// The node gRPC API's unary calls and a first watch, through NodeApiClient against
// one NodeGrpcServer on loopback over an in-memory store.
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { ApiError as ServerApiError } from '../../../src/apiserver/status.js'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'
import { ApiError, ConnectionError, isAlreadyExists, isConflict, isInvalid, isNotFound } from '../../../src/client/errors.js'
import { nodeServiceMethods, type NodeWatchEvent, STATUS_TRAILER } from '../../../src/client/node-grpc.js'
import { bind, client, CONFIGMAPS, ENDPOINTSLICES, EVENTS, LEASES, nameOf, NODES, pod, PODS, rvOf, SERVICES, startMaster, waitFor, write } from './helpers/masters.js'

const node = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: { podCIDR: '10.244.1.0/24' },
  status: { capacity: { cpu: '2', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  ...extra,
})

t.test('RegisterNode creates the Node with its status, then merges without undoing what the cluster set', async (t) => {
  const storage = new MemoryStorage()
  const m = await startMaster(t, storage)
  const c = client(t, [m.address])

  const first = await c.registerNode(node('n1'))
  t.equal(first.created, true)
  t.same((first.node.status as Record<string, unknown>).capacity, { cpu: '2', pods: '110' }, 'status kept on create')
  const stored = await m.api.store(NODES).get('', 'n1')
  t.equal(rvOf(stored), rvOf(first.node))

  // The cluster cordons the node; the kubelet restarts and registers again with new labels and status.
  await m.api.store(NODES).update('', 'n1', (cur) => ({ ...cur!, spec: { ...(cur!.spec as object), unschedulable: true } }), write)
  const again = await c.registerNode(
    node('n1', {
      metadata: { name: 'n1', labels: { zone: 'a' } },
      spec: { podCIDR: '10.9.9.0/24', providerID: 'raftplane://n1' },
      status: { capacity: { cpu: '4' }, conditions: [{ type: 'Ready', status: 'False' }] },
    }),
  )
  t.equal(again.created, false)
  const meta = again.node.metadata as Record<string, unknown>
  t.same(meta.labels, { 'kubernetes.io/hostname': 'n1', zone: 'a' }, 'labels merged')
  t.same(again.node.spec, { podCIDR: '10.244.1.0/24', unschedulable: true, providerID: 'raftplane://n1' }, 'spec: nothing overwritten, missing fields filled')
  t.same((again.node.status as Record<string, unknown>).capacity, { cpu: '4' }, 'status replaced')
  t.equal(meta.uid, (first.node.metadata as Record<string, unknown>).uid, 'same object')

  // What a kubelet read back (resourceVersion, uid and all) registers again just as well.
  const third = await c.registerNode(again.node)
  t.equal(third.created, false)
  t.same(third.node.spec, again.node.spec)
})

t.test('UpdateNodeStatus and RenewNodeLease', async (t) => {
  const storage = new MemoryStorage()
  const now = new Date('2026-01-02T03:04:05.678Z')
  const m = await startMaster(t, storage, { grpc: { now: () => now } })
  const c = client(t, [m.address])
  const { node: n } = await c.registerNode(node('n1'))

  const updated = await c.updateNodeStatus('n1', { conditions: [{ type: 'Ready', status: 'False' }] })
  t.same((updated.status as Record<string, unknown>).conditions, [{ type: 'Ready', status: 'False' }])
  t.same(updated.spec, n.spec, 'a status write leaves the spec alone')

  // A stale resourceVersion is a Conflict (ABORTED on the wire), as a PUT would be.
  const stale = await c.updateNodeStatus('n1', {}, { resourceVersion: rvOf(n) }).catch((e: unknown) => e)
  t.ok(isConflict(stale), 'stale resourceVersion: 409 Conflict')
  t.match((stale as ApiError).message, /the object has been modified/)

  const missing = await c.updateNodeStatus('nope', {}).catch((e: unknown) => e)
  t.ok(isNotFound(missing), 'unknown node: 404')

  // Waits until the node is in this master's cache (the lease takes its uid as owner from there).
  await waitFor('node in cache', () => m.api.store(NODES).cache.get('/registry/nodes/n1'))
  const lease = await c.renewNodeLease('n1')
  t.match(lease, {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'n1', namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: (n.metadata as Record<string, unknown>).uid }] },
    spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-01-02T03:04:05.678000Z' },
  })
  now.setTime(now.getTime() + 10_000)
  const renewed = await c.renewNodeLease('n1')
  t.equal((renewed.spec as Record<string, unknown>).renewTime, '2026-01-02T03:04:15.678000Z')
  t.not(rvOf(renewed), rvOf(lease))
  const stored = await m.api.store(LEASES).get('kube-node-lease', 'n1')
  t.equal(rvOf(stored), rvOf(renewed), 'the store has the renewal')
})

t.test('pods bound to a node: list, watch, status update, final delete', async (t) => {
  const storage = new MemoryStorage()
  const m = await startMaster(t, storage)
  const c = client(t, [m.address])
  const pods = m.api.store(PODS)
  await pods.create('default', pod('default', 'a', 'n1'), write)
  await pods.create('default', pod('default', 'other', 'n2'), write)
  await pods.create('kube-system', pod('kube-system', 'b'), write)

  const list = await c.listPods('n1')
  t.same(
    list.items.map((p) => (p.metadata as Record<string, unknown>).name),
    ['a'],
    'only the pods bound to n1',
  )

  const events: NodeWatchEvent[] = []
  const w = c.watchPods('n1', { onEvent: (ev) => events.push(ev) })
  t.teardown(() => w.stop())
  const resync = await waitFor('RESYNC', () => events.find((e) => e.type === 'RESYNC'))
  t.same(
    resync.type === 'RESYNC' && resync.items.map((p) => (p.metadata as Record<string, unknown>).name),
    ['a'],
    'a watch from scratch starts with the current pods',
  )

  // The scheduler binds kube-system/b to n1: the node sees it ADDED.
  const bound = await bind(m.api, 'kube-system', 'b', 'n1')
  const added = await waitFor('ADDED b', () => events.find((e) => e.type === 'ADDED'))
  t.equal(added.type === 'ADDED' && added.object.metadata?.name, 'b')
  t.equal(added.resourceVersion, rvOf(bound))

  // The kubelet reports status; the store and the watch both see it.
  const uid = String((bound.metadata as Record<string, unknown>).uid)
  const running = await c.updatePodStatus('kube-system', 'b', { phase: 'Running', podIP: '10.244.1.5' }, { uid, resourceVersion: rvOf(bound) })
  t.equal((running.status as Record<string, unknown>).phase, 'Running')
  const stored = await pods.get('kube-system', 'b')
  t.same(stored.status, { phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }] }, 'status is in the store (podIPs filled in as the v1 conversion does)')
  t.same(stored.spec, bound.spec, 'spec untouched')
  const modified = await waitFor('MODIFIED b', () => events.find((e) => e.type === 'MODIFIED'))
  t.equal(modified.resourceVersion, rvOf(running))

  const staleUid = await c.updatePodStatus('kube-system', 'b', { phase: 'Failed' }, { uid: 'not-the-uid' }).catch((e: unknown) => e)
  t.ok(isConflict(staleUid), 'a UID precondition that fails is a Conflict')
  t.match((staleUid as ApiError).message, /Precondition failed: UID in precondition: not-the-uid/)

  // Graceful deletion marks the pod; the kubelet's final delete (grace 0, uid) removes it.
  const marked = await pods.delete('kube-system', 'b', { dryRun: false })
  t.equal(marked.deleted, false, 'a running bound pod waits for its kubelet')
  const wrongUid = await c.deletePod('kube-system', 'b', 'not-the-uid').catch((e: unknown) => e)
  t.ok(isConflict(wrongUid), 'final delete with another pod\'s UID: Conflict')
  const gone = await c.deletePod('kube-system', 'b', uid)
  t.equal(gone.deleted, true)
  await t.rejects(pods.get('kube-system', 'b'), { code: 404 })
  const deleted = await waitFor('DELETED b', () => events.find((e) => e.type === 'DELETED'))
  t.equal(deleted.type === 'DELETED' && deleted.object.metadata?.name, 'b')
  t.same(
    events.map((e) => e.type),
    ['RESYNC', 'ADDED', 'MODIFIED', 'MODIFIED', 'DELETED'],
    'in order, each once (the second MODIFIED is the deletionTimestamp)',
  )
  const again = await c.deletePod('kube-system', 'b', uid).catch((e: unknown) => e)
  t.ok(isNotFound(again), 'deleting again: NotFound')
})

t.test('ConfigMaps, Secrets, Events, Services', async (t) => {
  const storage = new MemoryStorage()
  const m = await startMaster(t, storage)
  const c = client(t, [m.address])
  await m.api.store(CONFIGMAPS).create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { k: 'v' } }, write)
  const cm = await c.getConfigMap('default', 'cfg')
  t.same(cm.data, { k: 'v' })
  const noSecret = await c.getSecret('default', 'cfg').catch((e: unknown) => e)
  t.ok(isNotFound(noSecret), 'a missing secret: NotFound')
  t.equal((noSecret as ApiError).message, 'secrets "cfg" not found', 'the Kubernetes message')
  t.same((noSecret as ApiError).details, { name: 'cfg', group: '', kind: 'secrets' }, 'the Status details came through the trailer')

  const event = {
    metadata: { name: 'e1', namespace: 'kube-system' },
    reason: 'Started',
    message: 'hello',
    type: 'Normal',
    involvedObject: { kind: 'Pod', namespace: 'kube-system', name: 'p' },
    source: { component: 'kubelet', host: 'n1' },
  }
  const ev = await c.createEvent(event)
  t.match(ev, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'kube-system' }, reason: 'Started' })
  t.equal((await m.api.store(EVENTS).get('kube-system', 'e1')).message, 'hello')
  const dup = await c.createEvent(event).catch((e: unknown) => e)
  t.ok(isAlreadyExists(dup), 'an existing name: AlreadyExists')
  const invalid = await c.createEvent({ ...event, metadata: { name: 'e2', namespace: 'default' } }).catch((e: unknown) => e)
  t.ok(isInvalid(invalid), 'the API\'s validation applies: 422 Invalid')
  t.match((invalid as ApiError).message, /involvedObject.namespace/)

  const svcs = await c.listServices()
  t.same(svcs.items.map(nameOf), ['kubernetes'], 'every Service of every namespace (here the bootstrap one)')
  t.match(svcs.resourceVersion, /^\d+$/)

  // kube-proxy's watches: Services and EndpointSlices of all namespaces.
  const seen: NodeWatchEvent[] = []
  const ws = c.watchServices({ onEvent: (e) => seen.push(e) })
  const we = c.watchEndpointSlices({ onEvent: (e) => seen.push(e) })
  t.teardown(() => (ws.stop(), we.stop()))
  await waitFor('two RESYNCs', () => (seen.filter((e) => e.type === 'RESYNC').length === 2 ? true : undefined))
  const svc = await m.api.store(SERVICES).create('kube-system', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'dns' }, spec: { selector: { app: 'dns' }, ports: [{ port: 53 }] } }, write)
  const slice = await m.api.store(ENDPOINTSLICES).create(
    'kube-system',
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'dns-abc', labels: { 'kubernetes.io/service-name': 'dns' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.7'] }], ports: [{ port: 53 }] },
    write,
  )
  await waitFor('ADDED both', () => (seen.filter((e) => e.type === 'ADDED').length === 2 ? true : undefined))
  t.same(
    seen.filter((e) => e.type === 'ADDED').map((e) => e.type === 'ADDED' && `${String(e.object.kind)} ${nameOf(e.object)} ${e.resourceVersion}`),
    [`Service dns ${rvOf(svc)}`, `EndpointSlice dns-abc ${rvOf(slice)}`],
  )
  t.same((await c.listEndpointSlices()).items.map(nameOf), ['dns-abc'])
})

t.test('error statuses on the wire', async (t) => {
  const storage = new MemoryStorage()
  const m = await startMaster(t, storage)
  const methods = nodeServiceMethods()
  const raw = new grpc.Client(m.address, grpc.credentials.createInsecure())
  t.teardown(() => raw.close())
  const call = (name: keyof typeof methods, req: object) =>
    new Promise<grpc.ServiceError>((resolve, reject) => {
      const md = methods[name]
      raw.makeUnaryRequest<object, object>(md.path, md.requestSerialize, md.responseDeserialize, req, (err) => (err === null ? reject(new Error('succeeded')) : resolve(err)))
    })
  const statusOf = (err: grpc.ServiceError) => JSON.parse(String(err.metadata.get(STATUS_TRAILER)[0])) as Record<string, unknown>

  const nf = await call('GetConfigMap', { namespace: 'default', name: 'x' })
  t.equal(nf.code, grpc.status.NOT_FOUND)
  t.equal(nf.details, 'configmaps "x" not found')
  t.match(statusOf(nf), { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 })

  await m.api.store(NODES).create('', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }, write)
  const stale = await call('UpdateNodeStatus', { node_name: 'n1', status_json: Buffer.from('{}'), resource_version: '1' })
  t.equal(stale.code, grpc.status.ABORTED, 'stale resourceVersion: ABORTED')
  t.match(statusOf(stale), { reason: 'Conflict', code: 409 })

  await m.api.store(EVENTS).create('default', { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' } }, write)
  const exists = await call('CreateEvent', { event_json: Buffer.from('{"metadata":{"name":"e"}}') })
  t.equal(exists.code, grpc.status.ALREADY_EXISTS)
  t.match(statusOf(exists), { reason: 'AlreadyExists', code: 409 })

  const bad = await call('RegisterNode', { node_json: Buffer.from('{not json') })
  t.equal(bad.code, grpc.status.INVALID_ARGUMENT, 'malformed JSON: INVALID_ARGUMENT')
  t.match(statusOf(bad), { reason: 'BadRequest', code: 400 })
  const wrongKind = await call('RegisterNode', { node_json: Buffer.from('{"kind":"Pod","metadata":{"name":"x"}}') })
  t.equal(wrongKind.code, grpc.status.INVALID_ARGUMENT, 'wrong kind: INVALID_ARGUMENT')
  const noName = await call('RenewNodeLease', { node_name: '' })
  t.equal(noName.code, grpc.status.INVALID_ARGUMENT, 'no node name: INVALID_ARGUMENT (422)')
  t.match(statusOf(noName), { reason: 'Invalid', code: 422 })
})

t.test('authorization: one hook sees every call and can refuse it', async (t) => {
  const storage = new MemoryStorage()
  const seen: string[] = []
  const m = await startMaster(t, storage, {
    grpc: {
      authorize: (a) => {
        seen.push(`${a.verb} ${a.resource.plural}${a.subresource === '' ? '' : '/' + a.subresource} ${a.namespace}/${a.name}${a.nodeName === undefined ? '' : ' node=' + a.nodeName} token=${String(a.call.metadata.get('authorization')[0] ?? '')}`)
        if (a.resource.plural === 'secrets') {
          throw new (class extends Error {})('x')
        }
        if (a.resource.plural === 'configmaps' && a.name === 'forbidden') {
          throw forbidden()
        }
      },
    },
  })
  const c = client(t, [m.address])
  await m.api.store(CONFIGMAPS).create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'forbidden' } }, write)
  const denied = await c.getConfigMap('default', 'forbidden').catch((e: unknown) => e)
  t.ok(denied instanceof ApiError && denied.code === 403 && denied.reason === 'Forbidden', 'a refusal is 403 Forbidden')
  const broken = await c.getSecret('default', 's').catch((e: unknown) => e)
  t.ok(broken instanceof ApiError && broken.code === 500, 'an authorizer that breaks refuses (500), never allows')
  await c.listPods('n1')
  t.same(seen, ['get configmaps default/forbidden token=', 'get secrets default/s token=', 'list pods / node=n1 token='])
  t.notOk(denied instanceof ConnectionError)
})

function forbidden(): Error {
  // The server's own ApiError, as issue 9's authorizer will throw it.
  return new ServerApiError(403, 'Forbidden', 'configmaps "forbidden" is forbidden: User "system:node:n1" cannot get resource "configmaps"')
}
