// The conditional Txns every registry write becomes, built once for both storage
// implementations: the in-process member and the etcd gRPC client take the same
// request shape (etcd's field names, enums as strings, int64 leases as decimal).
//
// Layout, which readers of the responses rely on:
//   success: the main op, then (update only) a keys-only read of the key, then side writes
//   failure: a read of the key, then (fenced writes) a read of the fence key
import type { Fence, SideWrite } from './interface.js'
import { keyBytes } from './keys.js'

interface Compare {
  result: 'EQUAL' | 'GREATER'
  target: 'CREATE' | 'MOD' | 'VALUE'
  key: Uint8Array
  create_revision?: number
  mod_revision?: number
  value?: Uint8Array
}

type Op =
  | { request_put: { key: Uint8Array; value: Uint8Array; lease?: string } }
  | { request_range: { key: Uint8Array; keys_only?: boolean } }
  | { request_delete_range: { key: Uint8Array; prev_kv?: boolean } }

export interface ConditionalTxn {
  compare: Compare[]
  success: Op[]
  failure: Op[]
}

/** What must hold of the key itself. */
type KeyGuard = { absent: true } | { present: true } | { modRevision: number }

function build(key: Uint8Array, guard: KeyGuard, main: Op[], opts: { fence?: Fence; also?: readonly SideWrite[] }): ConditionalTxn {
  const compare: Compare[] = [
    'absent' in guard
      ? { result: 'EQUAL', target: 'CREATE', key, create_revision: 0 }
      : 'present' in guard
        ? { result: 'GREATER', target: 'CREATE', key, create_revision: 0 }
        : { result: 'EQUAL', target: 'MOD', key, mod_revision: guard.modRevision },
  ]
  const failure: Op[] = [{ request_range: { key } }]
  if (opts.fence !== undefined) {
    const fk = keyBytes(opts.fence.key)
    compare.push({ result: 'EQUAL', target: 'VALUE', key: fk, value: Buffer.from(opts.fence.value, 'utf8') })
    failure.push({ request_range: { key: fk } })
  }
  const success = [...main]
  for (const w of opts.also ?? []) {
    success.push('put' in w ? { request_put: { key: keyBytes(w.put), value: w.value } } : { request_delete_range: { key: keyBytes(w.delete) } })
  }
  return { compare, success, failure }
}

export function createTxn(key: string, value: Uint8Array, lease: string, opts: { fence?: Fence; also?: readonly SideWrite[] } = {}): ConditionalTxn {
  const k = keyBytes(key)
  return build(k, { absent: true }, [{ request_put: { key: k, value, lease } }], opts)
}

/** `readBack`: a keys-only read after the put tells the create revision without sending the value back. */
export function updateTxn(
  key: string,
  value: Uint8Array,
  expectedModRevision: number,
  lease: string,
  opts: { fence?: Fence; also?: readonly SideWrite[]; readBack?: boolean } = {},
): ConditionalTxn {
  const k = keyBytes(key)
  const main: Op[] = [{ request_put: { key: k, value, lease } }]
  if (opts.readBack === true) main.push({ request_range: { key: k, keys_only: true } })
  return build(k, { modRevision: expectedModRevision }, main, opts)
}

export function deleteTxn(key: string, expectedModRevision: number | undefined, opts: { fence?: Fence; also?: readonly SideWrite[] } = {}): ConditionalTxn {
  const k = keyBytes(key)
  const guard: KeyGuard = expectedModRevision === undefined ? { present: true } : { modRevision: expectedModRevision }
  return build(k, guard, [{ request_delete_range: { key: k, prev_kv: true } }], opts)
}

/**
 * After a refused Txn: the value the fence key holds instead ('' when missing), or
 * undefined when the fence held (or there was none) and the key's own guard failed.
 */
export function fenceRefusal(fence: Fence | undefined, fenceValue: Uint8Array | undefined): string | undefined {
  if (fence === undefined) return undefined
  const now = fenceValue === undefined ? '' : Buffer.from(fenceValue).toString('utf8')
  return fenceValue !== undefined && now === fence.value ? undefined : now
}
