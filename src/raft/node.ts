import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { pino, type Logger } from 'pino'
import { decodeConfChange } from './confchange.js'
import { ProposalDroppedError } from './errors.js'
import { ReadOnlyOption } from './read-only.js'
import { RawNode, type Status } from './rawnode.js'
import type { Transport, TransportHandler } from './transport/grpc-transport.js'
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  NONE,
  type NodeId,
  type Ready,
  type Snapshot,
  StateType,
} from './types.js'
import { type Member, unwrapSnapshot, wrapSnapshot } from './snapshot-envelope.js'
import { DurableLog } from './wal/durable-log.js'

/** What the member replicates: the application's state, fed committed entries in order. */
export interface StateMachine<R = unknown> {
  /**
   * Apply committed entries (in index order). Returns one result per entry, handed to
   * whoever proposed it on this member. After a restart, entries the state machine
   * already applied may be offered again: it must skip them by index.
   */
  apply(entries: AppliedEntry[]): R[] | Promise<R[]>
  /** The state as of the last applied entry, for a snapshot. */
  snapshot(): Uint8Array | Promise<Uint8Array>
  /** Replace the state with a snapshot's (taken at `index`). */
  restore(data: Uint8Array, index: number): void | Promise<void>
}

export interface AppliedEntry {
  index: number
  term: number
  data: Uint8Array
}

export type { Member } from './snapshot-envelope.js'

export interface RaftNodeOptions<R> {
  id: NodeId
  dataDir: string
  /** The initial cluster; used only when the data dir is empty. */
  initialCluster: Member[]
  /** Start empty and wait to be added by the leader (etcd's --initial-cluster-state existing). */
  join?: boolean
  stateMachine: StateMachine<R>
  /** Build the transport; the node hands it the handler for incoming messages. */
  transport: (handler: TransportHandler) => Transport
  /** Defaults follow etcd: 100 ms heartbeat, 1 s election timeout. */
  tickMs?: number
  electionTicks?: number
  heartbeatTicks?: number
  /** Applied entries between snapshots (etcd's --snapshot-count, default 100,000 as etcd). */
  snapshotCount?: number
  /** Entries kept below a snapshot for slow followers. */
  snapshotCatchUpEntries?: number
  proposalTimeoutMs?: number
  preVote?: boolean
  checkQuorum?: boolean
  leaseReads?: boolean
  maxSizePerMsg?: number
  maxInflightMsgs?: number
  logger?: Logger
}

/**
 * A caller waiting for a proposal, read or conf change. Deadlines are checked on each
 * tick rather than with a timer apiece: a timer per proposal costs more than the rest
 * of the proposal's bookkeeping together.
 */
interface Waiter<T> {
  resolve(v: T): void
  reject(err: Error): void
  deadline: number
}

interface PendingRead {
  waiters: Waiter<number>[]
  index: number | undefined
  startedAt: number
}

/**
 * A ReadIndex round still unanswered after this long no longer holds back the next
 * one (its message may have been lost; etcd retries after 500 ms as well).
 */
const READ_ROUND_RETRY_MS = 500

const ID_BYTES = 8

/**
 * One raft member: the pure core, its durable log and its transport, driven by a
 * timer and the Ready loop (persist → send → apply → advance). Proposals made in the
 * same event-loop turn share one raft message, one WAL write and one fsync.
 *
 * Proposal framing: each entry's data is [8-byte proposal id][payload], so the member
 * that proposed can hand the apply result back to its caller.
 */
