// A raw grpc-js client for etcd's v3 API, built from our proto files only
// (src/kv/etcd-proto.ts), for end-to-end tests that compare how real etcd and
// `raftplane store` answer the same request: unary calls with proto-loader objects,
// unary calls with hand-made request bytes (unknown fields, malformed protobuf), and
// bidi streams. Errors are reduced to what a client sees: gRPC code and details.
import * as grpc from '@grpc/grpc-js'
import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader'
import protobuf from 'protobufjs'
import { etcdProtoDir, ETCD_PROTO_FILES, loadEtcdProto } from '../../../../src/kv/etcd-proto.js'

export interface Header {
  cluster_id: string
  member_id: string
  revision: string
  raft_term: string
}
export interface KeyValue {
  key: Buffer
  create_revision: string
  mod_revision: string
  version: string
  value: Buffer
  lease: string
}
export interface RangeResponse {
  header: Header
  kvs: KeyValue[]
  more: boolean
  count: string
}
export interface WatchResponse {
  header: Header
  watch_id: string
  created: boolean
  canceled: boolean
  compact_revision: string
  cancel_reason: string
  events: { type: 'PUT' | 'DELETE'; kv: KeyValue; prev_kv: KeyValue | null }[]
}
export interface StatusResponse {
  header: Header
  version: string
  leader: string
}

/** What a client sees of a failed call. */
export interface GrpcFailure {
  code: number
  details: string
}

/** Either the response or the failure of one call. */
export type Outcome<T = unknown> = { ok: true; value: T } | ({ ok: false } & GrpcFailure)

export function failureOf(err: unknown): GrpcFailure {
  const e = err as Partial<grpc.ServiceError>
  return { code: e.code ?? -1, details: e.details ?? String((err as Error)?.message ?? err) }
}

/** Settles a call into an Outcome (never rejects). */
export function outcome<T>(p: Promise<T>): Promise<Outcome<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, ...failureOf(err) }),
  )
}

/** The outcome without the response body: `{ ok: true }` or `{ ok: false, code, details }`. */
export function shapeOf(o: Outcome): { ok: boolean; code?: number; details?: string } {
  return o.ok ? { ok: true } : { ok: false, code: o.code, details: o.details }
}

const pkg = loadEtcdProto()

export function method(path: string): MethodDefinition<object, object> {
  const [, svc, name] = path.split('/')
  const def = pkg[svc!] as ServiceDefinition | undefined
  const m = def?.[name!]
  if (m === undefined) throw new Error(`no method ${path}`)
  return m as MethodDefinition<object, object>
}

let root: protobuf.Root | undefined

/** protobufjs types of the contract, to encode requests by hand. */
export function protoType(name: string): protobuf.Type {
  if (!root) {
    const dir = etcdProtoDir()
    root = new protobuf.Root()
    root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : `${dir}/${target}`)
    root.loadSync(ETCD_PROTO_FILES.map((f) => `${dir}/${f}`), { keepCase: true })
  }
  return root.lookupType(name)
}

/** Appends a protobuf field (number, wire type) with the given payload to `bytes`. */
export function withUnknownField(bytes: Uint8Array, field: number, payload: Buffer | number): Buffer {
  const w = protobuf.Writer.create()
  if (typeof payload === 'number') w.uint32((field << 3) | 0).uint64(payload)
  else w.uint32((field << 3) | 2).bytes(payload)
  return Buffer.concat([Buffer.from(bytes), Buffer.from(w.finish())])
}

export class RawClient {
  readonly client: grpc.Client

  constructor(readonly endpoint: string) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
      'grpc.enable_http_proxy': 0,
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
    })
  }

  unary<T>(path: string, req: object, timeoutMs = 5000): Promise<T> {
    const m = method(path)
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res as T),
      )
    })
  }

  /** A unary call whose request is exactly `bytes` (no serialization). */
  unaryBytes<T>(path: string, bytes: Buffer, timeoutMs = 5000): Promise<T> {
    const m = method(path)
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(m.path, (b: Buffer) => b, m.responseDeserialize, bytes, { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res as T),
      )
    })
  }

  bidi<T>(path: string): grpc.ClientDuplexStream<object, T> {
    const m = method(path)
    return this.client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize) as grpc.ClientDuplexStream<object, T>
  }

  /** The store revision, by a linearizable Range. */
  async revision(): Promise<number> {
    const r = await this.unary<RangeResponse>('/etcdserverpb.KV/Range', { key: Buffer.from('\0'), count_only: true })
    return Number(r.header.revision)
  }

  status(timeoutMs = 2000): Promise<StatusResponse> {
    return this.unary<StatusResponse>('/etcdserverpb.Maintenance/Status', {}, timeoutMs)
  }

  close(): void {
    this.client.close()
  }
}

/**
 * Reads a stream until `done` says enough, or fails after `ms`; resolves with what
 * came, or with what came and the error that ended the stream.
 */
export function collect<T>(
  stream: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<object, T>,
  done: (all: T[]) => boolean,
  ms = 5000,
): Promise<{ messages: T[]; error?: GrpcFailure; ended?: boolean; timedOut?: boolean }> {
  return new Promise((resolve) => {
    const messages: T[] = []
    const finish = (extra: { error?: GrpcFailure; ended?: boolean; timedOut?: boolean }) => {
      clearTimeout(timer)
      stream.removeListener('data', onData)
      stream.removeListener('error', onError)
      stream.removeListener('end', onEnd)
      resolve({ messages, ...extra })
    }
    const timer = setTimeout(() => finish({ timedOut: true }), ms)
    const onData = (m: T) => {
      messages.push(m)
      if (done(messages)) finish({})
    }
    const onError = (err: Error) => finish({ error: failureOf(err) })
    const onEnd = () => finish({ ended: true })
    stream.on('data', onData)
    stream.on('error', onError)
    stream.on('end', onEnd)
  })
}
