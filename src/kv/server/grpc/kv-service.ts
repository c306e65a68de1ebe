// etcdserverpb.KV: Range, Put, DeleteRange, Txn, Compact.
import type * as grpc from '@grpc/grpc-js'
import type { EtcdServer } from '../etcd-server.js'
import { deleteRangeRequest, header, kvResponse, num, putRequest, rangeRequest, txnRequest, type HeaderFields } from './convert.js'
import { unary } from './unary.js'

type Wire = Record<string, unknown>

export function kvService(srv: EtcdServer, h: () => HeaderFields): grpc.UntypedServiceImplementation {
  return {
    Range: unary(async (req: Wire) => kvResponse((await srv.range(rangeRequest(req))) as never, h())),
    Put: unary(async (req: Wire) => kvResponse((await srv.put(putRequest(req))) as never, h())),
    DeleteRange: unary(async (req: Wire) => kvResponse((await srv.deleteRange(deleteRangeRequest(req))) as never, h())),
    Txn: unary(async (req: Wire) => kvResponse((await srv.txn(txnRequest(req))) as never, h())),
    Compact: unary(async (req: Wire) => {
      const res = await srv.compact(num(req.revision), req.physical === true)
      return { header: header(h(), res.revision) }
    }),
  }
}
