// The watch hub and the etcdserverpb.Watch service: see hub.ts and grpc.ts.
export { WatchHub, type WatchHubOptions, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_PROGRESS_INTERVAL_MS } from './hub.js'
export { WatchStream, type WatchSink, type WatchRequest, type CreateRequest, ERR_COMPACTED, ERR_DUPLICATE_ID, ERR_EMPTY_RANGE } from './stream.js'
export { watchServiceDefinition, watchServiceHandlers, type WatchServiceOptions, DEFAULT_MAX_PENDING_BYTES } from './grpc.js'
export type { HeaderInfo } from './encode.js'
