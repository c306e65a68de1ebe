// `raftplane node`: a worker node — its kubelet, talking to the masters only through
// their node gRPC API (each master's --node-api-port), failing over between them.
// Flags follow the kubelet's where it has one (--node-ip, --node-labels,
// --register-with-taints, --kube-reserved, --system-reserved, --eviction-hard,
// --pod-cidr, --node-status-update-frequency, --hostname-override); capacity comes
// from the host unless --cpu, --memory, --pods or --ephemeral-storage say otherwise.
//
// --runtime hollow runs pods that only pretend (src/kubelet/runtime/hollow.ts), and
// --hollow-nodes K runs K such nodes in this one process (<name>-0 … <name>-(K-1)),
// for scale runs. The process runtime (real processes) is not written yet: asking
// for it is refused with an error.
//
// A single node serves the kubelet's HTTPS endpoint (--address, --kubelet-port) from
// which the apiservers stream `kubectl logs`; hollow containers print nothing, so
// their logs are empty.
//
// A single node also runs kube-proxy and the cluster DNS (src/proxy/) beside its
// kubelet, over its own node API client (kube-proxy is its own client upstream too).
// Each serves its own Prometheus metrics, as the separate upstream processes do: the
// kubelet on its server's /metrics, kube-proxy over HTTP on --metrics-bind-address.
// Service IPs are served on 127/8 by default, so two nodes on one host would fight
// over the same addresses: give all but one --no-kube-proxy. --hollow-nodes K > 1
// runs no proxy.
import { readFile } from 'node:fs/promises'
import * as grpc from '@grpc/grpc-js'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { pino } from 'pino'
import { collectDefaultMetrics, Registry } from 'prom-client'
import type { Taint } from '../../api/taints.js'
import { NodeApiClient } from '../../client/node-grpc.js'
import {
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  defaultPodCidr,
  HollowCluster,
  KUBELET_PORT,
  KubeletServer,
  kubeletMetrics,
  LogError,
  type LogSource,
  hostIPv4,
  hostResources,
  parseEvictionThresholds,
  parseKeyValueList,
  type NodeResourceConfig,
} from '../../kubelet/index.js'
import { parseGoDuration } from '../../api/go-duration.js'
import {
  createAddressBinder,
  DEFAULT_CLUSTER_DNS_IP,
  DEFAULT_CLUSTER_DOMAIN,
  DEFAULT_METRICS_BIND_ADDRESS,
  DEFAULT_SERVICE_CIDR,
  hostNameservers,
  KubeProxy,
  MetricsServer,
  parseBindAddress,
} from '../../proxy/index.js'

interface NodeFlags {
  name: string
  apiservers: string
  runtime: 'process' | 'hollow'
  hollowNodes: number
  hollowFirstIndex: number
  hollowStartDelay: number
  hollowStopDelay: number
  insecure?: boolean
  certificateAuthority?: string
  nodeIp?: string
  hostnameOverride?: string
  nodeLabels?: Record<string, string>
  registerWithTaints?: Taint[]
  cpu?: string
  memory?: string
  pods: number
  ephemeralStorage?: string
  kubeReserved?: Record<string, string>
  systemReserved?: Record<string, string>
  evictionHard: string
  podCidr?: string
  nodeLeaseRenewInterval: number
  nodeStatusUpdateFrequency: number
  nodeStatusReportFrequency: number
  restartBackoffInitial: number
  restartBackoffMax: number
  events: boolean
  resourceUsageInterval: number
  logLevel: string
  kubeProxy: boolean
  metricsBindAddress: string
  address: string
  kubeletPort: number
  proxyAddressMode: 'loopback' | 'dummy' | 'auto'
  serviceClusterIpRange: string
  clusterDns: string
  clusterDomain: string
  dnsPort?: number
}

function duration(v: string): number {
  try {
    return parseGoDuration(v)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

function count(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`not an integer ≥ ${min}.`)
    return n
  }
}

function bindAddress(v: string): string {
  if (v === '') return v
  try {
    parseBindAddress(v)
  } catch (err) {
    throw new InvalidArgumentError(`--metrics-bind-address: ${(err as Error).message}`)
  }
  return v
}

function keyValues(flag: string): (v: string) => Record<string, string> {
  return (v) => {
    try {
      return parseKeyValueList(flag, v)
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message)
    }
  }
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute']

