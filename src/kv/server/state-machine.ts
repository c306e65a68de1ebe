// The replicated state machine of a store member: committed raft entries, in order,
// applied to the MVCC store, the lessor, the alarm list and the member table (etcd's
// applierV3 and its apply loop). Every member runs the same code on the same entries
// and ends in the same state; the proposing member gets the outcome back.
//
// Each entry is applied in one atomic backend batch together with its raft index
// (KVStore.write), so after a crash the store says exactly which entries it holds and
// raft replays the rest. An entry at or below that index is skipped whole — lease and
// alarm changes included, which is why they too are written through the store.
import type { AppliedEntry, StateMachine } from '../../raft/node.js'
import { applyDeleteRange, applyPut, applyTxn, type ApplyResult } from '../apply/kv.js'
import type { ApplyOptions } from '../apply/txn.js'
import { Bucket } from '../mvcc/backend.js'
import { fromByteString, toByteString } from '../mvcc/byte-string.js'
import type { KeyValue } from '../mvcc/key-value.js'
import type { BucketOp, KVStore } from '../mvcc/kv-store.js'
import { EtcdErrors, toEtcdError, type EtcdError } from './errors.js'
import { decodeRaftRequest, type AlarmType, type MemberAttributes, type RaftRequest } from './raft-request.js'

/** What the state machine needs of the lessor (src/kv/lease). */
export interface LeaseTable {
  has(id: string): boolean
  /** Throws (changing nothing) for an existing lease or a TTL too large. Returns the granted TTL (seconds). */
  grant(id: string, ttl: number): number
  /** Keys (byte-strings) attached to the lease, sorted. Throws leaseNotFound if unknown. */
  keysOf(id: string): string[]
  revoke(id: string): void
  /** A key now carries `lease` ('0': none): move it between leases' key sets. */
  setKeyLease(key: string, lease: string): void
  checkpoint(id: string, remainingTTL: number): void
  /** Persisted record of a lease (etcd's leasepb.Lease bytes). */
  record(id: string): Uint8Array
  /** Rebuild from persisted records and the keys that carry leases. */
  restore(records: Uint8Array[], leasedKeys: ReadonlyMap<string, string>): void
}

/** What the state machine tells watchers (src/kv/watch). */
export interface ChangeSink {
  notify(revision: number, changes: KeyValue[]): void
  /** The store was replaced by a snapshot: watchers must catch up from history. */
  restored?(): void
}

/**
 * An in-process subscriber to what the apply loop changes (the API server's local
 * storage): told the same things as the watch hub, right after it, in apply order.
 * It must neither throw nor do I/O in these calls.
 */
export interface ChangeSubscriber extends ChangeSink {
  /** The member is stopping: nothing more will come. */
  ended?(): void
}

export interface Alarm {
  memberId: string
  alarm: AlarmType
}

/** The proposer's answer: a response object, or the error etcd would answer. */
export type Outcome = { ok: true; value: unknown; done?: Promise<void> } | { ok: false; error: EtcdError }

export interface StoreStateMachineOptions {
  store: KVStore
  leases: LeaseTable
  watchers: ChangeSink
  maxTxnOps?: number
  /** Called after a member's attributes change or a member is removed. */
  onMembersChanged?(): void
  onAlarmsChanged?(): void
}

const idKey = (id: string | number): Uint8Array => Buffer.from(String(id))

export class StoreStateMachine implements StateMachine<Outcome> {
  readonly store: KVStore
  private readonly leases: LeaseTable
  /**
   * Where changes go: the hub itself, or `tee` (hub, then subscribers) while anyone
   * subscribes, so the apply path is the same single call when no one does.
   */
  private watchers: ChangeSink
  private readonly subscribers = new Set<ChangeSubscriber>()
  private readonly alarmSet = new Map<string, Alarm>()
  private readonly memberAttrs = new Map<number, MemberAttributes>()
  private readonly applyOpts: ApplyOptions

  constructor(private readonly opts: StoreStateMachineOptions) {
    this.store = opts.store
    this.leases = opts.leases
    this.watchers = opts.watchers
    this.applyOpts = { maxTxnOps: opts.maxTxnOps, leaseExists: (id) => this.leases.has(id) }
  }

