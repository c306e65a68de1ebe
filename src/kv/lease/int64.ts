// Lease IDs are protobuf int64s carried as decimal strings (as proto-loader's
// `longs: String` gives them): etcd's generated IDs are above 2^53, where a JS
// number would silently round. BigInt is used only where arithmetic is needed.

export const INT64_MIN = -(1n << 63n)
export const INT64_MAX = (1n << 63n) - 1n

const CANONICAL = /^-?[1-9][0-9]{0,18}$/

/**
 * Whether `s` is an int64 in canonical decimal form ("0", "42", "-7"; no "+", no
 * leading zeros, no "-0"). Canonical form matters because IDs are Map keys: "007"
 * and "7" must not name two leases.
 */
export function isCanonicalInt64(s: string): boolean {
  if (s === '0') return true
  if (!CANONICAL.test(s)) return false
  // 18 digits or fewer always fit; only 19-digit values need the range check.
  if (s.length < (s.startsWith('-') ? 20 : 19)) return true
  const v = BigInt(s)
  return v >= INT64_MIN && v <= INT64_MAX
}

export function assertCanonicalInt64(s: string, what: string): void {
  if (typeof s !== 'string' || !isCanonicalInt64(s)) {
    throw new TypeError(`lease: ${what} ${JSON.stringify(s)} is not a canonical decimal int64`)
  }
}
