// Request decoding with etcd's refusals: each request's bytes are checked before
// proto-loader decodes them (wire-check.ts), and their size against the limit etcd's
// gRPC server enforces, so a request etcd refuses is refused here with etcd's code and
// words instead of being decoded leniently. A refused request decodes to a marker the
// handlers answer with (unary() does; streams drop or end on it).
import { status } from '@grpc/grpc-js'
import type * as grpc from '@grpc/grpc-js'
import { checkWire, messageType } from './wire-check.js'

export const DECODE_ERROR = Symbol('decode error')

export interface DecodeError {
  [DECODE_ERROR]: { code: status; message: string }
}

export function decodeError(req: unknown): { code: status; message: string } | undefined {
  return typeof req === 'object' && req !== null ? (req as Partial<DecodeError>)[DECODE_ERROR] : undefined
}

interface LoaderMethod {
  requestDeserialize(buf: Buffer): unknown
  requestType?: { type?: { name?: string } }
}

/** The service definition with checking deserializers; `maxBytes` is etcd's max receive size. */
export function checkedService(def: grpc.ServiceDefinition, maxBytes: number): grpc.ServiceDefinition {
  const out: Record<string, unknown> = {}
  for (const [name, m] of Object.entries(def as unknown as Record<string, LoaderMethod>)) {
    const typeName = m.requestType?.type?.name
    const type = typeName ? messageType(`etcdserverpb.${typeName}`) : undefined
    const original = m.requestDeserialize
    out[name] = {
      ...m,
      requestDeserialize: (buf: Buffer): unknown => {
        if (buf.length > maxBytes) {
          return { [DECODE_ERROR]: { code: status.RESOURCE_EXHAUSTED, message: `grpc: received message larger than max (${buf.length} vs. ${maxBytes})` } }
        }
        const why = type ? checkWire(type, buf) : undefined
        if (why !== undefined) return { [DECODE_ERROR]: { code: status.INTERNAL, message: `grpc: error unmarshalling request: ${why}` } }
        return original(buf)
      },
    }
  }
  return out as unknown as grpc.ServiceDefinition
}
