import { ProposalDroppedError } from './errors.js'
import { RaftLog } from './log.js'
import { ReadOnly, ReadOnlyOption } from './read-only.js'
import type { Storage } from './storage.js'
import { ProgressState } from './tracker/progress.js'
import { VoteResult } from './tracker/quorum.js'
import { ProgressTracker } from './tracker/tracker.js'
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
  type ReadState,
  type Snapshot,
  type SoftState,
  StateType,
  entrySize,
  message,
} from './types.js'

export interface Logger {
  debug(msg: string): void
  info(msg: string): void
  warn(msg: string): void
}

const silent: Logger = { debug() {}, info() {}, warn() {} }

export interface Config {
  id: NodeId
  /** Ticks without hearing from a leader before a follower campaigns (randomized in [n, 2n)). */
  electionTick: number
  /** Ticks between leader heartbeats. Must be < electionTick. */
  heartbeatTick: number
  storage: Storage
  /** Last applied index, when restarting with an already-applied state machine. */
  applied?: number
  maxSizePerMsg?: number
  maxCommittedSizePerReady?: number
  /** Uncommitted bytes a leader accepts before dropping proposals (0 = unlimited). */
  maxUncommittedEntriesSize?: number
  maxInflightMsgs?: number
  maxInflightBytes?: number
  checkQuorum?: boolean
  preVote?: boolean
  readOnlyOption?: ReadOnlyOption
  disableProposalForwarding?: boolean
  /** Source of randomness for election timeouts; seed it for deterministic tests. */
  random?: () => number
  logger?: Logger
}

export enum CampaignType {
  PreElection = 'CampaignPreElection',
  Election = 'CampaignElection',
  /** A forced election on TimeoutNow: skips pre-vote and the leader lease check. */
  Transfer = 'CampaignTransfer',
}

const TRANSFER_CTX = new TextEncoder().encode(CampaignType.Transfer)

function isTransferCtx(ctx: Uint8Array | undefined): boolean {
  return ctx !== undefined && ctx.length === TRANSFER_CTX.length && ctx.every((b, i) => b === TRANSFER_CTX[i])
}

function voteRespType(t: MessageType): MessageType {
  return t === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp
}

/**
 * The Raft state machine (Ongaro & Ousterhout, plus the thesis' pre-vote, check-quorum,
 * ReadIndex and leadership transfer). Pure: no timers, I/O or clocks — time passes
 * through tick(), input through step(), output accumulates in `msgs` and the log's
 * unstable tail for RawNode to hand out in a Ready.
 */
export class Raft {
  readonly id: NodeId
  term = 0
  vote: NodeId = NONE
  readonly raftLog: RaftLog
  readonly prs: ProgressTracker
  state = StateType.Follower
  lead: NodeId = NONE
  msgs: Message[] = []
  readStates: ReadState[] = []
  /** Set while a leadership transfer is in progress; proposals are refused meanwhile. */
  leadTransferee: NodeId = NONE
  /** Index of the newest conf change the leader appended; only one may be unapplied at a time. */
  pendingConfIndex = 0
  uncommittedSize = 0
  readOnly: ReadOnly
  electionElapsed = 0
  heartbeatElapsed = 0
  randomizedElectionTimeout = 0

  readonly electionTimeout: number
  readonly heartbeatTimeout: number
  readonly checkQuorum: boolean
  readonly preVote: boolean
  readonly maxMsgSize: number
  readonly maxUncommittedSize: number
  readonly disableProposalForwarding: boolean
  private readonly random: () => number
  readonly logger: Logger
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  private pendingReadIndexMessages: Message[] = []

