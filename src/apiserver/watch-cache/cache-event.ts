// Cached objects and events. Objects are frozen once decoded: every list and every
// watcher shares them, so one accidental mutation would corrupt them all. An event's
// JSON line is built on first use, per event type, around the object's one shared
// encoding, and the same Buffer goes to every watcher that receives the event with
// that type.
import { objectJson } from './encoding.js'
import type { CacheEvent, CachedObject, KubeObject } from './types.js'

type EventType = CacheEvent['type']

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return
  Object.freeze(value)
  for (const v of Object.values(value)) deepFreeze(v)
}

/**
 * A frozen copy of `obj` whose metadata.resourceVersion is `revision`. Only the top
 * level and metadata are copied; the rest is frozen in place (the decoder hands over
 * a fresh object, and a source already frozen is shared as is).
 *
 * The JSON encoding is made here, as the object arrives, not on first use: a write
 * is encoded for its watchers anyway, and a LIST of 10,000 objects nobody watched
 * would otherwise encode all of them inside one request (~250 ms of a blocked loop).
 */
export function versioned(key: string, obj: KubeObject, revision: number): CachedObject {
  const metadata = { ...(obj.metadata ?? {}), resourceVersion: String(revision) }
  const object: KubeObject = { ...obj, metadata }
  deepFreeze(object)
  objectJson(object)
  return { key, object, modRevision: revision }
}

const EVENT_END = Buffer.from('}\n')

export class CacheEventImpl implements CacheEvent {
  private readonly lines: Partial<Record<EventType, Buffer>> = {}

  constructor(
    readonly type: EventType,
    readonly object: CachedObject,
    readonly prev: CachedObject | undefined,
    readonly revision: number,
  ) {}

  json(type: EventType = this.type): Buffer {
    let line = this.lines[type]
    if (line === undefined) {
      line = Buffer.concat([Buffer.from(`{"type":"${type}","object":`), objectJson(this.object.object), EVENT_END])
      this.lines[type] = line
    }
    return line
  }
}
