// RestClient against fake apiservers on loopback: the verbs and their paths,
// Status errors, retries, rate limiting, failover between masters, and watch
// streams parsed across arbitrary chunk boundaries.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import {
  ApiError,
  ConnectionError,
  isAlreadyExists,
  isConflict,
  isExpired,
  isGone,
  isInternalError,
  isNotFound,
  isResourceExpired,
  isServiceUnavailable,
  isTooLargeResourceVersion,
  isTooManyRequests,
} from '../../src/client/errors.js'
import { RestClient } from '../../src/client/rest.js'
import { WatchStream } from '../../src/client/watch.js'
import type { KubeObject, Status, WatchEvent } from '../../src/client/types.js'
import { DEPLOYMENTS, NODES, pod, PODS, startCluster, waitFor } from './helpers.js'
import { statusError } from './fake-apiserver.js'

t.test('CRUD on a namespaced resource, with the paths and bodies kube-apiserver expects', async (t) => {
  const { client, servers } = await startCluster(t, 1, { token: 'secret-token', userAgent: 'test-agent/1' })
  const pods = client.resource(PODS, 'default')
  const created = await pods.create(pod('web-1', { labels: { app: 'web' } }), { fieldManager: 'tests' })
  t.equal(created.metadata?.name, 'web-1')
  t.equal(created.metadata?.resourceVersion, '2')
  const post = servers[0].requests.at(-1)
  t.equal(post?.path, '/api/v1/namespaces/default/pods')
  t.equal(post?.query.get('fieldManager'), 'tests')
  t.equal(post?.headers.authorization, 'Bearer secret-token')
  t.equal(post?.headers['user-agent'], 'test-agent/1')
  t.equal(post?.headers['content-type'], 'application/json')

  await pods.create(pod('web-2', { labels: { app: 'web' } }), { dryRun: true })
  t.equal(servers[0].requests.at(-1)?.query.get('dryRun'), 'All')
  await pods.create(pod('db-1', { labels: { app: 'db' } }))

  const got = await pods.get('web-1')
  t.same(got.metadata?.labels, { app: 'web' })
  t.equal(servers[0].requests.at(-1)?.path, '/api/v1/namespaces/default/pods/web-1')

  const updated = await pods.update({ ...got, metadata: { ...got.metadata, labels: { app: 'web', v: '2' } } })
  t.equal(updated.metadata?.labels?.v, '2')
  const withStatus = await pods.updateStatus({ ...updated, status: { phase: 'Running' } })
  t.same(withStatus.status, { phase: 'Running' })
  t.equal(servers[0].requests.at(-1)?.path, '/api/v1/namespaces/default/pods/web-1/status')

  const merged = await pods.patch('web-1', 'merge', { metadata: { labels: { v: '3' } } })
  t.equal(merged.metadata?.labels?.v, '3')
  t.equal(servers[0].requests.at(-1)?.headers['content-type'], 'application/merge-patch+json')
  const jsonPatched = await pods.patch('web-1', 'json', [{ op: 'replace', path: '/metadata/labels/v', value: '4' }])
  t.equal(jsonPatched.metadata?.labels?.v, '4')
  t.equal(servers[0].requests.at(-1)?.headers['content-type'], 'application/json-patch+json')
  await pods.patch('web-1', 'apply', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1' } }, { fieldManager: 'me', force: true })
  const apply = servers[0].requests.at(-1)
  t.equal(apply?.headers['content-type'], 'application/apply-patch+yaml')
  t.equal(apply?.query.get('force'), 'true')
  t.equal(apply?.query.get('fieldManager'), 'me')
  await pods.patch('web-1', 'strategic', { metadata: { annotations: { a: 'b' } } })
  t.equal(servers[0].requests.at(-1)?.headers['content-type'], 'application/strategic-merge-patch+json')

  const web = await pods.list({ labelSelector: 'app=web' })
  t.same(web.items.map((p) => p.metadata?.name), ['web-1'])
  t.equal(web.metadata.resourceVersion, String(servers[0].backend.rev))

  const all = await client.resource(PODS).list()
  t.equal(all.items.length, 2)
  t.equal(servers[0].requests.at(-1)?.path, '/api/v1/pods', 'no namespace: across namespaces')

  const del = await pods.delete('db-1', { gracePeriodSeconds: 0, propagationPolicy: 'Background', preconditions: { uid: 'x' } })
  t.equal((del as KubeObject).metadata?.name, 'db-1')
  await t.rejects(pods.get('db-1'), { name: 'ApiError', code: 404 })

  t.ok(isConflict(await pods.delete('web-1', { preconditions: { resourceVersion: '1' } }).catch((e: unknown) => e)), 'precondition failed')

  const nodes = client.resource(NODES)
  await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } })
  t.equal(servers[0].requests.at(-1)?.path, '/api/v1/nodes')
  t.equal((await nodes.get('n1')).metadata?.name, 'n1')

  const deploys = client.resource(DEPLOYMENTS, 'prod')
  await deploys.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 1 } })
  t.equal(servers[0].requests.at(-1)?.path, '/apis/apps/v1/namespaces/prod/deployments')

  const removed = await pods.deleteCollection({ labelSelector: 'app=web' })
  t.equal((removed as { items: KubeObject[] }).items.length, 1)
  t.equal(servers[0].requests.at(-1)?.method, 'DELETE')
  t.equal(servers[0].requests.at(-1)?.query.get('labelSelector'), 'app=web')
})

