// The local store's shapes and errors as the Storage interface's.
import type { KeyValue } from '../../kv/mvcc/key-value.js'
import { toEtcdError } from '../../kv/server/errors.js'
import { toStorageError } from './errors.js'
import { StorageError, type StoredKV } from './interface.js'
import { keyString } from './keys.js'

export function storedKV(kv: KeyValue): StoredKV {
  return { key: keyString(kv.key), value: kv.value, createRevision: kv.createRevision, modRevision: kv.modRevision, lease: kv.lease }
}

/** Anything the local member threw, as etcd would have answered it, as a StorageError. */
export function localError(err: unknown, compactedRevision?: number): StorageError {
  if (err instanceof StorageError) return err
  return toStorageError(toEtcdError(err), compactedRevision)
}
