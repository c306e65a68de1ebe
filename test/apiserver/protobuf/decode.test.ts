// Each JSON mapping rule of the decoder, on bodies built field by field: the expected
// objects are what Go's encoding/json gives the same struct (omitempty, pointers,
// custom MarshalJSON of the apimachinery types).
import protobuf from 'protobufjs'
import t from 'tap'
import { decodeKubeProtobuf, isKubeProtobuf } from '../../../src/apiserver/protobuf/index.js'
import { planByName } from '../../../src/apiserver/protobuf/schema.js'
import { WireDecoder } from '../../../src/apiserver/protobuf/to-json.js'
import { body, encode, envelope } from './helpers.js'

const SECONDS = Date.UTC(2026, 0, 2, 3, 4, 5) / 1000

t.test('isKubeProtobuf', async (t) => {
  t.ok(isKubeProtobuf('application/vnd.kubernetes.protobuf'))
  t.ok(isKubeProtobuf('Application/VND.Kubernetes.Protobuf; charset=binary'))
  t.notOk(isKubeProtobuf('application/json'))
  t.notOk(isKubeProtobuf('application/vnd.kubernetes.protobuf+json'))
  t.notOk(isKubeProtobuf(undefined))
})

t.test('apiVersion and kind come from the envelope; defaults fill them when empty', async (t) => {
  const out = decodeKubeProtobuf(body('v1', 'Namespace', { metadata: { name: 'a' } }))
  t.strictSame(out, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'a', creationTimestamp: null }, spec: {}, status: {} })
  const bare = envelope('', '', encode('k8s.io.api.core.v1.Namespace', {}))
  t.strictSame(decodeKubeProtobuf(bare, { apiVersion: 'v1', kind: 'Namespace' }), {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: { creationTimestamp: null },
    spec: {},
    status: {},
  })
})

t.test('metav1.Time: RFC 3339 in UTC, seconds only; the zero time (an empty message) is null', async (t) => {
  const out = decodeKubeProtobuf(
    body('v1', 'Namespace', { metadata: { name: 'a', creationTimestamp: { seconds: SECONDS, nanos: 999_999_999 }, deletionTimestamp: {} } }),
  )
  t.equal((out.metadata as Record<string, unknown>).creationTimestamp, '2026-01-02T03:04:05Z')
  // A pointer Time that is set but zero is present, and null.
  t.equal((out.metadata as Record<string, unknown>).deletionTimestamp, null)
  t.ok(Object.hasOwn(out.metadata as object, 'deletionTimestamp'))
  const epoch = decodeKubeProtobuf(body('v1', 'Namespace', { metadata: { creationTimestamp: { seconds: 0, nanos: 0 } } }))
  t.equal((epoch.metadata as Record<string, unknown>).creationTimestamp, '1970-01-01T00:00:00Z', 'explicit zero seconds are the epoch, not the zero time')
  const absent = decodeKubeProtobuf(body('v1', 'Namespace', { metadata: {} }))
  t.strictSame(absent.metadata, { creationTimestamp: null }, 'a non-pointer Time missing from the wire is the zero time')
})

t.test('metav1.MicroTime: six fraction digits, truncated; an empty Event is what Go prints for one', async (t) => {
  const out = decodeKubeProtobuf(body('v1', 'Event', { eventTime: { seconds: SECONDS, nanos: 123_456_789 }, reason: 'Started' }))
  t.equal(out.eventTime, '2026-01-02T03:04:05.123456Z')
  t.strictSame(decodeKubeProtobuf(body('v1', 'Event', {})), {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { creationTimestamp: null },
    involvedObject: {},
    source: {},
    firstTimestamp: null,
    lastTimestamp: null,
    eventTime: null,
    reportingComponent: '',
    reportingInstance: '',
  })
})

t.test('resource.Quantity: its string; a Quantity without one is "0"', async (t) => {
  const out = decodeKubeProtobuf(body('v1', 'ResourceQuota', { spec: { hard: { cpu: { string: '500m' }, memory: { string: '1Gi' }, pods: {} } } }))
  t.strictSame((out.spec as Record<string, unknown>).hard, { cpu: '500m', memory: '1Gi', pods: '0' })
})

