// Expectations (upstream ControllerExpectations): after a controller asks for N pods
// to be created or deleted, it must not act on that owner again until its informer
// has seen those N changes, or a slow watch would make it create (or delete) twice.
// Each owner key records how many adds and deletes are still to be observed; an
// entry older than the TTL counts as satisfied, so a lost event cannot wedge an owner
// forever. Deletions are tracked by pod key (UIDTrackingControllerExpectations), so
// a pod seen deleted twice (graceful then final) is counted once.
import { type Clock, realClock } from '../../client/index.js'

/** Upstream ExpectationsTimeout. */
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000

interface Entry {
  adds: number
  deletes: Set<string>
  pendingDeletes: number
  at: number
}

export class Expectations {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly clock: Clock = realClock,
    private readonly ttlMs = EXPECTATIONS_TTL_MS,
  ) {}

  /** True when the owner may be synced: nothing pending, or what is pending has expired. */
  satisfied(owner: string): boolean {
    const e = this.entries.get(owner)
    if (e === undefined) return true
    if (e.adds <= 0 && e.pendingDeletes <= 0) return true
    return this.clock.now() - e.at > this.ttlMs
  }

  /** Records that `adds` creations and the deletions of `deleteKeys` are about to be issued. */
  expect(owner: string, adds: number, deleteKeys: readonly string[] = []): void {
    this.entries.set(owner, { adds, deletes: new Set(deleteKeys), pendingDeletes: deleteKeys.length, at: this.clock.now() })
  }

  /** A creation was observed (or will never happen because the request failed). */
  creationObserved(owner: string): void {
    const e = this.entries.get(owner)
    if (e !== undefined) e.adds--
  }

  /** A deletion of `podKey` was observed (or its request failed). */
  deletionObserved(owner: string, podKey: string): void {
    const e = this.entries.get(owner)
    if (e === undefined || !e.deletes.delete(podKey)) return
    e.pendingDeletes--
  }

  /** Forgets the owner (it was deleted). */
  delete(owner: string): void {
    this.entries.delete(owner)
  }

  /** Pending counts, for tests and debugging. */
  pending(owner: string): { adds: number; deletes: number } | undefined {
    const e = this.entries.get(owner)
    return e === undefined ? undefined : { adds: e.adds, deletes: e.pendingDeletes }
  }
}
