// The etcdserverpb.Watch gRPC service over a WatchHub, for grpc-js.
//
// Responses are the hub's pre-encoded WatchResponse bytes, so the service definition
// is proto-loader's with an identity response serializer; requests (rare: create,
// cancel, progress) go through proto-loader's deserializer as usual.
//
// Backpressure: grpc-js's Duplex reports "full" after 16 queued messages (objectMode),
// far too early for a fan-out of one response per watcher, so the sink counts the
// bytes written but not yet handed to HTTP/2 (write callbacks) and reports backed up
// above maxPendingBytes; it resumes the stream when they fall to half of it. A client
// that stops reading stops those callbacks (HTTP/2 flow control), its watchers are
// moved aside, and they catch up from history once it reads again.

import * as grpc from '@grpc/grpc-js'
import type { ServiceDefinition as LoaderServiceDefinition } from '@grpc/proto-loader'
import { loadEtcdProto } from '../etcd-proto.js'
import type { WatchHub } from './hub.js'
import type { WatchRequest, WatchSink, WatchStream } from './stream.js'

export interface WatchServiceOptions {
  /** Bytes a stream may have in flight before its watchers are moved aside (default 8 MiB). */
  maxPendingBytes?: number
}

export const DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024

/** etcd's ErrGRPCStopped, sent to open watch streams when the hub closes. */
const STOPPED: Partial<grpc.StatusObject> = { code: grpc.status.UNAVAILABLE, details: 'etcdserver: server stopped' }

let definition: grpc.ServiceDefinition | undefined

/** etcdserverpb.Watch for `server.addService`, its responses already-encoded Buffers. */
export function watchServiceDefinition(): grpc.ServiceDefinition {
  if (definition !== undefined) return definition
  const svc = loadEtcdProto()['etcdserverpb.Watch'] as LoaderServiceDefinition
  const watch = svc.Watch
  definition = {
    Watch: { ...watch, responseSerialize: (b: Buffer) => b },
  } as unknown as grpc.ServiceDefinition
  return definition
}

/** The Watch bidi handler: one WatchStream per call. */
export function watchServiceHandlers(hub: WatchHub, opts: WatchServiceOptions = {}): grpc.UntypedServiceImplementation {
  const maxPending = opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES
  const Watch = (call: grpc.ServerDuplexStream<WatchRequest, Buffer>): void => {
    let pending = 0
    let done = false
    const many = (call as unknown as { writeMany?: (b: Uint8Array[], cb: () => void) => boolean }).writeMany
    let batch: Buffer[] | undefined = typeof many === 'function' ? [] : undefined
    const sendBatch = (): void => {
      const bufs = batch!
      batch = []
      if (done || call.destroyed || call.writableEnded || bufs.length === 0) return
      let len = 0
      for (const b of bufs) len += b.length
      many!.call(call, bufs, () => {
        pending -= len
        if (stream !== undefined && stream.blocked && pending <= maxPending / 2) stream.resume()
      })
    }
    let stream: WatchStream | undefined
    const finish = (): void => {
      if (done) return
      done = true
      stream?.close()
    }
    const sink: WatchSink = {
      write(buf: Buffer): boolean {
        if (done || call.destroyed || call.writableEnded) return true
        const len = buf.length
        pending += len
        if (batch !== undefined) {
          // One HTTP/2 write for everything this turn produced (a flush writes one
          // response per watcher): sent in a microtask, before any I/O.
          if (batch.length === 0) queueMicrotask(sendBatch)
          batch.push(buf)
          return pending < maxPending
        }
        call.write(buf, () => {
          pending -= len
          if (stream !== undefined && stream.blocked && pending <= maxPending / 2) stream.resume()
        })
        return pending < maxPending
      },
      close(): void {
        if (done) return
        done = true
        if (!call.destroyed && !call.writableEnded) call.emit('error', STOPPED)
      },
    }
    try {
      stream = hub.openStream(sink)
    } catch {
      call.emit('error', STOPPED)
      return
    }
    call.on('data', (req: WatchRequest) => stream?.handle(req))
    // As etcd, a client's half-close does not end the stream: its watches go on until
    // it cancels or the connection goes.
    call.on('cancelled', finish)
    call.on('error', finish)
    call.on('close', finish)
    call.on('finish', finish)
  }
  return { Watch }
}
