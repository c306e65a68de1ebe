// The Kubernetes protobuf contracts (proto/k8s, written by scripts/gen-k8s-proto.ts)
// loaded with protobufjs, and for each message a decoding plan: per field its wire
// form and how Go's JSON encoding of the same struct shows it (JSON key, pointer,
// omitempty, inline; go-json.ts). The .proto files ship beside package.json and this
// module runs from src/ (tsx, tap) or dist/src/ (compiled), so the directory is found
// by walking up, as src/kv/etcd-proto.ts finds proto/etcd.
import { existsSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { GO_FIELDS, GO_SLICES, PROTO_FILES } from './generated/go-json.js'

const PROTO_DIR = join('proto', 'k8s')

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1'

/** Types whose Go JSON form is not their fields' (a custom MarshalJSON upstream). */
export type Special = 'time' | 'microtime' | 'duration' | 'fieldsv1' | 'quantity' | 'intorstring' | 'rawextension'

const SPECIALS: ReadonlyMap<string, Special> = new Map([
  [`${META}.Time`, 'time'],
  [`${META}.MicroTime`, 'microtime'],
  [`${META}.Duration`, 'duration'],
  [`${META}.FieldsV1`, 'fieldsv1'],
  ['k8s.io.apimachinery.pkg.api.resource.Quantity', 'quantity'],
  ['k8s.io.apimachinery.pkg.util.intstr.IntOrString', 'intorstring'],
  ['k8s.io.apimachinery.pkg.runtime.RawExtension', 'rawextension'],
])

export type Scalar =
  | 'double'
  | 'float'
  | 'int32'
  | 'int64'
  | 'uint32'
  | 'uint64'
  | 'sint32'
  | 'sint64'
  | 'fixed32'
  | 'fixed64'
  | 'sfixed32'
  | 'sfixed64'
  | 'bool'
  | 'string'
  | 'bytes'

/** Protobuf wire types. */
export const VARINT = 0
export const I64 = 1
export const LEN = 2
export const I32 = 5

export const WIRE_TYPE: Readonly<Record<Scalar, number>> = {
  double: I64,
  float: I32,
  int32: VARINT,
  int64: VARINT,
  uint32: VARINT,
  uint64: VARINT,
  sint32: VARINT,
  sint64: VARINT,
  fixed32: I32,
  fixed64: I64,
  sfixed32: I32,
  sfixed64: I64,
  bool: VARINT,
  string: LEN,
  bytes: LEN,
}

export interface FieldPlan {
  readonly id: number
  /** The proto field name. */
  readonly name: string
  /** The JSON key. */
  readonly key: string
  readonly kind: 'scalar' | 'message' | 'map'
  /** The scalar type, of a map's value too (undefined when the value is a message). */
  readonly scalar: Scalar | undefined
  /** A map's key type. */
  readonly keyScalar: Scalar | undefined
  readonly repeated: boolean
  readonly ptr: boolean
  readonly always: boolean
  readonly inline: boolean
  readonly skip: boolean
  /** The message (or map value message) type, planned on first use. */
  message(): MessagePlan
}

export interface MessagePlan {
  /** Fully qualified, without the leading dot: `k8s.io.api.core.v1.Pod`. */
  readonly name: string
  readonly special: Special | undefined
  /** A Go named slice: JSON is the array of its `items`. */
  readonly slice: boolean
  readonly fields: readonly FieldPlan[]
  readonly byId: ReadonlyMap<number, FieldPlan>
}

/** proto/k8s in the nearest ancestor of this module that also holds package.json. */
export function kubeProtoDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from
  for (;;) {
    const candidate = join(dir, PROTO_DIR)
    if (existsSync(join(dir, 'package.json')) && existsSync(join(candidate, PROTO_FILES[0]!))) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`kubernetes proto: ${PROTO_DIR} not found above ${from}`)
    dir = parent
  }
}

let root: protobuf.Root | undefined

/** Every message of proto/k8s, loaded once; the imports resolve against proto/k8s. */
export function kubeProtoRoot(): protobuf.Root {
  if (root !== undefined) return root
  const dir = kubeProtoDir()
  const r = new protobuf.Root()
  r.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(dir, target))
  r.loadSync(
    PROTO_FILES.map((f) => join(dir, f)),
    { keepCase: true },
  )
  r.resolveAll()
  root = r
  return r
}

function scalarOf(type: string, where: string): Scalar {
  if (type in WIRE_TYPE) return type as Scalar
  throw new Error(`kubernetes proto: ${where}: unsupported type ${type}`)
}

const plans = new Map<string, MessagePlan>()

function fieldPlan(owner: string, f: protobuf.Field): FieldPlan {
  f.resolve()
  const shape = GO_FIELDS.get(owner)?.[f.name] ?? {}
  const where = `${owner}.${f.name}`
  const valueType = f.resolvedType
  if (valueType instanceof protobuf.Enum) throw new Error(`kubernetes proto: ${where}: enums are not used by Kubernetes`)
  const isMap = f instanceof protobuf.MapField
  let message: MessagePlan | undefined
  return {
    id: f.id,
    name: f.name,
    key: shape.json ?? f.name,
    kind: isMap ? 'map' : valueType !== null ? 'message' : 'scalar',
    scalar: valueType === null ? scalarOf(f.type, where) : undefined,
    keyScalar: isMap ? scalarOf(f.keyType, where) : undefined,
    repeated: f.repeated,
    ptr: shape.ptr === true,
    always: shape.always === true,
    inline: shape.inline === true,
    skip: shape.skip === true,
    message: () => {
      if (valueType === null) throw new Error(`kubernetes proto: ${where} is not a message`)
      return (message ??= planOf(valueType))
    },
  }
}

/** The decoding plan of a message type (built once per type). */
export function planOf(type: protobuf.Type): MessagePlan {
  const name = type.fullName.replace(/^\./, '')
  let plan = plans.get(name)
  if (plan === undefined) {
    const fields = type.fieldsArray.map((f) => fieldPlan(name, f))
    plan = {
      name,
      special: SPECIALS.get(name),
      slice: GO_SLICES.has(name),
      fields,
      byId: new Map(fields.map((f) => [f.id, f])),
    }
    plans.set(name, plan)
  }
  return plan
}

/** The plan of a message by its fully qualified name. */
export function planByName(name: string): MessagePlan {
  return plans.get(name) ?? planOf(kubeProtoRoot().lookupType(name))
}
