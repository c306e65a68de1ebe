// The other core/v1 kinds: ConfigMap, Secret, Namespace, Node, PersistentVolume(Claim),
// ResourceQuota, LimitRange, ServiceAccount and Event.
import t from 'tap'
import { applyDefaults } from '../../src/api/defaults.js'
import type { Json } from '../../src/api/json.js'
import { clone, createErrors, NAME_PART, RFC1123_LABEL, rt, updateErrors } from './fixtures.js'

const meta = (name = 'x', extra: Json = {}): Json => ({ name, namespace: 'default', resourceVersion: '1', ...extra })

t.test('ConfigMaps: keys, total size, immutability', async (t) => {
  t.strictSame(createErrors('ConfigMap', { metadata: meta('cfg'), data: { 'app.conf': 'x', '..': 'y' } }), ['data[..]: Invalid value: "..": must not be \'..\''])
  t.strictSame(createErrors('ConfigMap', { metadata: meta('cfg'), data: { a: 'x'.repeat(1024 * 1024 + 1) } }), ['[]: Too long: may not be more than 1048576 bytes'])
  t.strictSame(createErrors('ConfigMap', { metadata: meta('cfg'), data: { a: '1' }, binaryData: { a: 'MQ==' } }), ['data[a]: Invalid value: "a": duplicate of key present in binaryData'])
  const old = { metadata: meta('cfg'), data: { a: '1' }, immutable: true }
  t.strictSame(updateErrors('ConfigMap', old, { ...clone(old), data: { a: '2' } }), ['data: Forbidden: field is immutable when `immutable` is set'])
  t.strictSame(updateErrors('ConfigMap', old, { ...clone(old), immutable: false }), ['immutable: Forbidden: field is immutable when `immutable` is set'])
  t.strictSame(updateErrors('ConfigMap', { metadata: meta('cfg'), data: { a: '1' } }, { metadata: meta('cfg'), data: { a: '2' } }), [])
})

