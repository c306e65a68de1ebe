// etcd's client-visible errors for KV requests (api/v3rpc/rpctypes), with the gRPC
// status code each is sent with, so the gRPC layer answers exactly as etcd does.
import { CompactedError, FutureRevisionError } from '../mvcc/kv-errors.js'

/** gRPC status codes used here (@grpc/grpc-js `status`). */
export const GrpcCode = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  OUT_OF_RANGE: 11,
} as const

export type GrpcCodeValue = (typeof GrpcCode)[keyof typeof GrpcCode]

/** A request etcd would refuse: `message` is etcd's text, `code` its gRPC status. */
export class ApplyError extends Error {
  constructor(
    readonly code: GrpcCodeValue,
    message: string,
  ) {
    super(message)
    this.name = 'ApplyError'
  }
}

const invalid = (message: string) => () => new ApplyError(GrpcCode.INVALID_ARGUMENT, message)

export const Errors = {
  emptyKey: invalid('etcdserver: key is not provided'),
  /** Also etcd's answer to a txn op with no request set. */
  keyNotFound: invalid('etcdserver: key not found'),
  valueProvided: invalid('etcdserver: value is provided'),
  leaseProvided: invalid('etcdserver: lease is provided'),
  tooManyOps: invalid('etcdserver: too many operations in txn request'),
  duplicateKey: invalid('etcdserver: duplicate key given in txn request'),
  leaseNotFound: () => new ApplyError(GrpcCode.NOT_FOUND, 'etcdserver: requested lease not found'),
  futureRevision: () => new ApplyError(GrpcCode.OUT_OF_RANGE, `etcdserver: ${new FutureRevisionError().message}`),
  compacted: () => new ApplyError(GrpcCode.OUT_OF_RANGE, `etcdserver: ${new CompactedError().message}`),
}

/** The store's revision errors as the ApplyError etcd's gRPC layer turns them into; others unchanged. */
export function fromStoreError(err: unknown): unknown {
  if (err instanceof FutureRevisionError) return Errors.futureRevision()
  if (err instanceof CompactedError) return Errors.compacted()
  return err
}
