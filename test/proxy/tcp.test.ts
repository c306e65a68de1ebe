// kube-proxy over real TCP, in loopback mode, against an in-process master's node
// gRPC API: round-robin over ready endpoints, ClientIP affinity, endpoint changes that
// spare established connections, refusal without endpoints, the terminating
// fallback, failover from a dead endpoint, named ports, and the metrics.
import t from 'tap'
import { loopbackAddressFor } from '../../src/proxy/index.js'
import {
  clusterIP,
  connectResult,
  createService,
  createSlice,
  deleteObject,
  eventually,
  hit,
  loopbackAddress,
  open,
  replaceSlice,
  servicePort,
  sliceObject,
  startProxyCluster,
  tcpEcho,
} from './helpers.js'

t.test('kube-proxy forwards TCP through cluster IPs', async (t) => {
  const c = await startProxyCluster(t)
  const host = loopbackAddress(202)
  const [a, b, d] = await Promise.all(['a', 'b', 'd'].map((n) => tcpEcho(t, n, host)))

  /** Where the service's cluster IP is served, once it listens. */
  const frontend = async (svcName: string, port: number, spec: Record<string, unknown> = {}) => {
    const svc = await createService(c, svcName, { ports: [{ name: 'web', port, protocol: 'TCP' }], ...spec })
    const addr = loopbackAddressFor(clusterIP(svc))!
    t.match(addr, /^127\.(9[6-9]|10\d|11[01])\./, 'a 10.96.0.0/12 cluster IP maps into 127.96–111.x.x')
    return addr
  }

  t.test('connections reach every ready endpoint in turn; not-ready ones never', async (t) => {
    const port = servicePort()
    const addr = await frontend('rr', port)
    t.equal(await connectResult(addr, port), 'ECONNREFUSED', 'no endpoints yet: refused')
    await createSlice(c, sliceObject('rr', 'rr-a', [{ name: 'web', port: a.port }], [{ ip: host }]))
    await createSlice(c, sliceObject('rr', 'rr-b', [{ name: 'web', port: b.port }], [{ ip: host }]))
    await createSlice(c, sliceObject('rr', 'rr-d', [{ name: 'web', port: d.port }], [{ ip: host, ready: false, serving: false }]))
    await eventually('two endpoints in use', async () => {
      const seen = new Set([await hit(addr, port), await hit(addr, port)])
      return seen.size === 2 ? true : undefined
    })
    const hits = []
    for (let i = 0; i < 6; i++) hits.push(await hit(addr, port))
    t.same(
      hits.filter((h) => h === 'a').length,
      3,
      `even split (${hits.join(',')})`,
    )
    t.notOk(hits.includes('d'), 'the not-ready endpoint gets nothing')
    const conn = await open(addr, port)
    t.equal(await conn.echo('hello'), 'hello', 'bytes flow both ways')
    conn.socket.destroy()
  })

  t.test('sessionAffinity ClientIP pins a client to one endpoint', async (t) => {
    const port = servicePort()
    const addr = await frontend('sticky', port, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })
    await createSlice(c, sliceObject('sticky', 'sticky-a', [{ name: 'web', port: a.port }], [{ ip: host }]))
    await createSlice(c, sliceObject('sticky', 'sticky-b', [{ name: 'web', port: b.port }], [{ ip: host }]))
    await createSlice(c, sliceObject('sticky', 'sticky-d', [{ name: 'web', port: d.port }], [{ ip: host }]))
    await eventually('three endpoints known', async () => ((await gaugeFor(c, 'sticky')) === 3 ? true : undefined))
    const first = await hit(addr, port)
    for (let i = 0; i < 5; i++) t.equal(await hit(addr, port), first, `connection ${i + 2} goes to ${first} too`)
  })

  t.test('a removed endpoint gets no new connections; an established one keeps working', async (t) => {
    const port = servicePort()
    const addr = await frontend('churn', port)
    await createSlice(c, sliceObject('churn', 'churn-a', [{ name: 'web', port: a.port }], [{ ip: host }]))
    await createSlice(c, sliceObject('churn', 'churn-b', [{ name: 'web', port: b.port }], [{ ip: host }]))
    const held = await eventually('a connection to a', async () => {
      const conn = await open(addr, port)
      if (conn.endpoint === 'a') return conn
      conn.socket.destroy()
      return undefined
    })
    t.teardown(() => held.socket.destroy())
    await replaceSlice(c, sliceObject('churn', 'churn-a', [{ name: 'web', port: a.port }], []))
    await eventually('a no longer picked', async () => {
      const seen = [await hit(addr, port), await hit(addr, port), await hit(addr, port)]
      return seen.every((s) => s === 'b') ? true : undefined
    })
    for (let i = 0; i < 4; i++) t.equal(await hit(addr, port), 'b')
    t.equal(await held.echo('still here'), 'still here', 'the established connection to the removed endpoint still works')
  })

  t.test('a Service with no usable endpoint refuses at once; it serves again when one comes back', async (t) => {
    const port = servicePort()
    const addr = await frontend('gone', port)
    await createSlice(c, sliceObject('gone', 'gone-a', [{ name: 'web', port: a.port }], [{ ip: host }]))
    await eventually('serving', async () => ((await connectResult(addr, port)) === 'connected' ? true : undefined))
    const held = await open(addr, port)
    t.teardown(() => held.socket.destroy())
    await deleteObject(c, 'slice', 'gone-a')
    await eventually('refused', async () => ((await connectResult(addr, port)) === 'ECONNREFUSED' ? true : undefined))
    t.equal(await held.echo('ping'), 'ping', 'closing the listener left the established connection alone')
    await createSlice(c, sliceObject('gone', 'gone-b', [{ name: 'web', port: b.port }], [{ ip: host }]))
    t.equal(await eventually('serving again', async () => ((await connectResult(addr, port)) === 'connected' ? hit(addr, port) : undefined)), 'b')
  })

  t.test('with no ready endpoint, serving-and-terminating ones take the traffic', async (t) => {
    const port = servicePort()
    const addr = await frontend('draining', port)
    await createSlice(c, sliceObject('draining', 'draining-a', [{ name: 'web', port: a.port }], [{ ip: host, ready: false, serving: true, terminating: true }]))
    await createSlice(c, sliceObject('draining', 'draining-b', [{ name: 'web', port: b.port }], [{ ip: host, ready: false, serving: false, terminating: true }]))
    t.equal(await eventually('served', async () => ((await connectResult(addr, port)) === 'connected' ? hit(addr, port) : undefined)), 'a')
    t.equal(await hit(addr, port), 'a', 'never the non-serving one')
  })

  t.test('an endpoint that refuses is skipped for the next one', async (t) => {
    const port = servicePort()
    const addr = await frontend('flaky', port)
    const deadHost = loopbackAddress(203)
    await createSlice(c, sliceObject('flaky', 'flaky-dead', [{ name: 'web', port: 9 }], [{ ip: deadHost }]))
    await createSlice(c, sliceObject('flaky', 'flaky-b', [{ name: 'web', port: b.port }], [{ ip: host }]))
    await eventually('two endpoints known', async () => ((await gaugeFor(c, 'flaky')) === 2 ? true : undefined))
    for (let i = 0; i < 4; i++) t.equal(await hit(addr, port), 'b', `connection ${i + 1} lands on the live endpoint`)
  })

  t.test('named ports: each service port goes to the slice port of its name', async (t) => {
    const [p1, p2] = [servicePort(), servicePort()]
    const svc = await createService(c, 'multi', {
      ports: [
        { name: 'first', port: p1, protocol: 'TCP' },
        { name: 'second', port: p2, protocol: 'TCP' },
      ],
    })
    const addr = loopbackAddressFor(clusterIP(svc))!
    await createSlice(
      c,
      sliceObject(
        'multi',
        'multi-1',
        [
          { name: 'first', port: a.port },
          { name: 'second', port: b.port },
        ],
        [{ ip: host }],
      ),
    )
    t.equal(await eventually('first port', async () => ((await connectResult(addr, p1)) === 'connected' ? hit(addr, p1) : undefined)), 'a')
    t.equal(await eventually('second port', async () => ((await connectResult(addr, p2)) === 'connected' ? hit(addr, p2) : undefined)), 'b')
  })

  t.test('headless and ExternalName Services are not proxied', async (t) => {
    const port = servicePort()
    await createService(c, 'headless', { clusterIP: 'None', ports: [{ name: 'web', port }] })
    await createSlice(c, sliceObject('headless', 'headless-a', [{ name: 'web', port: a.port }], [{ ip: host }]))
    await createService(c, 'external', { type: 'ExternalName', externalName: 'example.org' })
    await c.proxy.syncNow()
    t.notOk(
      c.proxy.listeners().some((l) => l.endsWith(`:${port}`)),
      'no listener for the headless service',
    )
  })

  t.test('metrics: sync latency, changes, endpoints per service port, connections', async (t) => {
    const text = await c.registry.metrics()
    t.match(text, /kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]/)
    t.match(text, /kubeproxy_sync_proxy_rules_endpoint_changes_total [1-9]/)
    t.match(text, /kubeproxy_userspace_service_endpoints\{namespace="default",service="rr",port="web"\} 2/)
    t.match(text, /kubeproxy_userspace_connections_total\{protocol="TCP",result="forwarded"\} [1-9]/)
    t.match(text, /kubeproxy_userspace_active_connections\{protocol="TCP"\} \d/)
  })

  t.test('stop closes every listener and connection', async (t) => {
    const port = servicePort()
    const addr = await frontend('last', port)
    await createSlice(c, sliceObject('last', 'last-a', [{ name: 'web', port: a.port }], [{ ip: host }]))
    const held = await eventually('serving', async () => open(addr, port))
    const closed = new Promise<void>((resolve) => held.socket.once('close', () => resolve()))
    await c.proxy.stop()
    await closed
    t.equal(await connectResult(addr, port), 'ECONNREFUSED')
    t.same(c.proxy.listeners(), [])
  })
})

async function gaugeFor(c: { registry: import('prom-client').Registry }, service: string): Promise<number | undefined> {
  const m = c.registry.getSingleMetric('kubeproxy_userspace_service_endpoints')
  if (m === undefined) return undefined
  const v = (await m.get()).values.find((x) => x.labels.service === service)
  return v?.value
}
