// etcdserverpb.Cluster: member list and membership changes.
import type * as grpc from '@grpc/grpc-js'
import { EtcdError, EtcdErrors } from '../errors.js'
import type { EtcdServer, MemberInfo } from '../etcd-server.js'
import { parseURL } from '../config.js'
import { etcdId, raftIdOf } from '../ids.js'
import { header, type HeaderFields } from './convert.js'
import { LeaderClient } from './leader-client.js'
import { unary } from './unary.js'

type Wire = Record<string, unknown>

function member(m: MemberInfo): Wire {
  return { ID: etcdId(m.id), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner }
}

function peerURLs(req: Wire): string[] {
  const urls = (req.peerURLs as string[] | undefined) ?? []
  if (urls.length === 0) throw EtcdErrors.memberBadURLs()
  try {
    for (const u of urls) parseURL(u, 'peerURLs')
  } catch {
    throw EtcdErrors.memberBadURLs()
  }
  return urls
}

/** MemberPromote on the leader's client URL; its error as etcd's own. */
async function forwardPromote(srv: EtcdServer, id: number): Promise<void> {
  const leader = new LeaderClient(srv)
  try {
    await leader.promote(id)
  } catch (err) {
    const e = err as Partial<grpc.ServiceError>
    if (typeof e.code === 'number' && typeof e.details === 'string' && e.details.startsWith('etcdserver: ')) throw new EtcdError(e.code, e.details)
    throw err
  } finally {
    leader.close()
  }
}

export function clusterService(srv: EtcdServer, h: () => HeaderFields): grpc.UntypedServiceImplementation {
  const list = () => srv.members().map(member)
  // etcd's Cluster responses carry no store revision.
  const head = () => header(h(), 0)
  return {
    MemberList: unary(async (req: Wire) => {
      // etcd 3.5: linearizable unless asked otherwise.
      if (req.linearizable === true) await srv.linearizableBarrier()
      return { header: head(), members: list() }
    }),
    MemberAdd: unary(async (req: Wire) => {
      const m = await srv.memberAdd(peerURLs(req), req.isLearner === true)
      return { header: head(), member: member(m), members: list() }
    }),
    MemberRemove: unary(async (req: Wire) => {
      await srv.memberRemove(raftIdOf(req.ID))
      return { header: head(), members: list() }
    }),
    MemberUpdate: unary(async (req: Wire) => {
      await srv.memberUpdate(raftIdOf(req.ID), peerURLs(req))
      return { header: head(), members: list() }
    }),
    MemberPromote: unary(async (req: Wire) => {
      const id = raftIdOf(req.ID)
      // As etcd: only the leader knows whether the learner has caught up; a follower
      // forwards the promotion to it (etcd does so over its peer HTTP API).
      if (!srv.raft.isLeader() && srv.members().some((m) => m.id === id && m.isLearner)) {
        await forwardPromote(srv, id)
        await srv.linearizableBarrier().catch(() => undefined)
      } else await srv.memberPromote(id)
      return { header: head(), members: list() }
    }),
  }
}
