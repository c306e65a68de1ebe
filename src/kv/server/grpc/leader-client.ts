// Calls a follower cannot answer itself go to the leader's client URL over the same
// etcd API a client would use (etcd forwards them over its peer HTTP API instead):
// lease keep-alives and time-to-live, whose clocks only the leader keeps, and learner
// promotion, which needs the leader's view of replication progress.
import * as grpc from '@grpc/grpc-js'
import { loadEtcdProto } from '../../etcd-proto.js'
import { EtcdErrors } from '../errors.js'
import type { EtcdServer } from '../etcd-server.js'
import { hostPort } from '../config.js'
import { etcdId } from '../ids.js'

type Wire = Record<string, unknown>
type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>
type Ctor = new (address: string, creds: grpc.ChannelCredentials) => Client

let ctors: { Lease: Ctor; Cluster: Ctor } | undefined
function constructors(): { Lease: Ctor; Cluster: Ctor } {
  if (!ctors) {
    const pkg = grpc.loadPackageDefinition(loadEtcdProto()) as unknown as { etcdserverpb: { Lease: Ctor; Cluster: Ctor } }
    ctors = { Lease: pkg.etcdserverpb.Lease, Cluster: pkg.etcdserverpb.Cluster }
  }
  return ctors
}

/** A keep-alive stream to the leader; answers come back in request order. */
interface RenewStream {
  call: grpc.ClientDuplexStream<Wire, Wire>
  waiting: { resolve(ttl: number): void; reject(e: Error): void }[]
}

export class LeaderClient {
  private leaderId = 0
  private address = ''
  private lease: Client | undefined
  private cluster: Client | undefined
  private renewStream: RenewStream | undefined

  constructor(private readonly srv: EtcdServer) {}

  private clients(): { lease: Client; cluster: Client } {
    const lead = this.srv.raft.leader
    if (lead === 0) throw EtcdErrors.noLeader()
    const m = this.srv.members().find((x) => x.id === lead)
    const url = m?.clientURLs[0]
    if (!url) throw EtcdErrors.noLeader()
    const address = hostPort(url)
    if (lead !== this.leaderId || address !== this.address || !this.lease || !this.cluster) {
      this.close()
      const { Lease, Cluster } = constructors()
      this.lease = new Lease(address, grpc.credentials.createInsecure())
      this.cluster = new Cluster(address, grpc.credentials.createInsecure())
      this.leaderId = lead
      this.address = address
    }
    return { lease: this.lease, cluster: this.cluster }
  }

  renew(id: string): Promise<number> {
    const { lease } = this.clients()
    if (!this.renewStream) {
      const call = lease.LeaseKeepAlive() as grpc.ClientDuplexStream<Wire, Wire>
      const stream: RenewStream = { call, waiting: [] }
      call.on('data', (res: Wire) => stream.waiting.shift()?.resolve(Number(res.TTL ?? 0)))
      const fail = (err: Error) => {
        if (this.renewStream === stream) this.renewStream = undefined
        for (const w of stream.waiting.splice(0)) w.reject(err)
      }
      call.on('error', fail)
      call.on('end', () => fail(EtcdErrors.leaderChanged()))
      this.renewStream = stream
    }
    const stream = this.renewStream
    return new Promise<number>((resolve, reject) => {
      stream.waiting.push({ resolve, reject })
      stream.call.write({ ID: id })
    })
  }

  timeToLive(id: string, keys: boolean): Promise<Wire> {
    const { lease } = this.clients()
    return unaryCall(lease, 'LeaseTimeToLive', { ID: id, keys })
  }

  promote(memberId: number): Promise<Wire> {
    const { cluster } = this.clients()
    return unaryCall(cluster, 'MemberPromote', { ID: etcdId(memberId) })
  }

  close(): void {
    this.renewStream?.call.cancel()
    this.renewStream = undefined
    this.lease?.close()
    this.cluster?.close()
    this.lease = undefined
    this.cluster = undefined
  }
}

function unaryCall(client: Client, method: string, req: Wire): Promise<Wire> {
  return new Promise((resolve, reject) => {
    client[method]!(req, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, res: Wire) => (err ? reject(err) : resolve(res)))
  })
}
