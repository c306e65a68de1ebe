import { decodeConfChange } from '../../../src/raft/confchange.js'
import { ProposalDroppedError } from '../../../src/raft/errors.js'
import { ReadOnlyOption } from '../../../src/raft/read-only.js'
import { RawNode } from '../../../src/raft/rawnode.js'
import { MemoryStorage } from '../../../src/raft/storage.js'
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  type Ready,
  StateType,
} from '../../../src/raft/types.js'
import { ReadChecker, SafetyChecker } from './checker.js'
import type { Rng } from './rng.js'

export interface NetworkOptions {
  /** Probability a message is lost. */
  drop: number
  /** Probability a message is delivered twice. */
  duplicate: number
  /** Messages take 1..maxDelay steps; different delays reorder them. */
  maxDelay: number
}

interface InFlight {
  at: number
  seq: number
  m: Message
}

interface PendingRead {
  ctx: string
  ackedBefore: Set<string>
  index: number | undefined
}

const enc = new TextEncoder()
const dec = new TextDecoder()

/**
 * One simulated member: raft plus a toy state machine (the set of applied values). Its
 * MemoryStorage is its disk: it survives crashes; everything else is rebuilt on restart.
 */
class SimNode {
  node!: RawNode
  alive = true
  state = new Set<string>()
  appliedIndex = 0
  confState: ConfState = { voters: [], learners: [] }
  /** Values proposed here and not yet applied here: the client is waiting. */
  waiting = new Set<string>()
  reads: PendingRead[] = []
  /** The Ready being written to disk, if any. */
  writing: { rd: Ready; doneAt: number } | undefined

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    private readonly rng: Rng,
    readonly opts: SimOptions,
  ) {}

  start(): void {
    this.node = new RawNode({
      id: this.id,
      electionTick: 10,
      heartbeatTick: 1,
      storage: this.storage,
      checkQuorum: this.opts.checkQuorum,
      preVote: this.opts.preVote,
      readOnlyOption: ReadOnlyOption.Safe,
      maxSizePerMsg: 4096,
      maxInflightMsgs: 8,
      random: () => this.rng.next(),
    })
    const snap = this.storage.snapshot()
    this.confState = snap.metadata.confState
    this.state = snap.metadata.index > 0 ? new Set(JSON.parse(dec.decode(snap.data)) as string[]) : new Set()
    this.appliedIndex = snap.metadata.index
    this.waiting.clear()
    this.reads = []
    this.writing = undefined
  }
}

export interface SimOptions {
  preVote: boolean
  checkQuorum: boolean
  /** Probability that a node crashes after persisting a Ready, before sending it. */
  crashMidReady: number
  /** A Ready's write takes 0..maxWriteSteps steps, during which the node runs on. */
  maxWriteSteps: number
}

/**
 * N raft nodes on a seeded, lossy, reordering network. Everything — delivery order,
 * drops, timeouts — derives from one Rng, so a seed replays a run step by step.
 */
export class SimCluster {
  readonly nodes = new Map<NodeId, SimNode>()
  readonly safety = new SafetyChecker()
  readonly readsChecker = new ReadChecker()
  /** Writes some client was told succeeded. */
  readonly acked = new Set<string>()
  private inflight: InFlight[] = []
  private seq = 0
  now = 0
  private partition: Map<NodeId, number> | undefined
  private nextValue = 0
  private nextRead = 0
  stats = { delivered: 0, dropped: 0, elections: 0, snapshots: 0, restarts: 0, proposals: 0, readsServed: 0, confChanges: 0 }
  /** The configuration as committed (first applied anywhere). */
  readonly voters: Set<NodeId>
  readonly learners = new Set<NodeId>()
  /** Removed members are stopped for good; etcd never reuses a removed member's id. */
  readonly removed = new Set<NodeId>()
  private nextId: NodeId

  constructor(
    ids: NodeId[],
    private readonly rng: Rng,
    public net: NetworkOptions,
    readonly opts: SimOptions,
  ) {
    this.voters = new Set(ids)
    this.nextId = Math.max(...ids) + 1
    for (const id of ids) {
      const n = new SimNode(id, new MemoryStorage(), rng.fork(), opts)
      n.start()
      n.node.bootstrap(ids)
      this.nodes.set(id, n)
    }
  }

  /** Current members, voters and learners. */
  members(): NodeId[] {
    return [...this.voters, ...this.learners].sort((a, b) => a - b)
  }

  /** Crash one more voter only while a majority of voters stays up, so the run can progress. */
  canCrash(): boolean {
    const up = [...this.voters].filter((id) => this.nodes.get(id)?.alive).length
    return up > Math.floor(this.voters.size / 2) + 1
  }

  node(id: NodeId): SimNode {
    return this.nodes.get(id)!
  }

