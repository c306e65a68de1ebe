// etcdserverpb.Lease. Grant and Revoke go through raft from any member; KeepAlive and
// TimeToLive need the leader's clocks and are forwarded there from a follower.
import type * as grpc from '@grpc/grpc-js'
import { EtcdErrors, toEtcdError } from '../errors.js'
import type { EtcdServer } from '../etcd-server.js'
import { header, id, num, type HeaderFields } from './convert.js'
import { decodeError } from './checked-service.js'
import type { LeaderClient } from './leader-client.js'
import { unary } from './unary.js'

type Wire = Record<string, unknown>

export function leaseService(srv: EtcdServer, h: () => HeaderFields, leader: LeaderClient): grpc.UntypedServiceImplementation {
  const head = () => header(h(), srv.store.currentRevision)

  const renew = async (leaseId: string): Promise<number> => {
    if (srv.isLeader) {
      try {
        return await srv.leaseRenew(leaseId)
      } catch (err) {
        // KeepAlive reports an unknown lease as TTL 0, not as an error.
        if (toEtcdError(err).message === EtcdErrors.leaseNotFound().message) return 0
        throw err
      }
    }
    return leader.renew(leaseId)
  }

  return {
    LeaseGrant: unary(async (req: Wire) => {
      const res = await srv.leaseGrant(id(req.ID), num(req.TTL))
      return { header: head(), ID: res.id, TTL: res.ttl, error: '' }
    }),
    LeaseRevoke: unary(async (req: Wire) => {
      const res = await srv.leaseRevoke(id(req.ID))
      return { header: header(h(), res.revision) }
    }),
    LeaseTimeToLive: unary(async (req: Wire) => {
      const leaseId = id(req.ID)
      if (!srv.isLeader) {
        const res = await leader.timeToLive(leaseId, req.keys === true)
        return { ...res, header: head() }
      }
      const ttl = srv.leaseTimeToLive(leaseId, req.keys === true)
      // etcd answers an unknown lease with TTL -1, not an error.
      if (!ttl) return { header: head(), ID: leaseId, TTL: -1, grantedTTL: 0, keys: [] }
      return { header: head(), ID: leaseId, TTL: ttl.ttl, grantedTTL: ttl.grantedTTL, keys: ttl.keys.map((k) => Buffer.from(k, 'latin1')) }
    }),
    LeaseLeases: unary(() => ({ header: head(), leases: srv.leases.list().map((l) => ({ ID: l })) })),
    LeaseKeepAlive: (call: grpc.ServerDuplexStream<Wire, Wire>) => {
      // Answers in request order even though renewals may finish out of order.
      let chain = Promise.resolve()
      call.on('data', (req: Wire) => {
        const bad = decodeError(req)
        if (bad) {
          call.destroy(Object.assign(new Error(bad.message), { code: bad.code, details: bad.message }))
          return
        }
        const leaseId = id(req.ID)
        const answer = renew(leaseId)
        chain = chain.then(async () => {
          try {
            const ttl = await answer
            if (!call.writableEnded && !call.destroyed) call.write({ header: head(), ID: leaseId, TTL: ttl })
          } catch (err) {
            const e = toEtcdError(err)
            if (!call.destroyed) call.destroy(Object.assign(new Error(e.message), { code: e.code, details: e.message }))
          }
        })
      })
      call.on('end', () => void chain.then(() => call.end()))
      call.on('error', () => undefined)
    },
  }
}