t.test('object operations need a namespace for namespaced resources', async (t) => {
  const { client } = await startCluster(t)
  await t.rejects(client.resource(PODS).get('x'), /a namespace is required/)
  await t.rejects(client.resource(PODS).update({ metadata: { name: 'x' } }), /a namespace is required/)
  const created = await client.resource(PODS).create(pod('from-object', { ns: 'team-a' }))
  t.equal(created.metadata?.namespace, 'team-a', 'create takes the namespace from the object')
  await t.rejects(client.resource(PODS, 'team-b').create(pod('y', { ns: 'team-a' })), { name: 'ApiError', code: 400 })
  t.equal(client.resource(PODS, 'team-a').inNamespace('team-b').namespace, 'team-b')
})

t.test('non-2xx responses become ApiErrors carrying the server Status', async (t) => {
  const { client, servers } = await startCluster(t, 1, { maxRetries: 0 })
  const pods = client.resource(PODS, 'default')
  const err = await pods.get('missing').catch((e: unknown) => e)
  t.ok(err instanceof ApiError)
  t.ok(isNotFound(err))
  t.notOk(isConflict(err))
  t.match(err, { code: 404, reason: 'NotFound', message: 'pods "missing" not found', details: { name: 'missing', kind: 'pods' } })
  t.equal((err as ApiError).status.kind, 'Status')

  await pods.create(pod('a'))
  t.ok(isAlreadyExists(await pods.create(pod('a')).catch((e: unknown) => e)))
  const a = await pods.get('a')
  await pods.update(a)
  const stale = await pods.update(a).catch((e: unknown) => e)
  t.ok(isConflict(stale))
  t.match((stale as ApiError).message, /the object has been modified/)

  servers[0].inject({ path: '/pods/x', code: 404, body: '404 page not found' })
  const plain = await pods.get('x').catch((e: unknown) => e)
  t.ok(isNotFound(plain), 'a non-Status 404 still maps by its code')
  t.match(plain, { reason: 'NotFound', message: 'the server could not find the requested resource' })
  t.match((plain as ApiError).details?.causes?.[0], { reason: 'UnexpectedServerResponse', message: '404 page not found' })

  servers[0].inject({ code: 410, body: statusError(410, 'Gone', 'gone for good').status })
  const gone = await pods.list().catch((e: unknown) => e)
  t.ok(isGone(gone))
  t.ok(isResourceExpired(gone))
  t.notOk(isExpired(gone))

  await pods.create(pod('b'))
  await pods.create(pod('c'))
  const page = await pods.list({ limit: 1 })
  await pods.create(pod('d'))
  servers[0].backend.compact()
  const expired = await pods.list({ limit: 1, continue: page.metadata.continue }).catch((e: unknown) => e)
  t.ok(isExpired(expired), 'an expired continue token')
  t.ok(isResourceExpired(expired))

  const tooLarge = await pods.list({ resourceVersion: '999999' }).catch((e: unknown) => e)
  t.ok(isTooLargeResourceVersion(tooLarge))

  servers[0].inject({ code: 503, body: 'upstream unavailable' })
  t.ok(isServiceUnavailable(await pods.list().catch((e: unknown) => e)))
  servers[0].inject({ code: 500 })
  t.ok(isInternalError(await pods.list().catch((e: unknown) => e)))
})

