// The node's cluster DNS server, queried the way programs do (node:dns Resolver, UDP
// with TCP fallback), fed by kube-proxy's watches: cluster IPs resolve to the address
// this node serves them at (and a connection there reaches the Service), headless
// Services to their ready endpoints, SRV, ExternalName CNAMEs, NXDOMAIN, forwarding
// of other names to an upstream (or REFUSED without one), and long answers over TCP.
import { createSocket } from 'node:dgram'
import { Resolver } from 'node:dns/promises'
import { connect } from 'node:net'
import t, { type Test } from 'tap'
import { ClusterZone } from '../../src/proxy/dns/cluster-zone.js'
import { DnsServer } from '../../src/proxy/dns/server.js'
import { decodeMessage, defaultFlags, encodeMessage, RCODE, TYPE } from '../../src/proxy/dns/wire.js'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import { KubeProxy, loopbackAddressFor, ServiceStore } from '../../src/proxy/index.js'
import { client as nodeClient, startMaster } from '../apiserver/node-grpc/helpers/masters.js'
import { clusterIP, createService, createSlice, eventually, hit, loopbackAddress, replaceSlice, SERVICES, servicePort, sliceObject, startProxyCluster, tcpEcho } from './helpers.js'

/** A stand-in upstream resolver: www.example.test is 127.7.7.7, everything else NXDOMAIN. */
async function fakeUpstream(t: Test): Promise<string> {
  const host = loopbackAddress(208)
  const sock = createSocket('udp4')
  sock.on('message', (msg, rinfo) => {
    const q = decodeMessage(msg)
    const known = q.questions[0]?.name.toLowerCase() === 'www.example.test'
    const res = encodeMessage({
      id: q.id,
      flags: defaultFlags({ response: true, recursionDesired: q.flags.recursionDesired, recursionAvailable: true, rcode: known ? RCODE.NOERROR : RCODE.NXDOMAIN }),
      questions: q.questions,
      answers: known && q.questions[0]!.type === TYPE.A ? [{ name: q.questions[0]!.name, ttl: 30, type: 'A', address: '127.7.7.7' }] : [],
      authorities: [],
      additionals: [],
    })
    sock.send(res, rinfo.port, rinfo.address)
  })
  await new Promise<void>((resolve) => sock.bind(0, host, () => resolve()))
  t.teardown(() => new Promise<void>((resolve) => sock.close(() => resolve())))
  return `${host}:${sock.address().port}`
}

const errCode = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p
    return 'resolved'
  } catch (err) {
    return String((err as NodeJS.ErrnoException).code)
  }
}

