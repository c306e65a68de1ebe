// Service, Endpoints and EndpointSlice validation.
import t from 'tap'
import { applyDefaults } from '../../src/api/defaults.js'
import type { Json } from '../../src/api/json.js'
import { clone, createErrors, rt, updateErrors } from './fixtures.js'

function svc(spec: Json): Json {
  return { metadata: { name: 'web', namespace: 'default', resourceVersion: '2' }, spec }
}

t.test('Services on create', async (t) => {
  t.strictSame(createErrors('Service', svc({ selector: { app: 'web' }, ports: [{ port: 80 }] })), [])
  t.strictSame(createErrors('Service', svc({ selector: { app: 'web' } })), ['spec.ports: Required value'])
  t.strictSame(createErrors('Service', svc({ clusterIP: 'None', selector: { app: 'web' } })), [], 'headless services need no ports')
  t.strictSame(createErrors('Service', svc({ type: 'ExternalName', externalName: 'db.example.com' })), [])
  t.strictSame(createErrors('Service', svc({ type: 'ExternalName' })), ['spec.externalName: Required value'])
  t.strictSame(createErrors('Service', svc({ type: 'Magic', ports: [{ port: 80 }] })), ['spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'])
  t.strictSame(createErrors('Service', svc({ ports: [{ port: 0, protocol: 'HTTP' }] })), [
    'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
  ])
  t.strictSame(createErrors('Service', svc({ ports: [{ port: 80 }, { port: 80, name: 'b' }] })), [
    'spec.ports[0].name: Required value',
    'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
  ])
  t.strictSame(createErrors('Service', svc({ clusterIP: '10.0.0.300', ports: [{ port: 80 }] })), ['spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'])
  t.strictSame(createErrors('Service', svc({ ports: [{ port: 80, nodePort: 30080 }] })), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"])
  t.strictSame(createErrors('Service', svc({ type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] })), ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"])
  t.strictSame(createErrors('Service', svc({ externalIPs: ['127.0.0.1'], ports: [{ port: 80 }] })), ['spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'])
  t.strictSame(createErrors('Service', svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } }, ports: [{ port: 80 }] })), [
    'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400',
  ])
  t.strictSame(createErrors('Service', svc({ type: 'LoadBalancer', ports: [{ port: 10250 }] })), ['spec.ports[0]: Invalid value: 10250: may not expose port 10250 externally since it is used by kubelet'])
})

t.test('Services on update: cluster IPs are fixed once set', async (t) => {
  const old = svc({ selector: { app: 'web' }, ports: [{ port: 80 }], clusterIP: '10.96.0.10' })
  applyDefaults(rt('Service'), old)
  const moved = clone(old)
  ;(moved.spec as Json).clusterIP = '10.96.0.11'
  ;(moved.spec as Json).clusterIPs = ['10.96.0.11']
  t.strictSame(updateErrors('Service', old, moved), ['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set'])
  const retyped = clone(old)
  ;(retyped.spec as Json).type = 'NodePort'
  t.strictSame(updateErrors('Service', old, retyped), [], 'changing the type keeps the IP')
})

t.test('Endpoints', async (t) => {
  const ep = (subsets: Json[]): Json => ({ metadata: { name: 'web', namespace: 'default' }, subsets })
  t.strictSame(createErrors('Endpoints', ep([{ addresses: [{ ip: '10.1.0.5' }], ports: [{ port: 8080 }] }])), [])
  t.strictSame(createErrors('Endpoints', ep([{ ports: [{ port: 80 }] }])), ['subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`'])
  t.strictSame(createErrors('Endpoints', ep([{ addresses: [{ ip: '169.254.1.1' }], ports: [{ port: 80 }, { port: 81 }] }])), [
    'subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    'subsets[0].ports[0].name: Required value',
    'subsets[0].ports[1].name: Required value',
  ])
})

t.test('EndpointSlices', async (t) => {
  const es = (extra: Json): Json => ({ metadata: { name: 'web-abc', namespace: 'default' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.1.0.5'] }], ports: [{ port: 80 }], ...extra })
  t.strictSame(createErrors('EndpointSlice', es({})), [])
  t.strictSame(createErrors('EndpointSlice', es({ addressType: 'IPX' })), ['addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"'])
  t.strictSame(createErrors('EndpointSlice', es({ endpoints: [{ addresses: [] }, { addresses: ['fe80::1'] }] })), [
    'endpoints[0].addresses: Required value: must contain at least 1 address',
    'endpoints[1].addresses[0]: Invalid value: "fe80::1": must be a valid IPv4 address',
  ])
  const old = es({ metadata: { name: 'web-abc', namespace: 'default', resourceVersion: '1' } })
  applyDefaults(rt('EndpointSlice'), old)
  t.strictSame(updateErrors('EndpointSlice', old, { ...clone(old), addressType: 'IPv6', endpoints: [] }), ['addressType: Invalid value: "IPv6": field is immutable'])
})
