// Each cached object is encoded to JSON once: the bytes are shared by every LIST that
// returns it and by the watch events that carry it. Objects in the cache are frozen
// and replaced (never changed) on update, so the object itself is the cache key and
// the encoding goes away with it. An informer's watch event usually pays for the
// encoding, and the next LIST after a burst of writes then mostly copies bytes.
import type { KubeObject } from './types.js'

const encodings = new WeakMap<object, Buffer>()

export function objectJson(obj: KubeObject): Buffer {
  if (!Object.isFrozen(obj)) return Buffer.from(JSON.stringify(obj))
  let b = encodings.get(obj)
  if (b === undefined) {
    b = Buffer.from(JSON.stringify(obj))
    encodings.set(obj, b)
  }
  return b
}
