// The Prometheus configuration `raftplane up --prometheus-config FILE` writes: one
// scrape job per kind of endpoint, every target on loopback and labelled with the
// part it belongs to (`part="master-1"`, the name `raftplane kill` takes).
//
//   etcd        each master's store client port, /metrics over HTTP (etcd's own port)
//   apiserver   each master's apiserver, HTTPS verified with the cluster CA, as the
//               admin (the apiserver asks for no client certificate yet; when it
//               does, Prometheus already presents one)
//   kubelet     each node's kubelet server, HTTPS; its certificate is self-signed at
//               start (no --tls-cert-file yet), so it cannot be verified
//   kube-proxy  the node running kube-proxy, /metrics over HTTP
//
// A master is one process with one registry, served on both of its ports; so that
// each series is stored once, the etcd job keeps the store's series (etcd_*,
// raftplane_wal_*) and the apiserver job everything else (apiserver, scheduler,
// controllers' work queues, leader election, process metrics).
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Document } from 'yaml'
import { type ClusterLayout, HOST } from './cluster-access.js'

export interface NodeEndpoints {
  name: string
  /** The kubelet server's port. */
  kubeletPort: number
  /** kube-proxy's metrics port, on the node that runs kube-proxy. */
  proxyMetricsPort?: number
}

export interface PrometheusConfigOptions {
  layout: ClusterLayout
  nodes: readonly NodeEndpoints[]
  /** The cluster's data dir: its pki/ holds the CA and admin credentials the apiserver job uses. */
  dataDir: string
  /** Prometheus duration, default 15s. */
  scrapeInterval?: string
}

const STORE_SERIES = '(etcd|raftplane_wal)_.*'

interface ScrapeConfig {
  job_name: string
  scheme: 'http' | 'https'
  metrics_path: string
  tls_config?: Record<string, string | boolean>
  static_configs: { targets: string[]; labels: Record<string, string> }[]
  metric_relabel_configs?: { source_labels: string[]; regex: string; action: 'keep' | 'drop' }[]
}

function targets(parts: readonly { part: string; port: number }[]): ScrapeConfig['static_configs'] {
  return parts.map((p) => ({ targets: [`${HOST}:${p.port}`], labels: { part: p.part } }))
}

/** The configuration as a plain object (what Prometheus' YAML holds). */
export function prometheusConfig(o: PrometheusConfigOptions): { global: Record<string, string>; scrape_configs: ScrapeConfig[] } {
  const pki = join(o.dataDir, 'pki')
  const interval = o.scrapeInterval ?? '15s'
  const jobs: ScrapeConfig[] = [
    {
      job_name: 'etcd',
      scheme: 'http',
      metrics_path: '/metrics',
      static_configs: targets(o.layout.masters.map((m) => ({ part: m.name, port: m.clientPort }))),
      metric_relabel_configs: [{ source_labels: ['__name__'], regex: STORE_SERIES, action: 'keep' }],
    },
    {
      job_name: 'apiserver',
      scheme: 'https',
      metrics_path: '/metrics',
      tls_config: { ca_file: join(pki, 'ca.crt'), cert_file: join(pki, 'admin.crt'), key_file: join(pki, 'admin.key') },
      static_configs: targets(o.layout.masters.map((m) => ({ part: m.name, port: m.apiserverPort }))),
      metric_relabel_configs: [{ source_labels: ['__name__'], regex: STORE_SERIES, action: 'drop' }],
    },
  ]
  if (o.nodes.length > 0) {
    jobs.push({
      job_name: 'kubelet',
      scheme: 'https',
      metrics_path: '/metrics',
      tls_config: { insecure_skip_verify: true },
      static_configs: targets(o.nodes.map((n) => ({ part: n.name, port: n.kubeletPort }))),
    })
  }
  const proxies = o.nodes.filter((n) => n.proxyMetricsPort !== undefined)
  if (proxies.length > 0) {
    jobs.push({ job_name: 'kube-proxy', scheme: 'http', metrics_path: '/metrics', static_configs: targets(proxies.map((n) => ({ part: n.name, port: n.proxyMetricsPort! }))) })
  }
  return { global: { scrape_interval: interval, evaluation_interval: interval }, scrape_configs: jobs }
}

/** Writes the configuration as YAML to `file`, with a comment saying where it came from. */
export async function writePrometheusConfig(file: string, o: PrometheusConfigOptions): Promise<void> {
  const doc = new Document(prometheusConfig(o))
  doc.commentBefore = ` Written by \`raftplane up\` for the cluster in ${o.dataDir}; rewritten each time it starts.\n Run: prometheus --config.file=${file}\n (as a user who can read ${join(o.dataDir, 'pki')})`
  await writeFile(file, doc.toString({ lineWidth: 0 }))
}
