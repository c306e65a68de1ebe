// Request bodies in the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`,
// what kubectl's and client-go's typed clients send for built-in kinds), decoded to the
// plain JSON object the JSON encoding of the same object would be, so the rest of the
// server never sees the difference.
//
// The envelope (k8s.io/apimachinery runtime/serializer/protobuf): the 4-byte magic
// `k8s\0`, then a runtime.Unknown whose typeMeta names apiVersion and kind and whose
// raw holds the typed message. Error messages are kube-apiserver's where it has one.
import protobuf from 'protobufjs'
import { KIND_MESSAGES } from './generated/go-json.js'
import { kubeProtoRoot, planByName, type MessagePlan } from './schema.js'
import { WireDecoder } from './to-json.js'

export const KUBE_PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf'

const MAGIC = [0x6b, 0x38, 0x73, 0x00]

/** A body that is not a decodable Kubernetes protobuf object: a 400 for the client. */
export class KubeProtobufError extends Error {
  override name = 'KubeProtobufError'
}

/** Whether a Content-Type header names the Kubernetes protobuf encoding (parameters ignored). */
export function isKubeProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === KUBE_PROTOBUF_CONTENT_TYPE
}

/** What the request's URL implies when the envelope leaves apiVersion or kind empty. */
export interface KindDefaults {
  apiVersion?: string
  kind?: string
}

let unknownPlan: MessagePlan | undefined
let typeMetaPlan: MessagePlan | undefined

const wire = new WireDecoder((raw, depth) => decode(raw, undefined, depth))

/** runtime.Unknown's fields: typeMeta (1), raw (2), contentEncoding (3), contentType (4). */
function readEnvelope(data: Uint8Array): { apiVersion: string; kind: string; raw: Uint8Array; contentEncoding: string; contentType: string } {
  unknownPlan ??= planByName('k8s.io.apimachinery.pkg.runtime.Unknown')
  typeMetaPlan ??= planByName('k8s.io.apimachinery.pkg.runtime.TypeMeta')
  const unknown = wire.readFields(unknownPlan, protobuf.Reader.create(data), data.length, 0)
  const typeMetaBytes = unknown.get(1) as Uint8Array | undefined
  const typeMeta = typeMetaBytes === undefined ? new Map<number, unknown>() : wire.readFields(typeMetaPlan, protobuf.Reader.create(typeMetaBytes), typeMetaBytes.length, 1)
  return {
    apiVersion: (typeMeta.get(1) as string | undefined) ?? '',
    kind: (typeMeta.get(2) as string | undefined) ?? '',
    raw: (unknown.get(2) as Uint8Array | undefined) ?? new Uint8Array(0),
    contentEncoding: (unknown.get(3) as string | undefined) ?? '',
    contentType: (unknown.get(4) as string | undefined) ?? '',
  }
}

function typeMetaText(apiVersion: string, kind: string): string {
  return `runtime.TypeMeta{APIVersion:${JSON.stringify(apiVersion)}, Kind:${JSON.stringify(kind)}}`
}

function messageFor(apiVersion: string, kind: string): string {
  const message = KIND_MESSAGES.get(`${apiVersion}/${kind}`) ?? KIND_MESSAGES.get(`*/${kind}`)
  if (message === undefined) {
    throw new KubeProtobufError(`no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme "k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30"`)
  }
  return message
}

/** Malformed-input errors of the wire layer, in Go's words where they differ. */
function wireMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  if (err instanceof RangeError && message.startsWith('index out of range')) return 'unexpected EOF'
  return message
}

function decode(body: Uint8Array, defaults: KindDefaults | undefined, depth: number): Record<string, unknown> {
  if (body.length === 0) throw new KubeProtobufError('empty data')
  if (body.length < MAGIC.length || MAGIC.some((b, i) => body[i] !== b)) {
    throw new KubeProtobufError(`provided data does not appear to be a protobuf message, expected prefix [${MAGIC.join(' ')}]`)
  }
  if (body.length === MAGIC.length) throw new KubeProtobufError('empty body')
  const data = body.subarray(MAGIC.length)

  let envelope: ReturnType<typeof readEnvelope>
  try {
    envelope = readEnvelope(data)
  } catch (err) {
    throw new KubeProtobufError(`runtime.Unknown: ${wireMessage(err)}`)
  }
  const apiVersion = envelope.apiVersion || (defaults?.apiVersion ?? '')
  const kind = envelope.kind || (defaults?.kind ?? '')
  if (kind === '') throw new KubeProtobufError(`Object 'Kind' is missing in '${typeMetaText(envelope.apiVersion, envelope.kind)}'`)
  if (apiVersion === '') throw new KubeProtobufError(`Object 'apiVersion' is missing in '${typeMetaText(envelope.apiVersion, envelope.kind)}'`)
  // Go ignores both; honouring neither would turn gzip or JSON into a garbled object.
  if (envelope.contentEncoding !== '') throw new KubeProtobufError(`unsupported content encoding ${JSON.stringify(envelope.contentEncoding)} in runtime.Unknown`)
  if (envelope.contentType !== '' && !isKubeProtobuf(envelope.contentType)) {
    throw new KubeProtobufError(`unsupported content type ${JSON.stringify(envelope.contentType)} in runtime.Unknown`)
  }

  const plan = planByName(messageFor(apiVersion, kind))
  let object: unknown
  try {
    object = wire.decode(plan, envelope.raw, depth + 1)
  } catch (err) {
    if (err instanceof KubeProtobufError) throw err
    throw new KubeProtobufError(`${kind} (${apiVersion}): ${wireMessage(err)}`)
  }
  return { kind, apiVersion, ...(object as Record<string, unknown>) }
}

/**
 * Decodes a Kubernetes protobuf body (`k8s\0` + runtime.Unknown) to the object's JSON
 * form, apiVersion and kind included. `defaults` fill an empty apiVersion or kind in
 * the envelope, as kube-apiserver fills them from the request's URL. Throws a
 * KubeProtobufError on anything else: bad magic, truncated or malformed wire data, an
 * unknown kind.
 */
export function decodeKubeProtobuf(body: Uint8Array, defaults?: KindDefaults): Record<string, unknown> {
  return decode(body, defaults, 0)
}

/**
 * Loads the contracts now (about 100 ms of CPU) rather than on the first protobuf
 * request: call it while the server starts, before the event loop carries heartbeats.
 */
export function preloadKubeProtobuf(): void {
  kubeProtoRoot()
  planByName('k8s.io.apimachinery.pkg.runtime.Unknown')
}