t.test('intstr.IntOrString: a number or a string by its type', async (t) => {
  const out = decodeKubeProtobuf(
    body('v1', 'Service', {
      spec: {
        ports: [
          { port: 80, targetPort: { type: 0, intVal: 8080 } },
          { port: 443, targetPort: { type: 1, strVal: 'https' } },
          // Missing: the zero IntOrString, which is the number 0 (omitempty never drops a struct).
          { port: 9000 },
        ],
      },
    }),
  )
  t.strictSame((out.spec as Record<string, unknown>).ports, [
    { port: 80, targetPort: 8080 },
    { port: 443, targetPort: 'https' },
    { port: 9000, targetPort: 0 },
  ])
  const pointer = decodeKubeProtobuf(body('apps/v1', 'Deployment', { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: { type: 1, strVal: '25%' } } } } }))
  t.strictSame(((pointer.spec as Record<string, unknown>).strategy as Record<string, unknown>).rollingUpdate, { maxSurge: '25%' }, 'a nil *IntOrString is left out')
  t.throws(() => decodeKubeProtobuf(body('v1', 'Service', { spec: { ports: [{ targetPort: { type: 7 } }] } })), /impossible IntOrString.Type 7/)
})

t.test('runtime.RawExtension: the JSON its bytes hold, a nested protobuf object, or null', async (t) => {
  const json = decodeKubeProtobuf(body('apps/v1', 'ControllerRevision', { revision: 3, data: { raw: Buffer.from('{"spec":{"template":{"x":[1,"a",null]}}}') } }))
  t.strictSame(json.data, { spec: { template: { x: [1, 'a', null] } } })
  t.equal(json.revision, 3)
  const nested = body('v1', 'Namespace', { metadata: { name: 'inner' } })
  const pb = decodeKubeProtobuf(body('apps/v1', 'ControllerRevision', { data: { raw: nested } }))
  t.strictSame(pb.data, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'inner', creationTimestamp: null }, spec: {}, status: {} })
  const none = decodeKubeProtobuf(body('apps/v1', 'ControllerRevision', {}))
  // Go: RawExtension with nil Raw marshals as null; Revision has no omitempty.
  t.strictSame(none, { kind: 'ControllerRevision', apiVersion: 'apps/v1', metadata: { creationTimestamp: null }, data: null, revision: 0 })
  t.throws(() => decodeKubeProtobuf(body('apps/v1', 'ControllerRevision', { data: { raw: Buffer.from('{not json') } })), /RawExtension: the bytes are not JSON/)
})

t.test('metav1.FieldsV1: the JSON object its bytes hold', async (t) => {
  const out = decodeKubeProtobuf(
    body('v1', 'ConfigMap', {
      metadata: {
        name: 'c',
        managedFields: [
          {
            manager: 'kubectl',
            operation: 'Apply',
            apiVersion: 'v1',
            time: { seconds: SECONDS },
            fieldsType: 'FieldsV1',
            fieldsV1: { Raw: Buffer.from('{"f:data":{"f:a":{}}}') },
          },
        ],
      },
    }),
  )
  t.strictSame((out.metadata as Record<string, unknown>).managedFields, [
    { manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2026-01-02T03:04:05Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } },
  ])
})

t.test('bytes: base64, an empty value too; maps are objects, even with a __proto__ key', async (t) => {
  // protobufjs cannot encode a `__proto__` map key (it assigns keys), so that entry is written by hand.
  const proto = protobuf.Writer.create()
  proto.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string('__proto__').uint32((2 << 3) | 2).bytes(Buffer.from('x')).ldelim()
  const raw = Buffer.concat([encode('k8s.io.api.core.v1.Secret', { metadata: { name: 's' }, data: { bin: Buffer.from([0, 1, 2, 255]), empty: Buffer.alloc(0) }, type: 'Opaque' }), proto.finish()])
  const out = decodeKubeProtobuf(envelope('v1', 'Secret', raw))
  const data = out.data as Record<string, unknown>
  t.equal(data.bin, 'AAEC/w==')
  t.equal(data.empty, '')
  t.ok(Object.hasOwn(data, '__proto__'), '__proto__ is a key, as JSON.parse makes it')
  t.equal(Object.getPrototypeOf(data), Object.prototype)
  t.same(JSON.parse(JSON.stringify(out)).data, JSON.parse('{"bin":"AAEC/w==","empty":"","__proto__":"eA=="}'))
  const cm = decodeKubeProtobuf(body('v1', 'ConfigMap', { binaryData: { b: Buffer.from([0xff]) }, data: { k: 'v' } }))
  t.strictSame(cm.binaryData, { b: '/w==' })
  t.strictSame(cm.data, { k: 'v' })
})

