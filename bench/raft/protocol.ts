// The IPC messages between a test or benchmark and its member processes.

export type MemberCommand =
  | { type: 'start'; cluster: { id: number; address: string }[]; snapshotCount?: number }
  | { type: 'propose'; req: number; value: string }
  | { type: 'status'; req: number }
  | { type: 'values'; req: number }
  | { type: 'load'; req: number; concurrency: number; seconds: number; size: number }
  | { type: 'stop' }

export interface LoadResult {
  concurrency: number
  committed: number
  errors: number
  seconds: number
  perSecond: number
  p50Ms: number
  p99Ms: number
  leaderFsyncs: number
  leaderEntriesPerFsync: number
}

export interface MemberStatus {
  id: number
  lead: number
  term: number
  state: string
  commit: number
  applied: number
}

export type MemberReply =
  | { type: 'listening'; address: string }
  | { type: 'started' }
  | { type: 'leader'; lead: number; term: number }
  | { type: 'proposed'; req: number; ok: true; index: number }
  | { type: 'proposed'; req: number; ok: false; error: string }
  | ({ type: 'status'; req: number } & MemberStatus)
  | { type: 'values'; req: number; values: string[] }
  | { type: 'load'; req: number; result: LoadResult }
