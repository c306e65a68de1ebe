// Prometheus metrics of a store member, under etcd's names where etcd has them, so
// dashboards and alerts written for etcd work unchanged. One registry per member
// (tests run several members in one process).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { WatchHub } from '../watch/hub.js'
import type { EtcdServer } from './etcd-server.js'
import { etcdId } from './ids.js'

export function storeMetrics(srv: EtcdServer, opts: { defaultMetrics?: boolean; hub?: WatchHub } = {}): Registry {
  const register = new Registry()
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register })
  const gauge = (name: string, help: string, value: () => number | Promise<number>) =>
    new Gauge({
      name,
      help,
      registers: [register],
      async collect() {
        this.set(await value())
      },
    })
  const counter = (name: string, help: string, value: () => number) => {
    let last = 0
    return new Counter({
      name,
      help,
      registers: [register],
      collect() {
        const v = value()
        if (v > last) this.inc(v - last)
        last = v
      },
    })
  }
  gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () => (srv.raft.leader !== 0 ? 1 : 0))
  gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () => (srv.isLeader ? 1 : 0))
  gauge('etcd_server_is_learner', 'Whether or not this member is a learner. 1 if is, 0 otherwise.', () =>
    srv.raft.status().confState.learners.includes(srv.id) ? 1 : 0,
  )
  counter('etcd_server_leader_changes_seen_total', 'The number of leader changes seen.', () => srv.counters().leaderChanges)
  gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', () => srv.raft.status().commit)
  gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', () => srv.raft.status().appliedIndex)
  counter('etcd_server_proposals_failed_total', 'The total number of failed proposals seen.', () => srv.counters().proposalsFailed)
  gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', () => srv.counters().proposalsPending)
  gauge('etcd_server_term', 'The raft term of this member.', () => srv.term)
  gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', () => srv.store.dbSize())
  gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => srv.store.currentRevision)
  gauge('etcd_debugging_mvcc_compact_revision', 'The revision of the last compaction in store.', () => srv.store.compactedRevision)
  gauge('etcd_server_quota_backend_bytes', 'Current backend storage quota size in bytes.', () => srv.cfg.quotaBackendBytes)
  counter('raftplane_wal_fsyncs_total', 'fsync calls made by the raft WAL.', () => srv.raft.walStats().fsyncs)
  counter('raftplane_wal_entries_synced_total', 'Raft entries made durable by the WAL.', () => srv.raft.walStats().entriesSynced)
  const hub = opts.hub
  if (hub !== undefined) {
    gauge('etcd_debugging_mvcc_watcher_total', 'Total number of watchers.', () => hub.counts.synced + hub.counts.unsynced)
    gauge('etcd_debugging_mvcc_slow_watcher_total', 'Total number of unsynced slow watchers.', () => hub.counts.unsynced)
    gauge('etcd_debugging_mvcc_watch_stream_total', 'Total number of watch streams.', () => hub.counts.streams)
  }
  // etcd's buckets: 1 ms doubling to about 8 s.
  const fsync = new Histogram({
    name: 'etcd_disk_wal_fsync_duration_seconds',
    help: 'The latency distributions of fsync called by WAL.',
    buckets: Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i),
    registers: [register],
  })
  srv.raft.onWalFsync((seconds) => fsync.observe(seconds))
  new Gauge({
    name: 'etcd_server_id',
    help: 'Server or member ID in hexadecimal format. 1 for \'server_id\' label with current ID.',
    labelNames: ['server_id'],
    registers: [register],
  }).set({ server_id: BigInt(etcdId(srv.id)).toString(16) }, 1)
  return register
}
