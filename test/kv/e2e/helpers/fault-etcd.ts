// grpc-js clients (etcd's v3 API, src/kv/etcd-proto.ts) to one member at a time, for
// the fault tests' checks: serializable reads per member, Status, HashKV, leases.
// Created fresh after members restart (a grpc-js channel to a dead port backs off).
import * as grpc from '@grpc/grpc-js'
import { loadEtcdProto } from '../../../../src/kv/etcd-proto.js'

type Cb<T> = (err: grpc.ServiceError | null, res?: T) => void
type Rpc = (req: object, opts: grpc.CallOptions, cb: Cb<Wire>) => void
type Wire = Record<string, unknown>
type Ctor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client & Record<string, Rpc>

let ctors: { KV: Ctor; Maintenance: Ctor; Lease: Ctor } | undefined
function services(): { KV: Ctor; Maintenance: Ctor; Lease: Ctor } {
  if (!ctors) {
    const pkg = grpc.loadPackageDefinition(loadEtcdProto()) as unknown as { etcdserverpb: { KV: Ctor; Maintenance: Ctor; Lease: Ctor } }
    ctors = pkg.etcdserverpb
  }
  return ctors
}

const OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 512 * 2 ** 20,
  'grpc.use_local_subchannel_pool': 1,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 500,
}

export interface KvEntry {
  value: string
  modRevision: number
  createRevision: number
  version: number
  lease: string
}

export interface Status {
  memberId: string
  leader: string
  revision: number
  raftIndex: number
  raftAppliedIndex: number
  raftTerm: number
}

/** Clients of one member. */
export class MemberClient {
  private readonly kv: grpc.Client & Record<string, Rpc>
  private readonly maint: grpc.Client & Record<string, Rpc>
  private readonly lease: grpc.Client & Record<string, Rpc>

  constructor(readonly endpoint: string) {
    const s = services()
    const creds = grpc.credentials.createInsecure()
    this.kv = new s.KV(endpoint, creds, OPTIONS)
    this.maint = new s.Maintenance(endpoint, creds, OPTIONS)
    this.lease = new s.Lease(endpoint, creds, OPTIONS)
  }

  private call(client: grpc.Client & Record<string, Rpc>, method: string, req: object, timeoutMs = 10_000): Promise<Wire> {
    return new Promise((resolve, reject) =>
      client[method]!.call(client, req, { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(new Error(`${this.endpoint} ${method}: ${err.code} ${err.details}`)) : resolve(res!),
      ),
    )
  }

  /** Every key under prefix, as this member's local store has it (serializable by default). */
  async range(prefix: string, serializable = true): Promise<{ revision: number; kvs: Map<string, KvEntry> }> {
    const key = Buffer.from(prefix)
    const end = Buffer.from(prefix)
    end[end.length - 1]!++
    const res = await this.call(this.kv, 'Range', { key, range_end: end, serializable }, 30_000)
    const kvs = new Map<string, KvEntry>()
    for (const kv of res.kvs as Wire[]) {
      kvs.set((kv.key as Buffer).toString(), {
        value: (kv.value as Buffer).toString(),
        modRevision: Number(kv.mod_revision),
        createRevision: Number(kv.create_revision),
        version: Number(kv.version),
        lease: String(kv.lease),
      })
    }
    return { revision: Number((res.header as Wire).revision), kvs }
  }

  async get(key: string, serializable = true): Promise<KvEntry | undefined> {
    const r = await this.call(this.kv, 'Range', { key: Buffer.from(key), serializable })
    const kv = (r.kvs as Wire[])[0]
    if (!kv) return undefined
    return {
      value: (kv.value as Buffer).toString(),
      modRevision: Number(kv.mod_revision),
      createRevision: Number(kv.create_revision),
      version: Number(kv.version),
      lease: String(kv.lease),
    }
  }

  async put(key: string, value: string, lease = '0'): Promise<number> {
    const res = await this.call(this.kv, 'Put', { key: Buffer.from(key), value: Buffer.from(value), lease })
    return Number((res.header as Wire).revision)
  }

  async status(timeoutMs = 2000): Promise<Status> {
    const res = await this.call(this.maint, 'Status', {}, timeoutMs)
    const h = res.header as Wire
    return {
      memberId: String(h.member_id),
      leader: String(res.leader),
      revision: Number(h.revision),
      raftIndex: Number(res.raftIndex),
      raftAppliedIndex: Number(res.raftAppliedIndex),
      raftTerm: Number(res.raftTerm),
    }
  }

  async hashKV(revision: number): Promise<{ hash: number; hashRevision: number; compactRevision: number; revision: number }> {
    const res = await this.call(this.maint, 'HashKV', { revision }, 30_000)
    return {
      hash: Number(res.hash),
      hashRevision: Number(res.hash_revision ?? revision),
      compactRevision: Number(res.compact_revision),
      revision: Number((res.header as Wire).revision),
    }
  }

  async leaseGrant(ttl: number): Promise<{ id: string; ttl: number }> {
    const res = await this.call(this.lease, 'LeaseGrant', { TTL: ttl, ID: 0 })
    if (res.error) throw new Error(`LeaseGrant: ${String(res.error)}`)
    return { id: String(res.ID), ttl: Number(res.TTL) }
  }

  async leaseLeases(): Promise<string[]> {
    const res = await this.call(this.lease, 'LeaseLeases', {})
    return (res.leases as Wire[]).map((l) => String(l.ID))
  }

  async leaseTimeToLive(id: string): Promise<{ ttl: number; grantedTTL: number; keys: string[] }> {
    const res = await this.call(this.lease, 'LeaseTimeToLive', { ID: id, keys: true })
    return { ttl: Number(res.TTL), grantedTTL: Number(res.grantedTTL), keys: ((res.keys as Buffer[]) ?? []).map((k) => k.toString()) }
  }

  close(): void {
    this.kv.close()
    this.maint.close()
    this.lease.close()
  }
}

/** One MemberClient per endpoint. */
export class Clients {
  readonly m: MemberClient[]
  constructor(endpoints: string[]) {
    this.m = endpoints.map((e) => new MemberClient(e))
  }
  close(): void {
    for (const c of this.m) c.close()
  }
}
