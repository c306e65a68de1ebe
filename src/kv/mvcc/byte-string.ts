// Keys in the index are "byte strings": JavaScript strings holding one character per
// key byte, each 0–255 (latin1). Chosen over Uint8Array because:
// - `<` on such strings compares code unit by code unit, natively, which for units
//   0–255 is exactly bytewise (memcmp) order, a proper prefix sorting first: etcd's
//   key order, with no comparator call on the hot path of every tree descent;
// - V8 stores them one byte per character, where each Uint8Array costs an object
//   and a backing store of its own;
// - they are values: usable as Map keys, cheap to compare for equality, immutable.
// Conversion happens once at the edge (gRPC request in, backend value out).

/** A key as the index holds it; only produced by toByteString or ASCII literals. */
export type ByteString = string

export function toByteString(bytes: Uint8Array): ByteString {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

export function fromByteString(key: ByteString): Uint8Array {
  return Buffer.from(key, 'latin1')
}
