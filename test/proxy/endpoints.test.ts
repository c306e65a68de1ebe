// What kube-proxy reads from Services and EndpointSlices, and which endpoints serve
// cluster-IP and external traffic: readiness, terminating fallback, traffic policies,
// topology hints, named ports and protocols, several slices per Service.
import t from 'tap'
import type { KubeObject } from '../../src/client/index.js'
import { endpointsForPort, sliceServiceKey } from '../../src/proxy/endpoints.js'
import { servicePorts } from '../../src/proxy/service-ports.js'
import { categorizeEndpoints } from '../../src/proxy/topology.js'

const svc = (spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'ns', name: 'web' },
  spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec },
  ...extra,
})

interface Ep {
  ip: string
  ready?: boolean
  serving?: boolean
  terminating?: boolean
  nodeName?: string
  zones?: string[]
  nodes?: string[]
}

const slice = (name: string, ports: { name?: string; port: number; protocol?: string }[], eps: Ep[], addressType = 'IPv4', service = 'web'): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { namespace: 'ns', name, labels: { 'kubernetes.io/service-name': service } },
  addressType,
  ports,
  endpoints: eps.map((e) => ({
    addresses: [e.ip],
    conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
    ...(e.nodeName === undefined ? {} : { nodeName: e.nodeName }),
    ...(e.zones === undefined && e.nodes === undefined ? {} : { hints: { forZones: (e.zones ?? []).map((name) => ({ name })), forNodes: (e.nodes ?? []).map((name) => ({ name })) } }),
  })),
})

const ipsOf = (eps: { ip: string; port: number }[]): string[] => eps.map((e) => `${e.ip}:${e.port}`)
const topo = { nodeName: 'n1', zone: 'a' }

t.test('service ports: cluster IP, node ports, external and load-balancer IPs, affinity, policies', async (t) => {
  const [p] = servicePorts(
    svc(
      {
        type: 'LoadBalancer',
        ports: [{ name: 'http', port: 80, nodePort: 30080 }],
        externalIPs: ['192.168.9.9'],
        sessionAffinity: 'ClientIP',
        externalTrafficPolicy: 'Local',
        loadBalancerSourceRanges: ['10.0.0.0/8 '],
      },
      { status: { loadBalancer: { ingress: [{ ip: '172.18.0.5' }, { ip: '172.18.0.6', ipMode: 'Proxy' }, { hostname: 'lb.example' }] } } },
    ),
  )
  t.match(p, {
    key: 'ns/web:http',
    protocol: 'TCP',
    port: 80,
    clusterIP: '10.96.0.20',
    nodePort: 30080,
    externalIPs: ['192.168.9.9'],
    loadBalancerIPs: ['172.18.0.5'],
    loadBalancerSourceRanges: ['10.0.0.0/8'],
    affinitySeconds: 10800,
    externalLocal: true,
    internalLocal: false,
    externallyAccessible: true,
  })
  const [q] = servicePorts(svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 53, protocol: 'UDP' }] }))
  t.match(q, { key: 'ns/web:', protocol: 'UDP', nodePort: 0, affinitySeconds: 60, externallyAccessible: false })
})

t.test('headless, ExternalName and other proxies\' Services are not proxied', async (t) => {
  t.same(servicePorts(svc({ clusterIP: 'None' })), [])
  t.same(servicePorts(svc({ type: 'ExternalName', externalName: 'example.org', clusterIP: undefined })), [])
  t.same(servicePorts(svc({}, { metadata: { namespace: 'ns', name: 'web', labels: { 'service.kubernetes.io/service-proxy-name': 'other' } } })), [])
  t.same(servicePorts(svc({ clusterIP: 'fd00::10' })), [], 'IPv6 cluster IP')
})

t.test('endpoints merge across slices by port name and protocol; IPv6 and FQDN slices are ignored', async (t) => {
  const slices = [
    slice('a', [{ name: 'http', port: 8080 }], [{ ip: '10.244.0.1' }, { ip: '10.244.0.2', ready: false }]),
    slice('b', [{ name: 'http', port: 9090 }, { name: 'metrics', port: 9100 }], [{ ip: '10.244.0.3' }]),
    slice('c', [{ name: 'http', port: 8080, protocol: 'UDP' }], [{ ip: '10.244.0.4' }]),
    slice('d', [{ name: 'http', port: 8080 }], [{ ip: 'fd00::1' }], 'IPv6'),
    // The same endpoint twice (a slice being rewritten): the ready copy wins.
    slice('e', [{ name: 'http', port: 8080 }], [{ ip: '10.244.0.2', ready: true }]),
  ]
  const eps = endpointsForPort(slices, 'http', 'TCP', 'n1')
  t.same(ipsOf(eps), ['10.244.0.1:8080', '10.244.0.2:8080', '10.244.0.3:9090'])
  t.ok(eps.every((e) => e.ready))
  t.same(ipsOf(endpointsForPort(slices, 'metrics', 'TCP', 'n1')), ['10.244.0.3:9100'])
  t.same(ipsOf(endpointsForPort(slices, 'http', 'UDP', 'n1')), ['10.244.0.4:8080'])
  t.same(ipsOf(endpointsForPort(slices, '', 'TCP', 'n1')), [], 'an unnamed service port matches only unnamed slice ports')
  t.equal(sliceServiceKey(slices[0]!), 'ns/web')
})

