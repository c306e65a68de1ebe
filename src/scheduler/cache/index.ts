// The scheduler cache's public face: the cache itself, the snapshots it keeps up to
// date for each scheduling cycle, and the zone-spreading node order.
export { SchedulerCache } from './cache.js'
export type { CacheDump, CachedPod, SchedulerCacheOptions } from './cache.js'
export { Snapshot } from './snapshot.js'
export { NodeTree, zoneKey } from './node-tree.js'
