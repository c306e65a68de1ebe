// A WatchCallbacks that records everything, and waits for what a test expects.
import type { Storage, WatchCallbacks, WatchEvent, WatchHandle } from '../../../src/apiserver/storage/interface.js'

export interface Delivery {
  revision: number
  events: WatchEvent[]
}

export class Recorder implements WatchCallbacks {
  readonly deliveries: Delivery[] = []
  readonly progress: number[] = []
  closed: { reason: 'compacted' | 'error'; err?: Error } | undefined
  /** Calls after cancel() returned: must stay 0. */
  callsAfterCancel = 0
  private canceled = false
  private waiters: (() => void)[] = []
  handle: WatchHandle | undefined

  onEvents(events: WatchEvent[], revision: number): void {
    if (this.canceled) this.callsAfterCancel++
    this.deliveries.push({ revision, events })
    this.wake()
  }

  onProgress(revision: number): void {
    if (this.canceled) this.callsAfterCancel++
    this.progress.push(revision)
    this.wake()
  }

  onClose(reason: 'compacted' | 'error', err?: Error): void {
    if (this.canceled) this.callsAfterCancel++
    this.closed = { reason, err }
    this.wake()
  }

  /** Starts watching with this recorder. */
  watch(s: Storage, prefix: string, afterRevision: number): this {
    this.handle = s.watch(prefix, afterRevision, this)
    return this
  }

  cancel(): void {
    this.handle?.cancel()
    this.canceled = true
  }

  get events(): WatchEvent[] {
    return this.deliveries.flatMap((d) => d.events)
  }

  /** Resolves once `ready()` holds; rejects after timeoutMs with what was seen. */
  async until(ready: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!ready()) {
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; saw revisions ${JSON.stringify(this.deliveries.map((d) => d.revision))}, progress ${JSON.stringify(this.progress)}, closed ${JSON.stringify(this.closed)}`,
        )
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200))
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  untilEvents(n: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.events.length >= n, `${n} events`, timeoutMs)
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const fn of w) fn()
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
