// Lease-based leader election (coordination.k8s.io/v1), as client-go's leaderelection
// package, plus fencing: the leader-only loops write through a client whose requests
// the apiserver accepts only while the Lease is still theirs. In outline:
//
//   const elector = new LeaderElector({
//     client, name: 'kube-scheduler', identity: newIdentity('master-2'), metrics,
//     onStartedLeading: (signal) => void scheduler(elector.fencedClient(client), signal),
//     onStoppedLeading: () => log.info({}, 'stopped leading'),
//   })
//   await elector.run(shutdown.signal) // campaigns until shutdown, then releases the Lease
import { randomUUID } from 'node:crypto'

export { LeaderElector } from './elector.js'
export {
  DEFAULT_LEASE_DURATION_MS,
  DEFAULT_RENEW_DEADLINE_MS,
  DEFAULT_RETRY_PERIOD_MS,
  JITTER_FACTOR,
  type LeaderElectorOptions,
} from './options.js'
export {
  type Fence,
  FENCE_HEADER,
  FENCE_HOLDER_HEADER,
  fencedClient,
  fenceHeaders,
  type FenceSource,
  isFencedError,
  LEASE_FENCED,
  leaseFencedError,
} from './fencing.js'
export { type LeaderElectionRecord, type Lease, microTime } from './record.js'

/** A holderIdentity that starts with the master's name and is unique per process: `master-2_<uuid>`. */
export function newIdentity(masterName: string): string {
  return `${masterName}_${randomUUID()}`
}
