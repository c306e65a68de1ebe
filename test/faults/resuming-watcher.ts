// A watcher as a careful etcd client writes one: it watches a prefix on one member
// and, when the stream breaks (the member died, a timeout), resumes on the next member
// from the revision after the last event it got, so its events should be one unbroken
// history (./checker/watch.ts checks that they are).
import * as grpc from '@grpc/grpc-js'
import { loadEtcdProto } from '../../src/kv/etcd-proto.js'
import type { WatchedEvent } from './checker/watch.js'

type Wire = Record<string, unknown>
type WatchClient = grpc.Client & { Watch(): grpc.ClientDuplexStream<Wire, Wire> }

const OPTIONS: grpc.ChannelOptions = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 500,
}

function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix)
  end[end.length - 1]!++
  return end
}

export class ResumingWatcher {
  readonly events: WatchedEvent[] = []
  /** Streams opened after the first. */
  resumes = 0
  /**
   * The revision of the newest event seen. (Not the response headers': the one that
   * confirms a watch's creation carries the store's current revision before any of
   * the history it will send.)
   */
  revision = 0
  private readonly clients: WatchClient[]
  private stream: grpc.ClientDuplexStream<Wire, Wire> | undefined
  private closed = false
  private member: number
  private next: number
  private waiters: { revision: number; resolve: () => void }[] = []

  constructor(
    endpoints: readonly string[],
    private readonly prefix: string,
    readonly startRevision: number,
    firstMember: number,
  ) {
    const Watch = (grpc.loadPackageDefinition(loadEtcdProto()) as unknown as { etcdserverpb: { Watch: new (a: string, c: grpc.ChannelCredentials, o: grpc.ChannelOptions) => WatchClient } }).etcdserverpb.Watch
    this.clients = endpoints.map((e) => new Watch(e, grpc.credentials.createInsecure(), OPTIONS))
    this.member = firstMember
    this.next = startRevision
    this.open()
  }

  private open(): void {
    if (this.closed) return
    const stream = this.clients[this.member]!.Watch()
    this.stream = stream
    let ended = false
    const resume = (): void => {
      if (ended) return
      ended = true
      stream.cancel()
      if (this.closed) return
      this.resumes++
      this.member = (this.member + 1) % this.clients.length
      setTimeout(() => this.open(), 100)
    }
    stream.on('data', (res: Wire) => {
      if (res.canceled === true || Number(res.compact_revision ?? 0) > 0) return resume()
      for (const ev of (res.events as Wire[] | undefined) ?? []) {
        const kv = ev.kv as Wire
        const revision = Number(kv.mod_revision)
        this.events.push({ revision, key: (kv.key as Buffer).toString(), type: ev.type === 'DELETE' ? 'DELETE' : 'PUT', value: ((kv.value as Buffer | undefined) ?? Buffer.alloc(0)).toString() })
        this.next = revision + 1
        this.revision = Math.max(this.revision, revision)
      }
      this.wake()
    })
    stream.on('error', resume)
    stream.on('end', resume)
    stream.write({ create_request: { key: Buffer.from(this.prefix), range_end: prefixEnd(this.prefix), start_revision: this.next, } })
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => (this.revision >= w.revision ? (w.resolve(), false) : true))
  }

  /** Resolves once the watcher has seen the store reach `revision`; false after timeoutMs. */
  async caughtUp(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.revision >= revision) return true
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      this.waiters.push({ revision, resolve: () => (clearTimeout(timer), resolve(true)) })
    })
  }

  close(): void {
    this.closed = true
    this.stream?.cancel()
    for (const c of this.clients) c.close()
  }
}
