// Protobuf wire bytes of a Kubernetes message → the JSON value Go's encoding/json gives
// the same struct after the apiserver's protobuf decoding:
//
// - Go's generated marshallers write every non-pointer field, zero or not, and a
//   pointer only when set. So a pointer on the wire is emitted even when zero
//   (`replicas: 0`), a zero non-pointer is emitted only without `omitempty`, a
//   non-pointer struct is always emitted (omitempty never drops a struct) — `{}` when
//   empty — and a nil slice, map or pointer without `omitempty` is `null`.
// - `json:",inline"` fields are merged into their parent (Volume's volume source).
// - Time and MicroTime → RFC 3339 (null when zero: encoded as an empty message),
//   Duration → Go duration text, Quantity → its string, IntOrString → number or
//   string, RawExtension and FieldsV1 → the JSON their bytes hold, bytes → base64,
//   int64 → number.
//
// A singular message field that occurs more than once is merged, as protobuf requires
// and Go does: its occurrences are concatenated and decoded once.
import protobuf from 'protobufjs'
import { formatGoDuration, formatGoTime } from './go-format.js'
import { LEN, WIRE_TYPE, type FieldPlan, type MessagePlan, type Scalar } from './schema.js'

/** Nesting beyond any Kubernetes type; bounds the recursion hostile input could cause. */
export const MAX_DEPTH = 100

/** A 64-bit value as protobufjs reads it: a Long when long.js is installed, else a number. */
type Int64 = number | { toString(): string; toNumber(): number }

/** Embedded objects in RawExtension may themselves be protobuf; index.ts decodes those. */
export type EmbeddedDecoder = (raw: Uint8Array, depth: number) => unknown

type Values = Map<number, unknown>

export class WireError extends Error {
  override name = 'WireError'
}

function int64ToBigInt(v: Int64): bigint {
  return BigInt(typeof v === 'number' ? v : v.toString())
}

function readScalar(r: protobuf.Reader, type: Scalar): unknown {
  switch (type) {
    case 'string':
      return r.string()
    case 'bytes':
      return r.bytes()
    case 'bool':
      return r.bool()
    case 'int32':
      return r.int32()
    case 'uint32':
      return r.uint32()
    case 'sint32':
      return r.sint32()
    case 'fixed32':
      return r.fixed32()
    case 'sfixed32':
      return r.sfixed32()
    case 'int64':
      return r.int64()
    case 'uint64':
      return r.uint64()
    case 'sint64':
      return r.sint64()
    case 'fixed64':
      return r.fixed64()
    case 'sfixed64':
      return r.sfixed64()
    case 'double':
      return r.double()
    case 'float':
      return r.float()
  }
}

/** The JSON form of a scalar as read. */
function scalarJson(type: Scalar, v: unknown): unknown {
  switch (type) {
    case 'bytes': {
      const b = v as Uint8Array
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')
    }
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return typeof v === 'number' ? v : (v as Exclude<Int64, number>).toNumber()
    case 'double':
    case 'float':
      // Go's encoding/json refuses these too (json: unsupported value).
      if (!Number.isFinite(v as number)) throw new WireError(`json: unsupported value: ${String(v)}`)
      return v
    default:
      return v
  }
}

function zeroJson(type: Scalar): unknown {
  return type === 'string' || type === 'bytes' ? '' : type === 'bool' ? false : 0
}

function isZeroJson(v: unknown): boolean {
  return v === '' || v === 0 || v === false
}

/** Sets a key even when it is `__proto__` (a valid ConfigMap or Secret key), as JSON.parse does. */
function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
  else obj[key] = value
}

export class WireDecoder {
  constructor(private readonly embedded: EmbeddedDecoder) {}

  /** The JSON value of a whole message held in `bytes`. */
  decode(plan: MessagePlan, bytes: Uint8Array, depth: number): unknown {
    const r = protobuf.Reader.create(bytes)
    return this.toJson(plan, this.readFields(plan, r, bytes.length, depth), depth)
  }

