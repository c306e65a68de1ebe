// Malformed bodies: every one is a KubeProtobufError with a clear message (the
// apiserver answers it with 400), never another exception, a hang or a crash.
import protobuf from 'protobufjs'
import t, { type Test } from 'tap'
import { decodeKubeProtobuf, KubeProtobufError } from '../../../src/apiserver/protobuf/index.js'
import { body, envelope, MAGIC } from './helpers.js'

/** The error decoding `input` throws (failing the test when it throws none or another kind). */
function failure(t: Test, input: Uint8Array): string {
  try {
    decodeKubeProtobuf(input)
  } catch (err) {
    t.type(err, KubeProtobufError)
    return (err as Error).message
  }
  t.fail('decoded without an error')
  return ''
}

/** A body with many kinds of field: maps, repeated messages, inline, IntOrString, Quantity, times. */
const deployment = body('apps/v1', 'Deployment', {
  metadata: { name: 'web', labels: { app: 'web' }, creationTimestamp: { seconds: 1767323045 } },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: { type: 1, strVal: '25%' } } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        volumes: [{ name: 'v', volumeSource: { emptyDir: { sizeLimit: { string: '1Gi' } } } }],
        containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }], resources: { limits: { cpu: { string: '500m' } } } }],
      },
    },
  },
})

t.test('the envelope', async (t) => {
  t.equal(failure(t, Buffer.alloc(0)), 'empty data')
  t.equal(failure(t, Buffer.from('{"kind":"Namespace"}')), 'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]')
  t.equal(failure(t, Buffer.from('k8s')), 'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]')
  t.equal(failure(t, Buffer.from([0x6b, 0x38, 0x73, 0x01, 0x0a, 0x00])), 'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]')
  t.equal(failure(t, MAGIC), 'empty body')
  t.match(failure(t, Buffer.concat([MAGIC, Buffer.alloc(12, 0xff)])), /^runtime\.Unknown: /)
  t.equal(failure(t, Buffer.concat([MAGIC, Buffer.from([0x0a, 0x05, 0x0a])])), 'runtime.Unknown: unexpected EOF')
})

t.test('kinds', async (t) => {
  t.equal(
    failure(t, envelope('v1', 'Widget', Buffer.alloc(0))),
    'no kind "Widget" is registered for version "v1" in scheme "k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30"',
  )
  t.match(failure(t, envelope('apps/v2', 'Deployment', Buffer.alloc(0))), /no kind "Deployment" is registered for version "apps\/v2"/)
  t.equal(failure(t, envelope('v1', '', Buffer.alloc(0))), `Object 'Kind' is missing in 'runtime.TypeMeta{APIVersion:"v1", Kind:""}'`)
  t.equal(failure(t, envelope('', 'Pod', Buffer.alloc(0))), `Object 'apiVersion' is missing in 'runtime.TypeMeta{APIVersion:"", Kind:"Pod"}'`)
  t.match(failure(t, envelope('v1', 'Namespace', Buffer.alloc(0), { contentEncoding: 'gzip' })), /unsupported content encoding "gzip"/)
  t.match(failure(t, envelope('v1', 'Namespace', Buffer.alloc(0), { contentType: 'application/json' })), /unsupported content type "application\/json"/)
})

t.test('the typed message', async (t) => {
  // metadata (field 1) sent as a varint.
  t.equal(failure(t, envelope('v1', 'Namespace', Buffer.from([0x08, 0x01]))), 'Namespace (v1): proto: wrong wireType = 0 for field metadata')
  t.equal(failure(t, envelope('v1', 'Namespace', Buffer.from([0x0a, 0x10, 0x0a, 0x01]))), 'Namespace (v1): unexpected EOF', 'a length past the end')
  t.match(failure(t, envelope('v1', 'Namespace', Buffer.from([0x0a, 0x03, 0x0a, 0x05, 0x61]))), /unexpected EOF/, 'a nested length past its parent')
  t.match(failure(t, envelope('v1', 'Namespace', Buffer.alloc(11, 0xff))), /Namespace \(v1\): /, 'a varint that never ends')
  t.match(failure(t, envelope('v1', 'Namespace', Buffer.from([0x00]))), /illegal tag 0/)
  t.match(failure(t, envelope('v1', 'Namespace', Buffer.from([0x0f]))), /Namespace \(v1\): /, 'wire type 7')
  t.match(failure(t, envelope('v1', 'Namespace', Buffer.from([0x0c]))), /Namespace \(v1\): /, 'an end-group tag alone')
})

t.test('every truncation of a real body either decodes or is a KubeProtobufError', async (t) => {
  let errors = 0
  for (let n = 0; n < deployment.length; n++) {
    try {
      decodeKubeProtobuf(deployment.subarray(0, n))
    } catch (err) {
      if (!(err instanceof KubeProtobufError)) t.fail(`cut at ${n}: ${String(err)}`)
      errors++
    }
  }
  // Cuts inside the typed message (the bulk of the body) are all errors; a cut right
  // after a whole field may decode, as in Go.
  t.ok(errors > deployment.length - 20, `${errors} of ${deployment.length} cuts failed`)
  t.ok(decodeKubeProtobuf(deployment))
})

t.test('seeded random corruption never throws anything else', async (t) => {
  let seed = 0x2545f491
  const random = (): number => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) / 2 ** 32
  }
  let decoded = 0
  for (let i = 0; i < 3000; i++) {
    const input = Buffer.from(deployment)
    const flips = 1 + Math.floor(random() * 4)
    for (let j = 0; j < flips; j++) input[4 + Math.floor(random() * (input.length - 4))] = Math.floor(random() * 256)
    try {
      JSON.stringify(decodeKubeProtobuf(input))
      decoded++
    } catch (err) {
      if (!(err instanceof KubeProtobufError)) {
        t.fail(`input ${input.toString('hex')}: ${String(err)}`)
        return
      }
    }
  }
  t.pass(`${decoded} of 3000 corrupted bodies still decoded; the rest were KubeProtobufErrors`)
})

t.test('nesting is bounded', async (t) => {
  // Embedded protobuf objects in RawExtension, each inside the last.
  let inner: Uint8Array = body('v1', 'Namespace', {})
  for (let i = 0; i < 200; i++) inner = body('apps/v1', 'ControllerRevision', { data: { raw: inner } })
  t.match(failure(t, inner), /exceeded max depth/)
  // Unknown groups nested deeply: skipped under protobufjs' own depth limit.
  const w = protobuf.Writer.create()
  for (let i = 0; i < 20_000; i++) w.uint32((90 << 3) | 3)
  t.match(failure(t, envelope('v1', 'Namespace', w.finish())), /Namespace \(v1\): /)
})
