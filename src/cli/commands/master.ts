// `raftplane master`: one master — a store member (the etcd flags of `raftplane
// store`), the API server over it, and the leader-elected scheduler and
// controller-manager; with --etcd-servers the API server runs on an external etcd
// cluster instead, as kube-apiserver does.
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
import { parse as parseYaml } from 'yaml'
import { parseSchedulerConfig } from '../../scheduler/framework/profile.js'
import type { Profile } from '../../scheduler/framework/types.js'
import { parseGoDuration } from '../../api/go-duration.js'
import { enabledControllers, parseControllersFlag } from '../../controllers/manager.js'
import { MasterLoops } from '../master-loops.js'
import { portInUse, portInUseMessage } from '../port-holder.js'
import { addStoreFlags, configFromFlags, startMember, stopAfter, type StoreFlags } from './store.js'

function durationFlag(v: string, flag: string): number {
  try {
    return parseGoDuration(v)
  } catch (err) {
    throw new Error(`${flag}: ${(err as Error).message}`, { cause: err })
  }
}

function rateFlag(v: string, flag: string): number {
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`${flag}: not a non-negative number: ${v}`)
  return n
}

async function schedulerConfigFile(file: string): Promise<Profile[]> {
  let doc: unknown
  try {
    doc = parseYaml(await readFile(file, 'utf8'))
  } catch (err) {
    throw new Error(`--scheduler-config ${file}: ${(err as Error).message}`, { cause: err })
  }
  try {
    return parseSchedulerConfig(doc)
  } catch (err) {
    throw new Error(`--scheduler-config ${file}: ${(err as Error).message}`, { cause: err })
  }
}

/** Where the master's own loops reach its apiserver: the bind address, or loopback for a wildcard. */
function loopbackHost(bind: string): string {
  if (bind === '0.0.0.0' || bind === '' || bind === '::') return '127.0.0.1'
  return bind.includes(':') ? `[${bind}]` : bind
}

/**
 * The first port this master would listen on that something else holds already, as
 * one line naming the holder; undefined when all are free. Checked before anything
 * starts, so the user reads which flag to change rather than a bind error.
 */
async function portConflict(f: MasterFlags, cfg: ReturnType<typeof configFromFlags>, apiPort: number): Promise<string | undefined> {
  const wanted: { host: string; port: number; flag: string }[] = [
    { host: f.bindAddress, port: apiPort, flag: '--secure-port' },
    { host: f.bindAddress, port: Number(f.nodeApiPort), flag: '--node-api-port' },
  ]
  if (f.etcdServers === undefined || f.etcdServers === '') {
    for (const [urls, flag] of [[cfg.listenClientURLs, '--listen-client-urls'], [cfg.listenPeerURLs, '--listen-peer-urls']] as const) {
      for (const url of urls) {
        const u = new URL(url)
        wanted.push({ host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port), flag })
      }
    }
  }
  for (const w of wanted) {
    if (!Number.isInteger(w.port) || w.port <= 0) continue
    if (await portInUse(w.host, w.port)) return portInUseMessage(w.port, w.flag, `change ${w.flag}`)
  }
  return undefined
}

