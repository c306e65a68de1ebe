// The node gRPC API (proto/node.proto) served by every master.
export { NodeGrpcServer, DEFAULT_BOOKMARK_INTERVAL_MS, type NodeGrpcServerOptions } from './server.js'
export { allowAll, type CallIdentity, type NodeAuthorizer, type NodeRequestAttributes } from './authorize.js'
export { grpcCodeOf, STATUS_TRAILER } from './errors.js'
export type { StoreLookup } from './service.js'
