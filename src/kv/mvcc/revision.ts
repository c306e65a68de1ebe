// A revision names one change in the store: `main` is the store revision its txn
// committed at, `sub` orders the changes inside that txn. The backend stores values
// under encoded revisions whose bytewise order is revision order (etcd's 17-byte
// layout), so compaction and watch catch-up can scan the backend as a key range.

export interface Revision {
  readonly main: number
  readonly sub: number
}

/** Length of an encoded revision: 8-byte big-endian main, '_', 8-byte big-endian sub. */
export const REVISION_BYTES = 17
/** Length of an encoded revision followed by the tombstone mark. */
export const MARKED_REVISION_BYTES = REVISION_BYTES + 1

const SEPARATOR = 0x5f // '_'
const TOMBSTONE_MARK = 0x74 // 't'
const TWO_32 = 2 ** 32
// The high word of a safe integer (< 2^53) is below 2^21.
const MAX_HIGH_WORD = 2 ** 21

export function revision(main: number, sub = 0): Revision {
  return { main, sub }
}

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareRevisions(a: Revision, b: Revision): number {
  return a.main !== b.main ? a.main - b.main : a.sub - b.sub
}

export function revisionToString(rev: Revision): string {
  return `${rev.main}.${rev.sub}`
}

/** A decoded backend key: the revision and whether it records a deletion. */
export interface BucketKey {
  rev: Revision
  tombstone: boolean
}

export function encodeRevision(rev: Revision, tombstone = false): Uint8Array {
  checkPart('main', rev.main)
  checkPart('sub', rev.sub)
  const bytes = new Uint8Array(tombstone ? MARKED_REVISION_BYTES : REVISION_BYTES)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, Math.floor(rev.main / TWO_32))
  view.setUint32(4, rev.main >>> 0)
  bytes[8] = SEPARATOR
  view.setUint32(9, Math.floor(rev.sub / TWO_32))
  view.setUint32(13, rev.sub >>> 0)
  if (tombstone) bytes[REVISION_BYTES] = TOMBSTONE_MARK
  return bytes
}

/** Decodes a backend key; throws on anything encodeRevision cannot have produced. */
export function decodeRevision(bytes: Uint8Array): BucketKey {
  if (bytes.length !== REVISION_BYTES && bytes.length !== MARKED_REVISION_BYTES) {
    throw new Error(`mvcc: invalid revision length: ${bytes.length}`)
  }
  if (bytes[8] !== SEPARATOR) throw new Error(`mvcc: invalid separator in revision: ${bytes[8]}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const main = readPart(view, 0)
  const sub = readPart(view, 9)
  return { rev: { main, sub }, tombstone: isTombstone(bytes) }
}

export function isTombstone(bytes: Uint8Array): boolean {
  return bytes.length === MARKED_REVISION_BYTES && bytes[REVISION_BYTES] === TOMBSTONE_MARK
}

function checkPart(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`mvcc: revision ${name} ${n} is not a non-negative safe integer`)
}

function readPart(view: DataView, offset: number): number {
  const high = view.getUint32(offset)
  if (high >= MAX_HIGH_WORD) throw new RangeError('mvcc: revision beyond 2^53 cannot be represented')
  return high * TWO_32 + view.getUint32(offset + 4)
}
