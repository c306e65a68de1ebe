// The metadata the server owns on every object: uid, creationTimestamp, generation,
// resourceVersion, names from generateName. Pure helpers over plain JSON objects.
import { randomBytes, randomUUID } from 'node:crypto'
import type { KubeObject } from '../watch-cache/types.js'

export type Meta = Record<string, unknown> & {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string
  deletionTimestamp?: string
  deletionGracePeriodSeconds?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  finalizers?: string[]
  ownerReferences?: Record<string, unknown>[]
  managedFields?: Record<string, unknown>[]
}

export function metaOf(obj: KubeObject): Meta {
  const m = obj.metadata
  if (m === undefined || m === null || typeof m !== 'object' || Array.isArray(m)) {
    const fresh: Meta = {}
    obj.metadata = fresh
    return fresh
  }
  return m as Meta
}

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function timestamp(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

// apiserver's names.SimpleNameGenerator: 5 characters without vowels or look-alikes.
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
const RANDOM_LENGTH = 5
const MAX_NAME_LENGTH = 63

export function generateName(base: string): string {
  const prefix = base.length > MAX_NAME_LENGTH - RANDOM_LENGTH ? base.slice(0, MAX_NAME_LENGTH - RANDOM_LENGTH) : base
  const bytes = randomBytes(RANDOM_LENGTH)
  let suffix = ''
  for (const b of bytes) suffix += ALPHABET[b % ALPHABET.length]
  return prefix + suffix
}

export function newUid(): string {
  return randomUUID()
}

/** A deep copy of a JSON value (objects from the cache are frozen). */
export function clone<T>(v: T): T {
  return structuredClone(v)
}

/** Semantic equality of two JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const bb = b as unknown[]
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]))
  }
  const ao = a as Record<string, unknown>
  const bo = b as Record<string, unknown>
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined)
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined)
  return ak.length === bk.length && ak.every((k) => jsonEqual(ao[k], bo[k]))
}
