// How objects are stored: JSON bytes without metadata.resourceVersion (the store's
// mod revision is the resourceVersion, set again on every read), as kube-apiserver's
// etcd3 storage strips and re-sets it.
import type { StoredKV } from '../storage/interface.js'
import type { KubeObject } from '../watch-cache/types.js'

const decoder = new TextDecoder()

export function encodeObject(obj: KubeObject): Uint8Array {
  const meta = obj.metadata
  if (meta !== undefined && meta !== null && 'resourceVersion' in meta) {
    const { resourceVersion: _rv, ...rest } = meta
    return Buffer.from(JSON.stringify({ ...obj, metadata: rest }))
  }
  return Buffer.from(JSON.stringify(obj))
}

/** Parses stored bytes; resourceVersion is set to `modRevision`. Throws on corrupt data. */
export function decodeObject(value: Uint8Array, modRevision: number): KubeObject {
  const obj = JSON.parse(decoder.decode(value)) as KubeObject
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('stored value is not a JSON object')
  const meta = (obj.metadata ??= {}) as Record<string, unknown>
  meta.resourceVersion = String(modRevision)
  return obj
}

export function decodeKV(kv: StoredKV): KubeObject {
  return decodeObject(kv.value, kv.modRevision)
}
