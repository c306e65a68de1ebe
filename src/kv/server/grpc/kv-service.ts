// etcdserverpb.KV: Range, Put, DeleteRange, Txn, Compact. Put, Range and DeleteRange
// take the hand-written codecs (kv-codec.ts): their handlers get our request shapes
// straight from the bytes and return encoded responses; Txn and Compact go through
// proto-loader's objects.
import type * as grpc from '@grpc/grpc-js'
import type { RangeResponse, DeleteRangeResponse, PutResponse } from '../../apply/requests.js'
import { HeaderEncoder } from '../../watch/encode.js'
import type { EtcdServer } from '../etcd-server.js'
import { header, kvResponse, num, txnRequest, type HeaderFields } from './convert.js'
import {
  decodeDeleteRangeRequest,
  decodePutRequest,
  decodeRangeRequest,
  encodeDeleteRangeResponse,
  encodePutResponse,
  encodeRangeResponse,
} from '../kv-codec.js'
import { unary } from './unary.js'

type Wire = Record<string, unknown>

interface Decoded<T> {
  req: T
  wire: Buffer
}

const identity = (b: Buffer): Buffer => b

/** etcd's KV service definition with the fast codecs on the hot methods. */
export function kvServiceDefinition(base: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const def = { ...(base as unknown as Record<string, Record<string, unknown>>) }
  const fast = (name: string, decode: (b: Buffer) => unknown) => {
    def[name] = { ...def[name], requestDeserialize: (b: Buffer) => ({ req: decode(b), wire: b }), responseSerialize: identity }
  }
  fast('Put', decodePutRequest)
  fast('Range', decodeRangeRequest)
  fast('DeleteRange', decodeDeleteRangeRequest)
  return def as unknown as grpc.ServiceDefinition
}

export function kvService(srv: EtcdServer, h: () => HeaderFields): grpc.UntypedServiceImplementation {
  const headers = new HeaderEncoder(() => {
    const f = h()
    return { clusterId: f.cluster_id, memberId: f.member_id, raftTerm: f.raft_term }
  })
  return {
    Range: unary(async (d: Decoded<ReturnType<typeof decodeRangeRequest>>) =>
      encodeRangeResponse((await srv.range(d.req)) as RangeResponse, headers),
    ),
    Put: unary(async (d: Decoded<ReturnType<typeof decodePutRequest>>) =>
      encodePutResponse((await srv.put(d.req, d.wire)) as PutResponse, headers),
    ),
    DeleteRange: unary(async (d: Decoded<ReturnType<typeof decodeDeleteRangeRequest>>) =>
      encodeDeleteRangeResponse((await srv.deleteRange(d.req)) as DeleteRangeResponse, headers),
    ),
    Txn: unary(async (req: Wire) => kvResponse((await srv.txn(txnRequest(req))) as never, h())),
    Compact: unary(async (req: Wire) => {
      const res = await srv.compact(num(req.revision), req.physical === true)
      return { header: header(h(), res.revision) }
    }),
  }
}
