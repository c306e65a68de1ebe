// Store failures as the StorageError codes the registry understands. Both
// implementations see etcd's errors — an EtcdError in process, a gRPC status from a
// remote etcd — with the same status codes and messages, so one mapping serves both.
import { status } from '@grpc/grpc-js'
import { StorageError } from './interface.js'

const COMPACTED = 'required revision has been compacted'
const FUTURE = 'required revision is a future revision'

/** `err` as a StorageError; `compactedRevision` fills in Compacted errors when known. */
export function toStorageError(err: unknown, compactedRevision?: number): StorageError {
  if (err instanceof StorageError) return err
  const code = (err as { code?: unknown } | undefined)?.code
  // grpc-js puts the server's message in `details` (`message` adds the code's name).
  const details = (err as { details?: unknown } | undefined)?.details
  const message = typeof details === 'string' ? details : err instanceof Error ? err.message : String(err)
  if (message.includes(COMPACTED)) return new StorageError('Compacted', message, compactedRevision)
  if (message.includes(FUTURE)) return new StorageError('FutureRevision', message)
  if (message.includes('request is too large') || (code === status.RESOURCE_EXHAUSTED && /larger than max/.test(message))) {
    return new StorageError('TooLarge', message)
  }
  if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED) return new StorageError('Unavailable', message)
  return new StorageError('Internal', message)
}

/** etcd's answer to a write that names a lease the store no longer has. */
export function isLeaseNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; details?: unknown; message?: unknown } | undefined
  const text = typeof e?.details === 'string' ? e.details : typeof e?.message === 'string' ? e.message : ''
  return e?.code === status.NOT_FOUND && text.includes('requested lease not found')
}