export class RaftNode<R = unknown> extends EventEmitter {
  readonly id: NodeId
  private readonly node: RawNode
  private readonly log: DurableLog
  private readonly transport: Transport
  private readonly sm: StateMachine<R>
  private readonly logger: Logger
  private readonly members = new Map<NodeId, Member>()
  private readonly idPrefix = randomBytes(4).readUInt32LE(0)
  private seq = 0
  private readonly proposals = new Map<number, Waiter<R>>()
  private readonly confWaiters = new Map<number, Waiter<ConfState>>()
  private queued: { id: number; data: Uint8Array; waiter: Waiter<R> }[] = []
  private readsToSend: Waiter<number>[] = []
  private readonly reads = new Map<number, PendingRead>()
  /** Messages of a commit-only leader Ready, sent with the next Ready's (see handleReady). */
  private heldBack: Message[] = []
  /** Results of the Ready being handled, handed to callers after advance(). */
  private settled: (() => void)[] = []
  private confState: ConfState
  private appliedIndex: number
  private snapshotIndex: number
  private readyScheduled = false
  private inReady = false
  private ticker: NodeJS.Timeout | undefined
  private stopped = false
  private readonly opts: Required<Pick<RaftNodeOptions<R>, 'tickMs' | 'snapshotCount' | 'proposalTimeoutMs'>>
  private lead: NodeId = NONE
  private fatal: Error | undefined