/** `key=value:Effect,key:Effect` (the kubelet's --register-with-taints). */
export function parseTaintList(v: string): Taint[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^([^=:]+)(?:=([^:]*))?:(.+)$/.exec(part)
      if (m === null) throw new InvalidArgumentError(`invalid taint spec ${JSON.stringify(part)}: expected key=value:Effect`)
      if (!EFFECTS.includes(m[3]!)) throw new InvalidArgumentError(`invalid taint effect ${JSON.stringify(m[3])}: one of ${EFFECTS.join(', ')}`)
      return { key: m[1]!, value: m[2] ?? '', effect: m[3]! }
    })
}

function hostIPFor(f: NodeFlags): string {
  return f.nodeIp ?? hostIPv4()
}

/** What the kubelet server's /metrics serves: the process metrics and the kubelet's own. */
function kubeletRegistry(nodeName: string, runningPods: () => number | undefined): Registry {
  const metrics = new Registry()
  collectDefaultMetrics({ register: metrics })
  kubeletMetrics(metrics, { nodeName, runningPods })
  return metrics
}

/** kube-proxy and the cluster DNS of one node, on a node API client of their own. */
async function startKubeProxy(f: NodeFlags, addresses: string[], ca: Buffer | undefined, nodeIP: string, logger: pino.Logger): Promise<{ stop(): Promise<void> }> {
  const client = new NodeApiClient({ addresses, credentials: ca === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(ca) })
  const binder = await createAddressBinder({ mode: f.proxyAddressMode, serviceCidr: f.serviceClusterIpRange, logger })
  const metrics = new Registry()
  collectDefaultMetrics({ register: metrics })
  const proxy = new KubeProxy({
    metrics,
    client,
    nodeName: f.name,
    nodeIPs: [nodeIP],
    binder,
    dns: { clusterIP: f.clusterDns, domain: f.clusterDomain, upstreams: hostNameservers(), ...(f.dnsPort === undefined ? {} : { port: f.dnsPort }) },
    logger,
  })
  await proxy.start()
  const dns = proxy.dnsEndpoint
  logger.info({ dns: dns === undefined ? undefined : `${dns.address}:${dns.port}` }, 'kube-proxy started')
  // As upstream, a metrics port that cannot be served is logged, not fatal: proxying matters more.
  let metricsServer: MetricsServer | undefined
  if (f.metricsBindAddress !== '') {
    const { host, port } = parseBindAddress(f.metricsBindAddress)
    try {
      metricsServer = await MetricsServer.listen(metrics, host, port)
      logger.info({ metrics: `http://${host.includes(':') ? `[${host}]` : host}:${metricsServer.port}/metrics` }, 'kube-proxy metrics served')
    } catch (err) {
      logger.error({ err }, `kube-proxy metrics not served on ${f.metricsBindAddress} (--metrics-bind-address)`)
    }
  }
  return {
    stop: async () => {
      await metricsServer?.close()
      await proxy.stop()
      client.close()
    },
  }
}

