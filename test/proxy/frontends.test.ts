// The other ways traffic reaches a Service: UDP through the cluster IP (flows pinned
// to an endpoint, moved when it goes), node ports on every node address, the
// externalTrafficPolicy Local, load-balancer ingress IPs with their source ranges,
// and external IPs.
import t from 'tap'
import { type AddressBinder, LoopbackBinder, loopbackAddressFor } from '../../src/proxy/index.js'
import {
  clusterIP,
  connectResult,
  createService,
  createSlice,
  eventually,
  hit,
  loopbackAddress,
  replaceSlice,
  servicePort,
  sliceObject,
  startProxyCluster,
  tcpEcho,
  udpClient,
  udpEcho,
  updateService,
} from './helpers.js'

t.test('kube-proxy frontends beyond TCP cluster IPs', async (t) => {
  const nodeIP = loopbackAddress(204)
  // External IPs may not be loopback addresses (API validation), and tests only talk to
  // loopback: this binder serves the documentation address 192.0.2.10 at a 127.x address.
  const extIP = '192.0.2.10'
  const extLocal = loopbackAddress(207)
  const loopback = new LoopbackBinder()
  const binder: AddressBinder = {
    mode: 'loopback',
    localAddress: (ip) => (ip === extIP ? extLocal : loopback.localAddress(ip)),
    sync: async () => {},
    close: async () => {},
  }
  const c = await startProxyCluster(t, { nodeIPs: [nodeIP], binder })
  const host = loopbackAddress(205)

  t.test('UDP: each client flow sticks to one endpoint; flows are balanced; a gone endpoint moves its flows', async (t) => {
    const [a, b] = await Promise.all([udpEcho(t, 'a', host), udpEcho(t, 'b', host)])
    const port = servicePort()
    const svc = await createService(c, 'dns', { ports: [{ name: 'dns', port, protocol: 'UDP' }] })
    const addr = loopbackAddressFor(clusterIP(svc))!
    const probe = await udpClient(t, addr, port)
    t.equal(await probe.ask('x'), 'ECONNREFUSED', 'no endpoints: port unreachable')
    probe.close()
    await createSlice(c, sliceObject('dns', 'dns-a', [{ name: 'dns', port: a.port, protocol: 'UDP' }], [{ ip: host }]))
    await createSlice(c, sliceObject('dns', 'dns-b', [{ name: 'dns', port: b.port, protocol: 'UDP' }], [{ ip: host }]))
    await eventually('both endpoints', async () => {
      const x = await udpClient(t, addr, port)
      const y = await udpClient(t, addr, port)
      const got = [await x.ask('1'), await y.ask('2')]
      x.close()
      y.close()
      return got.every((g) => /^[ab]:/.test(g)) && got[0]![0] !== got[1]![0] ? true : undefined
    })
    const clients = await Promise.all([0, 1, 2, 3].map(() => udpClient(t, addr, port)))
    const firsts: string[] = []
    for (const cl of clients) firsts.push((await cl.ask('hello')).split(':')[0]!)
    t.same(firsts.slice().sort(), ['a', 'a', 'b', 'b'], 'new flows alternate between endpoints')
    for (const [i, cl] of clients.entries()) {
      for (let k = 0; k < 3; k++) t.equal(await cl.ask(`m${k}`), `${firsts[i]}:m${k}`, `client ${i} stays on ${firsts[i]}`)
    }
    // Endpoint a leaves: its flows end and their next datagram goes to b.
    await replaceSlice(c, sliceObject('dns', 'dns-a', [{ name: 'dns', port: a.port, protocol: 'UDP' }], []))
    const onA = clients[firsts.indexOf('a')]!
    await eventually('moved to b', async () => ((await onA.ask('again')).startsWith('b:') ? true : undefined))
    t.equal(await onA.ask('more'), 'b:more')
  })

  t.test('NodePort: served on 127.0.0.1 and on every --node-ip', async (t) => {
    const e = await tcpEcho(t, 'np', host)
    const svc = await createService(c, 'np', { type: 'NodePort', ports: [{ name: 'web', port: servicePort(), protocol: 'TCP' }] })
    const nodePort = (svc.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort
    t.ok(nodePort >= 30000 && nodePort <= 32767, `allocated ${nodePort}`)
    await createSlice(c, sliceObject('np', 'np-1', [{ name: 'web', port: e.port }], [{ ip: host }]))
    t.equal(await eventually('node port on 127.0.0.1', async () => ((await connectResult('127.0.0.1', nodePort)) === 'connected' ? hit('127.0.0.1', nodePort) : undefined)), 'np')
    t.equal(await hit(nodeIP, nodePort), 'np', 'and on the node IP')
    t.equal(await hit(loopbackAddressFor(clusterIP(svc))!, (svc.spec as { ports: { port: number }[] }).ports[0]!.port), 'np', 'and on the cluster IP')
  })

  t.test('externalTrafficPolicy Local: node-port traffic only to this node; cluster-IP traffic to all', async (t) => {
    const [mine, theirs] = await Promise.all([tcpEcho(t, 'mine', host), tcpEcho(t, 'theirs', host)])
    const port = servicePort()
    const svc = await createService(c, 'local', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'web', port, protocol: 'TCP' }] })
    const nodePort = (svc.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort
    const addr = loopbackAddressFor(clusterIP(svc))!
    await createSlice(c, sliceObject('local', 'local-1', [{ name: 'web', port: mine.port }], [{ ip: host, nodeName: 'n1' }]))
    await createSlice(c, sliceObject('local', 'local-2', [{ name: 'web', port: theirs.port }], [{ ip: host, nodeName: 'n2' }]))
    await eventually('both via the cluster IP', async () => {
      const seen = new Set([await hit(addr, port), await hit(addr, port)])
      return seen.size === 2 ? true : undefined
    })
    for (let i = 0; i < 4; i++) t.equal(await hit('127.0.0.1', nodePort), 'mine', `node-port connection ${i + 1}`)
  })

  t.test('LoadBalancer: node port plus the ingress IP, which honours loadBalancerSourceRanges', async (t) => {
    const e = await tcpEcho(t, 'lb', host)
    const lbIP = loopbackAddress(206)
    const port = servicePort()
    const svc = await createService(c, 'lb', { type: 'LoadBalancer', ports: [{ name: 'web', port, protocol: 'TCP' }] })
    const nodePort = (svc.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort
    await createSlice(c, sliceObject('lb', 'lb-1', [{ name: 'web', port: e.port }], [{ ip: host }]))
    await updateService(c, 'lb', (s) => ({ ...s, status: { loadBalancer: { ingress: [{ ip: lbIP }] } } }), { status: true })
    t.equal(await eventually('the ingress IP serves', async () => ((await connectResult(lbIP, port)) === 'connected' ? hit(lbIP, port) : undefined)), 'lb')
    t.equal(await hit('127.0.0.1', nodePort), 'lb', 'and the node port')
    await updateService(c, 'lb', (s) => ({ ...s, spec: { ...(s.spec as object), loadBalancerSourceRanges: ['10.0.0.0/8'] } }))
    await eventually('our source refused at the ingress IP', async () => ((await connectResult(lbIP, port)) !== 'connected' ? true : undefined))
    t.match(await connectResult(lbIP, port), /ECONNRESET|ECLOSED/, 'reset')
    t.equal(await hit('127.0.0.1', nodePort), 'lb', 'source ranges do not apply to the node port')
  })

  t.test('external IPs are served like the cluster IP', async (t) => {
    const e = await tcpEcho(t, 'ext', host)
    const port = servicePort()
    await createService(c, 'extip', { externalIPs: [extIP], ports: [{ name: 'web', port, protocol: 'TCP' }] })
    await createSlice(c, sliceObject('extip', 'extip-1', [{ name: 'web', port: e.port }], [{ ip: host }]))
    t.equal(await eventually('the external IP serves', async () => ((await connectResult(extLocal, port)) === 'connected' ? hit(extLocal, port) : undefined)), 'ext')
  })
})
