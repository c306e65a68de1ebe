// The errors etcd's server answers with (api/v3rpc/rpctypes/error.go): etcd's exact
// message and gRPC status code, so clients that match on either (etcdctl, the etcd3
// npm client, client-go) behave as they do against etcd. Everything the server can
// fail with is turned into one of these before it reaches the wire.
import { status } from '@grpc/grpc-js'
import { ApplyError } from '../apply/errors.js'
import { CompactedError, FutureRevisionError, StoreClosedError } from '../mvcc/kv-errors.js'

export class EtcdError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message)
    this.name = 'EtcdError'
  }
}

const e = (code: status, message: string) => () => new EtcdError(code, message)

export const EtcdErrors = {
  noLeader: e(status.UNAVAILABLE, 'etcdserver: no leader'),
  notLeader: e(status.FAILED_PRECONDITION, 'etcdserver: not leader'),
  leaderChanged: e(status.UNAVAILABLE, 'etcdserver: leader changed'),
  timeout: e(status.UNAVAILABLE, 'etcdserver: request timed out'),
  timeoutDueToLeaderFail: e(status.UNAVAILABLE, 'etcdserver: request timed out, possibly due to previous leader failure'),
  stopped: e(status.UNAVAILABLE, 'etcdserver: server stopped'),
  requestTooLarge: e(status.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  noSpace: e(status.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'),
  corrupt: e(status.DATA_LOSS, 'etcdserver: corrupt cluster'),
  compacted: e(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  futureRevision: e(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  leaseNotFound: e(status.NOT_FOUND, 'etcdserver: requested lease not found'),
  leaseExists: e(status.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  leaseTTLTooLarge: e(status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  memberExists: e(status.FAILED_PRECONDITION, 'etcdserver: member ID already exist'),
  peerURLExists: e(status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'),
  memberNotFound: e(status.NOT_FOUND, 'etcdserver: member not found'),
  memberBadURLs: e(status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'),
  memberNotLearner: e(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'),
  learnerNotReady: e(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member which is in sync with leader'),
  tooManyLearners: e(status.FAILED_PRECONDITION, 'etcdserver: too many learner members in cluster'),
  unhealthy: e(status.UNAVAILABLE, 'etcdserver: unhealthy cluster'),
  badLeaderTransferee: e(status.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'),
  notCapable: e(status.UNAVAILABLE, 'etcdserver: not capable'),
  invalidAuthMgmt: e(status.FAILED_PRECONDITION, 'etcdserver: invalid auth management'),
  authNotEnabled: e(status.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'),
}

/** Any failure as the EtcdError a client should see. */
export function toEtcdError(err: unknown): EtcdError {
  if (err instanceof EtcdError) return err
  if (err instanceof ApplyError) return new EtcdError(err.code as status, err.message)
  if (err instanceof CompactedError) return EtcdErrors.compacted()
  if (err instanceof FutureRevisionError) return EtcdErrors.futureRevision()
  if (err instanceof StoreClosedError) return EtcdErrors.stopped()
  const code = (err as { code?: unknown }).code
  const message = err instanceof Error ? err.message : String(err)
  if (typeof code === 'number' && message.startsWith('etcdserver: ')) return new EtcdError(code as status, message)
  if (/raft: .*timed out/.test(message)) return EtcdErrors.timeout()
  if (/raft: leader changed/.test(message)) return EtcdErrors.leaderChanged()
  if (/raft: member stopped/.test(message)) return EtcdErrors.stopped()
  if (/raft proposal dropped|no leader/.test(message)) return EtcdErrors.noLeader()
  return new EtcdError(status.UNKNOWN, message)
}