t.test('int64: numbers; a pointer is kept when zero, a non-pointer zero with omitempty is not', async (t) => {
  const out = decodeKubeProtobuf(body('v1', 'Namespace', { metadata: { name: 'a', generation: 2 ** 40, deletionGracePeriodSeconds: 0 } }))
  t.strictSame(out.metadata, { name: 'a', generation: 2 ** 40, creationTimestamp: null, deletionGracePeriodSeconds: 0 })
  const zero = decodeKubeProtobuf(body('v1', 'Namespace', { metadata: { name: 'a', generation: 0, namespace: '', uid: '' } }))
  t.strictSame(zero.metadata, { name: 'a', creationTimestamp: null }, 'zero non-pointer fields with omitempty are left out, as Go writes them anyway')
})

t.test('pointers to zero are kept: replicas 0, automountServiceAccountToken false', async (t) => {
  const out = decodeKubeProtobuf(
    body('apps/v1', 'Deployment', {
      spec: { replicas: 0, template: { spec: { automountServiceAccountToken: false, containers: [{ name: 'c', stdin: false, tty: true }] } } },
    }),
  )
  const spec = out.spec as Record<string, Record<string, Record<string, unknown>>>
  t.equal(spec.replicas, 0)
  t.equal(spec.template!.spec!.automountServiceAccountToken, false)
  t.strictSame(spec.template!.spec!.containers, [{ name: 'c', resources: {}, tty: true }], 'stdin false (bool, omitempty) is left out; resources (a struct) is {}')
  const unset = decodeKubeProtobuf(body('apps/v1', 'Deployment', { spec: {} }))
  t.notOk(Object.hasOwn(unset.spec as object, 'replicas'), 'a nil pointer is left out')
})

t.test('fields without omitempty are emitted when zero or missing', async (t) => {
  const svc = decodeKubeProtobuf(body('v1', 'Service', { spec: { ports: [{ name: 'p' }] } }))
  t.strictSame((svc.spec as Record<string, unknown>).ports, [{ name: 'p', port: 0, targetPort: 0 }])
  const pod = decodeKubeProtobuf(body('v1', 'Pod', { spec: { containers: [{ image: 'busybox' }] } }))
  t.strictSame((pod.spec as Record<string, unknown>).containers, [{ name: '', image: 'busybox', resources: {} }])
})

t.test('repeated: empty is left out, or null without omitempty; non-empty are arrays', async (t) => {
  const role = decodeKubeProtobuf(body('rbac.authorization.k8s.io/v1', 'ClusterRole', { metadata: { name: 'r' }, rules: [{ apiGroups: [''] }] }))
  t.strictSame(role.rules, [{ verbs: null, apiGroups: [''] }], 'PolicyRule.verbs has no omitempty')
  const agg = decodeKubeProtobuf(
    body('rbac.authorization.k8s.io/v1', 'ClusterRole', { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { team: 'ops' } }] } }),
  )
  t.equal(agg.rules, null)
  t.strictSame(agg.aggregationRule, { clusterRoleSelectors: [{ matchLabels: { team: 'ops' } }] })
  const ns = decodeKubeProtobuf(body('v1', 'Namespace', { spec: { finalizers: [] } }))
  t.strictSame(ns.spec, {})
})

