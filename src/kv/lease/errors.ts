// The errors a lessor raises, carrying etcd's exact client-visible text
// (api/v3rpc/rpctypes/error.go) and the gRPC status code etcd sends it with, so the
// gRPC layer can answer `status(code, message)` without a lookup table of its own.
// A separate class from apply/errors.ts's ApplyError because lease errors need
// FAILED_PRECONDITION and UNKNOWN, which ApplyError's code type does not allow.

/** gRPC status codes the lessor's errors use (@grpc/grpc-js `status`). */
export const LeaseGrpcCode = {
  UNKNOWN: 2,
  NOT_FOUND: 5,
  FAILED_PRECONDITION: 9,
  OUT_OF_RANGE: 11,
} as const

export type LeaseGrpcCodeValue = (typeof LeaseGrpcCode)[keyof typeof LeaseGrpcCode]

/** A lease request etcd would refuse: `message` is etcd's text, `code` its gRPC status. */
export class LeaseError extends Error {
  constructor(
    readonly code: LeaseGrpcCodeValue,
    message: string,
  ) {
    super(message)
    this.name = 'LeaseError'
  }
}

/**
 * KeepAlive or TimeToLive reached a member that is not the primary (leader) lessor.
 * Like etcd's lease.ErrNotPrimary it is a signal to forward the request to the leader;
 * if it ever reaches a client, etcd's togRPCError would send it as UNKNOWN with this text.
 */
export class NotPrimaryError extends LeaseError {
  constructor() {
    super(LeaseGrpcCode.UNKNOWN, 'not a primary lessor')
    this.name = 'NotPrimaryError'
  }
}

export const LeaseErrors = {
  notFound: () => new LeaseError(LeaseGrpcCode.NOT_FOUND, 'etcdserver: requested lease not found'),
  exists: () => new LeaseError(LeaseGrpcCode.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  ttlTooLarge: () => new LeaseError(LeaseGrpcCode.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  notPrimary: () => new NotPrimaryError(),
}