interface MasterFlags extends StoreFlags {
  bindAddress: string
  securePort: string
  insecure?: boolean
  tlsCertFile?: string
  tlsPrivateKeyFile?: string
  etcdServers?: string
  nodeApiPort: string
  scheduler: boolean
  controllerManager: boolean
  controllers: string
  schedulerConfig?: string
  leaderElectLeaseDuration: string
  leaderElectRenewDeadline: string
  leaderElectRetryPeriod: string
  nodeMonitorPeriod: string
  nodeMonitorGracePeriod: string
  nodeStartupGracePeriod: string
  nodeEvictionRate: string
  horizontalPodAutoscalerSyncPeriod: string
  horizontalPodAutoscalerDownscaleStabilization: string
  horizontalPodAutoscalerTolerance: string
  horizontalPodAutoscalerCpuInitializationPeriod: string
  horizontalPodAutoscalerInitialReadinessDelay: string
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
    .addOption(new Option('--no-scheduler', 'do not campaign for the kube-scheduler Lease (this master never schedules)'))
    .addOption(new Option('--no-controller-manager', 'do not campaign for the kube-controller-manager Lease'))
    .addOption(
      new Option('--controllers <list>', "the controllers to run, as kube-controller-manager's flag: '*' for all, 'name' to add one, '-name' to leave one out").default('*'),
    )
    .addOption(new Option('--scheduler-config <file>', 'a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) file: profiles, plugin weights, scoring strategy'))
    .addOption(new Option('--leader-elect-lease-duration <duration>', 'how long a non-leader waits after the last renewal before taking a Lease over').default('15s'))
    .addOption(new Option('--leader-elect-renew-deadline <duration>', 'how long a leader keeps trying to renew before it stops leading').default('10s'))
    .addOption(new Option('--leader-elect-retry-period <duration>', 'how often electors try to acquire or renew').default('2s'))
    .addOption(new Option('--node-monitor-period <duration>', 'how often the node lifecycle controller checks node health').default('5s'))
    .addOption(new Option('--node-monitor-grace-period <duration>', "how long a node's kubelet may stay silent before its conditions become Unknown").default('40s'))
    .addOption(new Option('--node-startup-grace-period <duration>', 'the same for a node that never reported Ready').default('1m'))
    .addOption(new Option('--node-eviction-rate <rate>', 'nodes per second whose pods are evicted (NoExecute taints) in a healthy zone').default('0.1'))
    .addOption(new Option('--horizontal-pod-autoscaler-sync-period <duration>', 'how often each HorizontalPodAutoscaler is synced').default('15s'))
    .addOption(new Option('--horizontal-pod-autoscaler-downscale-stabilization <duration>', 'how far back an HPA without a scale-down window looks before scaling down').default('5m0s'))
    .addOption(new Option('--horizontal-pod-autoscaler-tolerance <ratio>', 'how far usage/target may be from 1 before an HPA scales').default('0.1'))
    .addOption(new Option('--horizontal-pod-autoscaler-cpu-initialization-period <duration>', 'after a pod starts, how long its CPU samples count only once it is ready for a whole window').default('5m0s'))
    .addOption(new Option('--horizontal-pod-autoscaler-initial-readiness-delay <duration>', 'after a pod starts, how long readiness changes are taken as its first readiness').default('30s'))
    .action(async (f: MasterFlags) => {
      const cfg = configFromFlags(f)
      // A typo in --controllers should stop the master now, not when it first leads.
      enabledControllers(parseControllersFlag(f.controllers))
      // So do malformed durations.
      const lease = {
        leaseDurationMs: durationFlag(f.leaderElectLeaseDuration, '--leader-elect-lease-duration'),
        renewDeadlineMs: durationFlag(f.leaderElectRenewDeadline, '--leader-elect-renew-deadline'),
        retryPeriodMs: durationFlag(f.leaderElectRetryPeriod, '--leader-elect-retry-period'),
      }
      const nodeLifecycle = {
        nodeMonitorPeriodMs: durationFlag(f.nodeMonitorPeriod, '--node-monitor-period'),
        nodeMonitorGracePeriodMs: durationFlag(f.nodeMonitorGracePeriod, '--node-monitor-grace-period'),
        nodeStartupGracePeriodMs: durationFlag(f.nodeStartupGracePeriod, '--node-startup-grace-period'),
        nodeEvictionRate: rateFlag(f.nodeEvictionRate, '--node-eviction-rate'),
      }
      const horizontalPodAutoscaler = {
        syncPeriodMs: durationFlag(f.horizontalPodAutoscalerSyncPeriod, '--horizontal-pod-autoscaler-sync-period'),
        downscaleStabilizationMs: durationFlag(f.horizontalPodAutoscalerDownscaleStabilization, '--horizontal-pod-autoscaler-downscale-stabilization'),
        calculator: {
          tolerance: rateFlag(f.horizontalPodAutoscalerTolerance, '--horizontal-pod-autoscaler-tolerance'),
          cpuInitializationPeriodMs: durationFlag(f.horizontalPodAutoscalerCpuInitializationPeriod, '--horizontal-pod-autoscaler-cpu-initialization-period'),
          initialReadinessDelayMs: durationFlag(f.horizontalPodAutoscalerInitialReadinessDelay, '--horizontal-pod-autoscaler-initial-readiness-delay'),
        },
      }
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
      const conflict = await portConflict(f, cfg, port)
      if (conflict !== undefined) {
        console.error(`raftplane master: ${conflict}`)
        process.exitCode = 1
        return
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
        member = await startMember(cfg, logger.child({ component: 'store' }), `raftplane master: ${cfg.name}`)
        if (member === undefined) return
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
      const loops = new MasterLoops({
        apiUrl: `${tls === undefined ? 'http' : 'https'}://${loopbackHost(f.bindAddress)}:${bound}`,
        masterName: cfg.name,
        logger,
        metrics,
        lease,
        scheduler: f.scheduler,
        controllerManager: f.controllerManager,
        controllers: parseControllersFlag(f.controllers),
        ...(f.schedulerConfig === undefined ? {} : { schedulerProfiles: await schedulerConfigFile(f.schedulerConfig) }),
        nodeLifecycle,
        horizontalPodAutoscaler,
      })
      // Campaign only once this master's apiserver serves: a master that cannot serve should not lead.
      void api.ready().then(
        () => loops.start(),
        () => undefined,
      )
      const fatal = await new Promise<Error | undefined>((resolve) => {
        const stop = (): void => resolve(undefined)
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        member?.server.once('fatal', (err: Error) => resolve(err))
      })
      // Leases are released first, while the apiserver can still write the release.
      await loops.stop()
      await nodeApi.stop()
      await api.stop()
      await storage.close()
      if (member !== undefined) await stopAfter(member, fatal, `raftplane master: ${cfg.name}`)
    })
}