  /** Loads leases, alarms and member attributes from the store (on start and after a snapshot). */
  async load(): Promise<void> {
    const records = (await this.store.readBucket(Bucket.lease)).map(([, v]) => v)
    this.leases.restore(records, this.store.leasedAtOpen)
    this.alarmSet.clear()
    for (const [, v] of await this.store.readBucket(Bucket.alarm)) {
      const a = JSON.parse(Buffer.from(v).toString()) as Alarm
      this.alarmSet.set(alarmKey(a), a)
    }
    this.memberAttrs.clear()
    for (const [, v] of await this.store.readBucket(Bucket.members)) {
      const m = JSON.parse(Buffer.from(v).toString()) as MemberAttributes
      this.memberAttrs.set(m.id, m)
    }
    this.opts.onAlarmsChanged?.()
    this.opts.onMembersChanged?.()
  }

  /** Adds a subscriber to applied changes; returns its unsubscribe. */
  subscribe(sub: ChangeSubscriber): () => void {
    this.subscribers.add(sub)
    this.watchers = this.tee
    return () => {
      this.subscribers.delete(sub)
      if (this.subscribers.size === 0) this.watchers = this.opts.watchers
    }
  }

  /** Tells every subscriber that nothing more will come, and drops them. */
  endSubscriptions(): void {
    const subs = [...this.subscribers]
    this.subscribers.clear()
    this.watchers = this.opts.watchers
    for (const s of subs) guard(() => s.ended?.())
  }

  private readonly tee: ChangeSink = {
    notify: (revision, changes) => {
      this.opts.watchers.notify(revision, changes)
      for (const s of this.subscribers) guard(() => s.notify(revision, changes))
    },
    restored: () => {
      this.opts.watchers.restored?.()
      for (const s of this.subscribers) guard(() => s.restored?.())
    },
  }

  alarms(): Alarm[] {
    return [...this.alarmSet.values()]
  }

  hasAlarm(alarm: AlarmType): boolean {
    for (const a of this.alarmSet.values()) if (a.alarm === alarm) return true
    return false
  }

  member(id: number): MemberAttributes | undefined {
    return this.memberAttrs.get(id)
  }

  async apply(entries: AppliedEntry[]): Promise<Outcome[]> {
    const out: Outcome[] = []
    for (const e of entries) out.push(await this.applyOne(e))
    return out
  }

  snapshot(): Promise<Uint8Array> {
    return this.store.snapshot()
  }

  async restore(data: Uint8Array): Promise<void> {
    await this.store.restore(data)
    await this.load()
    this.watchers.restored?.()
  }

  private async applyOne(e: AppliedEntry): Promise<Outcome> {
    // Replayed after a restart: the store already holds it, and so do leases/alarms.
    if (e.index <= this.store.consistentIndex) return { ok: false, error: EtcdErrors.stopped() }
    let r: RaftRequest
    try {
      r = decodeRaftRequest(e.data)
    } catch (err) {
      // Cannot happen for entries we wrote; recorded as applied so the index moves on.
      await this.store.write(e.index, [])
      return { ok: false, error: toEtcdError(err) }
    }
    try {
      return await this.dispatch(e.index, r)
    } catch (err) {
      const error = toEtcdError(err)
      // A refused request still consumes its index (as etcd's consistent index does);
      // the store may have recorded it already.
      if (this.store.consistentIndex < e.index) await this.store.write(e.index, [])
      return { ok: false, error }
    }
  }

