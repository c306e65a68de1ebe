// etcdserverpb.Maintenance: Status, Alarm, Defragment, Hash, HashKV, Snapshot, MoveLeader.
import * as grpc from '@grpc/grpc-js'
import { toEtcdError } from '../errors.js'
import type { EtcdServer } from '../etcd-server.js'
import { wrapStoreSnapshot } from '../snapshot-file.js'
import { etcdId, raftIdOf } from '../ids.js'
import { header, num, type HeaderFields } from './convert.js'
import { unary } from './unary.js'

type Wire = Record<string, unknown>

/** etcd streams snapshots in 32 KiB blobs. */
const SNAPSHOT_CHUNK = 32 * 1024

export function maintenanceService(srv: EtcdServer, h: () => HeaderFields): grpc.UntypedServiceImplementation {
  const head = () => header(h(), srv.store.currentRevision)
  return {
    Status: unary(async () => {
      const st = await srv.statusInfo()
      return {
        header: head(),
        version: st.version,
        dbSize: st.dbSize,
        leader: etcdId(st.leader),
        raftIndex: st.raftIndex,
        raftTerm: st.raftTerm,
        raftAppliedIndex: st.raftAppliedIndex,
        errors: st.errors,
        dbSizeInUse: st.dbSizeInUse,
        isLearner: st.isLearner,
        dbSizeQuota: srv.cfg.quotaBackendBytes,
      }
    }),
    Alarm: unary(async (req: Wire) => {
      const alarms = await srv.alarm(
        (req.action as 'GET' | 'ACTIVATE' | 'DEACTIVATE') ?? 'GET',
        String(raftIdOf(req.memberID)),
        (req.alarm as 'NONE' | 'NOSPACE' | 'CORRUPT') ?? 'NONE',
      )
      return { header: head(), alarms: alarms.map((a) => ({ memberID: etcdId(Number(a.memberId)), alarm: a.alarm })) }
    }),
    Defragment: unary(async () => {
      await srv.store.defragment()
      return { header: head() }
    }),
    Hash: unary(async () => {
      const res = await srv.store.hashAll()
      return { header: header(h(), res.revision), hash: res.hash }
    }),
    HashKV: unary(async (req: Wire) => {
      const res = await srv.store.hashKV(num(req.revision))
      return { header: header(h(), res.revision), hash: res.hash, compact_revision: res.compactRevision, hash_revision: res.hashRevision }
    }),
    MoveLeader: unary(async (req: Wire) => {
      await srv.moveLeader(raftIdOf(req.targetID))
      return { header: head() }
    }),
    Downgrade: unary(() => {
      throw Object.assign(new Error('etcdserver: downgrade is not supported'), { code: grpc.status.UNIMPLEMENTED })
    }),
    Snapshot: (call: grpc.ServerWritableStream<Wire, Wire>) => {
      void (async () => {
        try {
          const { body, digest } = wrapStoreSnapshot(await srv.store.snapshot())
          for (let at = 0; at < body.length && !call.cancelled; at += SNAPSHOT_CHUNK) {
            const blob = body.subarray(at, at + SNAPSHOT_CHUNK)
            const remaining = body.length - at - blob.length
            if (!call.write({ remaining_bytes: remaining + digest.length, blob })) await new Promise((r) => call.once('drain', r))
          }
          call.write({ remaining_bytes: 0, blob: digest })
          call.end()
        } catch (err) {
          const e = toEtcdError(err)
          call.destroy(Object.assign(new Error(e.message), { code: e.code, details: e.message }))
        }
      })()
    },
  }
}
