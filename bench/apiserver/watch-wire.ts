// Reading watch events off the wire without decoding them into objects: the watch
// workers hold thousands of streams on the same 2 cores as the apiserver, so they
// only find the three things they check — the event type, the object's
// resourceVersion and the writer's timestamp annotation — with Buffer.indexOf.
//  - HTTP: a chunked response of `{"type":…,"object":…}\n` lines (ChunkedLines).
//  - gRPC: length-prefixed WatchEvent messages (proto/node.proto) on an HTTP/2 stream.

/** The annotation the writer stamps with its wall-clock send time (ms, fractional). */
export const STAMP_ANNOTATION = 'bench.raftplane.io/stamp'

const STAMP = Buffer.from(`"${STAMP_ANNOTATION}":"`)
const RESOURCE_VERSION = Buffer.from('"resourceVersion":"')
const QUOTE = 0x22

export type EventKind = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'

export interface SeenEvent {
  kind: EventKind
  revision: number
  /** The writer's stamp, NaN when the object has none. */
  stampMs: number
}

function stringAt(buf: Buffer, marker: Buffer, from: number, to: number): string | undefined {
  const at = buf.indexOf(marker, from)
  if (at < 0 || at >= to) return undefined
  const start = at + marker.length
  const end = buf.indexOf(QUOTE, start)
  if (end < 0 || end > to) return undefined
  return buf.toString('latin1', start, end)
}

/** The revision and stamp of the object JSON at buf[from, to). */
export function scanObject(buf: Buffer, from: number, to: number): { revision: number; stampMs: number } {
  const rv = stringAt(buf, RESOURCE_VERSION, from, to)
  const stamp = stringAt(buf, STAMP, from, to)
  return { revision: rv === undefined ? 0 : Number(rv), stampMs: stamp === undefined ? NaN : Number(stamp) }
}

const KINDS: Record<string, EventKind> = { A: 'ADDED', M: 'MODIFIED', D: 'DELETED', B: 'BOOKMARK', E: 'ERROR' }

/** One `{"type":"MODIFIED","object":{…}}` line (without its newline). */
export function scanJsonLine(line: Buffer): SeenEvent {
  // `{"type":"` is 9 bytes; the type's first letter tells them apart.
  const kind = KINDS[String.fromCharCode(line[9] ?? 0)] ?? 'ERROR'
  if (kind === 'BOOKMARK' || kind === 'ERROR') return { kind, revision: 0, stampMs: NaN }
  return { kind, ...scanObject(line, 9, line.length) }
}

const enum Chunk {
  Size,
  SizeLineEnd,
  Data,
  DataEnd,
  Done,
}

/**
 * Decodes an HTTP/1.1 chunked body (after the headers) into lines. Usually one TCP
 * read is one chunk is one event; the general case (splits anywhere) is handled too.
 */
export class ChunkedLines {
  private state = Chunk.Size
  private size = 0
  private left = 0
  private line: Buffer[] = []

  constructor(private readonly onLine: (line: Buffer) => void) {}

  get done(): boolean {
    return this.state === Chunk.Done
  }

  push(buf: Buffer): void {
    let i = 0
    while (i < buf.length && this.state !== Chunk.Done) {
      switch (this.state) {
        case Chunk.Size: {
          const c = buf[i++]!
          if (c === 0x0d) this.state = Chunk.SizeLineEnd
          else if (c !== 0x3b) this.size = this.size * 16 + parseInt(String.fromCharCode(c), 16)
          break
        }
        case Chunk.SizeLineEnd:
          i++ // the \n
          if (this.size === 0) this.state = Chunk.Done
          else {
            this.left = this.size
            this.state = Chunk.Data
          }
          this.size = 0
          break
        case Chunk.Data: {
          const end = Math.min(buf.length, i + this.left)
          this.data(buf, i, end)
          this.left -= end - i
          i = end
          if (this.left === 0) this.state = Chunk.DataEnd
          break
        }
        case Chunk.DataEnd:
          // \r\n after the data
          if (buf[i++] === 0x0a) this.state = Chunk.Size
          break
      }
    }
  }

  private data(buf: Buffer, from: number, to: number): void {
    let start = from
    for (;;) {
      const nl = buf.indexOf(0x0a, start)
      if (nl < 0 || nl >= to) break
      if (this.line.length === 0) this.onLine(buf.subarray(start, nl))
      else {
        this.line.push(buf.subarray(start, nl))
        this.onLine(Buffer.concat(this.line))
        this.line = []
      }
      start = nl + 1
    }
    // Keep a copy: the socket may reuse its buffer.
    if (start < to) this.line.push(Buffer.from(buf.subarray(start, to)))
  }
}

// ---- gRPC: raftplane.node.v1 WatchPodsRequest / WatchEvent --------------------------

export const WATCH_PODS_METHOD = '/raftplane.node.v1.NodeService/WatchPods'

function varint(n: number): number[] {
  const out: number[] = []
  while (n > 127) {
    out.push((n & 127) | 128)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}

function stringField(field: number, s: string): Buffer {
  const b = Buffer.from(s)
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(b.length)]), b])
}

/** A WatchPodsRequest in gRPC framing (5-byte prefix). */
export function watchPodsFrame(nodeName: string, resourceVersion: string): Buffer {
  const msg = Buffer.concat([stringField(1, nodeName), stringField(2, resourceVersion)])
  const frame = Buffer.alloc(5 + msg.length)
  frame.writeUInt32BE(msg.length, 1)
  msg.copy(frame, 5)
  return frame
}

const GRPC_KINDS: EventKind[] = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']

/** One WatchEvent message (without the gRPC prefix). */
export function scanWatchEvent(msg: Buffer): SeenEvent {
  let i = 0
  let type = 0
  let objFrom = 0
  let objTo = 0
  let rv = ''
  const readVarint = (): number => {
    let n = 0
    let mul = 1
    for (;;) {
      const b = msg[i++]!
      n += (b & 127) * mul
      if (b < 128) return n
      mul *= 128
    }
  }
  while (i < msg.length) {
    const tag = readVarint()
    const field = tag >>> 3
    if ((tag & 7) === 0) {
      const v = readVarint()
      if (field === 1) type = v
    } else if ((tag & 7) === 2) {
      const len = readVarint()
      if (field === 2) [objFrom, objTo] = [i, i + len]
      else if (field === 3) rv = msg.toString('latin1', i, i + len)
      i += len
    } else return { kind: 'ERROR', revision: 0, stampMs: NaN }
  }
  const kind = GRPC_KINDS[type] ?? 'ERROR'
  if (kind === 'BOOKMARK') return { kind, revision: Number(rv), stampMs: NaN }
  const { stampMs } = scanObject(msg, objFrom, objTo)
  return { kind, revision: Number(rv), stampMs }
}
