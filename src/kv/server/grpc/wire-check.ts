// Checks a request's protobuf bytes the way etcd's (gogoproto) decoder does before
// anything reads them, and words the refusal as etcd does: protobufjs silently skips
// what Go refuses (a field number 0, a known field sent with the wrong wire type), and
// a request etcd would refuse must not be executed here. Walks nested messages of
// known message-typed fields; unknown fields are skipped, as both decoders do.
import * as protobuf from 'protobufjs'
import { join } from 'node:path'
import { ETCD_PROTO_FILES, etcdProtoDir } from '../../etcd-proto.js'

let root: protobuf.Root | undefined

function etcdRoot(): protobuf.Root {
  if (root) return root
  const dir = etcdProtoDir()
  const r = new protobuf.Root()
  r.resolvePath = (_origin, target) => (target.startsWith('/') ? target : join(dir, target))
  r.loadSync([...ETCD_PROTO_FILES], { keepCase: true })
  r.resolveAll()
  root = r
  return r
}

/** The message type (fully qualified, e.g. "etcdserverpb.PutRequest"). */
export function messageType(name: string): protobuf.Type {
  return etcdRoot().lookupType(name)
}

const WIRE_TYPE: Record<string, number> = {
  double: 1, fixed64: 1, sfixed64: 1,
  float: 5, fixed32: 5, sfixed32: 5,
  int32: 0, int64: 0, uint32: 0, uint64: 0, sint32: 0, sint64: 0, bool: 0,
  string: 2, bytes: 2,
}

function goName(field: string): string {
  return field
    .split('_')
    .map((p) => (p.length > 0 ? p[0]!.toUpperCase() + p.slice(1) : p))
    .join('')
}

/** undefined when the bytes decode as etcd would decode them; else etcd's reason. */
export function checkWire(type: protobuf.Type, buf: Uint8Array, start = 0, end = buf.length): string | undefined {
  let pos = start
  const varint = (): number | string => {
    let result = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (pos >= end) return 'unexpected EOF'
      const b = buf[pos++]!
      result += (b & 0x7f) * scale
      scale *= 128
      if (b < 0x80) return result
    }
    return 'proto: integer overflow'
  }
  while (pos < end) {
    const tag = varint()
    if (typeof tag === 'string') return tag
    const fieldNo = Math.floor(tag / 8)
    const wire = tag % 8
    if (fieldNo === 0) return `proto: ${type.name}: illegal tag 0 (wire type ${wire})`
    if (wire === 4) return `proto: ${type.name}: wiretype end group for non-group`
    const field = type.fieldsById[fieldNo]
    if (field) {
      const resolved = field.resolve()
      const isMessage = resolved.resolvedType instanceof protobuf.Type
      const isEnum = resolved.resolvedType instanceof protobuf.Enum
      const scalar = WIRE_TYPE[field.type]
      const packed = field.repeated && wire === 2 && (scalar === 0 || scalar === 1 || scalar === 5 || isEnum)
      const want = isMessage ? 2 : isEnum ? 0 : scalar
      if (want !== undefined && wire !== want && !packed) return `proto: wrong wireType = ${wire} for field ${goName(field.name)}`
    }
    switch (wire) {
      case 0: {
        const v = varint()
        if (typeof v === 'string') return v
        break
      }
      case 1:
        if (pos + 8 > end) return 'unexpected EOF'
        pos += 8
        break
      case 5:
        if (pos + 4 > end) return 'unexpected EOF'
        pos += 4
        break
      case 2: {
        const len = varint()
        if (typeof len === 'string') return len
        if (pos + len > end) return 'unexpected EOF'
        const rt = field?.resolvedType
        if (rt instanceof protobuf.Type) {
          const inner = checkWire(rt, buf, pos, pos + len)
          if (inner) return inner
        }
        pos += len
        break
      }
      case 3: {
        // Groups: etcd's messages have none; skip to the matching end-group as Go does.
        let depth = 1
        while (depth > 0) {
          const t = varint()
          if (typeof t === 'string') return t
          const w = t % 8
          if (w === 3) depth++
          else if (w === 4) depth--
          else if (w === 0) {
            const v = varint()
            if (typeof v === 'string') return v
          } else if (w === 1) pos += 8
          else if (w === 5) pos += 4
          else if (w === 2) {
            const l = varint()
            if (typeof l === 'string') return l
            pos += l
          } else return `proto: illegal wireType ${w}`
          if (pos > end) return 'unexpected EOF'
        }
        break
      }
      default:
        return `proto: ${type.name}: illegal wireType ${wire}`
    }
  }
  return undefined
}