  /**
   * Reads the `length` bytes of one message at the reader's position: field id → value
   * as read (singular scalars last wins; repeated as arrays of JSON values; maps as
   * JSON objects; singular messages as their bytes, merged when repeated).
   */
  readFields(plan: MessagePlan, r: protobuf.Reader, length: number, depth: number): Values {
    if (depth > MAX_DEPTH) throw new WireError(`exceeded max depth of ${MAX_DEPTH} nested messages`)
    const end = r.pos + length
    if (end > r.len) throw new WireError('unexpected EOF')
    const outer = r.len
    // Bounding the reader makes a length that overruns this message an EOF here
    // rather than a read into the parent's bytes.
    r.len = end
    const values: Values = new Map()
    while (r.pos < end) {
      const tag = r.uint32()
      const id = tag >>> 3
      const wire = tag & 7
      if (id === 0) throw new WireError('illegal tag 0')
      const f = plan.byId.get(id)
      if (f === undefined) {
        // Unknown fields are skipped, as Go's generated unmarshallers skip them.
        r.skipType(wire)
        continue
      }
      this.readField(f, wire, r, values, depth)
    }
    r.len = outer
    return values
  }

  private readField(f: FieldPlan, wire: number, r: protobuf.Reader, values: Values, depth: number): void {
    if (f.kind === 'map') {
      if (wire !== LEN) throw wrongWire(f, wire)
      let map = values.get(f.id) as Record<string, unknown> | undefined
      if (map === undefined) values.set(f.id, (map = {}))
      const [k, v] = this.readMapEntry(f, r, depth)
      setKey(map, k, v)
      return
    }
    if (f.kind === 'message') {
      if (wire !== LEN) throw wrongWire(f, wire)
      if (f.repeated) {
        const len = r.uint32()
        const plan = f.message()
        const item = this.toJson(plan, this.readFields(plan, r, len, depth + 1), depth + 1)
        pushValue(values, f.id, item)
      } else {
        const bytes = r.bytes()
        const before = values.get(f.id) as Uint8Array | undefined
        values.set(f.id, before === undefined ? bytes : Buffer.concat([before, bytes]))
      }
      return
    }
    const type = f.scalar!
    const expected = WIRE_TYPE[type]
    if (wire === expected) {
      const v = readScalar(r, type)
      if (f.repeated) pushValue(values, f.id, scalarJson(type, v))
      else values.set(f.id, v)
      return
    }
    // Packed repeated numbers: proto2 writers may pack, readers must accept both.
    if (f.repeated && wire === LEN && expected !== LEN) {
      const end = r.uint32() + r.pos
      if (end > r.len) throw new WireError('unexpected EOF')
      while (r.pos < end) pushValue(values, f.id, scalarJson(type, readScalar(r, type)))
      if (r.pos !== end) throw new WireError('unexpected EOF')
      return
    }
    throw wrongWire(f, wire)
  }

  private readMapEntry(f: FieldPlan, r: protobuf.Reader, depth: number): [string, unknown] {
    const end = r.uint32() + r.pos
    if (end > r.len) throw new WireError('unexpected EOF')
    const outer = r.len
    r.len = end
    const keyType = f.keyScalar!
    let key: unknown
    let value: unknown
    while (r.pos < end) {
      const tag = r.uint32()
      const wire = tag & 7
      if (tag >>> 3 === 1 && wire === WIRE_TYPE[keyType]) {
        key = readScalar(r, keyType)
      } else if (tag >>> 3 === 2 && f.scalar !== undefined && wire === WIRE_TYPE[f.scalar]) {
        value = scalarJson(f.scalar, readScalar(r, f.scalar))
      } else if (tag >>> 3 === 2 && f.scalar === undefined && wire === LEN) {
        const plan = f.message()
        value = this.toJson(plan, this.readFields(plan, r, r.uint32(), depth + 1), depth + 1)
      } else if (tag >>> 3 === 1 || tag >>> 3 === 2) {
        throw wrongWire(f, wire)
      } else {
        r.skipType(wire)
      }
    }
    r.len = outer
    // A missing key or value is the zero value, as Go's unmarshallers leave it.
    if (value === undefined) value = f.scalar !== undefined ? zeroJson(f.scalar) : this.toJson(f.message(), new Map(), depth + 1)
    return [key === undefined ? String(zeroJson(keyType)) : String(scalarJson(keyType, key)), value]
  }

