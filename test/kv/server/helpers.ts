// A single in-process store member on loopback ports chosen by the OS, and a raw
// grpc-js client for it: enough for server behaviour that needs no second process.
import * as grpc from '@grpc/grpc-js'
import { pino } from 'pino'
import { defaultConfig, type StoreConfig } from '../../../src/kv/server/config.js'
import { StoreMember } from '../../../src/kv/server/store-member.js'
import { loadEtcdProto } from '../../../src/kv/etcd-proto.js'

type Wire = Record<string, unknown>
type Ctor = new (address: string, creds: grpc.ChannelCredentials) => grpc.Client

export interface Running {
  member: StoreMember
  address: string
  call<T = Wire>(service: 'KV' | 'Lease' | 'Maintenance' | 'Cluster', method: string, req: Wire): Promise<T>
}

export async function startMember(
  t: { testdir(): string; teardown(fn: () => unknown): void },
  tweak: (cfg: StoreConfig) => void = () => {},
): Promise<Running> {
  const cfg = defaultConfig('solo')
  cfg.dataDir = t.testdir()
  cfg.listenClientURLs = ['http://127.0.0.1:0']
  cfg.advertiseClientURLs = ['http://127.0.0.1:0']
  cfg.listenPeerURLs = ['http://127.0.0.1:0']
  cfg.initialAdvertisePeerURLs = ['http://127.0.0.1:0']
  cfg.initialCluster = [{ name: 'solo', peerURLs: ['http://127.0.0.1:0'] }]
  tweak(cfg)
  const member = await StoreMember.start(cfg, { logger: pino({ level: 'silent' }), defaultMetrics: false })
  const address = new URL(member.clientURLs[0]!).host
  const pkg = grpc.loadPackageDefinition(loadEtcdProto()) as unknown as { etcdserverpb: Record<string, Ctor> }
  const clients = new Map<string, grpc.Client>()
  t.teardown(async () => {
    for (const c of clients.values()) c.close()
    await member.stop()
  })
  const call = <T>(service: string, method: string, req: Wire): Promise<T> => {
    let c = clients.get(service)
    if (!c) {
      c = new pkg.etcdserverpb[service]!(address, grpc.credentials.createInsecure())
      clients.set(service, c)
    }
    const fn = (c as unknown as Record<string, (r: Wire, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: T) => void) => void>)[method]!
    return new Promise<T>((resolve, reject) => fn.call(c, req, { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r))))
  }
  // The member serves once it has elected itself and applied its first entry.
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await call('KV', 'Range', { key: Buffer.from('x') })
      break
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return { member, address, call }
}
