// One change as the hub hands it to watchers. Its mvccpb.Event bytes are encoded on
// first use and shared by every watcher and stream that sends it; so is the prev_kv
// variant, whose store read is started at most once per change, off the notify path.

import { type ByteString, toByteString } from '../mvcc/byte-string.js'
import type { KeyValue } from '../mvcc/key-value.js'
import type { KVStore } from '../mvcc/kv-store.js'
import { encodeEvent, withPrevKv } from './encode.js'

export class HubEvent {
  readonly key: ByteString
  private encoded: Uint8Array | undefined
  private withPrev: Promise<Uint8Array> | undefined

  constructor(
    readonly kv: KeyValue,
    readonly deleted: boolean,
  ) {
    this.key = toByteString(kv.key)
  }

  /** From a store write's change: a deletion has version 0. */
  static fromChange(kv: KeyValue): HubEvent {
    return new HubEvent(kv, kv.version === 0)
  }

  get rev(): number {
    return this.kv.modRevision
  }

  bytes(): Uint8Array {
    return (this.encoded ??= encodeEvent(this.kv, this.deleted))
  }

  /**
   * The event with prev_kv: the key's value at mod_revision - 1, read from the store
   * (as etcd's sendLoop does). None for a creation, or if that revision was compacted.
   */
  bytesWithPrev(store: KVStore): Promise<Uint8Array> {
    return (this.withPrev ??= this.readPrev(store))
  }

  private async readPrev(store: KVStore): Promise<Uint8Array> {
    const ev = this.bytes()
    if (!this.deleted && this.kv.createRevision === this.kv.modRevision) return ev
    try {
      const r = await store.range(this.kv.key, undefined, { rev: this.kv.modRevision - 1 })
      return r.kvs.length > 0 ? withPrevKv(ev, r.kvs[0]) : ev
    } catch {
      return ev
    }
  }
}