  constructor(c: Config) {
    if (c.id === NONE) throw new Error('raft: cannot use none as id')
    if (c.heartbeatTick <= 0) throw new Error('raft: heartbeat tick must be greater than 0')
    if (c.electionTick <= c.heartbeatTick) throw new Error('raft: election tick must be greater than heartbeat tick')
    const readOnlyOption = c.readOnlyOption ?? ReadOnlyOption.Safe
    if (readOnlyOption === ReadOnlyOption.LeaseBased && !c.checkQuorum) {
      throw new Error('raft: checkQuorum must be enabled when readOnlyOption is LeaseBased')
    }
    this.id = c.id
    this.electionTimeout = c.electionTick
    this.heartbeatTimeout = c.heartbeatTick
    this.checkQuorum = c.checkQuorum ?? false
    this.preVote = c.preVote ?? false
    this.maxMsgSize = c.maxSizePerMsg ?? 1024 * 1024
    this.maxUncommittedSize = c.maxUncommittedEntriesSize ?? 0
    this.disableProposalForwarding = c.disableProposalForwarding ?? false
    this.random = c.random ?? Math.random
    this.logger = c.logger ?? silent
    this.readOnly = new ReadOnly(readOnlyOption)
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady ?? 16 * 1024 * 1024)
    this.prs = new ProgressTracker(c.maxInflightMsgs ?? 256, c.maxInflightBytes ?? 64 * 1024 * 1024)

