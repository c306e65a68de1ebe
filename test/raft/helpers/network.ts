// A tiny deterministic in-memory network for unit tests of the raft core, in the
// spirit of etcd-io/raft's `network`: nodes are RawNodes over MemoryStorage, every
// Ready is persisted, sent and applied at once, and `send` delivers messages
// synchronously, first in first out, until the network is quiet. Partitions, drops
// and filters decide which messages arrive; all randomness is seeded.
//
// Every entry any node applies is checked against what other nodes applied at the
// same index, so each test also checks State Machine Safety (Raft §5.4.3).

import { decodeConfChange } from '../../../src/raft/confchange.js'
import { type Config, Raft } from '../../../src/raft/raft.js'
import { RawNode, persistToMemory } from '../../../src/raft/rawnode.js'
import { MemoryStorage } from '../../../src/raft/storage.js'
import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  NONE,
  type NodeId,
  type ReadState,
  type Snapshot,
  StateType,
  isLocalMessage,
  message,
} from '../../../src/raft/types.js'

export const ELECTION_TICK = 10
export const HEARTBEAT_TICK = 1

/** Everything in a Config except who the node is and where its log lives. */
export type NodeConfig = Partial<Omit<Config, 'id' | 'storage'>>

/** mulberry32: a small, fast, seedable PRNG returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
export const text = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Entries at consecutive indexes starting at `first`, one per term given (etcd's index(i).terms(...)). */
export function ents(first: number, ...terms: number[]): Entry[] {
  return terms.map((term, i) => ({ term, index: first + i, type: EntryType.Normal, data: new Uint8Array(0) }))
}

/** [index, term] pairs: the shape of a log, easy to compare in assertions. */
export function shape(es: Entry[]): Array<[number, number]> {
  return es.map((e) => [e.index, e.term])
}

/** A Raft over `storage` (or a fresh MemoryStorage with `peers` as voters), etcd test defaults. */
export function newTestRaft(id: NodeId, storageOrPeers: MemoryStorage | NodeId[], cfg: NodeConfig = {}): Raft {
  const storage = Array.isArray(storageOrPeers) ? MemoryStorage.withPeers(storageOrPeers) : storageOrPeers
  return new Raft({
    id,
    storage,
    electionTick: ELECTION_TICK,
    heartbeatTick: HEARTBEAT_TICK,
    maxInflightMsgs: 256,
    random: seededRandom(id * 7919),
    ...cfg,
  })
}

/** Take the messages a Raft produced since the last call. */
export function readMessages(r: Raft): Message[] {
  const msgs = r.msgs
  r.msgs = []
  return msgs
}

/** The answer a follower that accepted MsgApp `m` would give. */
export function acceptAndReply(m: Message): Message {
  if (m.type !== MessageType.App) throw new Error('acceptAndReply: not a MsgApp')
  return message({ type: MessageType.AppResp, from: m.to, to: m.from, term: m.term, index: m.index + m.entries.length })
}

/** Make a fresh leader's no-op entry committed, persisted and applied, as etcd's commitNoopEntry. */
export function commitNoopEntry(r: Raft, storage: MemoryStorage): void {
  if (r.state !== StateType.Leader) throw new Error('commitNoopEntry: not the leader')
  r.bcastAppend()
  for (const m of readMessages(r)) {
    if (m.type !== MessageType.App || m.entries.length !== 1 || m.entries[0]!.data.length !== 0) {
      throw new Error('commitNoopEntry: not a message to append the no-op')
    }
    r.step(acceptAndReply(m))
  }
  readMessages(r) // commit index refreshes for followers
  storage.append(r.raftLog.unstableEntries())
  r.raftLog.appliedTo(r.raftLog.committed)
  const last = r.raftLog.lastIndex()
  r.raftLog.stableTo(last, r.raftLog.term(last))
}