t.test('only ready endpoints serve; with none ready, serving-and-terminating ones do', async (t) => {
  const sp = servicePorts(svc({}))[0]!
  const eps = (list: Ep[]) => endpointsForPort([slice('a', [{ name: 'http', port: 80 }], list)], 'http', 'TCP', 'n1')
  let cat = categorizeEndpoints(eps([{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false, serving: true, terminating: true }]), sp, topo)
  t.same(ipsOf(cat.internal), ['10.0.0.1:80'])
  cat = categorizeEndpoints(eps([{ ip: '10.0.0.1', ready: false, serving: false }, { ip: '10.0.0.2', ready: false, serving: true, terminating: true }]), sp, topo)
  t.same(ipsOf(cat.internal), ['10.0.0.2:80'], 'terminating fallback')
  t.ok(cat.hasAny)
  cat = categorizeEndpoints(eps([{ ip: '10.0.0.1', ready: false, serving: false }]), sp, topo)
  t.same(cat.internal, [])
  t.notOk(cat.hasAny)
  t.same(ipsOf(categorizeEndpoints(eps([{ ip: '10.0.0.1' }]), sp, topo).internal), ['10.0.0.1:80'], 'no conditions: ready')
})

t.test('traffic policies: Local narrows to this node; external traffic follows externalTrafficPolicy', async (t) => {
  const list = [
    { ip: '10.0.0.1', nodeName: 'n1' },
    { ip: '10.0.0.2', nodeName: 'n2' },
  ]
  const eps = endpointsForPort([slice('a', [{ name: 'http', port: 80 }], list)], 'http', 'TCP', 'n1')
  const etpLocal = servicePorts(svc({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30001 }] }))[0]!
  let cat = categorizeEndpoints(eps, etpLocal, topo)
  t.same(ipsOf(cat.internal), ['10.0.0.1:80', '10.0.0.2:80'], 'cluster-IP traffic: every endpoint')
  t.same(ipsOf(cat.external), ['10.0.0.1:80'], 'node-port traffic: this node only')
  const itpLocal = servicePorts(svc({ internalTrafficPolicy: 'Local' }))[0]!
  cat = categorizeEndpoints(eps, itpLocal, topo)
  t.same(ipsOf(cat.internal), ['10.0.0.1:80'])
  t.same(cat.external, [], 'not externally accessible')
  cat = categorizeEndpoints(endpointsForPort([slice('a', [{ name: 'http', port: 80 }], list)], 'http', 'TCP', 'n3'), itpLocal, { nodeName: 'n3', zone: '' })
  t.same(cat.internal, [], 'no local endpoint: nothing (the connection is refused)')
  t.ok(cat.hasAny, 'though the Service has endpoints elsewhere')
})

t.test('topology hints narrow to this zone only when every ready endpoint has them and one is for us', async (t) => {
  const sp = servicePorts(svc({}))[0]!
  const eps = (list: Ep[]) => endpointsForPort([slice('a', [{ name: 'http', port: 80 }], list)], 'http', 'TCP', 'n1')
  const hinted = [
    { ip: '10.0.0.1', zones: ['a'] },
    { ip: '10.0.0.2', zones: ['b'] },
  ]
  t.same(ipsOf(categorizeEndpoints(eps(hinted), sp, topo).internal), ['10.0.0.1:80'])
  t.same(ipsOf(categorizeEndpoints(eps(hinted), sp, { nodeName: 'n1', zone: 'c' }).internal), ['10.0.0.1:80', '10.0.0.2:80'], 'no endpoint for our zone: all')
  t.same(ipsOf(categorizeEndpoints(eps(hinted), sp, { nodeName: 'n1', zone: '' }).internal), ['10.0.0.1:80', '10.0.0.2:80'], 'zone unknown: all')
  t.same(ipsOf(categorizeEndpoints(eps([...hinted, { ip: '10.0.0.3' }]), sp, topo).internal), ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'], 'one without hints: all')
  const nodeHinted = [
    { ip: '10.0.0.1', zones: ['a'], nodes: ['n2'] },
    { ip: '10.0.0.2', zones: ['a'], nodes: ['n1'] },
  ]
  t.same(ipsOf(categorizeEndpoints(eps(nodeHinted), sp, topo).internal), ['10.0.0.2:80'], 'node hints first')
})