    const { hardState, confState } = c.storage.initialState()
    this.applyConfState(confState)
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState)
    if (c.applied) this.raftLog.appliedTo(c.applied)
    this.becomeFollower(this.term, NONE)
    this.logger.info(
      `newRaft ${this.id} [peers: [${[...this.prs.voters].join(',')}], term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    )
  }

  softState(): SoftState {
    return { lead: this.lead, state: this.state }
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed }
  }

  /** Only voters that are still members may campaign. */
  promotable(): boolean {
    return this.prs.isVoter(this.id) && !this.raftLog.hasPendingSnapshot()
  }

  // ---- sending --------------------------------------------------------------------

  private send(m: Message): void {
    // A forwarded MsgTransferLeader names its target in `from`: keep it (as etcd does).
    if (m.from === NONE) m.from = this.id
    if (
      m.type === MessageType.Vote ||
      m.type === MessageType.VoteResp ||
      m.type === MessageType.PreVote ||
      m.type === MessageType.PreVoteResp
    ) {
      if (m.term === 0) throw new Error(`term should be set when sending ${MessageType[m.type]}`)
    } else {
      if (m.term !== 0) throw new Error(`term should not be set when sending ${MessageType[m.type]} (was ${m.term})`)
      // Forwarded proposals and read requests carry no term: the leader treats them
      // as local messages whatever term it is in.
      if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) m.term = this.term
    }
    this.msgs.push(m)
  }

  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true)
  }

  /**
   * Send the entries `to` is missing (or a snapshot if we compacted them away).
   * Returns whether a message was sent; nothing is sent to a paused follower.
   */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.progress.get(to)
    if (!pr || pr.isPaused()) return false
    let term: number
    let ents: Entry[]
    try {
      term = this.raftLog.term(pr.next - 1)
      ents = this.raftLog.entries(pr.next, this.maxMsgSize)
    } catch {
      return this.sendSnapshot(to)
    }
    if (ents.length === 0 && !sendIfEmpty) return false
    const m = message({ type: MessageType.App, to, index: pr.next - 1, logTerm: term, entries: ents, commit: this.raftLog.committed })
    if (ents.length > 0) {
      if (pr.state === ProgressState.Replicate) {
        const last = ents[ents.length - 1]!.index
        pr.optimisticUpdate(last)
        let bytes = 0
        for (const e of ents) bytes += entrySize(e)
        pr.inflights.add(last, bytes)
      }
    }
    if (pr.state === ProgressState.Probe) pr.probeSent = true
    this.send(m)
    return true
  }

  private sendSnapshot(to: NodeId): boolean {
    const pr = this.prs.progress.get(to)!
    if (!pr.recentActive) {
      this.logger.debug(`${this.id} ignore sending snapshot to ${to} since it is not recently active`)
      return false
    }
    const snapshot = this.raftLog.snapshot()
    if (snapshot.metadata.index === 0) throw new Error('need non-empty snapshot')
    this.logger.info(
      `${this.id} [firstindex: ${this.raftLog.firstIndex()}, commit: ${this.raftLog.committed}] sent snapshot[index: ${snapshot.metadata.index}, term: ${snapshot.metadata.term}] to ${to} [${pr}]`,
    )
    pr.becomeSnapshot(snapshot.metadata.index)
    this.send(message({ type: MessageType.Snap, to, snapshot }))
    return true
  }

  private sendHeartbeat(to: NodeId, ctx: Uint8Array | undefined): void {
    // Never advance a follower's commit past what it is known to have: its log may
    // still hold uncommitted entries of an old leader beyond its match.
    const commit = Math.min(this.prs.progress.get(to)!.match, this.raftLog.committed)
    this.send(message({ type: MessageType.Heartbeat, to, commit, context: ctx }))
  }

  bcastAppend(): void {
    for (const id of this.prs.ids()) if (id !== this.id) this.sendAppend(id)
  }

  bcastHeartbeat(ctx?: Uint8Array): void {
    const c = ctx ?? this.readOnly.lastPendingRequestCtx()
    for (const id of this.prs.ids()) if (id !== this.id) this.sendHeartbeat(id, c)
  }

  // ---- state transitions -----------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term
      this.vote = NONE
    }
    this.lead = NONE
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.resetRandomizedElectionTimeout()
    this.abortLeaderTransfer()
    this.prs.resetVotes()
    const last = this.raftLog.lastIndex()
    for (const [id, pr] of this.prs.progress) {
      const np = this.prs.newProgress(last + 1, pr.isLearner)
      if (id === this.id) np.match = last
      this.prs.progress.set(id, np)
    }
    this.pendingConfIndex = 0
    this.uncommittedSize = 0
    this.readOnly = new ReadOnly(this.readOnly.option)
    this.pendingReadIndexMessages = []
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term)
    this.lead = lead
    this.state = StateType.Follower
    this.logger.info(`${this.id} became follower at term ${this.term}`)
  }

  becomeCandidate(): void {
    if (this.state === StateType.Leader) throw new Error('invalid transition [leader -> candidate]')
    this.reset(this.term + 1)
    this.vote = this.id
    this.state = StateType.Candidate
    this.logger.info(`${this.id} became candidate at term ${this.term}`)
  }

  becomePreCandidate(): void {
    if (this.state === StateType.Leader) throw new Error('invalid transition [leader -> pre-candidate]')
    // Pre-vote changes neither term nor vote, so a partitioned node cannot inflate the
    // cluster's term and depose a healthy leader when it rejoins.
    this.prs.resetVotes()
    this.lead = NONE
    this.state = StateType.PreCandidate
    this.logger.info(`${this.id} became pre-candidate at term ${this.term}`)
  }

  becomeLeader(): void {
    if (this.state === StateType.Follower) throw new Error('invalid transition [follower -> leader]')
    this.reset(this.term)
    this.lead = this.id
    this.state = StateType.Leader
    this.prs.progress.get(this.id)?.becomeReplicate()
    // Entries of earlier terms commit only once one of ours does (§5.4.2): the no-op
    // gets there quickly. Conf changes wait until it is applied, so that the new leader
    // knows every earlier config change.
    this.pendingConfIndex = this.raftLog.lastIndex()
    if (!this.appendEntry([{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }])) {
      throw new Error('empty entry was dropped')
    }
    this.logger.info(`${this.id} became leader at term ${this.term}`)
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout)
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE
  }

  // ---- ticks ------------------------------------------------------------------------

  tick(): void {
    if (this.state === StateType.Leader) this.tickHeartbeat()
    else this.tickElection()
  }

  private tickElection(): void {
    this.electionElapsed++
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0
      this.step(message({ type: MessageType.Hup, from: this.id }))
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0
      if (this.checkQuorum) this.step(message({ type: MessageType.CheckQuorum, from: this.id }))
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer()
    }
    if (this.state !== StateType.Leader) return
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0
      this.step(message({ type: MessageType.Beat, from: this.id }))
    }
  }

  // ---- elections --------------------------------------------------------------------

  private hup(t: CampaignType): void {
    if (this.state === StateType.Leader) {
      this.logger.debug(`${this.id} ignoring MsgHup because already leader`)
      return
    }
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable and can not campaign`)
      return
    }
    // A conf change committed but not applied may change who votes: wait for it.
    if (this.raftLog.committed > this.raftLog.applied) {
      const lo = Math.max(this.raftLog.applied + 1, this.raftLog.firstIndex())
      const ents = this.raftLog.slice(lo, this.raftLog.committed + 1, Number.MAX_SAFE_INTEGER)
      if (ents.some((e) => e.type === EntryType.ConfChange)) {
        this.logger.warn(`${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`)
        return
      }
    }
    this.logger.info(`${this.id} is starting a new election at term ${this.term}`)
    this.campaign(t)
  }

  private campaign(t: CampaignType): void {
    let term: number
    let voteMsg: MessageType
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate()
      voteMsg = MessageType.PreVote
      term = this.term + 1 // the term we would campaign in; ours stays as is
    } else {
      this.becomeCandidate()
      voteMsg = MessageType.Vote
      term = this.term
    }
    if (this.poll(this.id, voteRespType(voteMsg), true) === VoteResult.Won) {
      // A single-voter cluster wins at once.
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election)
      else this.becomeLeader()
      return
    }
    for (const id of [...this.prs.voters].sort((a, b) => a - b)) {
      if (id === this.id) continue
      this.send(
        message({
          type: voteMsg,
          to: id,
          term,
          index: this.raftLog.lastIndex(),
          logTerm: this.raftLog.lastTerm(),
          context: t === CampaignType.Transfer ? TRANSFER_CTX : undefined,
        }),
      )
    }
  }

  private poll(id: NodeId, t: MessageType, granted: boolean): VoteResult {
    this.logger.debug(`${this.id} received ${MessageType[t]} ${granted ? '' : 'rejection '}from ${id} at term ${this.term}`)
    this.prs.recordVote(id, granted)
    return this.prs.tallyVotes().result
  }

  // ---- step -------------------------------------------------------------------------

  /** Feed one message (local or from a peer) into the state machine. */
  step(m: Message): void {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = isTransferCtx(m.context)
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout
        if (!force && inLease) {
          // We heard from a leader within the minimum election timeout: a candidate
          // that did not is the one cut off, so it must not disrupt us (thesis §4.2.3).
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] ignored ${MessageType[m.type]} from ${m.from} at term ${this.term}: lease is not expired`,
          )
          return
        }
      }
      if (m.type === MessageType.PreVote) {
        // Never change our term in response to a pre-vote.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // A granted pre-vote carries the term we will campaign in; adopt it only when
        // we win the real election.
      } else {
        this.logger.info(`${this.id} [term: ${this.term}] received a ${MessageType[m.type]} message with higher term from ${m.from} [term: ${m.term}]`)
        if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
          this.becomeFollower(m.term, m.from)
        } else {
          this.becomeFollower(m.term, NONE)
        }
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
        // A stale leader (e.g. after a partition healed, with pre-vote or check-quorum
        // keeping our term from reaching it) learns our term from this and steps down.
        this.send(message({ type: MessageType.AppResp, to: m.from }))
      } else if (m.type === MessageType.PreVote) {
        this.send(message({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true }))
      } else {
        this.logger.debug(`${this.id} [term: ${this.term}] ignored a ${MessageType[m.type]} message with lower term from ${m.from} [term: ${m.term}]`)
      }
      return
    }

    switch (m.type) {
      case MessageType.Hup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election)
        return
      case MessageType.Vote:
      case MessageType.PreVote: {
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === MessageType.PreVote && m.term > this.term)
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          this.logger.info(`${this.id} cast ${MessageType[m.type]} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`)
          // Answer in the candidate's term: for a pre-vote our own term may be lower,
          // and the candidate ignores answers from older terms.
          this.send(message({ type: voteRespType(m.type), to: m.from, term: m.term }))
          if (m.type === MessageType.Vote) {
            this.electionElapsed = 0
            this.vote = m.from
          }
        } else {
          this.logger.info(`${this.id} rejected ${MessageType[m.type]} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`)
          this.send(message({ type: voteRespType(m.type), to: m.from, term: this.term, reject: true }))
        }
        return
      }
    }

    switch (this.state) {
      case StateType.Leader:
        this.stepLeader(m)
        return
      case StateType.Candidate:
      case StateType.PreCandidate:
        this.stepCandidate(m)
        return
      case StateType.Follower:
        this.stepFollower(m)
        return
    }
  }

  private stepLeader(m: Message): void {
    // Messages that need no progress of the sender.
    switch (m.type) {
      case MessageType.Beat:
        this.bcastHeartbeat()
        return
      case MessageType.CheckQuorum:
        if (!this.prs.quorumActive(this.id)) {
          this.logger.warn(`${this.id} stepped down to follower since quorum is not active`)
          this.becomeFollower(this.term, NONE)
        }
        for (const [id, pr] of this.prs.progress) if (id !== this.id) pr.recentActive = false
        return
      case MessageType.Prop:
        this.handlePropose(m)
        return
      case MessageType.ReadIndex:
        if (!this.committedEntryInCurrentTerm()) {
          // Our commit index may be behind the true one until an entry of our term
          // commits; answer once it does.
          this.pendingReadIndexMessages.push(m)
          return
        }
        this.sendReadIndexResponse(m)
        return
    }

    const pr = this.prs.progress.get(m.from)
    if (!pr) {
      this.logger.debug(`${this.id} no progress available for ${m.from}`)
      return
    }
    switch (m.type) {
      case MessageType.AppResp: {
        pr.recentActive = true
        if (m.reject) {
          this.logger.debug(`${this.id} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`)
          let nextProbeIdx = m.rejectHint
          if (m.logTerm > 0) {
            // Skip every entry of ours with a term above the follower's term at the
            // hint: none can match (fast backtracking, thesis §5.3).
            nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)
          }
          if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
            if (pr.state === ProgressState.Replicate) pr.becomeProbe()
            this.sendAppend(m.from)
          }
          return
        }
        const oldPaused = pr.isPaused()
        if (!pr.maybeUpdate(m.index)) {
          if (oldPaused && !pr.isPaused()) this.sendAppend(m.from)
          return
        }
        if (pr.state === ProgressState.Probe) {
          pr.becomeReplicate()
        } else if (pr.state === ProgressState.Snapshot && pr.match >= pr.pendingSnapshot) {
          pr.becomeProbe()
          pr.becomeReplicate()
        } else if (pr.state === ProgressState.Replicate) {
          pr.inflights.freeLE(m.index)
        }
        if (this.maybeCommit()) {
          this.releasePendingReadIndexMessages()
          this.bcastAppend()
        } else if (oldPaused) {
          this.sendAppend(m.from)
        }
        // Fill the window: send as much as flow control allows, not only one message.
        while (this.maybeSendAppend(m.from, false)) {
          // keep sending
        }
        if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
          this.logger.info(`${this.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`)
          this.sendTimeoutNow(m.from)
        }
        return
      }
      case MessageType.HeartbeatResp: {
        pr.recentActive = true
        pr.probeSent = false
        // A heartbeat answer proves the follower is alive: free one slot so a lost
        // MsgApp cannot stall a full window forever.
        if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne()
        if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from)
        if (this.readOnly.option !== ReadOnlyOption.Safe || !m.context || m.context.length === 0) return
        const acks = this.readOnly.recvAck(m.from, m.context)
        if (!acks || !this.prs.hasQuorum(acks)) return
        for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.req, rs.index)
        return
      }
      case MessageType.SnapStatus:
        if (pr.state !== ProgressState.Snapshot) return
        if (!m.reject) {
          pr.becomeProbe()
          this.logger.debug(`${this.id} snapshot succeeded, resumed sending replication messages to ${m.from} [${pr}]`)
        } else {
          // The follower never got it: forget it so the next attempt can send a new one.
          pr.pendingSnapshot = 0
          pr.becomeProbe()
          this.logger.debug(`${this.id} snapshot failed, resumed sending replication messages to ${m.from} [${pr}]`)
        }
        // Wait for the follower's answer (or the next heartbeat) before probing again.
        pr.probeSent = true
        return
      case MessageType.Unreachable:
        // Optimistic sends to an unreachable follower are likely lost: go back to probing.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe()
        this.logger.debug(`${this.id} failed to send message to ${m.from} because it is unreachable [${pr}]`)
        return
      case MessageType.TransferLeader: {
        if (pr.isLearner) {
          this.logger.debug(`${this.id} is learner. Ignored transferring leadership`)
          return
        }
        const transferee = m.from
        if (this.leadTransferee !== NONE) {
          if (this.leadTransferee === transferee) return
          this.abortLeaderTransfer()
        }
        if (transferee === this.id) return
        this.logger.info(`${this.id} [term ${this.term}] starts to transfer leadership to ${transferee}`)
        // It must finish within one election timeout, or it is abandoned.
        this.electionElapsed = 0
        this.leadTransferee = transferee
        if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(transferee)
        else this.sendAppend(transferee)
        return
      }
    }
  }

  private handlePropose(m: Message): void {
    if (m.entries.length === 0) throw new Error(`${this.id} stepped empty MsgProp`)
    if (!this.prs.progress.has(this.id)) {
      // We were removed from the configuration while leader.
      throw new ProposalDroppedError('raft proposal dropped: not a member of the configuration')
    }
    if (this.leadTransferee !== NONE) {
      throw new ProposalDroppedError(`raft proposal dropped: leadership transfer to ${this.leadTransferee} in progress`)
    }
    // Checked for the whole batch before anything changes: a refused batch leaves
    // pendingConfIndex as it was.
    let pendingConfIndex = this.pendingConfIndex
    for (let i = 0; i < m.entries.length; i++) {
      if (m.entries[i]!.type !== EntryType.ConfChange) continue
      if (pendingConfIndex > this.raftLog.applied) {
        throw new ProposalDroppedError(
          `raft proposal dropped: possible unapplied conf change at index ${pendingConfIndex} (applied to ${this.raftLog.applied})`,
        )
      }
      pendingConfIndex = this.raftLog.lastIndex() + i + 1
    }
    // appendEntry stamps entries in place; a forwarded message may be delivered twice.
    const entries = m.from === this.id || m.from === NONE ? m.entries : m.entries.map((e) => ({ ...e }))
    if (!this.appendEntry(entries)) throw new ProposalDroppedError('raft proposal dropped: too many uncommitted bytes')
    this.pendingConfIndex = pendingConfIndex
    this.bcastAppend()
  }

  private sendReadIndexResponse(m: Message): void {
    if (this.prs.voters.size === 1) {
      this.respondToReadIndex(m, this.raftLog.committed)
      return
    }
    if (this.readOnly.option === ReadOnlyOption.Safe) {
      this.readOnly.addRequest(this.raftLog.committed, m)
      // Our own acknowledgement counts towards the quorum.
      this.readOnly.recvAck(this.id, m.context)
      this.bcastHeartbeat(m.context)
    } else {
      this.respondToReadIndex(m, this.raftLog.committed)
    }
  }

  private respondToReadIndex(req: Message, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, requestCtx: req.context ?? new Uint8Array(0) })
    } else {
      this.send(message({ type: MessageType.ReadIndexResp, to: req.from, index, context: req.context }))
    }
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return
    const msgs = this.pendingReadIndexMessages
    this.pendingReadIndexMessages = []
    for (const m of msgs) this.sendReadIndexResponse(m)
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term
  }

  private stepCandidate(m: Message): void {
    // Only answers to our own kind of campaign count: a PreCandidate ignores VoteResp.
    const myVoteRespType = this.state === StateType.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp
    switch (m.type) {
      case MessageType.Prop:
        throw new ProposalDroppedError(`raft proposal dropped: no leader at term ${this.term}`)
      case MessageType.App:
        this.becomeFollower(m.term, m.from)
        this.handleAppendEntries(m)
        return
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from)
        this.handleHeartbeat(m)
        return
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from)
        this.handleSnapshot(m)
        return
      case myVoteRespType: {
        const result = this.poll(m.from, m.type, !m.reject)
        if (result === VoteResult.Won) {
          if (this.state === StateType.PreCandidate) {
            this.campaign(CampaignType.Election)
          } else {
            this.becomeLeader()
            this.bcastAppend()
          }
        } else if (result === VoteResult.Lost) {
          // A PreVoteResp rejection may carry a higher term; the term check in step()
          // already moved us there. Otherwise stay in our term as a follower.
          this.becomeFollower(this.term, NONE)
        }
        return
      }
      case MessageType.TimeoutNow:
        this.logger.debug(`${this.id} [term ${this.term} state ${this.state}] ignored MsgTimeoutNow from ${m.from}`)
        return
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead === NONE) throw new ProposalDroppedError(`raft proposal dropped: no leader at term ${this.term}`)
        if (this.disableProposalForwarding) throw new ProposalDroppedError('raft proposal dropped: proposal forwarding disabled')
        m.to = this.lead
        this.send(m)
        return
      case MessageType.App:
        this.electionElapsed = 0
        this.lead = m.from
        this.handleAppendEntries(m)
        return
      case MessageType.Heartbeat:
        this.electionElapsed = 0
        this.lead = m.from
        this.handleHeartbeat(m)
        return
      case MessageType.Snap:
        this.electionElapsed = 0
        this.lead = m.from
        this.handleSnapshot(m)
        return
      case MessageType.TransferLeader:
        if (this.lead === NONE) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping leader transfer msg`)
          return
        }
        m.to = this.lead
        this.send(m)
        return
      case MessageType.TimeoutNow:
        this.logger.info(`${this.id} [term ${this.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership.`)
        // Leadership transfer never uses pre-vote: the old leader asked for it.
        this.hup(CampaignType.Transfer)
        return
      case MessageType.ReadIndex:
        if (this.lead === NONE) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping index reading msg`)
          return
        }
        m.to = this.lead
        this.send(m)
        return
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, requestCtx: m.context ?? new Uint8Array(0) })
        return
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed }))
      return
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries)
    if (lastNew >= 0) {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: lastNew }))
      return
    }
    // Reject with a hint: the last index at which our log could match the leader's,
    // so the leader can skip whole terms instead of one entry per round trip.
    const hintIndex = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm)
    const hintTerm = this.raftLog.termOrZero(hintIndex)
    this.logger.debug(
      `${this.id} [logterm: ${this.raftLog.termOrZero(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
    )
    this.send(message({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm }))
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(Math.min(m.commit, this.raftLog.lastIndex()))
    this.send(message({ type: MessageType.HeartbeatResp, to: m.from, context: m.context }))
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot!
    if (this.restore(s)) {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] restored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`)
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.raftLog.lastIndex() }))
    } else {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] ignored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`)
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed }))
    }
  }

  /** Install a snapshot from the leader. Returns false if it brings nothing new. */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false
    if (this.state !== StateType.Follower) {
      // Only a follower may receive a snapshot; defend against a bug by stepping down.
      this.logger.warn(`${this.id} attempted to restore snapshot as ${this.state}; should never happen`)
      this.becomeFollower(this.term + 1, NONE)
      return false
    }
    const cs = s.metadata.confState
    if (!cs.voters.includes(this.id) && !cs.learners.includes(this.id)) {
      this.logger.warn(`${this.id} attempted to restore snapshot but it is not in the ConfState ${JSON.stringify(cs)}; should never happen`)
      return false
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the snapshot's entries: just fast-forward the commit index.
      this.raftLog.commitTo(s.metadata.index)
      return false
    }
    this.raftLog.restore(s)
    this.prs.voters.clear()
    this.prs.learners.clear()
    this.prs.progress.clear()
    this.applyConfState(cs)
    return true
  }

  private maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.prs.committed(), this.term)
  }

  /** Append entries proposed to this leader. Returns false if dropped for size. */
  appendEntry(es: Entry[]): boolean {
    let li = this.raftLog.lastIndex()
    let size = 0
    // The entries are fresh objects from a proposal: stamp them in place.
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!
      e.term = this.term
      e.index = li + 1 + i
      size += e.data.length
    }
    if (this.maxUncommittedSize > 0 && this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > this.maxUncommittedSize) {
      this.logger.debug(`${this.id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`)
      return false
    }
    this.uncommittedSize += size
    li = this.raftLog.append(es)
    this.prs.progress.get(this.id)?.maybeUpdate(li)
    this.maybeCommit()
    return true
  }

  /** Committed entries were handed to the application: they no longer count as uncommitted. */
  reduceUncommittedSize(ents: Entry[]): void {
    if (this.uncommittedSize === 0) return
    let s = 0
    for (const e of ents) s += e.data.length
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(message({ type: MessageType.TimeoutNow, to }))
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new Error(`${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`)
    }
    this.raftLog.committed = hs.commit
    this.term = hs.term
    this.vote = hs.vote
  }

  // ---- membership -------------------------------------------------------------------

  private applyConfState(cs: ConfState): void {
    const next = this.raftLog.lastIndex() + 1
    for (const id of cs.voters) {
      this.prs.voters.add(id)
      this.prs.progress.set(id, this.prs.newProgress(next, false))
    }
    for (const id of cs.learners) {
      if (this.prs.voters.has(id)) throw new Error(`raft: ${id} is in voters and learners`)
      this.prs.learners.add(id)
      this.prs.progress.set(id, this.prs.newProgress(next, true))
    }
    const self = this.prs.progress.get(this.id)
    if (self) self.match = next - 1
  }

  /**
   * Apply a committed conf change: one member added, removed, or added as a learner
   * (an AddNode of a learner promotes it). Returns the new configuration.
   */
  applyConfChange(cc: ConfChange): ConfState {
    const next = this.raftLog.lastIndex() + 1
    switch (cc.type) {
      case ConfChangeType.AddNode: {
        const pr = this.prs.progress.get(cc.nodeId)
        if (pr) {
          pr.isLearner = false
          this.prs.learners.delete(cc.nodeId)
        } else {
          const np = this.prs.newProgress(next, false)
          // Treat a new member as active so check-quorum does not trip before it catches up.
          np.recentActive = true
          this.prs.progress.set(cc.nodeId, np)
        }
        this.prs.voters.add(cc.nodeId)
        break
      }
      case ConfChangeType.AddLearnerNode: {
        if (this.prs.voters.has(cc.nodeId)) {
          this.logger.warn(`${this.id} ignored demotion of voter ${cc.nodeId} to learner (not supported one-at-a-time)`)
          break
        }
        if (!this.prs.progress.has(cc.nodeId)) {
          const np = this.prs.newProgress(next, true)
          np.recentActive = true
          this.prs.progress.set(cc.nodeId, np)
        }
        this.prs.learners.add(cc.nodeId)
        break
      }
      case ConfChangeType.RemoveNode:
        this.prs.voters.delete(cc.nodeId)
        this.prs.learners.delete(cc.nodeId)
        this.prs.progress.delete(cc.nodeId)
        break
    }
    if (this.leadTransferee !== NONE && !this.prs.voters.has(this.leadTransferee)) this.abortLeaderTransfer()

    if (this.state === StateType.Leader) {
      if (!this.prs.progress.has(this.id)) {
        // We removed ourselves. Hand leadership to the most caught-up voter at once
        // rather than leaving the cluster to wait out an election timeout.
        let best = NONE
        let bestMatch = -1
        for (const id of this.prs.voters) {
          const m = this.prs.progress.get(id)!.match
          if (m > bestMatch) {
            best = id
            bestMatch = m
          }
        }
        if (best !== NONE && bestMatch === this.raftLog.lastIndex()) this.sendTimeoutNow(best)
        this.becomeFollower(this.term, NONE)
      } else if (this.maybeCommit()) {
        // Removing a voter may have lowered the quorum: entries may now be committed.
        this.bcastAppend()
      } else {
        for (const id of this.prs.ids()) if (id !== this.id) this.maybeSendAppend(id, false)
      }
    }
    return this.prs.confState()
  }
}
