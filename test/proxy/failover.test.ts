// kube-proxy keeps working when the master it talks to dies: its watches move to
// another master and resume, so later Service and endpoint changes still reach the
// proxy, and traffic through a Service never depended on the masters at all.
import t from 'tap'
import { Registry } from 'prom-client'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import { KubeProxy, loopbackAddressFor } from '../../src/proxy/index.js'
import { client as nodeClient, ENDPOINTSLICES, SERVICES, startMaster, write } from '../apiserver/node-grpc/helpers/masters.js'
import { connectResult, eventually, hit, loopbackAddress, servicePort, sliceObject, tcpEcho } from './helpers.js'

t.test('a master crash: traffic flows on, and changes made through the survivor arrive', async (t) => {
  const storage = new MemoryStorage()
  const a = await startMaster(t, storage)
  const b = await startMaster(t, storage)
  const client = nodeClient(t, [a.address, b.address])
  const proxy = new KubeProxy({ client, nodeName: 'n1', dns: false, metrics: new Registry() })
  await proxy.start()
  t.teardown(() => proxy.stop())
  await proxy.synced()

  const host = loopbackAddress(212)
  const [one, two] = await Promise.all([tcpEcho(t, 'one', host), tcpEcho(t, 'two', host)])
  const port = servicePort()
  const svc = await a.api.store(SERVICES).create('default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ name: 'http', port }] } }, write)
  const addr = loopbackAddressFor(String((svc.spec as Record<string, unknown>).clusterIP))!
  await a.api.store(ENDPOINTSLICES).create('default', sliceObject('web', 'web-1', [{ name: 'http', port: one.port }], [{ ip: host }]), write)
  t.equal(await eventually('serving', async () => ((await connectResult(addr, port)) === 'connected' ? hit(addr, port) : undefined)), 'one')

  t.equal(client.currentAddress, a.address)
  a.node.kill()
  t.equal(await hit(addr, port), 'one', 'the data path does not need a master')

  await b.api.store(ENDPOINTSLICES).update('default', 'web-1', (cur) => ({ ...cur!, ...sliceObject('web', 'web-1', [{ name: 'http', port: two.port }], [{ ip: host }]), metadata: cur!.metadata }), write)
  t.equal(await eventually('the change made through the other master', async () => ((await hit(addr, port)) === 'two' ? 'two' : undefined), 30_000), 'two')
  t.equal(client.currentAddress, b.address, 'the watches moved to the survivor')
})

t.test('two nodes on one host: one proxy holds each address, the other takes over when it stops', async (t) => {
  const m = await startMaster(t, new MemoryStorage())
  const dnsIP = `10.110.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`
  const dnsPort = servicePort()
  const start = async (name: string) => {
    const p = new KubeProxy({ client: nodeClient(t, [m.address]), nodeName: name, dns: { clusterIP: dnsIP, port: dnsPort }, bindRetryMs: 100 })
    await p.start()
    t.teardown(() => p.stop())
    await p.synced()
    return p
  }
  const first = await start('n1')
  const second = await start('n2')
  t.ok(first.dnsEndpoint, 'the first binds the cluster DNS address')
  t.equal(second.dnsEndpoint, undefined, 'the second finds it taken and keeps trying')

  const host = loopbackAddress(213)
  const e = await tcpEcho(t, 'e', host)
  const port = servicePort()
  const svc = await m.api.store(SERVICES).create('default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shared' }, spec: { ports: [{ name: 'http', port }] } }, write)
  const addr = loopbackAddressFor(String((svc.spec as Record<string, unknown>).clusterIP))!
  await m.api.store(ENDPOINTSLICES).create('default', sliceObject('shared', 'shared-1', [{ name: 'http', port: e.port }], [{ ip: host }]), write)
  await eventually('served', async () => ((await connectResult(addr, port)) === 'connected' ? true : undefined))
  const key = `TCP/${addr}:${port}`
  t.equal([first, second].filter((p) => p.listeners().includes(key)).length, 1, 'exactly one proxy listens')
  const holder = first.listeners().includes(key) ? first : second
  const other = holder === first ? second : first
  await holder.stop()
  await eventually('the other took over', () => (other.listeners().includes(key) ? true : undefined))
  t.equal(await hit(addr, port), 'e')
  if (holder === first) await eventually('and the DNS address', () => second.dnsEndpoint)
})
