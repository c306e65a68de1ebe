// Names derived from content: the pod-template-hash of a ReplicaSet and the hash in a
// ControllerRevision's name. As upstream, a 32-bit FNV-1a of the object (here of its
// canonical JSON: keys sorted, so equal objects hash equal whatever their key order),
// mixed with the owner's collisionCount when it has one, printed in decimal and mapped
// onto characters that can never spell words or look like numbers (SafeEncodeString).
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789'

/** JSON with object keys sorted at every level. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(',')}]`
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`
  }
  return JSON.stringify(v)
}

export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed
  for (const b of bytes) {
    h ^= b
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

export function safeEncodeString(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) out += ALPHANUMS[s.charCodeAt(i) % ALPHANUMS.length]
  return out
}

/** The hash upstream's ComputeHash gives a template: stable across key order, changed by collisionCount. */
export function computeHash(obj: unknown, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJson(obj)))
  if (collisionCount !== undefined && collisionCount !== 0) {
    const c = new Uint8Array(4)
    new DataView(c.buffer).setUint32(0, collisionCount >>> 0, true)
    h = fnv32a(c, h)
  }
  return safeEncodeString(String(h))
}
