// Fenced clients: every request carries the fence current at that moment, a client
// with no fence refuses locally with the server's 409 shape, and against a real API
// server a leader whose Lease changed hands behind its back gets LeaseFenced from the
// server before it notices, and a local refusal after. A client made in one term of
// leadership stays refused in the next one.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { findResource } from '../../src/api/resources.js'
import { ApiError } from '../../src/client/errors.js'
import { RestClient } from '../../src/client/rest.js'
import { type Fence, fencedClient, isFencedError, LEASE_FENCED, leaseFencedError, newIdentity } from '../../src/leader-election/index.js'
import { JumpClock } from './jump-clock.js'
import { candidate, client, startApi, waitFor } from './helpers.js'

const CONFIGMAPS = findResource('', 'v1', 'configmaps')!
const TIMINGS = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 100 }
const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } })

async function recorder(t: Test): Promise<{ url: string; requests: http.IncomingHttpHeaders[] }> {
  const requests: http.IncomingHttpHeaders[] = []
  const server = http.createServer((req, res) => {
    requests.push(req.headers)
    req.resume()
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json' })
      res.end('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

t.test('every request carries the fence of that moment; none: refused locally', async (t) => {
  const { url, requests } = await recorder(t)
  let current: Fence | undefined = { lease: 'kube-system/kube-scheduler', holder: 'master-1_a' }
  const source = { lease: 'kube-system/kube-scheduler', identity: 'master-1_a', fence: () => current }
  const base = new RestClient({ urls: url, headers: { 'X-Base': 'kept' } })
  const fenced = fencedClient(base, source)
  const fromOptions = fencedClient({ urls: url, headers: () => ({ 'X-Fn': 'also kept' }) }, source)
  t.teardown(() => {
    base.close()
    fenced.close()
    fromOptions.close()
  })

  await fenced.resource(CONFIGMAPS, 'default').create(cm('a'))
  t.match(requests[0], { 'x-raftplane-fence': 'kube-system/kube-scheduler', 'x-raftplane-fence-holder': 'master-1_a', 'x-base': 'kept' })
  await fenced.request({ method: 'GET', path: '/api/v1/namespaces/default/configmaps/a' })
  t.equal(requests[1]?.['x-raftplane-fence-holder'], 'master-1_a', 'reads carry it too')
  current = { lease: 'kube-system/kube-scheduler', holder: 'master-1_b' }
  await fromOptions.resource(CONFIGMAPS, 'default').create(cm('b'))
  t.match(requests[2], { 'x-raftplane-fence-holder': 'master-1_b', 'x-fn': 'also kept' }, 'read at each request')
  t.equal(requests[2]?.['x-base'], undefined)

  current = undefined
  const err = await fenced.resource(CONFIGMAPS, 'default').create(cm('c')).catch((e: unknown) => e)
  t.ok(err instanceof ApiError)
  t.ok(isFencedError(err))
  t.match(err, { code: 409, reason: 'Conflict', status: { kind: 'Status', status: 'Failure', code: 409 } })
  t.same((err as ApiError).details?.causes?.map((c) => c.reason), [LEASE_FENCED])
  t.match((err as Error).message, /fenced by lease kube-system\/kube-scheduler, which "master-1_a" does not hold/)
  await t.rejects(fenced.request({ method: 'GET', path: '/x' }), { code: 409 })
  t.equal(requests.length, 3, 'nothing sent while unfenced')
})

t.test('isFencedError tells fenced 409s from other errors', async (t) => {
  t.ok(isFencedError(leaseFencedError('kube-system/x', 'me')))
  const plain = new ApiError({ kind: 'Status', apiVersion: 'v1', code: 409, reason: 'Conflict', message: 'the object has been modified' })
  t.notOk(isFencedError(plain), 'an ordinary conflict')
  t.notOk(isFencedError(new Error('LeaseFenced')))
  t.notOk(isFencedError(undefined))
})

t.test('a leader whose Lease changed hands is refused by the server, then locally', async (t) => {
  const { url } = await startApi(t)
  const clock = new JumpClock()
  const c = client(t, url)
  const writers: RestClient[] = []
  t.teardown(() => writers.forEach((w) => w.close()))
  const a = candidate(t, {
    client: c,
    name: 'kube-scheduler',
    identity: newIdentity('master-1'),
    clock,
    ...TIMINGS,
    onStartedLeading: () => void writers.push(a.elector.fencedClient(c)),
  })
  await waitFor('a leads', () => writers.length === 1)
  const cms = writers[0]!.resource(CONFIGMAPS, 'default')
  t.equal((await cms.create(cm('while-leading'))).metadata?.name, 'while-leading')

  // Another master takes the Lease (as it would after a pause longer than the lease).
  const lease = await c.requestJson<Record<string, unknown> & { spec: Record<string, unknown> }>({
    method: 'GET',
    path: '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler',
  })
  await c.requestJson({
    method: 'PUT',
    path: '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler',
    body: { ...lease, spec: { ...lease.spec, holderIdentity: 'master-9_z' } },
  })
  t.ok(a.elector.isLeader(), 'a has not noticed yet')
  const fromServer = await cms.create(cm('stale')).catch((e: unknown) => e)
  t.ok(isFencedError(fromServer), 'the server refused it')
  t.match((fromServer as Error).message, /held by "master-9_z", not "master-1_/)
  t.equal((await fetch(`${url}/api/v1/namespaces/default/configmaps/stale`)).status, 404)

  clock.step(100) // a's next renewal reads the Lease
  await waitFor('a stops', () => a.journal.stopped.length === 1)
  t.notOk(a.elector.isLeader())
  t.equal(a.elector.getLeader(), 'master-9_z')
  const local = await cms.create(cm('after')).catch((e: unknown) => e)
  t.ok(isFencedError(local))
  t.match((local as Error).message, /which "master-1_[^"]+" does not hold/, 'refused locally')
})

t.test('a client made in one term is refused in the next; one made outside a term follows leadership', async (t) => {
  const { url } = await startApi(t)
  const clock = new JumpClock()
  const c = client(t, url)
  const writers: RestClient[] = []
  t.teardown(() => writers.forEach((w) => w.close()))
  const a = candidate(t, {
    client: c,
    name: 'kube-scheduler',
    identity: newIdentity('master-1'),
    clock,
    ...TIMINGS,
    onStartedLeading: () => void writers.push(a.elector.fencedClient(c)),
  })
  const follower = a.elector.fencedClient(c)
  writers.push(follower)
  await waitFor('term 1', () => writers.length === 2)
  t.ok(await writers[1]!.resource(CONFIGMAPS, 'default').create(cm('term-1')))

  clock.jump(5_000) // paused; the term ends on the first look...
  t.notOk(a.elector.isLeader())
  clock.fireNext()
  // ...and the elector campaigns again: the Lease still names it, so it renews it at once.
  await waitFor('term 2', () => writers.length === 3 && a.elector.isLeader())
  t.equal(a.journal.stopped.length, 1, 'term 1 ended')
  const old = await writers[1]!.resource(CONFIGMAPS, 'default').create(cm('old-term')).catch((e: unknown) => e)
  t.ok(isFencedError(old), "term 1's client stays refused")
  t.ok(await writers[2]!.resource(CONFIGMAPS, 'default').create(cm('term-2')), "term 2's client writes")
  t.ok(await follower.resource(CONFIGMAPS, 'default').create(cm('follower')), 'a client made before any term follows the elector')
})