  leaders(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive && n.node.raft.state === StateType.Leader)
  }

  alive(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive)
  }

  // ---- faults ---------------------------------------------------------------------

  /** Split the nodes into groups; messages between groups are lost. */
  partitionInto(groups: NodeId[][]): void {
    this.partition = new Map()
    groups.forEach((g, i) => g.forEach((id) => this.partition!.set(id, i)))
  }

  heal(): void {
    this.partition = undefined
  }

  private connected(a: NodeId, b: NodeId): boolean {
    return this.partition === undefined || this.partition.get(a) === this.partition.get(b)
  }

  /** Lose everything not on the node's disk: memory, pending client requests, unsent messages. */
  crash(id: NodeId): void {
    const n = this.node(id)
    n.alive = false
  }

  restart(id: NodeId): void {
    if (this.removed.has(id)) return
    const n = this.node(id)
    n.start()
    n.alive = true
    this.stats.restarts++
  }

  // ---- clients --------------------------------------------------------------------

  propose(id: NodeId): void {
    const n = this.node(id)
    if (!n.alive) return
    const v = `v${this.nextValue++}`
    try {
      n.node.propose(enc.encode(v))
      n.waiting.add(v)
      this.stats.proposals++
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err
    }
  }

  read(id: NodeId): void {
    const n = this.node(id)
    if (!n.alive) return
    const ctx = `r${this.nextRead++}`
    n.reads.push({ ctx, ackedBefore: new Set(this.acked), index: undefined })
    n.node.readIndex(enc.encode(ctx))
  }

  transfer(id: NodeId, to: NodeId): void {
    const n = this.node(id)
    if (n.alive) n.node.transferLeadership(to)
  }

  /**
   * Ask the leader to change the membership. A new member starts empty (it joins: no
   * bootstrap) as soon as it is proposed, as an operator starts it after MemberAdd.
   */
  changeMembership(type: ConfChangeType, nodeId?: NodeId): void {
    const leader = this.leaders()[0]
    if (!leader) return
    const id = nodeId ?? this.nextId
    try {
      leader.node.proposeConfChange({ type, nodeId: id })
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err
      return
    }
    if (!this.nodes.has(id)) {
      this.nextId = id + 1
      const n = new SimNode(id, new MemoryStorage(), this.rng.fork(), this.opts)
      n.start()
      this.nodes.set(id, n)
    }
  }

  /** The node snapshots its state machine and discards most of its log. */
  compact(id: NodeId, keep: number): void {
    const n = this.node(id)
    if (!n.alive || n.appliedIndex <= n.storage.snapshot().metadata.index + keep) return
    n.storage.createSnapshot(n.appliedIndex, n.confState, enc.encode(JSON.stringify([...n.state])))
    n.storage.compact(n.appliedIndex - keep)
    this.stats.snapshots++
  }

  // ---- time -----------------------------------------------------------------------

  tick(): void {
    for (const n of this.alive()) n.node.tick()
  }

  /** Advance one step: deliver what is due, then let every node process its Ready. */
  step(): void {
    this.now++
    const due = this.inflight.filter((f) => f.at <= this.now)
    if (due.length > 0) {
      this.inflight = this.inflight.filter((f) => f.at > this.now)
      due.sort((a, b) => a.at - b.at || a.seq - b.seq)
      for (const f of due) this.deliver(f.m)
    }
    for (const n of this.alive()) {
      // A node may produce several Readys in a row (e.g. after applying a conf change).
      for (let i = 0; i < 4 && n.alive; i++) {
        if (n.writing) {
          if (n.writing.doneAt > this.now) break
          this.finishReady(n, n.writing.rd)
        } else if (n.node.hasReady()) {
          this.startReady(n)
        } else {
          break
        }
      }
    }
  }

  /**
   * The stored snapshot may predate the recipient's membership (a member added since),
   * and raft refuses a snapshot that does not name it: send the state as applied now
   * with today's configuration, as etcd's server (and our RaftNode) do.
   */
  private outgoing(n: SimNode, m: Message): Message {
    if (m.type !== MessageType.Snap) return m
    const index = n.appliedIndex
    const snapshot = {
      metadata: { index, term: n.node.raft.raftLog.term(index), confState: n.confState },
      data: enc.encode(JSON.stringify([...n.state])),
    }
    return { ...m, snapshot }
  }

  private deliver(m: Message): void {
    const to = this.nodes.get(m.to)
    if (!to || !to.alive) return
    this.stats.delivered++
    to.node.step(m)
  }

  private send(m: Message): void {
    if (!this.connected(m.from, m.to) || this.rng.chance(this.net.drop)) {
      this.stats.dropped++
      if (m.type === MessageType.Snap) this.node(m.from).node.reportSnapshot(m.to, false)
      return
    }
    const copies = this.rng.chance(this.net.duplicate) ? 2 : 1
    for (let c = 0; c < copies; c++) {
      this.inflight.push({ at: this.now + 1 + this.rng.int(this.net.maxDelay), seq: this.seq++, m })
    }
    if (m.type === MessageType.Snap) this.node(m.from).node.reportSnapshot(m.to, true)
  }

  /**
   * Take a Ready and start "writing" it. The write completes after a random number of
   * steps (as an fsync does), and the node keeps receiving messages meanwhile, exactly
   * as the real driver; a crash before it completes loses it.
   */
  private startReady(n: SimNode): void {
    const rd: Ready = n.node.ready()
    const raft = n.node.raft
    if (rd.softState?.state === StateType.Leader) {
      this.stats.elections++
      this.safety.leaderElected(n.id, raft.term)
      const log = raft.raftLog
      this.safety.leaderComplete(n.id, raft.term, log.lastIndex(), (i) => {
        if (i < log.firstIndex()) return undefined
        return log.term(i)
      })
    }
    // A leader's appends go out at once; its own copy reaches disk later.
    if (rd.sendBeforePersist) for (const m of rd.messages) this.send(this.outgoing(n, m))
    n.writing = { rd, doneAt: this.now + this.rng.int(this.opts.maxWriteSteps + 1) }
    if (n.writing.doneAt <= this.now) this.finishReady(n, rd)
  }

  private finishReady(n: SimNode, rd: Ready): void {
    n.writing = undefined
    // 1. Persist.
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot)
    if (rd.hardState) n.storage.setHardState(rd.hardState)
    n.storage.append(rd.entries)
    for (const e of rd.entries) {
      let prev: number | undefined
      try {
        prev = e.index - 1 >= n.storage.firstIndex() - 1 ? n.storage.term(e.index - 1) : undefined
      } catch {
        prev = undefined
      }
      this.safety.entryPersisted(n.id, e, prev)
    }
    // 2. Send.
    if (!rd.sendBeforePersist) {
      // Persisted but never sent: peers must cope with a node that forgot to talk.
      if (this.rng.chance(this.opts.crashMidReady) && this.canCrash()) {
        return this.crash(n.id)
      }
      for (const m of rd.messages) this.send(this.outgoing(n, m))
    }
    // 3. Apply.
    if (rd.snapshot) {
      n.state = new Set(JSON.parse(dec.decode(rd.snapshot.data)) as string[])
      n.appliedIndex = rd.snapshot.metadata.index
      n.confState = rd.snapshot.metadata.confState
    }
    for (const e of rd.committedEntries) this.apply(n, e)
    for (const rs of rd.readStates) {
      const r = n.reads.find((x) => x.ctx === dec.decode(rs.requestCtx))
      if (r && r.index === undefined) r.index = rs.index
    }
    n.node.advance()
    this.serveReads(n)
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index <= n.appliedIndex) return // covered by a snapshot we already applied
    if (e.index !== n.appliedIndex + 1) throw new Error(`node ${n.id} applies ${e.index} after ${n.appliedIndex}`)
    const firstApply = !this.safety.committed.has(e.index)
    this.safety.entryApplied(n.id, e)
    n.appliedIndex = e.index
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data)
      n.confState = n.node.applyConfChange(cc)
      if (firstApply) this.committedConfChange(cc)
      return
    }
    if (e.data.length === 0) return // a leader's no-op
    const v = dec.decode(e.data)
    n.state.add(v)
    if (n.waiting.delete(v)) this.acked.add(v)
  }

  /** Track the configuration as committed; a removed member is stopped for good. */
  private committedConfChange(cc: ConfChange): void {
    this.stats.confChanges++
    switch (cc.type) {
      case ConfChangeType.AddNode:
        this.learners.delete(cc.nodeId)
        this.voters.add(cc.nodeId)
        return
      case ConfChangeType.AddLearnerNode:
        if (!this.voters.has(cc.nodeId)) this.learners.add(cc.nodeId)
        return
      case ConfChangeType.RemoveNode: {
        this.voters.delete(cc.nodeId)
        this.learners.delete(cc.nodeId)
        this.removed.add(cc.nodeId)
        const gone = this.nodes.get(cc.nodeId)
        if (gone) gone.alive = false
        return
      }
    }
  }

  private serveReads(n: SimNode): void {
    const keep: PendingRead[] = []
    for (const r of n.reads) {
      if (r.index !== undefined && n.appliedIndex >= r.index) {
        this.readsChecker.check(n.id, r.ackedBefore, n.state)
        this.stats.readsServed++
      } else {
        keep.push(r)
      }
    }
    n.reads = keep
  }

  /** Steps until there are no messages in flight (bounded). */
  settle(maxSteps = 200): void {
    for (let i = 0; i < maxSteps && (this.inflight.length > 0 || this.alive().some((n) => n.node.hasReady())); i++) this.step()
  }
}
