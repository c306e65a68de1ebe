// One store member (etcd's EtcdServer): the raft member, the state machine it feeds,
// and the operations the gRPC services call. Writes are proposed through raft and
// answered with what the apply loop produced; reads are served from the local store
// after a ReadIndex barrier (linearizable) or at once (serializable).
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { EventEmitter } from 'node:events'
import { pino, type Logger } from 'pino'
import { RaftNode } from '../../raft/node.js'
import { GrpcTransport } from '../../raft/transport/grpc-transport.js'
import { applyRange } from '../apply/range.js'
import type {
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../apply/requests.js'
import { applyTxn } from '../apply/txn.js'
import { validateDeleteRange, validatePut, validateRange, validateTxn } from '../apply/validate.js'
import { KVStore } from '../mvcc/kv-store.js'
import { hostPort, type StoreConfig } from './config.js'
import { EtcdErrors, toEtcdError } from './errors.js'
import { clusterId as computeClusterId, etcdId, memberId } from './ids.js'
import type { LeaseManager, TimeToLive } from './leases.js'
import { encodeRaftRequest, type AlarmType, type RaftRequest } from './raft-request.js'
import { StoreStateMachine, type Alarm, type ChangeSink, type ChangeSubscriber, type Outcome } from './state-machine.js'

export interface MemberInfo {
  id: number
  name: string
  peerURLs: string[]
  clientURLs: string[]
  isLearner: boolean
}

export interface ServerDeps {
  logger?: Logger
  leases: (memberId: number) => LeaseManager
  /** The watch hub over the opened store: fed by the apply loop. */
  watchers: (store: KVStore) => ChangeSink
}

/** How often the leader looks for expired leases (etcd: every 500 ms). */
const LEASE_EXPIRY_CHECK_MS = 500
const DB_SIZE_REFRESH_MS = 500
/** etcd's leaseRevokeRate: at most this many revocations proposed per second. */
const LEASE_REVOKE_RATE = 1000

export class EtcdServer extends EventEmitter {
  readonly id: number
  readonly clusterId: number
  readonly raft: RaftNode<Outcome>
  readonly sm: StoreStateMachine
  readonly store: KVStore
  readonly leases: LeaseManager
  readonly logger: Logger
  private timers: NodeJS.Timeout[] = []
  private stopping = false
  private leaderChanges = 0
  /** The backend size, refreshed in the background: a directory scan per write would cost more than the write. */
  private dbSizeCache = 0
  private proposalsFailed = 0
  /** Proposals made here and not yet answered (etcd_server_proposals_pending). */
  private proposalsPending = 0
  private readonly startedAt = Date.now()

  private constructor(
    readonly cfg: StoreConfig,
    parts: { id: number; clusterId: number; raft: RaftNode<Outcome>; sm: StoreStateMachine; store: KVStore; leases: LeaseManager; logger: Logger },
  ) {
    super()
    this.id = parts.id
    this.clusterId = parts.clusterId
    this.raft = parts.raft
    this.sm = parts.sm
    this.store = parts.store
    this.leases = parts.leases
    this.logger = parts.logger
  }

  static async start(cfg: StoreConfig, deps: ServerDeps): Promise<EtcdServer> {
    const logger = (deps.logger ?? pino({ level: 'silent' })).child({ component: 'store', member: cfg.name })
    const token = cfg.initialClusterToken
    const joining = cfg.initialClusterState === 'existing'
    // Member IDs come from the peer URLs alone (etcd mixes in the token): a member
    // joining with --initial-cluster-state existing gets the --initial-cluster that
    // `etcdctl member add` printed, without the token, and must derive every
    // member's ID from it exactly as the cluster did.
    const idOf = (urls: string[]) => memberId(urls, '')
    const id = idOf(cfg.initialAdvertisePeerURLs)
    const initial = cfg.initialCluster.map((m) => ({ id: m.name === cfg.name ? id : idOf(m.peerURLs), address: hostPort(m.peerURLs[0]!) }))
    if (!cfg.initialCluster.some((m) => m.name === cfg.name)) {
      throw new Error(`couldn't find local name "${cfg.name}" in the initial cluster configuration`)
    }
    const clusterId = computeClusterId([], token)
    const memberDir = join(cfg.dataDir, 'member')
    await mkdir(memberDir, { recursive: true })
    const store = await KVStore.open(join(memberDir, 'kv'))
    let raft: RaftNode<Outcome> | undefined
    try {
      const leases = deps.leases(id)
      const self: { server?: EtcdServer } = {}
      const sm = new StoreStateMachine({
        store,
        leases,
        watchers: deps.watchers(store),
        maxTxnOps: cfg.maxTxnOps,
        onAlarmsChanged: () => self.server?.emit('alarms'),
      })
      await sm.load()
      const tickMs = cfg.heartbeatMs
      raft = await RaftNode.start<Outcome>({
        id,
        dataDir: join(memberDir, 'raft'),
        initialCluster: initial,
        join: joining,
        stateMachine: {
          apply: (es) => sm.apply(es),
          snapshot: () => sm.snapshot(),
          // On start raft hands us its last snapshot; the store may already be past it.
          restore: async (data, index) => {
            if (index > store.consistentIndex) await sm.restore(data)
          },
        },
        transport: (handler) =>
          new GrpcTransport({ id, clusterId: token, adoptClusterId: joining, listen: hostPort(cfg.listenPeerURLs[0]!), handler, logger }),
        tickMs,
        heartbeatTicks: 1,
        electionTicks: Math.max(2, Math.round(cfg.electionMs / tickMs)),
        snapshotCount: cfg.snapshotCount,
        logger,
      })
      const server = new EtcdServer(cfg, { id, clusterId, raft, sm, store, leases, logger })
      self.server = server
      server.run()
      return server
    } catch (err) {
      await raft?.stop().catch(() => {})
      await store.close()
      throw err
    }
  }

  private run(): void {
    this.raft.on('leader', (lead: number) => {
      this.leaderChanges++
      if (lead === this.id) {
        this.leases.promote(this.cfg.electionMs)
        this.logger.info('became leader')
      } else if (this.leases.isPrimary()) {
        this.leases.demote()
      }
      this.emit('leader', lead)
    })
    this.raft.on('fatal', (err: Error) => this.emit('fatal', err))
    this.timers.push(setInterval(() => void this.revokeExpiredLeases(), LEASE_EXPIRY_CHECK_MS))
    const refreshSize = () => void this.store.dbSize().then((n) => (this.dbSizeCache = n), () => undefined)
    refreshSize()
    this.timers.push(setInterval(refreshSize, DB_SIZE_REFRESH_MS))
    void this.publish()
  }

  /** Announce our name and client URLs to the cluster (etcd's publish), until it lands. */
  private async publish(): Promise<void> {
    const attrs = {
      id: this.id,
      name: this.cfg.name,
      peerURLs: this.cfg.initialAdvertisePeerURLs,
      clientURLs: this.cfg.advertiseClientURLs,
    }
    while (!this.stopping) {
      const known = this.sm.member(this.id)
      if (known && known.name === attrs.name && known.clientURLs.join() === attrs.clientURLs.join()) return
      try {
        await this.propose({ op: 'memberAttributes', member: attrs })
        this.logger.info({ clientURLs: attrs.clientURLs }, 'published member attributes')
        return
      } catch {
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }

  private async revokeExpiredLeases(): Promise<void> {
    if (!this.raft.isLeader() || !this.leases.isPrimary()) return
    const ids = this.leases.expired(Math.ceil((LEASE_REVOKE_RATE * LEASE_EXPIRY_CHECK_MS) / 1000))
    await Promise.all(ids.map((id) => this.propose({ op: 'leaseRevoke', id }).catch(() => undefined)))
    const due = this.leases.checkpointsDue()
    if (due.length > 0) await this.propose({ op: 'leaseCheckpoint', checkpoints: due }).catch(() => undefined)
  }

  // ---- raft plumbing --------------------------------------------------------------

  /** Propose and wait for the outcome; errors come back as etcd's. */
  async propose(r: RaftRequest, putBytes?: Uint8Array): Promise<unknown> {
    if (this.stopping) throw EtcdErrors.stopped()
    const data = encodeRaftRequest(r, putBytes)
    if (data.length > this.cfg.maxRequestBytes) throw EtcdErrors.requestTooLarge()
    let outcome: Outcome
    this.proposalsPending++
    try {
      outcome = await this.raft.propose(data)
    } catch (err) {
      this.proposalsFailed++
      throw toEtcdError(err)
    } finally {
      this.proposalsPending--
    }
    if (!outcome.ok) throw outcome.error
    if (outcome.done) await outcome.done.catch(() => undefined)
    return outcome.value
  }

  /** Wait until this member has applied everything committed when the call began. */
  async linearizableBarrier(): Promise<void> {
    if (this.stopping) throw EtcdErrors.stopped()
    try {
      await this.raft.readIndex()
    } catch (err) {
      throw toEtcdError(err)
    }
  }

  /** Whether a write of about `bytes` more would pass the backend quota; raises NOSPACE when not. */
  private async checkQuota(bytes: number): Promise<void> {
    if (this.sm.hasAlarm('NOSPACE')) throw EtcdErrors.noSpace()
    if (this.dbSizeCache + bytes <= this.cfg.quotaBackendBytes) return
    // As etcd: the member that notices raises the alarm for itself, then refuses.
    await this.propose({ op: 'alarm', action: 'ACTIVATE', memberId: String(this.id), alarm: 'NOSPACE' }).catch(() => undefined)
    throw EtcdErrors.noSpace()
  }

  /**
   * In-process watch of everything applied (for the API server's local storage):
   * `notify(revision, changes)` after each write, in revision order; `restored()` when
   * a raft snapshot replaced the store (catch up from `store.history`); `ended()` when
   * the member stops. Returns the unsubscribe.
   */
  subscribeChanges(sub: ChangeSubscriber): () => void {
    if (this.stopping) {
      queueMicrotask(() => sub.ended?.())
      return () => undefined
    }
    return this.sm.subscribe(sub)
  }

  // ---- KV -------------------------------------------------------------------------

  async range(r: RangeRequest): Promise<RangeResponse> {
    validateRange(r)
    if (r.serializable !== true) await this.linearizableBarrier()
    try {
      return await applyRange(this.store, r)
    } catch (err) {
      throw toEtcdError(err)
    }
  }

  /** `wire`: the request's protobuf bytes, proposed as they are when given. */
  async put(r: PutRequest, wire?: Uint8Array): Promise<PutResponse> {
    validatePut(r)
    await this.checkQuota(r.key.length + (r.value?.length ?? 0))
    return (await this.propose({ op: 'put', req: r }, wire)) as PutResponse
  }

  async deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    validateDeleteRange(r)
    return (await this.propose({ op: 'deleteRange', req: r })) as DeleteRangeResponse
  }

  async txn(r: TxnRequest): Promise<TxnResponse> {
    validateTxn(r, this.cfg.maxTxnOps)
    if (isReadOnly(r)) {
      if (!isSerializable(r)) await this.linearizableBarrier()
      try {
        return (await applyTxn(this.store, undefined, r, { maxTxnOps: this.cfg.maxTxnOps, leaseExists: (id) => this.leases.has(id) })).response
      } catch (err) {
        throw toEtcdError(err)
      }
    }
    await this.checkQuota(0)
    return (await this.propose({ op: 'txn', req: r })) as TxnResponse
  }

  /** Compact at `revision`; with `physical`, wait until the backend has dropped the old revisions. */
  async compact(revision: number, physical: boolean): Promise<{ revision: number }> {
    // `done` of the compaction is awaited by propose() only where it was applied
    // locally; physical waits for the local one, as etcd's physical option does.
    const res = (await this.propose({ op: 'compact', revision })) as { revision: number }
    if (physical) await this.store.idle().catch(() => undefined)
    return res
  }

  // ---- leases ---------------------------------------------------------------------

  async leaseGrant(id: string, ttl: number): Promise<{ id: string; ttl: number }> {
    await this.checkQuota(0)
    const leaseId = id === '0' || id === '' ? this.leases.nextId() : id
    return (await this.propose({ op: 'leaseGrant', id: leaseId, ttl })) as { id: string; ttl: number }
  }

  async leaseRevoke(id: string): Promise<{ revision: number }> {
    return (await this.propose({ op: 'leaseRevoke', id })) as { revision: number }
  }

  /** KeepAlive served here; only valid on the leader (callers forward otherwise). */
  async leaseRenew(id: string): Promise<number> {
    if (!this.raft.isLeader() || !this.leases.isPrimary()) throw EtcdErrors.notLeader()
    if (this.leases.renewNeedsCheckpointClear(id)) await this.propose({ op: 'leaseCheckpoint', checkpoints: [{ id, remainingTTL: 0 }] })
    return this.leases.renew(id)
  }

  leaseTimeToLive(id: string, keys: boolean): TimeToLive | undefined {
    return this.leases.timeToLive(id, keys)
  }

  // ---- cluster --------------------------------------------------------------------

  members(): MemberInfo[] {
    const st = this.raft.status()
    const learners = new Set(st.confState.learners)
    return st.members
      .filter((m) => st.confState.voters.includes(m.id) || learners.has(m.id))
      .map((m) => {
        const attrs = this.sm.member(m.id)
        return {
          id: m.id,
          name: attrs?.name ?? '',
          peerURLs: attrs?.peerURLs ?? [`http://${m.address}`],
          clientURLs: attrs?.clientURLs ?? [],
          isLearner: learners.has(m.id),
        }
      })
  }

  async memberAdd(peerURLs: string[], learner: boolean): Promise<MemberInfo> {
    const existing = this.members()
    for (const m of existing) for (const u of m.peerURLs) if (peerURLs.includes(u)) throw EtcdErrors.peerURLExists()
    const id = memberId(peerURLs, '')
    if (existing.some((m) => m.id === id)) throw EtcdErrors.memberExists()
    if (learner && existing.filter((m) => m.isLearner).length >= 1) throw EtcdErrors.tooManyLearners()
    try {
      await this.raft.addMember({ id, address: hostPort(peerURLs[0]!) }, { learner })
    } catch (err) {
      throw toEtcdError(err)
    }
    await this.propose({ op: 'memberAttributes', member: { id, name: '', peerURLs, clientURLs: [] } }).catch(() => undefined)
    return { id, name: '', peerURLs, clientURLs: [], isLearner: learner }
  }

  async memberRemove(id: number): Promise<void> {
    if (!this.members().some((m) => m.id === id)) throw EtcdErrors.memberNotFound()
    try {
      await this.raft.removeMember(id)
    } catch (err) {
      throw toEtcdError(err)
    }
    await this.propose({ op: 'memberRemoved', id }).catch(() => undefined)
  }

  async memberUpdate(id: number, peerURLs: string[]): Promise<void> {
    const m = this.members().find((x) => x.id === id)
    if (!m) throw EtcdErrors.memberNotFound()
    for (const other of this.members()) {
      if (other.id !== id) for (const u of other.peerURLs) if (peerURLs.includes(u)) throw EtcdErrors.peerURLExists()
    }
    try {
      // Re-adding a member with a new address changes where raft sends to (etcd's ConfChangeUpdateNode).
      await this.raft.addMember({ id, address: hostPort(peerURLs[0]!) }, { learner: m.isLearner })
    } catch (err) {
      throw toEtcdError(err)
    }
    await this.propose({ op: 'memberAttributes', member: { id, name: m.name, peerURLs, clientURLs: m.clientURLs } })
  }

  async memberPromote(id: number): Promise<void> {
    const m = this.members().find((x) => x.id === id)
    if (!m) throw EtcdErrors.memberNotFound()
    if (!m.isLearner) throw EtcdErrors.memberNotLearner()
    if (!this.raft.isLeader()) throw EtcdErrors.notLeader()
    // etcd promotes only a learner that has caught up to 90% of the leader's log.
    const st = this.raft.status()
    const pr = st.progress?.get(id)
    const leaderMatch = st.progress?.get(this.id)?.match ?? st.commit
    if (!pr || pr.match < leaderMatch * 0.9) throw EtcdErrors.learnerNotReady()
    try {
      await this.raft.promoteMember(id)
    } catch (err) {
      throw toEtcdError(err)
    }
  }

  // ---- maintenance ----------------------------------------------------------------

  alarms(): Alarm[] {
    return this.sm.alarms()
  }

  async alarm(action: 'GET' | 'ACTIVATE' | 'DEACTIVATE', memberId: string, alarm: AlarmType | 'NONE'): Promise<Alarm[]> {
    if (action === 'GET') return this.alarms().filter((a) => (memberId === '0' || a.memberId === memberId) && (alarm === 'NONE' || a.alarm === alarm))
    if (alarm === 'NONE') return []
    const res = (await this.propose({ op: 'alarm', action, memberId, alarm })) as { alarms: Alarm[] }
    return res.alarms
  }

  async statusInfo(): Promise<{
    version: string
    dbSize: number
    leader: number
    raftIndex: number
    raftTerm: number
    raftAppliedIndex: number
    errors: string[]
    isLearner: boolean
    dbSizeInUse: number
  }> {
    const st = this.raft.status()
    const dbSize = await this.store.dbSize()
    const errors = this.alarms().map((a) => `memberID:${etcdId(Number(a.memberId))} alarm:${a.alarm} `)
    return {
      version: ETCD_VERSION,
      dbSize,
      leader: st.lead,
      raftIndex: st.commit,
      raftTerm: st.term,
      raftAppliedIndex: st.appliedIndex,
      errors,
      isLearner: st.confState.learners.includes(this.id),
      dbSizeInUse: dbSize,
    }
  }

  async moveLeader(target: number): Promise<void> {
    if (!this.raft.isLeader()) throw EtcdErrors.notLeader()
    const m = this.members().find((x) => x.id === target)
    if (!m || m.isLearner) throw EtcdErrors.badLeaderTransferee()
    try {
      await this.raft.transferLeadership(target, this.cfg.electionMs * 5)
    } catch (err) {
      throw toEtcdError(err)
    }
  }

  get term(): number {
    return this.raft.term
  }

  get isLeader(): boolean {
    return this.raft.isLeader()
  }

  counters(): { leaderChanges: number; proposalsFailed: number; proposalsPending: number; uptimeMs: number } {
    return { leaderChanges: this.leaderChanges, proposalsFailed: this.proposalsFailed, proposalsPending: this.proposalsPending, uptimeMs: Date.now() - this.startedAt }
  }

  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.sm.endSubscriptions()
    for (const t of this.timers) clearInterval(t)
    await this.raft.stop()
    await this.store.close()
  }
}

/** The etcd version we answer as: clients (etcdctl, client-go) check it for features. */
export const ETCD_VERSION = '3.5.0'

function isReadOnly(r: TxnRequest): boolean {
  const ops = [...(r.success ?? []), ...(r.failure ?? [])]
  return ops.every((op) => op.request_range != null || (op.request_txn != null && isReadOnly(op.request_txn)))
}

function isSerializable(r: TxnRequest): boolean {
  const ops = [...(r.success ?? []), ...(r.failure ?? [])]
  return ops.every((op) => (op.request_range != null ? op.request_range.serializable === true : op.request_txn != null && isSerializable(op.request_txn)))
}
