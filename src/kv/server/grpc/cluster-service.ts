// etcdserverpb.Cluster: member list and membership changes.
import type * as grpc from '@grpc/grpc-js'
import { EtcdErrors } from '../errors.js'
import type { EtcdServer, MemberInfo } from '../etcd-server.js'
import { parseURL } from '../config.js'
import { header, num, type HeaderFields } from './convert.js'
import { unary } from './unary.js'

type Wire = Record<string, unknown>

function member(m: MemberInfo): Wire {
  return { ID: String(m.id), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner }
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

export function clusterService(srv: EtcdServer, h: () => HeaderFields): grpc.UntypedServiceImplementation {
  const list = () => srv.members().map(member)
  const head = () => header(h(), srv.store.currentRevision)
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
      await srv.memberRemove(num(req.ID))
      return { header: head(), members: list() }
    }),
    MemberUpdate: unary(async (req: Wire) => {
      await srv.memberUpdate(num(req.ID), peerURLs(req))
      return { header: head(), members: list() }
    }),
    MemberPromote: unary(async (req: Wire) => {
      await srv.memberPromote(num(req.ID))
      return { header: head(), members: list() }
    }),
  }
}