t.test('json:",inline" fields are merged into their parent', async (t) => {
  const out = decodeKubeProtobuf(
    body('v1', 'Pod', {
      spec: {
        volumes: [{ name: 'cfg', volumeSource: { configMap: { localObjectReference: { name: 'settings' }, defaultMode: 420 } } }],
        containers: [
          {
            name: 'c',
            env: [{ name: 'K', valueFrom: { configMapKeyRef: { localObjectReference: { name: 'settings' }, key: 'k', optional: false } } }],
            livenessProbe: { handler: { httpGet: { path: '/healthz', port: { type: 0, intVal: 8080 } } }, periodSeconds: 5 },
          },
        ],
      },
    }),
  )
  const spec = out.spec as Record<string, unknown>
  t.strictSame(spec.volumes, [{ name: 'cfg', configMap: { name: 'settings', defaultMode: 420 } }])
  t.strictSame(spec.containers, [
    {
      name: 'c',
      env: [{ name: 'K', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k', optional: false } } }],
      resources: {},
      livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
    },
  ])
})

t.test('messages: present and empty is {}, a missing non-pointer struct is its zero value', async (t) => {
  const pod = decodeKubeProtobuf(body('v1', 'Pod', { metadata: { name: 'p' } }))
  // PodSpec.containers has no omitempty; PodStatus is all omitempty.
  t.strictSame(pod, { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', creationTimestamp: null }, spec: { containers: null }, status: {} })
})

t.test('Go named slices (ExtraValue) are arrays', async (t) => {
  const out = decodeKubeProtobuf(
    body('authorization.k8s.io/v1', 'SubjectAccessReview', {
      spec: { user: 'u', extra: { scopes: { items: ['a', 'b'] }, none: {} }, resourceAttributes: { verb: 'get', resource: 'pods' } },
    }),
  )
  const spec = out.spec as Record<string, unknown>
  t.strictSame(spec.extra, { scopes: ['a', 'b'], none: [] })
})

t.test('DeleteOptions under any group version; Eviction', async (t) => {
  for (const apiVersion of ['v1', 'apps/v1', 'meta.k8s.io/v1']) {
    const raw = encode('k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions', { gracePeriodSeconds: 0, propagationPolicy: 'Foreground', dryRun: ['All'] })
    t.strictSame(decodeKubeProtobuf(envelope(apiVersion, 'DeleteOptions', raw)), {
      kind: 'DeleteOptions',
      apiVersion,
      gracePeriodSeconds: 0,
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
    })
  }
  const eviction = decodeKubeProtobuf(body('policy/v1', 'Eviction', { metadata: { name: 'p', namespace: 'default' }, deleteOptions: { preconditions: { uid: 'u1' } } }))
  t.strictSame(eviction, {
    kind: 'Eviction',
    apiVersion: 'policy/v1',
    metadata: { name: 'p', namespace: 'default', creationTimestamp: null },
    deleteOptions: { preconditions: { uid: 'u1' } },
  })
})

t.test('unknown fields of every wire type are skipped', async (t) => {
  const w = protobuf.Writer.create()
  w.uint32((99 << 3) | 0).uint64(12345)
  w.uint32((98 << 3) | 2).string('ignored')
  w.uint32((97 << 3) | 1).fixed64(7)
  w.uint32((96 << 3) | 5).fixed32(7)
  w.uint32((95 << 3) | 3).uint32((1 << 3) | 0).uint32(1).uint32((95 << 3) | 4)
  const raw = Buffer.concat([encode('k8s.io.api.core.v1.Namespace', { metadata: { name: 'a' } }), w.finish()])
  t.strictSame(decodeKubeProtobuf(envelope('v1', 'Namespace', raw)), decodeKubeProtobuf(body('v1', 'Namespace', { metadata: { name: 'a' } })))
})

t.test('a singular message field sent twice is merged', async (t) => {
  const raw = Buffer.concat([encode('k8s.io.api.core.v1.Namespace', { metadata: { name: 'a' } }), encode('k8s.io.api.core.v1.Namespace', { metadata: { labels: { x: 'y' } } })])
  t.strictSame(decodeKubeProtobuf(envelope('v1', 'Namespace', raw)).metadata, { name: 'a', creationTimestamp: null, labels: { x: 'y' } })
})

t.test('repeated numbers: packed and unpacked', async (t) => {
  const decoder = new WireDecoder(() => null)
  const plan = planByName('k8s.io.api.core.v1.PodSecurityContext')
  const packed = protobuf.Writer.create()
  packed.uint32((4 << 3) | 2).fork().int64(1).int64(2000).ldelim()
  packed.uint32((4 << 3) | 0).int64(3)
  t.strictSame(decoder.decode(plan, packed.finish(), 0), { supplementalGroups: [1, 2000, 3] })
})
