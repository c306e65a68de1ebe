// Cluster DNS answers (the Kubernetes DNS specification as CoreDNS implements it),
// straight from a ServiceStore: A for cluster IPs (mapped as the node serves them) and
// headless endpoints, endpoint hostnames, SRV for named ports, ExternalName CNAMEs,
// pod names, PTR, NXDOMAIN/NODATA with the SOA, and what is not ours.
import t from 'tap'
import type { KubeObject } from '../../../src/client/index.js'
import { ClusterZone } from '../../../src/proxy/dns/cluster-zone.js'
import { RCODE, type ResourceRecord, TYPE } from '../../../src/proxy/dns/wire.js'
import { loopbackAddressFor } from '../../../src/proxy/ipv4.js'
import { ServiceStore } from '../../../src/proxy/service-store.js'

const service = (ns: string, name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name, resourceVersion: '1' }, spec })
const slice = (ns: string, svc: string, name: string, ports: Record<string, unknown>[], endpoints: Record<string, unknown>[]): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { namespace: ns, name, resourceVersion: '1', labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4',
  ports,
  endpoints,
})

function zone(): { zone: ClusterZone; store: ServiceStore } {
  const store = new ServiceStore()
  store.applyServiceEvent({
    type: 'RESYNC',
    resourceVersion: '1',
    items: [
      service('default', 'web', { type: 'ClusterIP', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
      service('default', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }),
      service('default', 'empty', { clusterIP: 'None', ports: [{ port: 1 }] }),
      service('default', 'ext', { type: 'ExternalName', externalName: 'example.org' }),
      service('default', 'alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }),
      service('other', 'web', { clusterIP: '10.96.0.21', ports: [{ port: 8080 }] }),
    ],
  })
  store.applySliceEvent({
    type: 'RESYNC',
    resourceVersion: '1',
    items: [
      slice('default', 'db', 'db-1', [{ name: 'pg', port: 15432, protocol: 'TCP' }], [
        { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.244.1.6'], conditions: { ready: true } },
        { addresses: ['10.244.1.7'], hostname: 'db-2', conditions: { ready: false } },
      ]),
      slice('default', 'empty', 'empty-1', [{ port: 1 }], [{ addresses: ['10.244.1.9'], conditions: { ready: false } }]),
    ],
  })
  const z = new ClusterZone(store, { domain: 'cluster.local', ttl: 5, serviceAddress: loopbackAddressFor, serial: () => 42 })
  return { zone: z, store }
}

const ask = (z: ClusterZone, name: string, type: number = TYPE.A) => z.answer({ name, type, class: 1 })
const data = (recs: ResourceRecord[]): string[] =>
  recs.map((r) => (r.type === 'A' ? r.address : r.type === 'CNAME' || r.type === 'PTR' ? `${r.type} ${r.target}` : r.type === 'SRV' ? `SRV ${r.priority} ${r.weight} ${r.port} ${r.target}` : r.type)).sort()

t.test('a ClusterIP Service resolves to the address this node serves it at', async (t) => {
  const { zone: z } = zone()
  const a = ask(z, 'web.default.svc.cluster.local')!
  t.equal(a.rcode, RCODE.NOERROR)
  t.same(data(a.answers), ['127.96.0.20'])
  t.equal(a.answers[0]!.ttl, 5)
  t.same(data(ask(z, 'WEB.Default.svc.cluster.local.')!.answers), ['127.96.0.20'], 'case and the trailing dot do not matter')
  t.equal(ask(z, 'WEB.Default.svc.cluster.local')!.answers[0]!.name, 'WEB.Default.svc.cluster.local', 'the owner name echoes the question')
  t.same(data(ask(z, 'web.other.svc.cluster.local')!.answers), ['127.96.0.21'])
  const aaaa = ask(z, 'web.default.svc.cluster.local', TYPE.AAAA)!
  t.equal(aaaa.rcode, RCODE.NOERROR, 'AAAA: NODATA, not NXDOMAIN (the name exists)')
  t.same(aaaa.answers, [])
  t.same(data(aaaa.authorities), ['SOA'])
})

t.test('SRV for named ports, and for the service name itself', async (t) => {
  const { zone: z } = zone()
  const srv = ask(z, '_http._tcp.web.default.svc.cluster.local', TYPE.SRV)!
  t.same(data(srv.answers), ['SRV 0 100 80 web.default.svc.cluster.local'])
  t.same(data(srv.additionals), ['127.96.0.20'])
  t.same(data(ask(z, '_dns._udp.web.default.svc.cluster.local', TYPE.SRV)!.answers), ['SRV 0 100 53 web.default.svc.cluster.local'])
  t.equal(ask(z, '_dns._tcp.web.default.svc.cluster.local', TYPE.SRV)!.rcode, RCODE.NXDOMAIN, 'wrong protocol')
  t.equal(ask(z, '_nope._tcp.web.default.svc.cluster.local', TYPE.SRV)!.rcode, RCODE.NXDOMAIN)
  const nodata = ask(z, '_http._tcp.web.default.svc.cluster.local', TYPE.A)!
  t.equal(nodata.rcode, RCODE.NOERROR)
  t.same(nodata.answers, [])
  t.equal(ask(z, '_tcp.web.default.svc.cluster.local', TYPE.A)!.rcode, RCODE.NOERROR, 'the _tcp non-terminal exists')
  t.same(data(ask(z, 'web.default.svc.cluster.local', TYPE.SRV)!.answers), ['SRV 0 50 53 web.default.svc.cluster.local', 'SRV 0 50 80 web.default.svc.cluster.local'])
})

t.test('a headless Service resolves to its ready endpoints, each also by hostname (or dashed IP)', async (t) => {
  const { zone: z } = zone()
  t.same(data(ask(z, 'db.default.svc.cluster.local')!.answers), ['10.244.1.5', '10.244.1.6'])
  t.same(data(ask(z, 'db-0.db.default.svc.cluster.local')!.answers), ['10.244.1.5'])
  t.same(data(ask(z, '10-244-1-6.db.default.svc.cluster.local')!.answers), ['10.244.1.6'])
  t.equal(ask(z, 'db-2.db.default.svc.cluster.local')!.rcode, RCODE.NXDOMAIN, 'not ready: no record')
  const srv = ask(z, '_pg._tcp.db.default.svc.cluster.local', TYPE.SRV)!
  t.same(data(srv.answers), ['SRV 0 50 15432 10-244-1-6.db.default.svc.cluster.local', 'SRV 0 50 15432 db-0.db.default.svc.cluster.local'], 'endpoint ports, per endpoint')
  t.same(data(srv.additionals), ['10.244.1.5', '10.244.1.6'])
  t.equal(ask(z, 'empty.default.svc.cluster.local')!.rcode, RCODE.NXDOMAIN, 'no ready endpoint: NXDOMAIN (as CoreDNS)')
})

t.test('ExternalName is a CNAME; a target inside the cluster is followed', async (t) => {
  const { zone: z } = zone()
  const ext = ask(z, 'ext.default.svc.cluster.local')!
  t.same(data(ext.answers), ['CNAME example.org'])
  t.equal(ext.externalTarget, 'example.org', 'the server may resolve it upstream')
  t.same(data(ask(z, 'ext.default.svc.cluster.local', TYPE.CNAME)!.answers), ['CNAME example.org'])
  const alias = ask(z, 'alias.default.svc.cluster.local')!
  t.same(data(alias.answers), ['127.96.0.20', 'CNAME web.default.svc.cluster.local'])
  t.equal(alias.externalTarget, undefined)
})

t.test('unknown names in the zone are NXDOMAIN with the SOA; search-path expansions fail at once', async (t) => {
  const { zone: z } = zone()
  for (const name of ['nope.default.svc.cluster.local', 'web.nons.svc.cluster.local', 'nons.svc.cluster.local', 'web.default.svc.cluster.local.default.svc.cluster.local', 'example.org.svc.cluster.local', 'foo.cluster.local', 'a.b.c.d.e.svc.cluster.local']) {
    const a = ask(z, name)!
    t.equal(a.rcode, RCODE.NXDOMAIN, name)
    t.match(a.authorities[0], { type: 'SOA', name: 'cluster.local', mname: 'ns.dns.cluster.local', serial: 42, minimum: 5 })
  }
  for (const name of ['cluster.local', 'svc.cluster.local', 'default.svc.cluster.local', 'pod.cluster.local', 'default.pod.cluster.local']) {
    const a = ask(z, name)!
    t.equal(a.rcode, RCODE.NOERROR, `${name} exists`)
    t.same(a.answers, [])
  }
  t.match(ask(z, 'cluster.local', TYPE.SOA)!.answers, [{ type: 'SOA' }])
  t.match(ask(z, 'cluster.local', TYPE.NS)!.answers, [{ type: 'NS', target: 'ns.dns.cluster.local' }])
  t.match(ask(z, 'dns-version.cluster.local', TYPE.TXT)!.answers, [{ type: 'TXT', texts: ['1.1.0'] }])
})

t.test('pod names resolve to the IP they spell', async (t) => {
  const { zone: z } = zone()
  t.same(data(ask(z, '10-244-1-5.default.pod.cluster.local')!.answers), ['10.244.1.5'])
  t.equal(ask(z, '10-244-1.default.pod.cluster.local')!.rcode, RCODE.NXDOMAIN)
})

t.test('PTR for cluster IPs, their loopback addresses and ready endpoints; others are not ours', async (t) => {
  const { zone: z } = zone()
  t.same(data(ask(z, '20.0.96.10.in-addr.arpa', TYPE.PTR)!.answers), ['PTR web.default.svc.cluster.local'])
  t.same(data(ask(z, '20.0.96.127.in-addr.arpa', TYPE.PTR)!.answers), ['PTR web.default.svc.cluster.local'])
  t.same(data(ask(z, '5.1.244.10.in-addr.arpa', TYPE.PTR)!.answers), ['PTR db-0.db.default.svc.cluster.local'])
  t.equal(ask(z, '8.8.8.8.in-addr.arpa', TYPE.PTR), undefined)
})

t.test('names outside the zone are not ours; before the first list everything in it is SERVFAIL', async (t) => {
  const { zone: z } = zone()
  t.equal(ask(z, 'example.org'), undefined)
  t.equal(ask(z, 'cluster.localhost'), undefined)
  const fresh = new ClusterZone(new ServiceStore(), { domain: 'cluster.local', ttl: 5, serviceAddress: () => undefined, serial: () => 1 })
  t.equal(fresh.answer({ name: 'web.default.svc.cluster.local', type: TYPE.A, class: 1 })!.rcode, RCODE.SERVFAIL, 'not an NXDOMAIN a client would cache')
})

t.test('the store follows watch events: a deleted Service is gone, a new slice is seen', async (t) => {
  const { zone: z, store } = zone()
  const touched: string[] = []
  store.onChange((kind, keys) => touched.push(`${kind}:${[...keys].join(',')}`))
  store.applyServiceEvent({ type: 'DELETED', resourceVersion: '2', object: service('default', 'web', {}) })
  t.equal(ask(z, 'web.default.svc.cluster.local')!.rcode, RCODE.NXDOMAIN)
  store.applySliceEvent({ type: 'ADDED', resourceVersion: '3', object: slice('default', 'empty', 'empty-2', [{ port: 1 }], [{ addresses: ['10.244.2.2'] }]) })
  t.same(data(ask(z, 'empty.default.svc.cluster.local')!.answers), ['10.244.2.2'])
  t.same(touched, ['services:default/web', 'endpoints:default/empty'])
  t.notOk(store.hasNamespace('nope'))
  store.applyServiceEvent({ type: 'RESYNC', resourceVersion: '9', items: [] })
  t.notOk(store.hasNamespace('default'), 'a RESYNC without them: all gone')
})