  private constructor(opts: RaftNodeOptions<R>, log: DurableLog) {
    super()
    this.id = opts.id
    this.sm = opts.stateMachine
    this.log = log
    this.logger = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'raft', member: opts.id })
    this.opts = {
      tickMs: opts.tickMs ?? 100,
      snapshotCount: opts.snapshotCount ?? 100_000,
      proposalTimeoutMs: opts.proposalTimeoutMs ?? 7_000,
    }
    const snap = log.snapshot
    this.snapshotIndex = snap?.metadata.index ?? 0
    this.appliedIndex = this.snapshotIndex
    this.confState = snap?.metadata.confState ?? { voters: [], learners: [] }
    this.node = new RawNode({
      id: opts.id,
      storage: log.storage,
      electionTick: opts.electionTicks ?? 10,
      heartbeatTick: opts.heartbeatTicks ?? 1,
      applied: this.appliedIndex,
      preVote: opts.preVote ?? true,
      checkQuorum: opts.checkQuorum ?? true,
      readOnlyOption: opts.leaseReads ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
      maxSizePerMsg: opts.maxSizePerMsg ?? 1024 * 1024,
      maxInflightMsgs: opts.maxInflightMsgs ?? 256,
      logger: {
        debug: (m) => this.logger.debug(m),
        info: (m) => this.logger.info(m),
        warn: (m) => this.logger.warn(m),
      },
    })
    this.transport = opts.transport({
      onMessage: (m) => this.onMessage(m),
      onUnreachable: (peer) => {
        this.node.reportUnreachable(peer)
        this.scheduleReady()
      },
      onSnapshotStatus: (peer, ok) => {
        this.node.reportSnapshot(peer, ok)
        this.scheduleReady()
      },
    })
  }

  /** Open (or create) the member's data dir, replay it, and start ticking. */
  static async start<R>(opts: RaftNodeOptions<R>): Promise<RaftNode<R>> {
    const log = await DurableLog.open(opts.dataDir, {
      keepEntries: opts.snapshotCatchUpEntries,
      onWarn: (msg) => opts.logger?.warn({ component: 'raft', member: opts.id }, msg),
    })
    const n = new RaftNode(opts, log)
    try {
      const fresh = log.storage.lastIndex() === 0 && log.hardState.term === 0
      for (const m of opts.initialCluster) n.members.set(m.id, m)
      if (log.snapshot) n.loadSnapshotEnvelope(log.snapshot)
      // A joining member starts with no configuration: it never campaigns until the
      // leader's log or snapshot tells it who the voters are.
      if (fresh && !opts.join) n.node.bootstrap(opts.initialCluster.map((m) => m.id))
      await n.transport.start()
      for (const m of n.members.values()) if (m.id !== n.id) n.transport.addPeer(m.id, m.address)
      if (log.snapshot) await n.sm.restore(unwrapSnapshot(log.snapshot.data).app, n.snapshotIndex)
      n.ticker = setInterval(() => {
        n.node.tick()
        n.expireWaiters(performance.now())
        n.scheduleReady()
      }, n.opts.tickMs)
      n.scheduleReady()
    } catch (err) {
      // E.g. the peer port is taken: leave nothing open behind us.
      await n.transport.close().catch(() => {})
      await log.close()
      throw err
    }
    return n
  }

  // ---- client API -----------------------------------------------------------------

  /** Replicate `data`; resolves with the state machine's result once applied here. */
  propose(data: Uint8Array): Promise<R> {
    if (this.fatal) return Promise.reject(this.fatal)
    const id = this.nextId()
    const framed = this.tag(id, data)
    return new Promise<R>((resolve, reject) => {
      const waiter = { resolve, reject, deadline: performance.now() + this.opts.proposalTimeoutMs }
      this.proposals.set(id, waiter)
      this.queued.push({ id, data: framed, waiter })
      this.scheduleReady()
    })
  }

  /**
   * A linearizable read barrier: resolves once this member has applied everything
   * committed when the read began. Concurrent reads share one ReadIndex round.
   */
  readIndex(): Promise<number> {
    if (this.fatal) return Promise.reject(this.fatal)
    return new Promise<number>((resolve, reject) => {
      this.readsToSend.push({ resolve, reject, deadline: performance.now() + this.opts.proposalTimeoutMs })
      this.scheduleReady()
    })
  }

  addMember(member: Member, opts: { learner?: boolean } = {}): Promise<ConfState> {
    const type = opts.learner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode
    return this.proposeConfChange(type, member.id, member.address)
  }

  promoteMember(id: NodeId): Promise<ConfState> {
    const m = this.members.get(id)
    if (!m) return Promise.reject(new Error(`raft: member ${id} not found`))
    return this.proposeConfChange(ConfChangeType.AddNode, id, m.address)
  }

  removeMember(id: NodeId): Promise<ConfState> {
    return this.proposeConfChange(ConfChangeType.RemoveNode, id, '')
  }

  /** Ask the leader to hand leadership to `to`; resolves when `to` leads. */
  transferLeadership(to: NodeId, timeoutMs = 5_000): Promise<void> {
    if (this.lead === to) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const onLeader = (lead: NodeId) => {
        if (lead !== to) return
        clearTimeout(timer)
        this.off('leader', onLeader)
        resolve()
      }
      const timer = setTimeout(() => {
        this.off('leader', onLeader)
        reject(new Error(`raft: leadership transfer to ${to} timed out`))
      }, timeoutMs)
      this.on('leader', onLeader)
      this.node.transferLeadership(to)
      this.scheduleReady()
    })
  }

  status(): Status & { appliedIndex: number; members: Member[] } {
    return { ...this.node.status(), appliedIndex: this.appliedIndex, members: [...this.members.values()] }
  }

  /** WAL counters of this member (fsyncs, entries synced, bytes). */
  walStats(): { fsyncs: number; entriesSynced: number; bytesWritten: number } {
    return { ...this.log.stats }
  }

  /** Calls `fn` with each WAL fsync's duration in seconds (for a histogram). */
  onWalFsync(fn: ((seconds: number) => void) | undefined): void {
    this.log.onFsync = fn
  }

  get leader(): NodeId {
    return this.lead
  }

  /** The current raft term (cheap: read on every response header). */
  get term(): number {
    return this.node.raft.term
  }

  isLeader(): boolean {
    return this.node.raft.state === StateType.Leader
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    clearInterval(this.ticker)
    const err = new Error('raft: member stopped')
    this.failAll(err)
    // Let an in-flight Ready finish its write before the WAL closes.
    while (this.inReady) await new Promise((r) => setTimeout(r, 5))
    await this.transport.close()
    await this.log.close()
  }

  // ---- internals ------------------------------------------------------------------

  /**
   * The leader we forwarded to is gone: what we handed it is most likely lost, and
   * waiting for the deadline helps nobody. Reads are asked again (they have no effect);
   * proposals fail at once as "unknown", since re-proposing could apply them twice.
   */
  private abandonInFlight(): void {
    for (const r of this.reads.values()) this.readsToSend.push(...r.waiters)
    this.reads.clear()
    const queued = new Set(this.queued.map((p) => p.id))
    const err = new Error('raft: leader changed; the proposal may or may not have been committed')
    for (const [id, w] of this.proposals) {
      if (queued.has(id)) continue
      this.proposals.delete(id)
      w.reject(err)
    }
  }

  /** Fail every waiter past its deadline. The outcome of a timed-out proposal is unknown. */
  private expireWaiters(now: number): void {
    const expire = <T>(m: Map<number, Waiter<T>>, what: string) => {
      // Insertion order is deadline order (one timeout for all): stop at the first live one.
      for (const [id, w] of m) {
        if (w.deadline > now) break
        m.delete(id)
        w.reject(new Error(`raft: ${what} timed out`))
      }
    }
    expire(this.proposals, 'proposal')
    expire(this.confWaiters, 'conf change')
    const live = (w: Waiter<number>) => {
      if (w.deadline > now) return true
      w.reject(new Error('raft: read index timed out'))
      return false
    }
    this.readsToSend = this.readsToSend.filter(live)
    for (const [key, r] of this.reads) {
      r.waiters = r.waiters.filter(live)
      if (r.waiters.length === 0) this.reads.delete(key)
    }
  }

  /**
   * Ids travel as 32 bits in tags, so the counter wraps there too: an unbounded counter
   * would stop matching its own tags after 2^32 requests (hours at full speed).
   */
  private nextId(): number {
    const id = this.seq
    this.seq = (this.seq + 1) >>> 0
    return id
  }

  /** [this process's 4-byte prefix][4-byte id][payload]: whose request an entry is. */
  private tag(id: number, payload?: Uint8Array): Uint8Array {
    const out = new Uint8Array(ID_BYTES + (payload?.length ?? 0))
    const view = new DataView(out.buffer)
    view.setUint32(0, this.idPrefix, true)
    view.setUint32(4, id, true)
    if (payload) out.set(payload, ID_BYTES)
    return out
  }

  /** The id in a tag this process made; undefined for another member's (or process's). */
  private ownId(data: Uint8Array): number | undefined {
    if (data.length < ID_BYTES) return undefined
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    return view.getUint32(0, true) === this.idPrefix ? view.getUint32(4, true) : undefined
  }

  private proposeConfChange(type: ConfChangeType, nodeId: NodeId, address: string): Promise<ConfState> {
    if (this.fatal) return Promise.reject(this.fatal)
    const id = this.nextId()
    const context = this.tag(id, new TextEncoder().encode(address))
    return new Promise<ConfState>((resolve, reject) => {
      try {
        this.node.proposeConfChange({ type, nodeId, context })
      } catch (err) {
        reject(err as Error)
        return
      }
      this.confWaiters.set(id, { resolve, reject, deadline: performance.now() + this.opts.proposalTimeoutMs })
      this.scheduleReady()
    })
  }

  private onMessage(m: Message): void {
    if (this.stopped) return
    try {
      this.node.step(m)
    } catch (err) {
      this.logger.warn({ err }, 'dropping raft message that failed to step')
    }
    this.scheduleReady()
  }

  /**
   * Run the Ready loop once the current task ends: everything stepped or proposed in
   * this task (one socket read's messages, a whole batch of resumed proposers) is in
   * the same Ready. A setImmediate would also wait out a loop iteration of other I/O,
   * which measurably costs commit latency and throughput (bench raft, A/B runs).
   */
  private scheduleReady(): void {
    if (this.readyScheduled || this.stopped) return
    this.readyScheduled = true
    queueMicrotask(() => {
      this.readyScheduled = false
      void this.runReady()
    })
  }

  private flushProposals(): void {
    // Without a known leader raft would drop them; as etcd, they wait for one (or
    // their deadline) instead. An election takes about one election timeout.
    if (this.node.raft.lead === NONE) return
    if (this.queued.length > 0) {
      // Those that timed out while waiting are the caller's "unknown": never propose them.
      const batch = this.queued.filter((p) => this.proposals.has(p.id))
      this.queued = []
      try {
        if (batch.length > 0) this.node.proposeBatch(batch.map((p) => p.data))
      } catch (err) {
        if (!(err instanceof ProposalDroppedError)) throw err
        for (const p of batch) {
          this.proposals.delete(p.id)
          p.waiter.reject(err)
        }
      }
    }
    if (this.readsToSend.length > 0 && this.mayStartReadRound()) {
      const waiters = this.readsToSend
      this.readsToSend = []
      const key = this.nextId()
      this.reads.set(key, { waiters, index: undefined, startedAt: performance.now() })
      this.node.readIndex(this.tag(key))
    }
  }

  /**
   * One ReadIndex round in flight at a time, as etcd's read loop: reads that arrive
   * while a round is out wait for the next, and all of them share it, instead of one
   * heartbeat round (and its messages on every member) per batch of reads. A read
   * never joins a round that started before it arrived, so each still sees at least
   * the commit index of its own arrival.
   */
  private mayStartReadRound(): boolean {
    const now = performance.now()
    for (const r of this.reads.values()) if (r.index === undefined && now - r.startedAt < READ_ROUND_RETRY_MS) return false
    return true
  }

  private async runReady(): Promise<void> {
    if (this.inReady || this.stopped || this.fatal) return
    this.inReady = true
    try {
      this.flushProposals()
      while (this.node.hasReady() && !this.stopped) {
        await this.handleReady(this.node.ready())
        this.flushProposals()
      }
      if (this.heldBack.length > 0) await this.send([])
    } catch (err) {
      // A failed fsync or apply leaves us unsure what is durable: stop rather than
      // risk acknowledging something that is not (as etcd panics).
      this.fatal = err as Error
      this.logger.error({ err }, 'raft member stopping after a fatal error')
      this.failAll(this.fatal)
      this.emit('fatal', this.fatal)
    } finally {
      this.inReady = false
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    const lostLeader = rd.softState !== undefined && rd.softState.lead !== this.lead && this.lead !== NONE
    if (rd.softState && rd.softState.lead !== this.lead) {
      this.lead = rd.softState.lead
      this.emit('leader', this.lead, this.node.raft.term)
    }
    // A leader's appends go out while its own fsync runs; everything else (votes,
    // acknowledgements) only once durable.
    // A leader Ready that only applies commits holds its messages (the new commit
    // index) back for the next Ready, which the proposers it resumes usually fill with
    // entries: followers then get one batch instead of two, and wake once per round.
    if (rd.sendBeforePersist && rd.entries.length === 0 && rd.committedEntries.length > 0) this.heldBack.push(...rd.messages)
    else if (rd.sendBeforePersist) await this.send(rd.messages)
    await this.log.persist(rd.hardState, rd.entries, rd.snapshot, rd.mustSync)
    if (!rd.sendBeforePersist) await this.send(rd.messages)
    if (rd.snapshot) {
      this.loadSnapshotEnvelope(rd.snapshot)
      await this.sm.restore(unwrapSnapshot(rd.snapshot.data).app, rd.snapshot.metadata.index)
      this.appliedIndex = rd.snapshot.metadata.index
      this.snapshotIndex = rd.snapshot.metadata.index
    }
    if (rd.committedEntries.length > 0) await this.applyEntries(rd.committedEntries)
    for (const rs of rd.readStates) {
      const key = this.ownId(rs.requestCtx)
      const r = key === undefined ? undefined : this.reads.get(key)
      if (r) r.index = rs.index
      // The next round (reads that queued behind this one) can go out now.
      if (this.readsToSend.length > 0) this.scheduleReady()
    }
    this.node.advance()
    // Callers hear of their results only now, when raft agrees the entries are applied:
    // a conf change proposed right after another must not find it still pending.
    const settled = this.settled
    this.settled = []
    for (const f of settled) f()
    if (lostLeader) this.abandonInFlight()
    this.releaseReads()
    if (this.appliedIndex - this.snapshotIndex >= this.opts.snapshotCount) await this.takeSnapshot()
  }

  private async send(msgs: Message[]): Promise<void> {
    if (this.heldBack.length > 0) {
      msgs = this.heldBack.concat(msgs)
      this.heldBack = []
    }
    for (const m of msgs) {
      // The stored snapshot may predate the recipient's own membership (a member just
      // added), and raft refuses a snapshot that does not name it. Send the state as
      // applied now instead, with today's configuration (as etcd's merged snapshots).
      if (m.type === MessageType.Snap) m.snapshot = await this.currentSnapshot()
    }
    this.transport.send(msgs)
  }

  private async currentSnapshot(): Promise<Snapshot> {
    const index = this.appliedIndex
    const app = await this.sm.snapshot()
    return {
      metadata: { index, term: this.node.raft.raftLog.term(index), confState: this.confState },
      data: wrapSnapshot([...this.members.values()], app),
    }
  }

  private async applyEntries(ents: Entry[]): Promise<void> {
    let run: AppliedEntry[] = []
    let owners: (Waiter<R> | undefined)[] = []
    const flush = async () => {
      if (run.length === 0) return
      const results = await this.sm.apply(run)
      for (let i = 0; i < owners.length; i++) {
        const owner = owners[i]
        if (owner) this.settled.push(() => owner.resolve(results[i]!))
      }
      run = []
      owners = []
    }
    for (const e of ents) {
      if (e.index <= this.appliedIndex) continue
      if (e.type === EntryType.ConfChange) {
        await flush()
        this.applyConfChange(e)
      } else if (e.data.length >= ID_BYTES) {
        const id = this.ownId(e.data)
        let owner: Waiter<R> | undefined
        if (id !== undefined) {
          owner = this.proposals.get(id)
          this.proposals.delete(id)
        }
        run.push({ index: e.index, term: e.term, data: e.data.subarray(ID_BYTES) })
        owners.push(owner)
      }
      // Empty entries are leaders' no-ops: nothing to apply.
      this.appliedIndex = e.index
    }
    await flush()
  }

  private applyConfChange(e: Entry): void {
    const cc: ConfChange = decodeConfChange(e.data)
    this.confState = this.node.applyConfChange(cc)
    const ctx = cc.context
    let owner: Waiter<ConfState> | undefined
    if (ctx && ctx.length >= ID_BYTES) {
      const id = this.ownId(ctx)
      if (id !== undefined) {
        owner = this.confWaiters.get(id)
        this.confWaiters.delete(id)
      }
      const address = new TextDecoder().decode(ctx.subarray(ID_BYTES))
      if (cc.type !== ConfChangeType.RemoveNode && address) {
        this.members.set(cc.nodeId, { id: cc.nodeId, address })
        if (cc.nodeId !== this.id) this.transport.addPeer(cc.nodeId, address)
      }
    }
    if (cc.type === ConfChangeType.RemoveNode) {
      this.members.delete(cc.nodeId)
      if (cc.nodeId !== this.id) this.transport.removePeer(cc.nodeId)
      else this.emit('removed')
    }
    this.logger.info({ confState: this.confState }, `applied conf change ${ConfChangeType[cc.type]} ${cc.nodeId}`)
    const confState = this.confState
    if (owner) this.settled.push(() => owner.resolve(confState))
  }

  private releaseReads(): void {
    for (const [key, r] of this.reads) {
      if (r.index === undefined || r.index > this.appliedIndex) continue
      this.reads.delete(key)
      for (const w of r.waiters) w.resolve(r.index)
    }
  }

  private async takeSnapshot(): Promise<void> {
    // Inside the Ready loop nothing is applied meanwhile: `app` is the state at `index`.
    const index = this.appliedIndex
    const app = await this.sm.snapshot()
    const term = this.log.storage.term(index)
    const data = wrapSnapshot([...this.members.values()], app)
    await this.log.compact({ metadata: { index, term, confState: this.confState }, data })
    this.snapshotIndex = index
    this.logger.info(`snapshot taken at index ${index}`)
  }

  private loadSnapshotEnvelope(s: Snapshot): void {
    const { members } = unwrapSnapshot(s.data)
    this.confState = s.metadata.confState
    for (const old of this.members.keys()) {
      if (!members.some((m) => m.id === old) && old !== this.id) this.transport?.removePeer(old)
    }
    this.members.clear()
    for (const m of members) {
      this.members.set(m.id, m)
      if (m.id !== this.id) this.transport?.addPeer(m.id, m.address)
    }
  }

  private failAll(err: Error): void {
    for (const w of this.proposals.values()) w.reject(err)
    this.proposals.clear()
    for (const w of this.confWaiters.values()) w.reject(err)
    this.confWaiters.clear()
    for (const r of this.reads.values()) for (const w of r.waiters) w.reject(err)
    this.reads.clear()
    for (const w of this.readsToSend) w.reject(err)
    this.readsToSend = []
    this.queued = []
  }
}