/** One member of a Network: a RawNode, its storage, and a trivial state machine (the applied entries). */
export class TestNode {
  rawNode: RawNode
  /** Every entry applied, in order (no-ops and conf changes included). */
  applied: Entry[] = []
  /** Index of the last entry (or snapshot) applied. */
  appliedIndex: number
  /** Membership as of appliedIndex. */
  confState: ConfState
  readStates: ReadState[] = []
  snapshotsApplied: Snapshot[] = []
  /** Apply committed ConfChange entries to raft as they are applied (what an application does). */
  applyConfChanges = true

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    readonly config: Config,
    private readonly net: Network,
  ) {
    this.rawNode = new RawNode(config)
    const { confState } = storage.initialState()
    this.confState = { voters: [...confState.voters], learners: [...confState.learners] }
    this.appliedIndex = storage.snapshot().metadata.index
  }

  get raft(): Raft {
    return this.rawNode.raft
  }

  /** Handle every pending Ready: persist, collect the messages, apply, advance. */
  process(): Message[] {
    const out: Message[] = []
    const rn = this.rawNode
    while (rn.hasReady()) {
      const rd = rn.ready()
      persistToMemory(this.storage, rd)
      out.push(...rd.messages)
      if (rd.snapshot) {
        this.snapshotsApplied.push(rd.snapshot)
        this.appliedIndex = rd.snapshot.metadata.index
        const cs = rd.snapshot.metadata.confState
        this.confState = { voters: [...cs.voters], learners: [...cs.learners] }
      }
      for (const e of rd.committedEntries) this.apply(e)
      this.readStates.push(...rd.readStates)
      rn.advance()
    }
    return out
  }

  private apply(e: Entry): void {
    if (e.index !== this.appliedIndex + 1) {
      throw new Error(`node ${this.id} applied entry ${e.index} after ${this.appliedIndex}: entries must apply in order`)
    }
    this.net.checkSafety(this.id, e)
    this.applied.push(e)
    this.appliedIndex = e.index
    if (e.type === EntryType.ConfChange && this.applyConfChanges) {
      this.confState = this.rawNode.applyConfChange(decodeConfChange(e.data))
    }
  }

  /** Snapshot the state machine at appliedIndex and discard the log up to it (MemoryStorage.createSnapshot + compact). */
  compact(): Snapshot {
    const snap = this.storage.createSnapshot(this.appliedIndex, this.confState, bytes(`applied=${this.appliedIndex}`))
    this.storage.compact(this.appliedIndex)
    return snap
  }

  /** Data of the applied Normal entries that carry any (no-ops and conf changes left out). */
  appliedData(): string[] {
    return this.applied.filter((e) => e.type === EntryType.Normal && e.data.length > 0).map((e) => text(e.data))
  }
}

export interface NetworkOptions {
  voters: NodeId[]
  learners?: NodeId[]
  /**
   * Members that have no running node (etcd's nopStepper): messages to them vanish.
   * Tests may still inject messages from them.
   */
  blackholes?: NodeId[]
  /** Applied to every node; `configFor` may override per node. */
  config?: NodeConfig
  configFor?: (id: NodeId) => NodeConfig
  /** Start a node from this storage instead of an empty log with the initial membership. */
  storageFor?: (id: NodeId) => MemoryStorage | undefined
  seed?: number
}

const linkKey = (a: NodeId, b: NodeId): string => `${a}->${b}`

export class Network {
  readonly nodes = new Map<NodeId, TestNode>()
  /** Storage of stopped (crashed) nodes, kept for restart(). */
  private readonly stopped = new Map<NodeId, { storage: MemoryStorage; config: Config }>()
  private readonly isolated = new Set<NodeId>()
  private readonly cuts = new Set<string>()
  private readonly dropRates = new Map<string, number>()
  private readonly ignored = new Set<MessageType>()
  private readonly random: () => number
  /** Return false to drop a message (after partitions and drops were applied). */
  msgHook: ((m: Message) => boolean) | undefined
  /** Every message delivered, in order. */
  readonly delivered: Message[] = []
  /** Every message the network dropped, in order. */
  readonly dropped: Message[] = []
  /** The entry applied at each index by anyone: two nodes never apply different ones. */
  private readonly appliedAt = new Map<number, { term: number; data: string; by: NodeId }>()
  readonly initialConf: ConfState

  constructor(private readonly opts: NetworkOptions) {
    this.random = seededRandom(opts.seed ?? 1)
    this.initialConf = { voters: [...opts.voters], learners: [...(opts.learners ?? [])] }
    const blackholes = new Set(opts.blackholes ?? [])
    for (const id of [...opts.voters, ...(opts.learners ?? [])]) {
      if (!blackholes.has(id)) this.addNode(id, opts.storageFor?.(id))
    }
  }

