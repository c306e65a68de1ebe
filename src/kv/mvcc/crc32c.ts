// CRC-32C (Castagnoli), the checksum etcd's HashKV uses (Go's crc32.MakeTable(crc32.Castagnoli)).
// Node's zlib.crc32 is the IEEE polynomial, so this small table-driven version is ours.
// Using etcd's algorithm over etcd's byte layout lets our hashes be compared with a
// real etcd's, though etcdctl only ever compares members of one cluster.

const POLY = 0x82f63b78 // Castagnoli, bit-reversed

const TABLE = (() => {
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
    table[i] = c >>> 0
  }
  return table
})()

/** Continues a CRC-32C: crc32c(crc32c(0, a), b) equals crc32c(0, a followed by b). */
export function crc32c(crc: number, data: Uint8Array): number {
  let c = ~crc >>> 0
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8)
  return ~c >>> 0
}