  private async dispatch(index: number, r: RaftRequest): Promise<Outcome> {
    switch (r.op) {
      case 'put':
        this.refuseWhenFull()
        return this.kvResult(await applyPut(this.store, index, r.req, this.applyOpts))
      case 'deleteRange':
        return this.kvResult(await applyDeleteRange(this.store, index, r.req, this.applyOpts))
      case 'txn':
        if (hasPut(r.req)) this.refuseWhenFull()
        return this.kvResult(await applyTxn(this.store, index, r.req, this.applyOpts))
      case 'compact': {
        const res = await this.store.compact(r.revision, index)
        return { ok: true, value: { revision: res.revision }, done: res.done }
      }
      case 'leaseGrant': {
        this.refuseWhenFull()
        // In memory first, for its record; a failed write stops the member anyway.
        const ttl = this.leases.grant(r.id, r.ttl)
        await this.store.write(index, [], [{ bucket: Bucket.lease, key: idKey(r.id), value: this.leases.record(r.id) }])
        return { ok: true, value: { id: r.id, ttl } }
      }
      case 'leaseRevoke': {
        const keys = this.leases.keysOf(r.id)
        const res = await this.store.write(
          index,
          keys.map((k) => ({ deleteRange: { key: fromByteString(k) } })),
          [{ bucket: Bucket.lease, key: idKey(r.id), delete: true }],
        )
        this.leases.revoke(r.id)
        for (const k of keys) this.leases.setKeyLease(k, '0')
        if (res.changes.length > 0) this.watchers.notify(res.revision, res.changes)
        return { ok: true, value: { revision: res.revision } }
      }
      case 'leaseCheckpoint': {
        const ops: BucketOp[] = []
        for (const c of r.checkpoints) {
          if (!this.leases.has(c.id)) continue
          this.leases.checkpoint(c.id, c.remainingTTL)
          ops.push({ bucket: Bucket.lease, key: idKey(c.id), value: this.leases.record(c.id) })
        }
        await this.store.write(index, [], ops)
        return { ok: true, value: {} }
      }
      case 'alarm':
        return this.applyAlarm(index, r)
      case 'memberAttributes': {
        await this.store.write(index, [], [{ bucket: Bucket.members, key: idKey(r.member.id), value: Buffer.from(JSON.stringify(r.member)) }])
        this.memberAttrs.set(r.member.id, r.member)
        this.opts.onMembersChanged?.()
        return { ok: true, value: {} }
      }
      case 'memberRemoved': {
        await this.store.write(index, [], [{ bucket: Bucket.members, key: idKey(r.id), delete: true }])
        this.memberAttrs.delete(r.id)
        this.opts.onMembersChanged?.()
        return { ok: true, value: {} }
      }
    }
  }

  private async applyAlarm(index: number, r: Extract<RaftRequest, { op: 'alarm' }>): Promise<Outcome> {
    const a: Alarm = { memberId: r.memberId, alarm: r.alarm }
    const key = Buffer.from(alarmKey(a))
    const had = this.alarmSet.has(alarmKey(a))
    if (r.action === 'ACTIVATE') {
      await this.store.write(index, [], had ? [] : [{ bucket: Bucket.alarm, key, value: Buffer.from(JSON.stringify(a)) }])
      this.alarmSet.set(alarmKey(a), a)
    } else {
      await this.store.write(index, [], had ? [{ bucket: Bucket.alarm, key, delete: true }] : [])
      this.alarmSet.delete(alarmKey(a))
    }
    this.opts.onAlarmsChanged?.()
    // etcd answers with the alarms the request changed.
    return { ok: true, value: { alarms: had || r.action === 'ACTIVATE' ? [a] : [] } }
  }

  private kvResult(res: ApplyResult<unknown>): Outcome {
    if (res.changes.length > 0) {
      for (const kv of res.changes) this.leases.setKeyLease(toByteString(kv.key), kv.version === 0 ? '0' : kv.lease)
      this.watchers.notify(kv0Revision(res.changes), res.changes)
    }
    return { ok: true, value: res.response }
  }

  private refuseWhenFull(): void {
    if (this.hasAlarm('NOSPACE')) throw EtcdErrors.noSpace()
  }
}

/** A subscriber's failure must not reach the apply loop (nor stop the others). */
function guard(fn: () => void): void {
  try {
    fn()
  } catch {
    // The subscriber's own bug; the apply loop carries on.
  }
}

function kv0Revision(changes: KeyValue[]): number {
  return changes[0]!.modRevision
}

function alarmKey(a: Alarm): string {
  return `${a.memberId}/${a.alarm}`
}

function hasPut(r: { success?: { request_put?: unknown; request_txn?: unknown }[]; failure?: { request_put?: unknown; request_txn?: unknown }[] }): boolean {
  for (const op of [...(r.success ?? []), ...(r.failure ?? [])]) {
    if (op.request_put != null) return true
    if (op.request_txn != null && hasPut(op.request_txn as never)) return true
  }
  return false
}