t.test('cluster DNS', async (t) => {
  const upstream = await fakeUpstream(t)
  const dnsIP = `10.111.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`
  const c = await startProxyCluster(t, { dns: { clusterIP: dnsIP, port: 0, upstreams: [upstream] } })
  const ep = c.proxy.dnsEndpoint!
  t.equal(ep.address, loopbackAddressFor(dnsIP), 'DNS listens at the cluster DNS IP as loopback mode serves it')
  const resolver = new Resolver({ timeout: 3000, tries: 2 })
  resolver.setServers([`${ep.address}:${ep.port}`])
  const host = loopbackAddress(209)

  t.test('a Service name resolves to an address that reaches the Service', async (t) => {
    const e = await tcpEcho(t, 'web', host)
    const port = servicePort()
    const svc = await createService(c, 'web', { ports: [{ name: 'http', port, protocol: 'TCP' }] })
    await createSlice(c, sliceObject('web', 'web-1', [{ name: 'http', port: e.port }], [{ ip: host }]))
    const addrs = await eventually('resolved', async () => resolver.resolve4('web.default.svc.cluster.local'))
    t.same(addrs, [loopbackAddressFor(clusterIP(svc))])
    t.equal(await eventually('reachable', async () => hit(addrs[0]!, port)), 'web', 'connecting to what DNS said reaches an endpoint')
    t.same(await resolver.resolveSrv('_http._tcp.web.default.svc.cluster.local'), [{ name: 'web.default.svc.cluster.local', port, priority: 0, weight: 100 }])
    t.equal(await errCode(resolver.resolve4('nope.default.svc.cluster.local')), 'ENOTFOUND', 'unknown Service: NXDOMAIN')
    t.equal(await errCode(resolver.resolve4('web.default.svc.cluster.local.default.svc.cluster.local')), 'ENOTFOUND', 'a search-path expansion: NXDOMAIN')
    t.equal(await errCode(resolver.resolve6('web.default.svc.cluster.local')), 'ENODATA', 'AAAA: no data, the name exists')
  })

  t.test('a headless Service resolves to its ready endpoints, each by hostname too', async (t) => {
    await createService(c, 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] })
    await createSlice(
      c,
      sliceObject('db', 'db-1', [{ name: 'pg', port: 15432 }], [
        { ip: '127.209.0.1', hostname: 'db-0' },
        { ip: '127.209.0.2', hostname: 'db-1' },
        { ip: '127.209.0.3', hostname: 'db-2', ready: false },
      ]),
    )
    t.same((await eventually('resolved', async () => resolver.resolve4('db.default.svc.cluster.local'))).sort(), ['127.209.0.1', '127.209.0.2'])
    t.same(await resolver.resolve4('db-1.db.default.svc.cluster.local'), ['127.209.0.2'])
    const srv = await resolver.resolveSrv('_pg._tcp.db.default.svc.cluster.local')
    t.same(srv.map((s) => `${s.name}:${s.port}`).sort(), ['db-0.db.default.svc.cluster.local:15432', 'db-1.db.default.svc.cluster.local:15432'])
    await replaceSlice(c, sliceObject('db', 'db-1', [{ name: 'pg', port: 15432 }], [{ ip: '127.209.0.2', hostname: 'db-1' }]))
    await eventually('the change seen', async () => ((await resolver.resolve4('db.default.svc.cluster.local')).length === 1 ? true : undefined))
    t.equal(await errCode(resolver.resolve4('db-0.db.default.svc.cluster.local')), 'ENOTFOUND')
  })

  t.test('ExternalName is a CNAME, resolved further upstream; other names are forwarded', async (t) => {
    await createService(c, 'ext', { type: 'ExternalName', externalName: 'www.example.test' })
    t.same(await eventually('CNAME', async () => resolver.resolveCname('ext.default.svc.cluster.local')), ['www.example.test'])
    t.same(await resolver.resolve4('ext.default.svc.cluster.local'), ['127.7.7.7'], 'the CNAME target resolved by the upstream')
    t.same(await resolver.resolve4('www.example.test'), ['127.7.7.7'], 'forwarded')
    t.equal(await errCode(resolver.resolve4('nothing.example.test')), 'ENOTFOUND', "the upstream's NXDOMAIN passes through")
  })

  t.test('long answers: truncated over UDP, complete over TCP', async (t) => {
    const eps = Array.from({ length: 100 }, (_, i) => ({ ip: `127.210.${i >> 8}.${(i & 255) + 1}` }))
    await createService(c, 'big', { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] })
    await createSlice(c, sliceObject('big', 'big-1', [{ name: 'x', port: 1 }], eps))
    const got = await eventually('resolved', async () => {
      const r = await resolver.resolve4('big.default.svc.cluster.local')
      return r.length === 100 ? r : undefined
    })
    t.equal(got.length, 100, 'the resolver retried over TCP and got everything')

    const query = encodeMessage({ id: 7, flags: defaultFlags({ recursionDesired: true }), questions: [{ name: 'big.default.svc.cluster.local', type: TYPE.A, class: 1 }], answers: [], authorities: [], additionals: [] })
    const udp = await new Promise<Buffer>((resolve) => {
      const s = createSocket('udp4')
      s.on('message', (m) => (s.close(), resolve(m)))
      s.send(query, ep.port, ep.address)
    })
    const u = decodeMessage(udp)
    t.ok(u.flags.truncated, 'TC over UDP')
    t.equal(u.answers.length, 0)
    const tcp = await new Promise<Buffer>((resolve, reject) => {
      const s = connect({ host: ep.address, port: ep.port })
      let buf = Buffer.alloc(0)
      s.on('error', reject)
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d])
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          s.destroy()
          resolve(buf.subarray(2))
        }
      })
      const len = Buffer.alloc(2)
      len.writeUInt16BE(query.length)
      s.write(Buffer.concat([len, query]))
    })
    const full = decodeMessage(tcp)
    t.notOk(full.flags.truncated)
    t.ok(full.flags.authoritative)
    t.equal(full.answers.length, 100)
  })

  t.test('garbage gets FORMERR or nothing, never a crash', async (t) => {
    const send = (b: Buffer) =>
      new Promise<Buffer | undefined>((resolve) => {
        const s = createSocket('udp4')
        const timer = setTimeout(() => (s.close(), resolve(undefined)), 500)
        s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(m)))
        s.send(b, ep.port, ep.address)
      })
    t.equal(await send(Buffer.from([1, 2, 3])), undefined, 'too short to answer')
    const bad = Buffer.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])
    const res = decodeMessage((await send(bad))!)
    t.equal(res.id, 9)
    t.equal(res.flags.rcode, RCODE.FORMERR)
    const web = await c.master.api.store(SERVICES).get('default', 'web')
    t.same(await resolver.resolve4('web.default.svc.cluster.local'), [loopbackAddressFor(clusterIP(web))], 'still serving')
  })
})

t.test('without upstreams, names outside the cluster domain are REFUSED', async (t) => {
  const store = new ServiceStore()
  store.applyServiceEvent({ type: 'RESYNC', items: [], resourceVersion: '1' })
  store.applySliceEvent({ type: 'RESYNC', items: [], resourceVersion: '1' })
  const server = new DnsServer({ address: loopbackAddress(211), port: 0, zone: new ClusterZone(store, { domain: 'cluster.local', ttl: 5, serviceAddress: () => undefined, serial: () => 1 }) })
  await server.start()
  t.teardown(() => server.stop())
  const resolver = new Resolver({ timeout: 2000, tries: 1 })
  resolver.setServers([`${server.address}:${server.port}`])
  t.equal(await errCode(resolver.resolve4('www.example.test')), 'EREFUSED')
  t.equal(await errCode(resolver.resolve4('x.default.svc.cluster.local')), 'ENOTFOUND')
})

t.test('a DNS address this host cannot bind fails start() and leaves nothing running', async (t) => {
  const m = await startMaster(t, new MemoryStorage())
  const proxy = new KubeProxy({ client: nodeClient(t, [m.address]), nodeName: 'n1', dns: { address: '192.0.2.1', port: 0 } })
  await t.rejects(proxy.start(), { code: 'EADDRNOTAVAIL' })
  t.same(proxy.listeners(), [])
  t.equal(proxy.dnsEndpoint, undefined)
})