  /** The JSON value of a message from its fields as read (an empty map: the zero struct). */
  toJson(plan: MessagePlan, values: Values, depth: number): unknown {
    if (plan.special !== undefined) return this.special(plan, values, depth)
    if (plan.slice) return values.get(1) ?? []
    const out: Record<string, unknown> = {}
    this.fieldsInto(out, plan, values, depth)
    return out
  }

  private fieldsInto(out: Record<string, unknown>, plan: MessagePlan, values: Values, depth: number): void {
    for (const f of plan.fields) {
      if (f.skip) continue
      const v = values.get(f.id)
      if (f.inline) {
        const inner = f.message()
        this.fieldsInto(out, inner, v === undefined ? new Map() : this.readAll(inner, v as Uint8Array, depth + 1), depth + 1)
        continue
      }
      const json = this.fieldJson(f, v, depth)
      if (json !== undefined) out[f.key] = json
    }
  }

  /** A field's JSON value, or undefined when Go's encoding leaves it out. */
  private fieldJson(f: FieldPlan, v: unknown, depth: number): unknown {
    if (f.kind === 'map') return v !== undefined ? v : f.always ? null : undefined
    if (f.repeated) return v !== undefined ? v : f.always ? null : undefined
    if (f.kind === 'message') {
      const plan = f.message()
      if (v !== undefined) return this.toJson(plan, this.readAll(plan, v as Uint8Array, depth + 1), depth + 1)
      if (!f.ptr) return this.toJson(plan, new Map(), depth + 1)
      return f.always ? null : undefined
    }
    const type = f.scalar!
    if (v === undefined) return f.ptr ? (f.always ? null : undefined) : f.always ? (type === 'bytes' ? null : zeroJson(type)) : undefined
    const json = scalarJson(type, v)
    if (f.ptr || f.always) return json
    if (type === 'bytes') return (v as Uint8Array).length === 0 ? undefined : json
    return isZeroJson(json) ? undefined : json
  }

  private readAll(plan: MessagePlan, bytes: Uint8Array, depth: number): Values {
    return this.readFields(plan, protobuf.Reader.create(bytes), bytes.length, depth)
  }

  private special(plan: MessagePlan, values: Values, depth: number): unknown {
    const field = (id: number): unknown => values.get(id)
    switch (plan.special!) {
      case 'time':
      case 'microtime':
        // Go marshals the zero time as an empty message, and the zero time's JSON is null.
        if (values.size === 0) return null
        return formatGoTime(int64ToBigInt((field(1) as Int64 | undefined) ?? 0), (field(2) as number | undefined) ?? 0, plan.special === 'time' ? 0 : 6)
      case 'duration':
        return formatGoDuration(int64ToBigInt((field(1) as Int64 | undefined) ?? 0))
      case 'quantity':
        return (field(1) as string | undefined) ?? '0'
      case 'intorstring': {
        const type = Number(int64ToBigInt((field(1) as Int64 | undefined) ?? 0))
        if (type === 0) return (field(2) as number | undefined) ?? 0
        if (type === 1) return (field(3) as string | undefined) ?? ''
        throw new WireError(`impossible IntOrString.Type ${type}`)
      }
      case 'rawextension':
      case 'fieldsv1':
        return this.embeddedJson(plan, field(1) as Uint8Array | undefined, depth)
    }
  }

  /** RawExtension.raw and FieldsV1.Raw: the JSON they hold (or a nested protobuf object). */
  private embeddedJson(plan: MessagePlan, raw: Uint8Array | undefined, depth: number): unknown {
    if (raw === undefined || raw.length === 0) return null
    if (plan.special === 'rawextension' && raw.length >= 4 && raw[0] === 0x6b && raw[1] === 0x38 && raw[2] === 0x73 && raw[3] === 0x00) {
      return this.embedded(raw, depth + 1)
    }
    try {
      return JSON.parse(Buffer.from(raw).toString('utf8'))
    } catch (err) {
      throw new WireError(`${plan.name.split('.').pop()}: the bytes are not JSON: ${(err as Error).message}`)
    }
  }
}

function pushValue(values: Values, id: number, item: unknown): void {
  const list = values.get(id) as unknown[] | undefined
  if (list === undefined) values.set(id, [item])
  else list.push(item)
}

function wrongWire(f: FieldPlan, wire: number): WireError {
  return new WireError(`proto: wrong wireType = ${wire} for field ${f.name}`)
}
