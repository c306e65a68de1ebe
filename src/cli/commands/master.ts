// `raftplane master`: one master — a store member (the etcd flags of `raftplane
// store`) and the API server over it; with --etcd-servers the API server runs on an
// external etcd cluster instead, as kube-apiserver does.
import * as grpc from '@grpc/grpc-js'
import { type Command, Option } from 'commander'
import { readFile } from 'node:fs/promises'
import { pino } from 'pino'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { createApiServer } from '../../apiserver/index.js'
import { NodeGrpcServer } from '../../apiserver/node-grpc/index.js'
import type { Storage } from '../../apiserver/storage/interface.js'
import { LocalStorage } from '../../apiserver/storage/local.js'
import { RemoteStorage } from '../../apiserver/storage/remote.js'
import { StoreMember } from '../../kv/server/store-member.js'
import { addStoreFlags, configFromFlags, type StoreFlags } from './store.js'

interface MasterFlags extends StoreFlags {
  bindAddress: string
  securePort: string
  insecure?: boolean
  tlsCertFile?: string
  tlsPrivateKeyFile?: string
  etcdServers?: string
  nodeApiPort: string
}

export function registerMaster(program: Command): void {
  addStoreFlags(program.command('master').description('run one master: a store member and the Kubernetes API server over it'))
    .addOption(new Option('--bind-address <ip>', 'the IP address the API server listens on').default('0.0.0.0'))
    .addOption(new Option('--secure-port <port>', 'the port the API server serves on').default('6443'))
    .addOption(new Option('--insecure', 'serve plain HTTP instead of HTTPS (tests, local development)'))
    .addOption(new Option('--tls-cert-file <file>', 'x509 certificate for HTTPS (with --tls-private-key-file)'))
    .addOption(new Option('--tls-private-key-file <file>', 'private key for --tls-cert-file'))
    .addOption(new Option('--etcd-servers <urls>', 'run on these external etcd endpoints instead of an embedded store member (comma-separated)'))
    .addOption(new Option('--node-api-port <port>', 'the port of the node gRPC API (kubelets, kube-proxies); 0 picks a free one').default('6543'))
    .action(async (f: MasterFlags) => {
      const cfg = configFromFlags(f)
      const level = cfg.logLevel === 'panic' ? 'fatal' : cfg.logLevel
      const logger = pino({ level, base: { name: cfg.name } }, pino.destination(2))
      const port = Number(f.securePort)
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--secure-port: not a port: ${f.securePort}`)
      let tls: { cert: Buffer; key: Buffer } | undefined
      if (f.insecure !== true) {
        if (f.tlsCertFile === undefined || f.tlsPrivateKeyFile === undefined) {
          throw new Error('--tls-cert-file and --tls-private-key-file are required unless --insecure is given')
        }
        tls = { cert: await readFile(f.tlsCertFile), key: await readFile(f.tlsPrivateKeyFile) }
      }

      let member: StoreMember | undefined
      let storage: Storage
      let metrics: Registry
      if (f.etcdServers !== undefined && f.etcdServers !== '') {
        storage = new RemoteStorage({ endpoints: f.etcdServers.split(',').map((s) => s.trim()).filter(Boolean) })
        metrics = new Registry()
        // Without a store member nobody else collects the process metrics (event-loop delay among them).
        collectDefaultMetrics({ register: metrics })
      } else {
        member = await StoreMember.start(cfg, { logger: logger.child({ component: 'store' }) })
        storage = new LocalStorage(member)
        metrics = member.metrics
      }
      const api = createApiServer({ storage, metrics, logger: logger.child({ component: 'apiserver' }), name: cfg.name })
      const bound = await api.listen({ host: f.bindAddress, port, ...(tls === undefined ? {} : { tls }) })
      logger.info({ port: bound, tls: tls !== undefined }, 'apiserver listening')
      const nodeApi = new NodeGrpcServer({ stores: api, logger: logger.child({ component: 'node-api' }) })
      const nodePort = Number(f.nodeApiPort)
      if (!Number.isInteger(nodePort) || nodePort < 0 || nodePort > 65535) throw new Error(`--node-api-port: not a port: ${f.nodeApiPort}`)
      const creds = tls === undefined ? grpc.ServerCredentials.createInsecure() : grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false)
      await nodeApi.listen(f.bindAddress, nodePort, creds)
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        member?.server.once('fatal', stop)
      })
      await nodeApi.stop()
      await api.stop()
      await storage.close()
      await member?.stop()
    })
}
