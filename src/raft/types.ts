// The vocabulary of the consensus core. Shapes follow etcd-io/raft's raftpb so that
// anyone who knows that code can read ours; numbers (not bigint) hold ids, terms and
// indexes because 2^53 is far beyond any log we will write, and bigint arithmetic
// would cost on every message.

export type NodeId = number

/** No node / no leader / no vote. Real ids are always > 0. */
export const NONE: NodeId = 0

export enum EntryType {
  Normal = 0,
  ConfChange = 1,
}

export interface Entry {
  term: number
  index: number
  type: EntryType
  /** Opaque to raft. An empty Normal entry is the leader's no-op. */
  data: Uint8Array
}

export interface HardState {
  term: number
  vote: NodeId
  commit: number
}

export interface ConfState {
  voters: NodeId[]
  learners: NodeId[]
}

export interface SnapshotMetadata {
  index: number
  term: number
  confState: ConfState
}

export interface Snapshot {
  metadata: SnapshotMetadata
  data: Uint8Array
}

export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  AddLearnerNode = 2,
}

export interface ConfChange {
  type: ConfChangeType
  nodeId: NodeId
  /** Opaque to raft: the application uses it for e.g. the new member's address. */
  context?: Uint8Array
}

export enum MessageType {
  // Local messages: never cross the network.
  Hup = 0, // start an election
  Beat = 1, // leader: send heartbeats
  Prop = 2, // a proposal (a follower forwards it to the leader)
  // Wire messages.
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  Snap = 7,
  Heartbeat = 8,
  HeartbeatResp = 9,
  Unreachable = 10, // local: transport could not reach a peer
  SnapStatus = 11, // local: transport finished (or failed) sending a snapshot
  CheckQuorum = 12, // local
  TransferLeader = 13,
  TimeoutNow = 14,
  ReadIndex = 15,
  ReadIndexResp = 16,
  PreVote = 17,
  PreVoteResp = 18,
}

export interface Message {
  type: MessageType
  to: NodeId
  from: NodeId
  term: number
  /** App: term of the entry at `index`. Vote/PreVote: candidate's last log term. */
  logTerm: number
  index: number
  entries: Entry[]
  commit: number
  snapshot?: Snapshot
  reject: boolean
  /** AppResp reject: the follower's hint index for fast backtracking. */
  rejectHint: number
  /** Heartbeats and ReadIndex carry the read request's context here. */
  context?: Uint8Array
}

export enum StateType {
  Follower = 'Follower',
  Candidate = 'Candidate',
  Leader = 'Leader',
  PreCandidate = 'PreCandidate',
}

export interface SoftState {
  lead: NodeId
  state: StateType
}

/** A linearizable read may be served once the applied index reaches `index`. */
export interface ReadState {
  index: number
  requestCtx: Uint8Array
}

/**
 * Everything the caller must do, in order: persist `hardState` + `entries` (+ `snapshot`)
 * durably (fsync when `mustSync`), then send `messages`, then apply `snapshot` and
 * `committedEntries`, then call `advance()`.
 */
export interface Ready {
  softState?: SoftState
  hardState?: HardState
  readStates: ReadState[]
  entries: Entry[]
  snapshot?: Snapshot
  committedEntries: Entry[]
  messages: Message[]
  mustSync: boolean
  /**
   * `messages` may be sent before (in parallel with) persisting: set for a leader when
   * this Ready changes neither term nor vote. Callers that do so must still finish one
   * Ready (persist, advance) before taking the next.
   */
  sendBeforePersist: boolean
}

export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.Hup ||
    t === MessageType.Beat ||
    t === MessageType.Unreachable ||
    t === MessageType.SnapStatus ||
    t === MessageType.CheckQuorum
  )
}

export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.AppResp ||
    t === MessageType.VoteResp ||
    t === MessageType.HeartbeatResp ||
    t === MessageType.Unreachable ||
    t === MessageType.PreVoteResp
  )
}

export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 }
}

export function isEmptyHardState(h: HardState): boolean {
  return h.term === 0 && h.vote === NONE && h.commit === 0
}

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0
}

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) }
}

/** Approximate size of an entry on the wire and on disk, for flow control and batching. */
export function entrySize(e: Entry): number {
  return e.data.length + 24
}

export function message(m: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...m,
  }
}