t.test('429 is retried for any verb after Retry-After; bounded', async (t) => {
  const { client, servers } = await startCluster(t, 1, { maxRetries: 3 })
  const pods = client.resource(PODS, 'default')
  servers[0].inject({ method: 'POST', code: 429, body: statusError(429, 'TooManyRequests', 'slow down').status, retryAfter: '0', times: 2 })
  const created = await pods.create(pod('a'))
  t.equal(created.metadata?.name, 'a')
  t.equal(servers[0].count((r) => r.method === 'POST'), 3, 'two throttled attempts, then success')

  servers[0].inject({ method: 'GET', code: 429, retryAfter: '0', times: 10 })
  const err = await pods.get('a').catch((e: unknown) => e)
  t.ok(isTooManyRequests(err))
  t.equal(servers[0].count((r) => r.method === 'GET'), 4, 'one attempt plus maxRetries')

  servers[0].injections.length = 0
  servers[0].inject({ method: 'GET', code: 429, retryAfter: '1' })
  const start = Date.now()
  await pods.get('a')
  t.ok(Date.now() - start >= 900, 'waited for Retry-After: 1')
})

t.test('5xx is retried with backoff for GET only', async (t) => {
  const { client, servers } = await startCluster(t, 1, { maxRetries: 3 })
  const pods = client.resource(PODS, 'default')
  await pods.create(pod('a'))
  servers[0].inject({ method: 'GET', code: 500, times: 2 })
  t.equal((await pods.get('a')).metadata?.name, 'a')
  t.equal(servers[0].count((r) => r.method === 'GET'), 3)

  servers[0].inject({ method: 'POST', code: 500 })
  t.ok(isInternalError(await pods.create(pod('b')).catch((e: unknown) => e)))
  t.equal(servers[0].count((r) => r.method === 'POST'), 2, 'a POST that may have been processed is not sent again')
})

t.test('client-side rate limit: qps and burst', async (t) => {
  const { client, servers } = await startCluster(t, 1, { qps: 20, burst: 2 })
  const nodes = client.resource(NODES)
  const start = Date.now()
  await Promise.all(Array.from({ length: 6 }, () => nodes.list()))
  const took = Date.now() - start
  t.ok(took >= 180, `6 requests at 20 qps with burst 2 take >= 200 ms (took ${took})`)
  t.equal(servers[0].requests.length, 6)

  const fast = new RestClient({ urls: servers[0].url })
  t.teardown(() => fast.close())
  const s2 = Date.now()
  await Promise.all(Array.from({ length: 50 }, () => fast.resource(NODES).list()))
  t.ok(Date.now() - s2 < 1000, 'the default burst of 100 does not hold back 50 requests')
})

t.test('failover: a master that dies hands requests to the next, and they stay there', async (t) => {
  const { client, servers } = await startCluster(t, 2)
  const [a, b] = servers
  const pods = client.resource(PODS, 'default')
  await pods.create(pod('p1'))
  t.equal(a.requests.length, 1)
  t.equal(client.currentUrl, new URL(a.url).toString())

  await a.close()
  await pods.create(pod('p2'))
  t.equal(b.count((r) => r.method === 'POST'), 1, 'a refused connection: even a POST goes to the next master')
  t.equal(client.currentUrl, new URL(b.url).toString())
  t.same((await pods.list()).items.map((p) => p.metadata?.name), ['p1', 'p2'], 'both masters share one store')

  await a.start(a.port)
  const before = a.requests.length
  await pods.get('p1')
  await pods.get('p2')
  t.equal(a.requests.length, before, 'sticky: the healthy master keeps the traffic')

  b.inject({ code: 503, body: statusError(503, 'ServiceUnavailable', 'storage is not ready').status })
  await pods.get('p1')
  t.equal(client.currentUrl, new URL(a.url).toString(), '503 moves on to the next master')
  t.equal(a.requests.at(-1)?.path, '/api/v1/namespaces/default/pods/p1')
})

t.test('failover: a master that does not answer in time', async (t) => {
  const { client, servers } = await startCluster(t, 2, { timeoutMs: 200 })
  const [a, b] = servers
  const pods = client.resource(PODS, 'default')
  await pods.create(pod('p1'))
  a.inject({ method: 'GET', hang: true })
  t.equal((await pods.get('p1')).metadata?.name, 'p1')
  t.equal(b.requests.at(-1)?.method, 'GET', 'the GET timed out on a and was answered by b')

  b.inject({ method: 'POST', hang: true })
  const err = await pods.create(pod('p2')).catch((e: unknown) => e)
  t.ok(err instanceof ConnectionError, 'a POST that timed out after it was sent is not resent')
  t.equal((err as ConnectionError).code, 'ETIMEDOUT')
  t.equal(client.currentUrl, new URL(a.url).toString(), 'but the next request goes to the other master')
})