  /** Start a node (e.g. one about to be added to the cluster). By default its log is empty and its membership the initial one. */
  addNode(id: NodeId, storage?: MemoryStorage, cfg: NodeConfig = {}): TestNode {
    const st = storage ?? MemoryStorage.withPeers(this.initialConf.voters, this.initialConf.learners)
    const config: Config = {
      id,
      storage: st,
      electionTick: ELECTION_TICK,
      heartbeatTick: HEARTBEAT_TICK,
      random: seededRandom((this.opts.seed ?? 1) * 1000003 + id * 7919),
      ...this.opts.config,
      ...this.opts.configFor?.(id),
      ...cfg,
    }
    const n = new TestNode(id, st, config, this)
    this.nodes.set(id, n)
    return n
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id)
    if (!n) throw new Error(`no running node ${id}`)
    return n
  }

  raft(id: NodeId): Raft {
    return this.node(id).raft
  }

  /** The node every running node that knows a leader agrees on, if there is one leader. */
  leader(): NodeId {
    const leaders = [...this.nodes.values()].filter((n) => n.raft.state === StateType.Leader)
    if (leaders.length === 0) return NONE
    // With partitions, a stale leader may linger in an older term: the newest term wins.
    leaders.sort((a, b) => b.raft.term - a.raft.term)
    return leaders[0]!.id
  }

  // ---- faults -------------------------------------------------------------------------

  /** Cut `id` off from everyone (both directions). */
  isolate(id: NodeId): void {
    this.isolated.add(id)
  }

  /** Drop every message between a and b, both directions. */
  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(linkKey(a, b))
    this.cuts.add(linkKey(b, a))
  }

  /** Drop a fraction `perc` (0..1) of the messages from `from` to `to`, chosen by the seeded PRNG. */
  drop(from: NodeId, to: NodeId, perc: number): void {
    this.dropRates.set(linkKey(from, to), perc)
  }

  /** Drop every message of this type. */
  ignore(type: MessageType): void {
    this.ignored.add(type)
  }

  /** Heal all partitions, drops and ignores (the msgHook stays). */
  recover(): void {
    this.isolated.clear()
    this.cuts.clear()
    this.dropRates.clear()
    this.ignored.clear()
  }

  /** Crash a node: it stops, messages to it vanish; only what it persisted survives. */
  stop(id: NodeId): void {
    const n = this.node(id)
    this.stopped.set(id, { storage: n.storage, config: n.config })
    this.nodes.delete(id)
  }

  /** Restart a stopped node from its storage; its state machine starts empty and re-applies. */
  restart(id: NodeId, cfg: NodeConfig = {}): TestNode {
    const s = this.stopped.get(id)
    if (!s) throw new Error(`node ${id} is not stopped`)
    this.stopped.delete(id)
    const n = new TestNode(id, s.storage, { ...s.config, ...cfg, storage: s.storage }, this)
    this.nodes.set(id, n)
    this.send(n.process())
    return n
  }

  private shouldDrop(m: Message): boolean {
    if (m.from === m.to) return false
    if (this.isolated.has(m.from) || this.isolated.has(m.to)) return true
    if (this.cuts.has(linkKey(m.from, m.to))) return true
    if (this.ignored.has(m.type)) return true
    const perc = this.dropRates.get(linkKey(m.from, m.to))
    if (perc !== undefined && this.random() < perc) return true
    if (this.msgHook && !this.msgHook(m)) return true
    return false
  }

  // ---- driving --------------------------------------------------------------------

  /** Deliver messages (and everything they cause) until the network is quiet. */
  send(msgs: Message[]): void {
    const queue = [...msgs]
    let steps = 0
    while (queue.length > 0) {
      if (++steps > 1_000_000) throw new Error('network did not quiesce')
      const m = queue.shift()!
      if (this.shouldDrop(m)) {
        this.dropped.push(m)
        continue
      }
      const n = this.nodes.get(m.to)
      if (!n) {
        this.dropped.push(m)
        continue
      }
      this.delivered.push(m)
      // Local messages (MsgHup, MsgBeat, …) go straight into the state machine, as
      // etcd's tests do; everything else through RawNode.step like the transport
      // (which drops a forwarded proposal the leader refuses).
      if (isLocalMessage(m.type)) n.raft.step(m)
      else n.rawNode.step(m)
      queue.push(...n.process())
    }
  }

  /** Process every node's pending Ready and deliver the results. */
  flush(): void {
    const out: Message[] = []
    for (const id of this.ids()) out.push(...this.node(id).process())
    this.send(out)
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => a - b)
  }

  /** Advance the clock of the given nodes (all by default) by n ticks, delivering after each. */
  tick(n = 1, ids: NodeId[] = this.ids()): void {
    for (let i = 0; i < n; i++) {
      const out: Message[] = []
      for (const id of ids) {
        const node = this.nodes.get(id)
        if (!node) continue
        node.rawNode.tick()
        out.push(...node.process())
      }
      this.send(out)
    }
  }

  /** Tick until `cond` holds (at most `max` ticks); returns the ticks taken. */
  tickUntil(cond: () => boolean, max = 1000, ids?: NodeId[]): number {
    for (let i = 0; i < max; i++) {
      if (cond()) return i
      this.tick(1, ids)
    }
    if (cond()) return max
    throw new Error(`condition not met within ${max} ticks`)
  }

  campaign(id: NodeId): void {
    this.node(id).rawNode.campaign()
    this.send(this.node(id).process())
  }

  /** Propose through RawNode; ProposalDroppedError propagates to the caller. */
  propose(id: NodeId, data: string | Uint8Array): void {
    const n = this.node(id)
    n.rawNode.propose(typeof data === 'string' ? bytes(data) : data)
    this.send(n.process())
  }

  proposeConfChange(id: NodeId, cc: ConfChange): void {
    const n = this.node(id)
    n.rawNode.proposeConfChange(cc)
    this.send(n.process())
  }

  readIndex(id: NodeId, ctx: string): void {
    const n = this.node(id)
    n.rawNode.readIndex(bytes(ctx))
    this.send(n.process())
  }

  transferLeadership(leader: NodeId, transferee: NodeId): void {
    const n = this.node(leader)
    n.rawNode.transferLeadership(transferee)
    this.send(n.process())
  }

  /** Elect `id` (campaign until it leads) and let everything settle. */
  elect(id: NodeId): void {
    this.campaign(id)
    if (this.raft(id).state !== StateType.Leader) throw new Error(`node ${id} did not win the election (state ${this.raft(id).state})`)
  }

  // ---- checks ---------------------------------------------------------------------

  /** State Machine Safety: no two nodes apply different entries at one index. */
  checkSafety(by: NodeId, e: Entry): void {
    const data = `${e.type}:${text(e.data)}`
    const prev = this.appliedAt.get(e.index)
    if (!prev) {
      this.appliedAt.set(e.index, { term: e.term, data, by })
      return
    }
    if (prev.term !== e.term || prev.data !== data) {
      throw new Error(
        `state machine safety violated at index ${e.index}: node ${prev.by} applied (term ${prev.term}, ${prev.data}), node ${by} applied (term ${e.term}, ${data})`,
      )
    }
  }

  /** Count delivered messages matching a predicate. */
  count(pred: (m: Message) => boolean): number {
    return this.delivered.filter(pred).length
  }
}

/** The fields of a message a test usually asserts on, entries as [index, term] pairs. */
export interface MsgSummary {
  type: string
  from: NodeId
  to: NodeId
  term: number
  index?: number
  logTerm?: number
  commit?: number
  reject?: boolean
  rejectHint?: number
  entries?: Array<[number, number]>
}

/** A compact, comparable view of a message: zero/empty fields are left out. */
export function summary(m: Message): MsgSummary {
  const s: MsgSummary = { type: MessageType[m.type]!, from: m.from, to: m.to, term: m.term }
  if (m.index !== 0) s.index = m.index
  if (m.logTerm !== 0) s.logTerm = m.logTerm
  if (m.commit !== 0) s.commit = m.commit
  if (m.reject) s.reject = true
  if (m.rejectHint !== 0) s.rejectHint = m.rejectHint
  if (m.entries.length > 0) s.entries = shape(m.entries)
  return s
}
