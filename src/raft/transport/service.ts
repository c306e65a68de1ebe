// The RaftTransport gRPC service wired to our own codec: grpc-js moves bytes and we
// decide how they become Messages, so no proto-loader object conversion runs per call.

import * as grpc from '@grpc/grpc-js'
import type { NodeId } from '../types.js'
import { decodeBatch, decodeChunk, encodeBatch, encodeChunk } from './codec.js'

export const STREAM_PATH = '/raftplane.raft.v1.RaftTransport/Stream'
export const SNAPSHOT_PATH = '/raftplane.raft.v1.RaftTransport/SendSnapshot'

export const CLUSTER_ID_KEY = 'x-raftplane-cluster-id'
export const MEMBER_ID_KEY = 'x-raftplane-member-id'

/** StreamAck and SnapshotAck have no fields; the empty buffer is their only encoding. */
export type Ack = Record<string, never>
const ACK: Ack = {}
const ACK_BYTES = Buffer.alloc(0)
export const serializeAck = (): Buffer => ACK_BYTES
export const deserializeAck = (): Ack => ACK

export const raftTransportService = {
  stream: {
    path: STREAM_PATH,
    originalName: 'Stream',
    requestStream: true,
    responseStream: false,
    requestSerialize: encodeBatch,
    requestDeserialize: decodeBatch,
    responseSerialize: serializeAck,
    responseDeserialize: deserializeAck,
  },
  sendSnapshot: {
    path: SNAPSHOT_PATH,
    originalName: 'SendSnapshot',
    requestStream: true,
    responseStream: false,
    requestSerialize: encodeChunk,
    requestDeserialize: decodeChunk,
    responseSerialize: serializeAck,
    responseDeserialize: deserializeAck,
  },
} satisfies grpc.ServiceDefinition

export function callMetadata(clusterId: string, from: NodeId): grpc.Metadata {
  const md = new grpc.Metadata()
  md.set(CLUSTER_ID_KEY, clusterId)
  md.set(MEMBER_ID_KEY, String(from))
  return md
}

/**
 * Room for a full batch (maxBatchBytes, 4 MiB by default, is an estimate and one
 * message larger than it is still sent alone) and a snapshot chunk. A server shared
 * with other services must be created with at least this receive limit.
 */
export const MAX_RECEIVE_BYTES = 64 * 1024 * 1024

// A peer whose host died (no RST) is noticed within keepalive time + timeout; without
// pings a stream to it would look healthy until TCP gives up, minutes later.
const KEEPALIVE = {
  'grpc.keepalive_time_ms': 1000,
  'grpc.keepalive_timeout_ms': 2000,
  'grpc.keepalive_permit_without_calls': 1,
}

export const channelOptions: grpc.ChannelOptions = {
  ...KEEPALIVE,
  // grpc-js' own reconnect back-off goes up to 2 minutes by default and a call made
  // while it waits fails at once, which would hide a peer that is back up; keep it in
  // step with the transport's own back-off.
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 2000,
  // A channel per peer, closed with that peer, rather than connections shared through
  // the process-wide subchannel pool.
  'grpc.use_local_subchannel_pool': 1,
  // Raft retries by itself; grpc-js' retry layer would only buffer.
  'grpc.enable_retries': 0,
}

export const serverOptions: grpc.ServerOptions = {
  ...KEEPALIVE,
  'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
}
