// A watch response as an async iterator of events. The body is newline-delimited
// JSON; a chunk may end mid-line or mid-character, so bytes are decoded and split
// here. When the consumer falls behind, the socket is paused rather than buffering
// without bound. stop() ends the iteration cleanly; a connection that breaks ends it
// with a ConnectionError.
import type { ClientRequest, IncomingMessage } from 'node:http'
import { StringDecoder } from 'node:string_decoder'
import { ConnectionError } from './errors.js'
import type { KubeObject, WatchEvent } from './types.js'

const PAUSE_AT = 1024
const RESUME_AT = 128

export class WatchStream<T extends KubeObject = KubeObject> implements AsyncIterable<WatchEvent<T>> {
  private readonly decoder = new StringDecoder('utf8')
  private partial = ''
  private readonly events: WatchEvent<T>[] = []
  private waiter: (() => void) | undefined
  private ended = false
  private failure: Error | undefined
  private stopped = false
  private iterating = false

  private deadline: NodeJS.Timeout | undefined

  /**
   * `deadlineMs`: give up on the stream after this long even if the server never
   * ends it (a master cut off without a reset would otherwise hold it forever).
   */
  constructor(
    private readonly req: ClientRequest,
    private readonly res: IncomingMessage,
    private readonly url: string,
    deadlineMs?: number,
  ) {
    if (deadlineMs !== undefined) {
      this.deadline = setTimeout(() => {
        const err: NodeJS.ErrnoException = new Error(`no end of the watch from the server within ${deadlineMs} ms`)
        err.code = 'ETIMEDOUT'
        this.finish(err)
        this.req.destroy()
      }, deadlineMs)
      this.deadline.unref()
    }
    res.on('data', (chunk: Buffer) => this.onData(this.decoder.write(chunk)))
    res.on('end', () => {
      this.onData(this.decoder.end())
      if (this.partial.trim() !== '') this.parseLine(this.partial)
      this.partial = ''
      this.finish()
    })
    res.on('error', (err) => this.finish(err))
    res.on('close', () => {
      if (!res.complete) this.finish(new Error('the watch stream closed before it ended'))
    })
  }

  /** Ends the watch: iteration finishes after the events already received. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.req.destroy()
    this.finish()
  }

  /** Events received and not yet consumed. */
  get buffered(): number {
    return this.events.length
  }

  /** True once the stream has ended (stopped, closed by the server, or broken). */
  get done(): boolean {
    return this.ended
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent<T>, void, undefined> {
    if (this.iterating) throw new Error('a watch stream can be iterated only once')
    this.iterating = true
    try {
      for (;;) {
        const ev = this.events.shift()
        if (ev !== undefined) {
          if (this.res.isPaused() && this.events.length <= RESUME_AT && !this.ended) this.res.resume()
          yield ev
          continue
        }
        if (this.ended) {
          if (this.failure !== undefined && !this.stopped) throw this.failure
          return
        }
        await new Promise<void>((resolve) => (this.waiter = resolve))
      }
    } finally {
      this.stop()
    }
  }

  private onData(text: string): void {
    if (this.ended || text === '') return
    // Only the new text is scanned for newlines, so a long line arriving in many chunks costs linear time.
    let nl = text.indexOf('\n')
    if (nl < 0) {
      this.partial += text
      return
    }
    let line = this.partial + text.slice(0, nl)
    for (;;) {
      if (line.trim() !== '' && !this.parseLine(line)) return
      const start = nl + 1
      nl = text.indexOf('\n', start)
      if (nl < 0) {
        this.partial = text.slice(start)
        break
      }
      line = text.slice(start, nl)
    }
    if (this.events.length >= PAUSE_AT) this.res.pause()
    this.wake()
  }

  private parseLine(line: string): boolean {
    let ev: WatchEvent<T>
    try {
      ev = JSON.parse(line) as WatchEvent<T>
    } catch (err) {
      this.finish(new Error(`unable to decode a watch event: ${(err as Error).message}`))
      this.req.destroy()
      return false
    }
    if (typeof ev !== 'object' || ev === null || typeof ev.type !== 'string' || typeof ev.object !== 'object') {
      this.finish(new Error(`unable to decode a watch event: ${line.slice(0, 200)}`))
      this.req.destroy()
      return false
    }
    this.events.push(ev)
    return true
  }

  private finish(err?: Error): void {
    if (this.ended) return
    this.ended = true
    clearTimeout(this.deadline)
    if (err !== undefined && !this.stopped) {
      const code = (err as NodeJS.ErrnoException).code ?? 'ECONNRESET'
      this.failure = new ConnectionError(`watch of ${this.url} broke: ${err.message}`, code, this.url, false, { cause: err })
    }
    this.wake()
  }

  private wake(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }
}
