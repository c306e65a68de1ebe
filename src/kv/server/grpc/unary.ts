// Unary handlers that answer errors as etcd does: an EtcdError's code and message
// (toEtcdError maps everything else), never an exception out of a handler.
import type * as grpc from '@grpc/grpc-js'
import { toEtcdError } from '../errors.js'
import { decodeError } from './checked-service.js'

export function unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const bad = decodeError(call.request)
    if (bad) {
      callback({ code: bad.code, details: bad.message, message: bad.message } as grpc.ServiceError)
      return
    }
    let p: Promise<Res>
    try {
      p = Promise.resolve(fn(call.request, call))
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then(
      (res) => callback(null, res),
      (err: unknown) => {
        const e = toEtcdError(err)
        callback({ code: e.code, details: e.message, message: e.message } as grpc.ServiceError)
      },
    )
  }
}
