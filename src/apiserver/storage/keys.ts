// Keys as the store sees them: UTF-8 bytes, and prefixes as etcd key ranges.

export function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'utf8')
}

export function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('utf8')
}

/**
 * The range end that covers every key starting with `prefix` (etcd's
 * GetPrefixRangeEnd): the prefix with its last byte below 0xff incremented and the
 * rest dropped; one zero byte (every key) when there is none.
 */
export function prefixEnd(prefix: Uint8Array): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1))
      end[i]!++
      return end
    }
  }
  return Buffer.from([0])
}

export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false
  return true
}
