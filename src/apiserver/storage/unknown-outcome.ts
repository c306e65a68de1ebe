// A conditional write whose outcome the store could not tell: it answered "leader
// changed" or "request timed out" after the proposal had entered raft, so it may or
// may not have been committed. Raft settles that question by the next linearizable
// read: the read is served only after the current leader has committed an entry of
// its own term, so an entry of the old leader is by then either applied or gone for
// good. So a read of the key decides: if the write's guard still holds (the key is
// still absent for a create, still at the expected modRevision for an update or a
// delete), the write never landed and is sent again; otherwise the caller gets the
// Unavailable error, as etcd's own client would give it.
import { status } from '@grpc/grpc-js'

const UNKNOWN = /etcdserver: (leader changed|request timed out)/

/** Retries beyond the first attempt. */
const MAX_RETRIES = 2

export function isOutcomeUnknown(err: unknown): boolean {
  const e = err as { code?: unknown; details?: unknown; message?: unknown } | undefined
  const text = typeof e?.details === 'string' ? e.details : typeof e?.message === 'string' ? e.message : ''
  return e?.code === status.UNAVAILABLE && UNKNOWN.test(text)
}

/**
 * Sends a conditional write; after an unknown outcome, `guardHolds()` (a
 * linearizable read) decides whether it may be sent again. Throws the write's error
 * when it may not, or when the read fails.
 */
export async function writeSettled<T>(send: () => Promise<T>, guardHolds: () => Promise<boolean>): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await send()
    } catch (err) {
      if (retry >= MAX_RETRIES || !isOutcomeUnknown(err)) throw err
      const holds = await guardHolds().catch(() => false)
      if (!holds) throw err
    }
  }
}
