import { encodeConfChange } from './confchange.js'
import { ProposalDroppedError } from './errors.js'
import { type Config, Raft } from './raft.js'
import type { MemoryStorage } from './storage.js'
import type { Progress } from './tracker/progress.js'
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  NONE,
  type NodeId,
  type Ready,
  type SoftState,
  StateType,
  isEmptyHardState,
  isLocalMessage,
  isResponseMessage,
  message,
} from './types.js'

export interface Status {
  id: NodeId
  term: number
  vote: NodeId
  commit: number
  lead: NodeId
  state: StateType
  applied: number
  leadTransferee: NodeId
  /** Leader only: each member's replication progress. */
  progress?: Map<NodeId, Progress>
  confState: ConfState
}

/**
 * The caller's handle on a Raft: it drives time and input in, and takes the work the
 * core produced out as a Ready. Not thread-safe and not asynchronous: one Ready at a
 * time, acknowledged by advance() after the caller persisted, sent and applied it.
 */
export class RawNode {
  readonly raft: Raft
  private prevSoftState: SoftState
  private prevHardState: HardState
  private pending: Ready | undefined

  constructor(config: Config) {
    this.raft = new Raft(config)
    this.prevSoftState = this.raft.softState()
    this.prevHardState = this.raft.hardState()
  }

  /**
   * Start a brand-new cluster: every initial member writes the same ConfChange entries
   * at term 1, so their logs agree from the first index. Only on empty storage.
   */
  bootstrap(peers: NodeId[]): void {
    if (peers.length === 0) throw new Error('raft: must provide at least one peer to bootstrap')
    if (this.raft.raftLog.lastIndex() !== 0) throw new Error('raft: can\'t bootstrap a nonempty Storage')
    this.raft.becomeFollower(1, NONE)
    const ents: Entry[] = peers.map((id, i) => ({
      term: 1,
      index: i + 1,
      type: EntryType.ConfChange,
      data: encodeConfChange({ type: ConfChangeType.AddNode, nodeId: id }),
    }))
    this.raft.raftLog.append(ents)
    // They are committed by construction (every member has them) and applied here,
    // so the application may skip ConfChange entries it meets at these indexes.
    this.raft.raftLog.committed = ents.length
    for (const id of peers) this.raft.applyConfChange({ type: ConfChangeType.AddNode, nodeId: id })
    this.prevHardState = { term: 0, vote: NONE, commit: 0 }
  }

  tick(): void {
    this.raft.tick()
  }

  campaign(): void {
    this.raft.step(message({ type: MessageType.Hup }))
  }

  /** Throws ProposalDroppedError when this node cannot take a proposal now. */
  propose(data: Uint8Array): void {
    this.raft.step(message({ type: MessageType.Prop, from: this.raft.id, entries: [{ term: 0, index: 0, type: EntryType.Normal, data }] }))
  }

  /** Propose several entries in one message: they share one append and one MsgApp. */
  proposeBatch(datas: Uint8Array[]): void {
    if (datas.length === 0) return
    const entries = datas.map((data) => ({ term: 0, index: 0, type: EntryType.Normal, data }))
    this.raft.step(message({ type: MessageType.Prop, from: this.raft.id, entries }))
  }