export function registerNode(program: Command): void {
  program
    .command('node')
    .description("run a worker node: its kubelet, talking to the masters over their node gRPC API")
    .requiredOption('--name <name>', 'the node name')
    .requiredOption('--apiservers <addresses>', "the masters' node API addresses, host:port, comma-separated (each master's --node-api-port, default 6543)")
    .addOption(new Option('--runtime <runtime>', 'how pods run: process (OS processes) or hollow (simulated, for tests and scale runs)').choices(['process', 'hollow']).default('process'))
    .addOption(new Option('--hollow-nodes <k>', 'with --runtime hollow: run K nodes in this process, named <name>-0 … <name>-(K-1)').argParser(count(1)).default(1))
    .addOption(new Option('--hollow-first-index <i>', 'the number of the first hollow node (several processes against one cluster)').argParser(count(0)).default(0))
    .addOption(new Option('--hollow-start-delay <duration>', 'how long a hollow container takes to start (pods may say otherwise)').argParser(duration).default(0, '0s'))
    .addOption(new Option('--hollow-stop-delay <duration>', 'how long a hollow container takes to stop (pods may say otherwise)').argParser(duration).default(0, '0s'))
    .addOption(new Option('--insecure', 'plaintext gRPC to the masters (masters run with --insecure)'))
    .addOption(new Option('--certificate-authority <file>', "the CA of the masters' serving certificates (DATA/pki/ca.crt of `raftplane up`)"))
    .addOption(new Option('--node-ip <ip>', "the node's InternalIP (default: the host's first non-loopback IPv4; hollow nodes of --hollow-nodes K > 1 get 172.16.x.y by number)"))
    .addOption(new Option('--hostname-override <name>', 'the kubernetes.io/hostname label and Hostname address (default: the node name)'))
    .addOption(new Option('--node-labels <labels>', 'labels to add when registering, key=value,…').argParser(keyValues('--node-labels')))
    .addOption(new Option('--register-with-taints <taints>', 'taints to register the node with, key=value:Effect,…').argParser(parseTaintList))
    .addOption(new Option('--cpu <quantity>', 'CPU capacity (default: the host CPUs)'))
    .addOption(new Option('--memory <quantity>', 'memory capacity (default: the host memory)'))
    .addOption(new Option('--pods <n>', 'the most pods the node runs').argParser(count(0)).default(110))
    .addOption(new Option('--ephemeral-storage <quantity>', 'local storage capacity (default: the root filesystem size)'))
    .addOption(new Option('--kube-reserved <list>', 'resources kept for system daemons, cpu=…,memory=…,ephemeral-storage=…').argParser(keyValues('--kube-reserved')))
    .addOption(new Option('--system-reserved <list>', 'resources kept for the OS, cpu=…,memory=…,ephemeral-storage=…').argParser(keyValues('--system-reserved')))
    .addOption(new Option('--eviction-hard <list>', 'hard eviction thresholds taken off allocatable').default('memory.available<100Mi,nodefs.available<10%'))
    .addOption(new Option('--pod-cidr <cidr>', 'pod IPs when the Node has no spec.podCIDR (default: a /24 of 10.128.0.0/9 chosen by the node name; node i of --hollow-nodes K > 1 gets the i-th)'))
    .addOption(new Option('--node-lease-renew-interval <duration>', 'how often the node Lease is renewed').argParser(duration).default(10_000, '10s'))
    .addOption(new Option('--node-status-update-frequency <duration>', 'how often the node status is computed (and sent when it changed)').argParser(duration).default(10_000, '10s'))
    .addOption(new Option('--node-status-report-frequency <duration>', 'the longest time between node status reports').argParser(duration).default(300_000, '5m'))
    .addOption(new Option('--restart-backoff-initial <duration>', 'the first crash-loop back-off delay').argParser(duration).default(DEFAULT_BACKOFF_INITIAL_MS, '10s'))
    .addOption(new Option('--restart-backoff-max <duration>', 'the longest crash-loop back-off delay').argParser(duration).default(DEFAULT_BACKOFF_MAX_MS, '5m'))
    .addOption(new Option('--no-events', 'record no Events (scale runs)'))
    .addOption(new Option('--resource-usage-interval <duration>', 'how often each node reports its resource usage for kubectl top and the HPA (0: never, for scale runs)').argParser(duration).default(15_000, '15s'))
    .addOption(new Option('--address <ip>', "the IP the kubelet's server listens on (logs for the apiservers)").default('0.0.0.0'))
    .addOption(new Option('--kubelet-port <port>', "the kubelet's server port (0: a free one; the Node reports it); --hollow-nodes K > 1 runs no server").argParser(count(0)).default(KUBELET_PORT))
    .addOption(new Option('--no-kube-proxy', 'run no kube-proxy and cluster DNS beside the kubelet (another node on this host serves them)'))
    .addOption(new Option('--metrics-bind-address <host:port>', "where kube-proxy serves /metrics over HTTP (port 0: a free one; '': not served)").argParser(bindAddress).default(DEFAULT_METRICS_BIND_ADDRESS))
    .addOption(new Option('--proxy-address-mode <mode>', 'where Service IPs are served: loopback (mapped into 127/8), dummy (on a dummy interface, root), auto').choices(['loopback', 'dummy', 'auto']).default('loopback'))
    .addOption(new Option('--service-cluster-ip-range <cidr>', "the apiserver's Service IP range").default(DEFAULT_SERVICE_CIDR))
    .addOption(new Option('--cluster-dns <ip>', 'the cluster DNS Service IP').default(DEFAULT_CLUSTER_DNS_IP))
    .addOption(new Option('--cluster-domain <domain>', 'the cluster DNS domain').default(DEFAULT_CLUSTER_DOMAIN))
    .addOption(new Option('--dns-port <port>', 'the cluster DNS port (default 53 as root, else 10053; 0 picks a free one)').argParser(count(0)))
    .addOption(new Option('--log-level <level>', 'debug, info, warn, error, fatal').default('info'))
    .action(async (f: NodeFlags) => {
      if (f.runtime === 'process') {
        console.error('raftplane node: the process runtime is not available yet; run simulated pods with --runtime hollow')
        process.exitCode = 2
        return
      }
      if (f.insecure !== true && f.certificateAuthority === undefined) {
        console.error('raftplane node: --certificate-authority <ca.crt> is required to verify the masters, unless --insecure is given')
        process.exitCode = 2
        return
      }
      const addresses = f.apiservers.split(',').map((s) => s.trim()).filter(Boolean)
      if (addresses.length === 0) throw new InvalidArgumentError('--apiservers: no address given')
      const host = hostResources()
      const resources: NodeResourceConfig = {
        cpu: f.cpu ?? String(host.cpus),
        memory: f.memory ?? String(host.memoryBytes),
        pods: f.pods,
        ephemeralStorage: f.ephemeralStorage ?? String(host.ephemeralStorageBytes),
        evictionHard: parseEvictionThresholds(f.evictionHard),
        ...(f.kubeReserved === undefined ? {} : { kubeReserved: f.kubeReserved }),
        ...(f.systemReserved === undefined ? {} : { systemReserved: f.systemReserved }),
      }
      const ca = f.certificateAuthority === undefined || f.insecure === true ? undefined : await readFile(f.certificateAuthority)
      const logger = pino({ level: f.logLevel, base: { component: 'kubelet' } }, pino.destination(2))
      const single = f.hollowNodes === 1
      // The server first: its port goes into the Node the kubelet registers. Requests
      // that arrive before the kubelet exists are told to come back.
      const started: { logs?: LogSource; pods?: () => number } = {}
      const server = single
        ? new KubeletServer({
            metrics: kubeletRegistry(f.name, () => started.pods?.()),
            hostnames: [f.hostnameOverride ?? f.name],
            ips: [hostIPFor(f)],
            logs: {
              containerLogs: async (...args) => {
                if (started.logs === undefined) throw new LogError(503, 'the kubelet is starting')
                return started.logs.containerLogs(...args)
              },
            },
          })
        : undefined
      let kubeletPort: number | undefined
      try {
        kubeletPort = await server?.listen(f.address, f.kubeletPort)
      } catch (err) {
        console.error(`raftplane node: cannot serve on ${f.address}:${f.kubeletPort} (--address, --kubelet-port): ${(err as Error).message}`)
        process.exitCode = 1
        return
      }
      const cluster = await HollowCluster.start({
        addresses,
        credentials: ca === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(ca),
        count: f.hollowNodes,
        firstIndex: f.hollowFirstIndex,
        nodeName: (i) => (single ? f.name : `${f.name}-${i}`),
        ...(single ? { nodeIP: () => hostIPFor(f) } : {}),
        ...(single ? { podCIDR: () => f.podCidr ?? defaultPodCidr(f.name) } : {}),
        resources,
        ...(f.nodeLabels === undefined ? {} : { labels: () => f.nodeLabels! }),
        ...(f.registerWithTaints === undefined ? {} : { taints: f.registerWithTaints }),
        startDelayMs: f.hollowStartDelay,
        stopDelayMs: f.hollowStopDelay,
        usageIntervalMs: f.resourceUsageInterval,
        kubelet: {
          leaseRenewIntervalMs: f.nodeLeaseRenewInterval,
          statusUpdateFrequencyMs: f.nodeStatusUpdateFrequency,
          statusReportFrequencyMs: f.nodeStatusReportFrequency,
          backoff: { initialMs: f.restartBackoffInitial, maxMs: f.restartBackoffMax },
          events: f.events,
          ...(kubeletPort === undefined ? {} : { kubeletPort }),
          ...(single && f.hostnameOverride !== undefined ? { hostname: f.hostnameOverride } : {}),
        },
        logger: (node) => logger.child({ node }),
      })
      const first = cluster.nodes[0]
      if (first !== undefined) {
        started.logs = first.kubelet.logSource()
        started.pods = () => first.kubelet.podCount
      }
      logger.info({ nodes: cluster.nodes.length, apiservers: addresses, kubeletPort }, 'hollow nodes registered')
      let proxy: { stop(): Promise<void> } | undefined
      if (single && f.kubeProxy) {
        proxy = await startKubeProxy(f, addresses, ca, hostIPFor(f), pino({ level: f.logLevel, base: { component: 'kube-proxy', node: f.name } }, pino.destination(2)))
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve())
        process.once('SIGTERM', () => resolve())
      })
      await proxy?.stop()
      await server?.close()
      await cluster.stop()
    })
}
