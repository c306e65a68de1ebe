// What the EndpointSlice controller last wrote, per Service and slice uid (upstream
// EndpointSliceTracker): so that the informer's echo of our own write does not
// trigger another sync, a change made by someone else does, and a sync refuses to
// work from a cache that has not yet seen our last writes (it would undo or duplicate
// them). Upstream compares metadata.generation; we compare resourceVersions, which
// our API server gives every write (generation is not tracked for EndpointSlices) and
// which, being store revisions, order writes the same way.
import type { KubeObject } from '../../client/index.js'

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'

const DELETION_EXPECTED = -1

function version(slice: KubeObject): number {
  const rv = Number(slice.metadata?.resourceVersion ?? '')
  return Number.isFinite(rv) ? rv : 0
}

function serviceKeyOf(slice: KubeObject): string {
  return `${slice.metadata?.namespace ?? ''}/${slice.metadata?.labels?.[SERVICE_NAME_LABEL] ?? ''}`
}

export class EndpointSliceTracker {
  /** Service key → slice uid → the version we wrote, or DELETION_EXPECTED. */
  private readonly byService = new Map<string, Map<string, number>>()
  private readonly serviceUids = new Map<string, string>()

  has(slice: KubeObject): boolean {
    return this.byService.get(serviceKeyOf(slice))?.has(slice.metadata?.uid ?? '') ?? false
  }

  /** A slice event is news: a slice we never wrote, or changed since we wrote it. */
  shouldSync(slice: KubeObject): boolean {
    const v = this.byService.get(serviceKeyOf(slice))?.get(slice.metadata?.uid ?? '')
    return v === undefined || version(slice) > v
  }

  /**
   * The cache lags our writes for this Service: a slice older than we wrote it, one we
   * deleted still there, or one we wrote missing. A Service replaced by a namesake
   * (another uid) starts afresh.
   */
  staleSlices(service: KubeObject, slices: readonly KubeObject[]): boolean {
    const key = `${service.metadata?.namespace ?? ''}/${service.metadata?.name ?? ''}`
    const uid = service.metadata?.uid ?? ''
    const known = this.serviceUids.get(key)
    if (known !== undefined && known !== '' && uid !== '' && known !== uid) this.byService.delete(key)
    this.serviceUids.set(key, uid)
    const tracked = this.byService.get(key)
    if (tracked === undefined) return false
    const provided = new Set<string>()
    for (const s of slices) {
      const sUid = s.metadata?.uid ?? ''
      provided.add(sUid)
      const v = tracked.get(sUid)
      if (v !== undefined && (v === DELETION_EXPECTED || v > version(s))) return true
    }
    for (const [sUid, v] of tracked) if (v !== DELETION_EXPECTED && !provided.has(sUid)) return true
    return false
  }

  /** Records a slice as we just wrote it (the API server's answer). */
  update(slice: KubeObject): void {
    this.slicesOf(slice).set(slice.metadata?.uid ?? '', version(slice))
  }

  expectDeletion(slice: KubeObject): void {
    this.slicesOf(slice).set(slice.metadata?.uid ?? '', DELETION_EXPECTED)
  }

  /** Forgets a deleted slice; false when we did not expect it to go (someone else deleted it). */
  handleDeletion(slice: KubeObject): boolean {
    const tracked = this.byService.get(serviceKeyOf(slice))
    if (tracked === undefined) return true
    const uid = slice.metadata?.uid ?? ''
    const v = tracked.get(uid)
    tracked.delete(uid)
    return v === undefined || v === DELETION_EXPECTED
  }

  deleteService(key: string): void {
    this.byService.delete(key)
    this.serviceUids.delete(key)
  }

  private slicesOf(slice: KubeObject): Map<string, number> {
    const key = serviceKeyOf(slice)
    let m = this.byService.get(key)
    if (m === undefined) this.byService.set(key, (m = new Map()))
    return m
  }
}