t.test('Secrets: type-specific keys, base64, size, immutability', async (t) => {
  t.strictSame(createErrors('Secret', { metadata: meta('s'), data: { k: 'dmFsdWU=' } }), [])
  t.strictSame(createErrors('Secret', { metadata: meta('s'), stringData: { k: 'value' } }), [], 'stringData is merged into data')
  t.strictSame(createErrors('Secret', { metadata: meta('s'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } }), ['data[tls.key]: Required value'])
  t.strictSame(createErrors('Secret', { metadata: meta('s'), type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from('[1]').toString('base64') } }), [
    'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}',
  ])
  t.strictSame(createErrors('Secret', { metadata: meta('s'), type: 'kubernetes.io/service-account-token' }), ['metadata.annotations[kubernetes.io/service-account.name]: Required value'])
  t.strictSame(createErrors('Secret', { metadata: meta('s'), data: { k: 'not base64!' } }), ['data[k]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 3'])
  const old = { metadata: meta('s'), type: 'Opaque', data: { k: 'eA==' } }
  t.strictSame(updateErrors('Secret', old, { ...clone(old), type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==', 'tls.key': 'eA==' } }), ['type: Invalid value: "kubernetes.io/tls": field is immutable'])
})

t.test('Namespaces and ServiceAccounts', async (t) => {
  t.strictSame(createErrors('Namespace', { metadata: { name: 'prod' } }), [])
  t.strictSame(createErrors('Namespace', { metadata: { name: 'my.ns' } }), ['metadata.name: Invalid value: "my.ns": must not contain dots'])
  t.strictSame(createErrors('Namespace', { metadata: { name: 'ns', namespace: 'x' } }), ['metadata.namespace: Forbidden: not allowed on this type'])
  t.strictSame(createErrors('Namespace', { metadata: { name: 'Prod' } }), [`metadata.name: Invalid value: "Prod": ${RFC1123_LABEL}`])
  t.strictSame(createErrors('ServiceAccount', { metadata: { name: 'builder', namespace: 'default' } }), [])
})

t.test('Nodes', async (t) => {
  t.strictSame(createErrors('Node', { metadata: { name: 'node-1' }, status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' } } }), [])
  t.strictSame(createErrors('Node', { metadata: { name: 'node-1' }, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }, { key: 'k', effect: 'NoSchedule' }, { key: 'j', effect: 'Bad' }] } }), [
    'metadata.taints[1]: Duplicate value: core.Taint{Key:"k", Value:"", Effect:"NoSchedule", TimeAdded:<nil>}: taints must be unique by key and effect pair',
    'metadata.taints[2].effect: Unsupported value: "Bad": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
  ])
  t.strictSame(createErrors('Node', { metadata: { name: 'node-1' }, status: { capacity: { pods: '1.5' } } }), ['status.capacity.pods: Invalid value: "1500m": must be an integer', 'status.allocatable.pods: Invalid value: "1500m": must be an integer'])
  const old = { metadata: { name: 'node-1', resourceVersion: '1' }, spec: { podCIDRs: ['10.244.1.0/24'], providerID: 'p1' } }
  t.strictSame(updateErrors('Node', old, { ...clone(old), spec: { podCIDRs: ['10.244.2.0/24'], providerID: 'p2' } }), [
    'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    'spec.providerID: Forbidden: node updates may not change providerID except from "" to valid',
  ])
})

t.test('PersistentVolumes and claims', async (t) => {
  const pv = (spec: Json): Json => ({ metadata: { name: 'pv1', resourceVersion: '1' }, spec })
  t.strictSame(createErrors('PersistentVolume', pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } })), [])
  t.strictSame(createErrors('PersistentVolume', pv({})), [
    'spec.accessModes: Required value',
    'spec.capacity: Required value',
    'spec.capacity: Unsupported value: map[string]string{}: supported values: "storage"',
    'spec: Required value: must specify a volume type',
  ])
  t.strictSame(createErrors('PersistentVolume', pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'], hostPath: { path: '/d' }, nfs: { server: 's', path: '/p' } })), [
    'spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes',
    'spec.nfs: Forbidden: may not specify more than 1 volume type',
  ])
  const pvc = (spec: Json, status: Json = {}): Json => ({ metadata: meta('claim'), spec, status })
  t.strictSame(createErrors('PersistentVolumeClaim', pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } })), [])
  t.strictSame(createErrors('PersistentVolumeClaim', pvc({ resources: { requests: { storage: '0' } } })), [
    'spec.accessModes: Required value: at least 1 access mode is required',
    'spec.resources[storage]: Invalid value: "0": must be greater than zero',
  ])
  const bound = pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'pv1' }, { phase: 'Bound' })
  applyDefaults(rt('PersistentVolumeClaim'), bound)
  const grown = clone(bound)
  ;(((grown.spec as Json).resources as Json).requests as Json).storage = '2Gi'
  t.strictSame(updateErrors('PersistentVolumeClaim', bound, grown), [], 'bound claims may grow')
  const shrunk = clone(bound)
  ;(((shrunk.spec as Json).resources as Json).requests as Json).storage = '512Mi'
  t.strictSame(updateErrors('PersistentVolumeClaim', bound, shrunk), ['spec.resources.requests.storage: Forbidden: field can not be less than previous value'])
  const recl = clone(bound)
  ;(recl.spec as Json).accessModes = ['ReadWriteMany']
  t.match(updateErrors('PersistentVolumeClaim', bound, recl), [/^spec: Forbidden: spec is immutable after creation except resources\.requests and volumeAttributesClassName for bound claims\n/])
})

t.test('ResourceQuotas and LimitRanges', async (t) => {
  t.strictSame(createErrors('ResourceQuota', { metadata: meta('q'), spec: { hard: { pods: '10', 'requests.cpu': '4', 'count/widgets': '1' } } }), [])
  t.strictSame(createErrors('ResourceQuota', { metadata: meta('q'), spec: { hard: { widgets: '1', pods: '1.5' } } }), [
    'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource type or fully qualified',
    'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota',
    'spec.hard[pods]: Invalid value: "1500m": must be an integer',
  ])
  t.strictSame(createErrors('LimitRange', { metadata: meta('l'), spec: { limits: [{ type: 'Container', max: { cpu: '1' }, min: { cpu: '2' } }, { type: 'Pod', default: { cpu: '1' } }, { type: 'Thing' }] } }), [
    'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
    "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'",
    'spec.limits[2].type: Invalid value: "Thing": must be a standard limit type or fully qualified',
  ])
})

t.test('Events (core/v1): the legacy namespace and reporting checks', async (t) => {
  t.strictSame(createErrors('Event', { metadata: meta('e'), involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Started' }), [])
  t.strictSame(createErrors('Event', { metadata: meta('e'), involvedObject: { namespace: 'other' } }), ['involvedObject.namespace: Invalid value: "other": does not match event.namespace'])
  t.strictSame(createErrors('Event', { metadata: meta('e'), eventTime: '2024-01-01T00:00:00.000000Z', involvedObject: { namespace: 'default' } }), [
    'reportingComponent: Required value',
    'reportingComponent: Invalid value: "": name part must be non-empty',
    `reportingComponent: Invalid value: "": ${NAME_PART}`,
    'reportingInstance: Required value',
    'action: Required value',
    'reason: Required value',
  ])
})
