// Watch events as WatchEvent messages, encoded once per cache event and type: every
// stream that receives the event gets the same bytes. The object's JSON is taken from
// the cache event's own JSON line (which the HTTP watchers share), so a change is
// serialized once for both APIs.
import type { CacheEvent, KubeObject } from '../watch-cache/types.js'
import { nodeProto } from './proto.js'

type EventType = CacheEvent['type']

const encoded = new WeakMap<CacheEvent, Partial<Record<EventType, Buffer>>>()

/** The object's JSON out of `{"type":"<type>","object":<json>}\n`, or a fresh encoding. */
function objectBytes(ev: CacheEvent, type: EventType): Buffer {
  const line = ev.json(type)
  const head = `{"type":"${type}","object":`
  const tail = '}\n'
  if (line.length > head.length + tail.length && line.toString('latin1', 0, head.length) === head && line.toString('latin1', line.length - tail.length) === tail) {
    return line.subarray(head.length, line.length - tail.length)
  }
  return Buffer.from(JSON.stringify(ev.object.object))
}

export function encodeCacheEvent(ev: CacheEvent, type: EventType): Buffer {
  let forEvent = encoded.get(ev)
  if (forEvent === undefined) {
    forEvent = {}
    encoded.set(ev, forEvent)
  }
  let bytes = forEvent[type]
  if (bytes === undefined) {
    bytes = nodeProto().encodeWatchEvent({ type, object_json: objectBytes(ev, type), resource_version: String(ev.revision), initial_events_end: false })
    forEvent[type] = bytes
  }
  return bytes
}

/** An ADDED event of a watch's initial state. */
export function encodeInitial(obj: KubeObject): Buffer {
  const rv = String((obj.metadata as Record<string, unknown> | undefined)?.resourceVersion ?? '')
  return nodeProto().encodeWatchEvent({ type: 'ADDED', object_json: objectJson(obj), resource_version: rv, initial_events_end: false })
}

export function encodeBookmark(revision: number, initialEventsEnd = false): Buffer {
  return nodeProto().encodeWatchEvent({ type: 'BOOKMARK', object_json: Buffer.alloc(0), resource_version: String(revision), initial_events_end: initialEventsEnd })
}

export function objectJson(obj: KubeObject): Buffer {
  return Buffer.from(JSON.stringify(obj))
}