t.test('every master down: bounded retries, then the connection error', async (t) => {
  const { client, servers } = await startCluster(t, 2, { maxRetries: 2 })
  for (const s of servers) await s.close()
  const err = await client.resource(NODES).list().catch((e: unknown) => e)
  t.ok(err instanceof ConnectionError)
  t.equal((err as ConnectionError).code, 'ECONNREFUSED')
})

t.test('a caller can abort a request', async (t) => {
  const { client, servers } = await startCluster(t)
  servers[0].inject({ hang: true })
  const ac = new AbortController()
  const p = client.resource(NODES).list({ signal: ac.signal })
  setTimeout(() => ac.abort(), 50)
  await t.rejects(p, { name: 'AbortError' })
})

t.test('subresources: scale, binding, eviction, log', async (t) => {
  const { client, servers } = await startCluster(t)
  const deploys = client.resource(DEPLOYMENTS, 'default')
  await deploys.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } })
  const scale = await deploys.getScale('web')
  t.equal(scale.spec?.replicas, 2)
  t.equal(servers[0].requests.at(-1)?.path, '/apis/apps/v1/namespaces/default/deployments/web/scale')
  const scaled = await deploys.updateScale('web', { ...scale, spec: { replicas: 5 } })
  t.equal(scaled.spec?.replicas, 5)
  t.equal(((await deploys.get('web')).spec as { replicas: number }).replicas, 5)

  const pods = client.resource(PODS, 'default')
  await pods.create(pod('p'))
  const bound = await pods.bind('p', 'node-7')
  t.equal(bound.status, 'Success')
  t.equal(((await pods.get('p')).spec as { nodeName: string }).nodeName, 'node-7')
  t.equal(servers[0].requests.at(-1)?.path, '/api/v1/namespaces/default/pods/p', 'binding then get')

  await pods.create(pod('guarded', { labels: { protected: 'true' } }))
  const blocked = await pods.evict('guarded').catch((e: unknown) => e)
  t.ok(isTooManyRequests(blocked), 'a disruption budget says no: 429, not retried')
  t.equal((blocked as ApiError).retryAfterSeconds, 10)
  t.equal(servers[0].count((r) => r.path.endsWith('/eviction')), 1)
  await pods.evict('p', { gracePeriodSeconds: 0 })
  t.ok(isNotFound(await pods.get('p').catch((e: unknown) => e)))

  t.equal(await pods.logs('guarded', { tailLines: 10 }), 'line 1\nline 2\nline 3\n')
  t.equal(servers[0].requests.at(-1)?.query.get('tailLines'), '10')
  const stream = await pods.logStream('guarded', { follow: true })
  let text = ''
  for await (const chunk of stream) text += String(chunk)
  t.equal(text, 'line 1\nline 2\nline 3\n')
})

t.test('listAll follows continue tokens and falls back to a full list when one expires', async (t) => {
  const { client, servers, backend } = await startCluster(t)
  const pods = client.resource(PODS, 'default')
  for (let i = 0; i < 7; i++) await pods.create(pod(`p${i}`))
  const all = await pods.listAll({ limit: 3 })
  t.equal(all.items.length, 7)
  t.equal(all.metadata.resourceVersion, String(backend.rev))
  t.equal(servers[0].count((r) => r.query.has('continue')), 2, 'three pages')

  // Expire the token between pages: the first page is served, the compaction happens, and the second page is refused.
  let first = true
  const orig = servers[0].requests.push.bind(servers[0].requests)
  servers[0].requests.push = (...items) => {
    if (items[0].query.has('continue') && first) {
      first = false
      backend.create('pods', pod('late'))
      backend.compact()
    }
    return orig(...items)
  }
  const again = await pods.listAll({ limit: 3 })
  t.equal(again.items.length, 8, 'the fallback list is newer than the snapshot that expired')
  t.equal(servers[0].requests.at(-1)?.query.has('limit'), false, 'the fallback reads everything in one list')
})

