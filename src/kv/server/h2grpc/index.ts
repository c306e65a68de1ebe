// A lean gRPC server over node:http2: see server.ts.
export { H2GrpcServer, DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH, type H2GrpcServerOptions } from './server.js'
export { H2Call, toStatus } from './call.js'
export { Status, encodeMessage, parseTimeout } from './wire.js'
