// proto/node.proto as a grpc-js service definition, and the message shapes the
// handlers see (proto-loader with keepCase, longs as strings, enums as names,
// defaults filled in). The file ships beside package.json and this module runs from
// src/ (tsx) or dist/src/ (compiled), so the path is found by walking up.
//
// Watch streams write pre-encoded WatchEvent messages: an event is encoded once and
// the same bytes go to every stream that receives it, so the streaming methods'
// serializer passes Buffers through untouched.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

export const NODE_SERVICE = 'raftplane.node.v1.NodeService'

const PROTO = join('proto', 'node.proto')

function findProto(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, PROTO)
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`node gRPC API: ${PROTO} not found above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'

export interface WatchEventMessage {
  type: WatchEventType
  object_json: Buffer
  resource_version: string
  initial_events_end: boolean
}

// Request messages as decoded (every field present: defaults: true).
export interface RegisterNodeRequest {
  node_json: Buffer
}
export interface UpdateNodeStatusRequest {
  node_name: string
  status_json: Buffer
  resource_version: string
}
export interface RenewNodeLeaseRequest {
  node_name: string
}
export interface ListPodsRequest {
  node_name: string
  resource_version: string
}
export interface ListRequest {
  resource_version: string
}
export interface WatchPodsRequest {
  node_name: string
  resource_version: string
}
export interface WatchRequest {
  resource_version: string
}
export interface UpdatePodStatusRequest {
  namespace: string
  name: string
  status_json: Buffer
  resource_version: string
  uid: string
}
export interface DeletePodRequest {
  namespace: string
  name: string
  uid: string
}
export interface GetRequest {
  namespace: string
  name: string
}
export interface CreateEventRequest {
  event_json: Buffer
}

// uint64/int64 fields arrive as decimal strings (longs: String); a message field not sent is null.
export interface ResourceUsageMessage {
  cpu_nano_cores: string
  memory_working_set_bytes: string
}
export interface ContainerUsageMessage {
  name: string
  usage: ResourceUsageMessage | null
}
export interface PodUsageMessage {
  namespace: string
  name: string
  uid: string
  window_ms: number
  containers: ContainerUsageMessage[]
}
export interface ReportResourceUsageRequest {
  node_name: string
  timestamp_ms: string
  window_ms: number
  node: ResourceUsageMessage | null
  pods: PodUsageMessage[]
  interval_ms: number
}

// Responses as handlers build them.
export interface ObjectResponse {
  object_json: Buffer
}
export interface RegisterNodeResponse {
  node_json: Buffer
  created: boolean
}
export interface ListResponse {
  items_json: Buffer[]
  resource_version: string
}
export interface DeletePodResponse {
  object_json: Buffer
  deleted: boolean
}

interface LoadedProto {
  service: grpc.ServiceDefinition
  encodeWatchEvent: (ev: WatchEventMessage) => Buffer
}

let loaded: LoadedProto | undefined

export function nodeProto(): LoadedProto {
  if (loaded !== undefined) return loaded
  const def = protoLoader.loadSync(findProto(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
  const original = def[NODE_SERVICE] as protoLoader.ServiceDefinition
  const service: Record<string, protoLoader.MethodDefinition<object, object>> = {}
  let encodeWatchEvent: ((ev: WatchEventMessage) => Buffer) | undefined
  for (const [name, method] of Object.entries(original)) {
    if (!method.responseStream) {
      service[name] = method
      continue
    }
    const serialize = method.responseSerialize
    encodeWatchEvent ??= (ev) => serialize(ev)
    service[name] = { ...method, responseSerialize: (v: object) => (Buffer.isBuffer(v) ? v : serialize(v)) }
  }
  if (encodeWatchEvent === undefined) throw new Error('node gRPC API: no streaming method in node.proto')
  loaded = { service: service as unknown as grpc.ServiceDefinition, encodeWatchEvent }
  return loaded
}
