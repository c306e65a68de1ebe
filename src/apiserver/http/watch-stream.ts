// A watch over HTTP: newline-delimited JSON events (`{"type":…,"object":…}`) on a
// chunked response, fed by the resource's watch cache. Events that every watcher
// shares are encoded once by the cache; a Table watch encodes its own rows.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ApiError } from '../status.js'
import { objectJson } from '../watch-cache/encoding.js'
import type { CacheEvent, CacheFilter, KubeObject, WatchCacheApi } from '../watch-cache/types.js'
import { ExpiredError } from '../watch-cache/types.js'

export interface WatchStreamOptions {
  cache: WatchCacheApi
  filter: CacheFilter
  /** Changes after this revision are sent live. */
  afterRevision: number
  /** Objects to send as ADDED first (current state for rv "" / "0", or sendInitialEvents). */
  initial: readonly KubeObject[]
  /** After the initial events, a BOOKMARK annotated `k8s.io/initial-events-end`. */
  initialEventsEnd: boolean
  bookmarks: boolean
  timeoutMs: number
  apiVersion: string
  kind: string
  /** Re-encodes an event's object (Table rows, PartialObjectMetadata); undefined: as stored. */
  transform?: (obj: KubeObject, first: boolean) => unknown
  onExpired: (err: ExpiredError) => ApiError
}

function line(type: string, object: unknown): Buffer {
  return Buffer.from(`{"type":"${type}","object":${JSON.stringify(object)}}\n`)
}

export function serveWatch(req: IncomingMessage, res: ServerResponse, o: WatchStreamOptions): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' })
  res.flushHeaders()
  let first = true
  let closed = false
  const encode = (type: CacheEvent['type'], obj: KubeObject, ev?: CacheEvent): Buffer => {
    if (o.transform === undefined) return ev !== undefined ? ev.json(type) : Buffer.concat([Buffer.from(`{"type":"${type}","object":`), objectJson(obj), Buffer.from('}\n')])
    // Only the first Table event carries column definitions, as kube-apiserver sends them.
    const out = line(type, o.transform(obj, first))
    first = false
    return out
  }
  const bookmark = (revision: number, initialEnd = false): Buffer => {
    const metadata: Record<string, unknown> = { resourceVersion: String(revision), creationTimestamp: null }
    if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' }
    return line('BOOKMARK', { kind: o.kind, apiVersion: o.apiVersion, metadata })
  }
  // Writes past the socket's buffer are kept (Node buffers them); a client that stops
  // reading for good is cut off once it is this far behind, as kube-apiserver drops slow watchers.
  const maxBuffered = 64 * 1024 * 1024
  const write = (b: Buffer): boolean => {
    if (closed) return true
    const ok = res.write(b)
    if (res.writableLength > maxBuffered) stop()
    return ok
  }

  for (const obj of o.initial) write(encode('ADDED', obj))
  if (o.initialEventsEnd) write(bookmark(o.afterRevision, true))

  let handle: { stop(): void; resume(): void } | undefined
  // A backed-up socket pauses this watcher in the cache (which queues, and cuts off a
  // watcher too far behind) until the socket drains.
  res.on('drain', () => handle?.resume())
  const timer = setTimeout(() => stop(), o.timeoutMs)
  function stop(): void {
    if (closed) return
    closed = true
    clearTimeout(timer)
    handle?.stop()
    res.end()
  }
  req.on('close', stop)
  res.on('close', stop)
  try {
    handle = o.cache.watch(
      o.afterRevision,
      o.filter,
      {
        onEvent: (ev, type) => write(encode(type, ev.object.object, ev)),
        onBookmark: (rev) => void write(bookmark(rev)),
        onClose: (reason) => {
          if (reason === 'expired') {
            write(line('ERROR', o.onExpired(new ExpiredError(o.afterRevision, o.cache.revision)).toStatus()))
          }
          stop()
        },
      },
      { bookmarks: o.bookmarks },
    )
  } catch (err) {
    if (err instanceof ExpiredError) {
      write(line('ERROR', o.onExpired(err).toStatus()))
      stop()
      return
    }
    throw err
  }
  if (closed) handle.stop()
}