  proposeConfChange(cc: ConfChange): void {
    this.raft.step(
      message({
        type: MessageType.Prop,
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) }],
      }),
    )
  }

  /** Apply a committed ConfChange entry's change; call it when the entry is applied. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc)
  }

  /** Input from a peer. Local message types are refused: they are not for the wire. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new Error(`raft: cannot step raft local message ${MessageType[m.type]}`)
    if (isResponseMessage(m.type) && !this.raft.prs.progress.has(m.from)) {
      return // a response from a member that is no longer one
    }
    try {
      this.raft.step(m)
    } catch (err) {
      // A proposal forwarded by a follower may be dropped here; its proposer times out.
      if (!(err instanceof ProposalDroppedError)) throw err
    }
  }

  /**
   * Ask for a linearizable read: a ReadState with `ctx` appears in a later Ready once the
   * leader has confirmed its leadership; the read may be served when applied ≥ its index.
   */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(message({ type: MessageType.ReadIndex, context: ctx }))
  }

  transferLeadership(transferee: NodeId): void {
    this.raft.step(message({ type: MessageType.TransferLeader, from: transferee }))
  }

  /** The transport could not deliver to `id`: stop optimistic replication to it. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(message({ type: MessageType.Unreachable, from: id }))
  }

  /** The transport finished sending a snapshot to `id` (ok) or gave up (not ok). */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(message({ type: MessageType.SnapStatus, from: id, reject: !ok }))
  }

  hasReady(): boolean {
    const r = this.raft
    const ss = r.softState()
    if (ss.lead !== this.prevSoftState.lead || ss.state !== this.prevSoftState.state) return true
    const hs = r.hardState()
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true
    if (r.raftLog.hasPendingSnapshot()) return true
    if (r.msgs.length > 0 || r.raftLog.unstableEntries().length > 0 || r.raftLog.hasNextEnts()) return true
    return r.readStates.length > 0
  }

  /** What to persist, send and apply now. Call advance() once it is done, before the next ready(). */
  ready(): Ready {
    if (this.pending) throw new Error('raft: ready() called again before advance()')
    const r = this.raft
    const rd: Ready = {
      readStates: r.readStates,
      entries: r.raftLog.unstableEntries().slice(),
      committedEntries: r.raftLog.nextEnts(),
      messages: r.msgs,
      mustSync: false,
      sendBeforePersist: false,
    }
    const ss = r.softState()
    if (ss.lead !== this.prevSoftState.lead || ss.state !== this.prevSoftState.state) {
      rd.softState = ss
      this.prevSoftState = ss
    }
    const hs = r.hardState()
    if (!hardStateEqual(hs, this.prevHardState)) {
      rd.hardState = hs
      // Only term and vote changes need fsync before the messages go out; a commit
      // index lost in a crash is learned again from the leader.
      rd.mustSync = hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote
    }
    if (rd.entries.length > 0) rd.mustSync = true
    // Votes and terms must be durable before anyone hears of them. A leader's appends
    // need not be (thesis §10.2.1): it may count its own unwritten entries toward a
    // commit, but that commit index leaves only with the next Ready, after this one
    // has been written.
    rd.sendBeforePersist = r.state === StateType.Leader && hs.term === this.prevHardState.term && hs.vote === this.prevHardState.vote
    if (r.raftLog.hasPendingSnapshot()) {
      rd.snapshot = r.raftLog.unstable.snapshot
      rd.mustSync = true
    }
    r.msgs = []
    r.readStates = []
    this.pending = rd
    return rd
  }

  /** The caller persisted, sent and applied everything in the last Ready. */
  advance(): void {
    const rd = this.pending
    if (!rd) throw new Error('raft: advance() without ready()')
    this.pending = undefined
    const r = this.raft
    if (rd.hardState) this.prevHardState = rd.hardState
    // An installed snapshot counts as applied up to its index.
    if (rd.snapshot) r.raftLog.appliedTo(rd.snapshot.metadata.index)
    if (rd.committedEntries.length > 0) {
      r.raftLog.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index)
      r.reduceUncommittedSize(rd.committedEntries)
    }
    if (rd.entries.length > 0) {
      const e = rd.entries[rd.entries.length - 1]!
      r.raftLog.stableTo(e.index, e.term)
    }
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index)
  }

  status(): Status {
    const r = this.raft
    const s: Status = {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.raftLog.committed,
      lead: r.lead,
      state: r.state,
      applied: r.raftLog.applied,
      leadTransferee: r.leadTransferee,
      confState: r.prs.confState(),
    }
    if (r.state === StateType.Leader) s.progress = new Map(r.prs.progress)
    return s
  }
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}

/** Convenience for tests and simple drivers: persist a Ready into a MemoryStorage. */
export function persistToMemory(storage: MemoryStorage, rd: Ready): void {
  if (rd.snapshot) storage.applySnapshot(rd.snapshot)
  if (rd.hardState) storage.setHardState(rd.hardState)
  storage.append(rd.entries)
}
