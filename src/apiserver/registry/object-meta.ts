// The metadata the server owns on every object: uid, creationTimestamp, generation,
// resourceVersion, names from generateName. Pure helpers over plain JSON objects.
import { metaTime } from '../../api/time.js'
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
  return metaTime(now)
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

/**
 * ObjectMeta's collections are `omitempty` in Go: an empty `labels: {}` or
 * `ownerReferences: []` is not stored or shown by Kubernetes (e.g. after a patch
 * removed the last owner reference). Dropped in place, so clients see what they
 * would from kube-apiserver.
 */
export function dropEmptyMetaCollections(meta: Meta): void {
  for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences', 'managedFields'] as const) {
    const v = meta[k]
    if (Array.isArray(v) ? v.length === 0 : v !== null && typeof v === 'object' && Object.keys(v).length === 0) delete meta[k]
  }
}
