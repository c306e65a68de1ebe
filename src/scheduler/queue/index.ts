// The scheduling queue's public face: the queue, its pod records, and the cluster
// events and queueing hints that decide which waiting pods an event moves.
export { backoffDuration, prioritySort, SchedulingQueue } from './scheduling-queue.js'
export type { PendingCounts, QueuedPodInfo, QueueName, SchedulingQueueOptions } from './scheduling-queue.js'
export { assignedPodSchedulingPropertiesChange, CLUSTER_EVENTS, isGated, isPodUpdated, NODE_UPDATE_EVENTS, nodeSchedulingPropertiesChange } from './events.js'
export type { ClusterEvent } from './events.js'
export { DEFAULT_QUEUEING_HINTS, HintTable } from './hints.js'
export type { QueueingHints } from './hints.js'