t.test('watch: events in order, bookmarks, ERROR events, clean stop', async (t) => {
  const { client, servers, backend } = await startCluster(t)
  const pods = client.resource(PODS, 'default')
  await pods.create(pod('a'))
  const rv = backend.rev
  const w = await pods.watch({ resourceVersion: String(rv), allowWatchBookmarks: true, timeoutSeconds: 30 })
  const q = servers[0].requests.at(-1)?.query
  t.equal(q?.get('watch'), 'true')
  t.equal(q?.get('allowWatchBookmarks'), 'true')
  t.equal(q?.get('timeoutSeconds'), '30')

  const seen: WatchEvent[] = []
  const consumed = (async () => {
    for await (const ev of w) seen.push(ev)
  })()
  await pods.create(pod('b'))
  const b = await pods.get('b')
  await pods.update({ ...b, metadata: { ...b.metadata, labels: { x: 'y' } } })
  await pods.delete('a')
  servers[0].bookmark()
  const until = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 5))
  }
  await until(4)
  t.same(
    seen.map((e) => [e.type, (e.object as KubeObject).metadata?.name ?? null, e.object.metadata?.resourceVersion]),
    [
      ['ADDED', 'b', String(rv + 1)],
      ['MODIFIED', 'b', String(rv + 2)],
      ['DELETED', 'a', String(rv + 3)],
      ['BOOKMARK', null, String(rv + 3)],
    ],
  )
  w.stop()
  await consumed
  t.ok(w.done, 'stop ends the iteration without an error')

  backend.compact()
  const old = await pods.watch({ resourceVersion: String(rv) })
  const events: WatchEvent[] = []
  for await (const ev of old) events.push(ev)
  t.equal(events.length, 1)
  t.equal(events[0].type, 'ERROR')
  t.match(events[0].object as Status, { kind: 'Status', code: 410, reason: 'Expired' })
})

t.test('watch: a dropped connection ends the iteration with a ConnectionError', async (t) => {
  const { client, servers } = await startCluster(t)
  const w = await client.resource(PODS).watch({ resourceVersion: '1' })
  setTimeout(() => servers[0].dropWatches(), 30)
  const err = await (async () => {
    for await (const _ of w) {
      // nothing is sent
    }
  })().catch((e: unknown) => e)
  t.ok(err instanceof ConnectionError, String(err))
})

t.test('watch: a stream the server never ends is given up at its deadline', async (t) => {
  const { client, servers } = await startCluster(t)
  const res = await client.stream({ method: 'GET', path: '/api/v1/pods', query: { watch: true, resourceVersion: '1' } })
  const w = new WatchStream(res.request, res.stream, res.url, 100)
  const start = Date.now()
  const err = await (async () => {
    for await (const _ of w) {
      // silence
    }
  })().catch((e: unknown) => e)
  t.ok(err instanceof ConnectionError)
  t.equal((err as ConnectionError).code, 'ETIMEDOUT')
  t.ok(Date.now() - start >= 90)
  await waitFor('the server to see the watch close', () => servers[0].watchers.size === 0)
})

t.test('watch: lines split anywhere, even inside a UTF-8 character, are reassembled', async (t) => {
  const events = [
    { type: 'ADDED', object: { kind: 'Pod', metadata: { name: 'ünïcödé-✓', resourceVersion: '5', labels: { emoji: '🚀' } } } },
    { type: 'MODIFIED', object: { kind: 'Pod', metadata: { name: 'b', resourceVersion: '6' } } },
    { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, reason: 'InternalError', message: 'boom' } },
  ]
  // Two events with a blank keep-alive line between; the last one has no trailing newline.
  const bytes = Buffer.from(`${JSON.stringify(events[0])}\n\n${JSON.stringify(events[1])}\n${JSON.stringify(events[2])}`)
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    let i = 0
    const sizes = [1, 2, 3, 5, 7, 11, 13]
    const step = (): void => {
      if (i >= bytes.length) return void res.end()
      const n = sizes[i % sizes.length]
      res.write(bytes.subarray(i, i + n))
      i += n
      setImmediate(step)
    }
    step()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const client = new RestClient({ urls: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
  t.teardown(() => client.close())
  const got: WatchEvent[] = []
  for await (const ev of await client.resource(PODS).watch()) got.push(ev)
  t.same(got, events)
})

t.test('watch: a consumer that falls behind pauses the socket instead of buffering without bound', async (t) => {
  const { client, servers, backend } = await startCluster(t)
  const pods = client.resource(PODS, 'default')
  const w = await pods.watch({ resourceVersion: String(backend.rev) })
  const n = 3000
  for (let i = 0; i < n; i++) backend.create('pods', pod(`p${i}`))
  let count = 0
  let maxBuffered = 0
  for await (const ev of w) {
    if (ev.type === 'ADDED') count++
    if (count % 250 === 0) await new Promise((r) => setTimeout(r, 20))
    maxBuffered = Math.max(maxBuffered, w.buffered)
    if (count === n) break
  }
  t.equal(count, n, 'every event arrives, in a slow consumer too')
  t.ok(maxBuffered < 2000, `at most about a thousand events held in memory (held ${maxBuffered})`)
  await waitFor('the server to see the watch close', () => servers[0].watchers.size === 0)
  t.pass('breaking out of the loop closed the watch')
})
