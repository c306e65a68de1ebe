// etcd's wire messages (as proto-loader gives them: int64 as decimal strings, bytes
// as Buffers) as the Storage interface's shapes.
import type { StoredKV } from './interface.js'
import { keyString } from './keys.js'
import type { Message } from './remote-client.js'

const EMPTY = new Uint8Array(0)

export function storedKVFromWire(kv: Message): StoredKV {
  const key = kv.key as Uint8Array | undefined
  return {
    key: key === undefined ? '' : keyString(key),
    value: (kv.value as Uint8Array | undefined) ?? EMPTY,
    createRevision: Number(kv.create_revision ?? 0),
    modRevision: Number(kv.mod_revision ?? 0),
    lease: leaseOf(kv.lease),
  }
}

/** A lease ID as a decimal string; etcd's int64 may arrive as a string or a number. */
export function leaseOf(v: unknown): string {
  if (v === undefined || v === null || v === '') return '0'
  return String(v)
}

export function headerRevision(res: Message): number {
  const header = res.header as Message | null | undefined
  return Number(header?.revision ?? 0)
}

/** The kvs of a Range response (alone, or as a Txn's response op). */
export function rangeKVs(res: Message | null | undefined): StoredKV[] {
  const kvs = (res?.kvs ?? []) as Message[]
  return kvs.map(storedKVFromWire)
}
