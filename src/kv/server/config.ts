// A store member's configuration: etcd's flags, parsed into what the server needs.
// Defaults are etcd 3.4's.

export interface InitialMember {
  name: string
  peerURLs: string[]
}

export interface StoreConfig {
  name: string
  dataDir: string
  listenClientURLs: string[]
  advertiseClientURLs: string[]
  listenPeerURLs: string[]
  initialAdvertisePeerURLs: string[]
  initialCluster: InitialMember[]
  initialClusterState: 'new' | 'existing'
  initialClusterToken: string
  heartbeatMs: number
  electionMs: number
  snapshotCount: number
  quotaBackendBytes: number
  maxRequestBytes: number
  maxTxnOps: number
  autoCompactionMode: 'periodic' | 'revision'
  /** periodic: a duration in ms; revision: a count of revisions to keep. 0 disables. */
  autoCompactionRetention: number
  logLevel: string
}

export const DEFAULT_QUOTA_BYTES = 2 * 1024 ** 3
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024

export function defaultConfig(name = 'default'): StoreConfig {
  return {
    name,
    dataDir: `${name}.etcd`,
    listenClientURLs: ['http://localhost:2379'],
    advertiseClientURLs: ['http://localhost:2379'],
    listenPeerURLs: ['http://localhost:2380'],
    initialAdvertisePeerURLs: ['http://localhost:2380'],
    initialCluster: [{ name, peerURLs: ['http://localhost:2380'] }],
    initialClusterState: 'new',
    initialClusterToken: 'etcd-cluster',
    heartbeatMs: 100,
    electionMs: 1000,
    snapshotCount: 100_000,
    quotaBackendBytes: DEFAULT_QUOTA_BYTES,
    maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
    maxTxnOps: 128,
    autoCompactionMode: 'periodic',
    autoCompactionRetention: 0,
    logLevel: 'info',
  }
}

/** `name1=http://a:2380,name2=http://b:2380` (a name may repeat to give several URLs). */
export function parseInitialCluster(s: string): InitialMember[] {
  const members = new Map<string, InitialMember>()
  for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new Error(`--initial-cluster: '${part}' is not name=URL`)
    const name = part.slice(0, eq)
    const url = part.slice(eq + 1)
    parseURL(url, '--initial-cluster')
    const m = members.get(name) ?? { name, peerURLs: [] }
    m.peerURLs.push(url)
    members.set(name, m)
  }
  return [...members.values()]
}

export function parseURLs(s: string, flag: string): string[] {
  const urls = s.split(',').map((u) => u.trim()).filter(Boolean)
  if (urls.length === 0) throw new Error(`${flag}: no URL given`)
  for (const u of urls) parseURL(u, flag)
  return urls
}

/** host:port of an http(s) URL; etcd refuses other schemes and URLs with a path. */
export function parseURL(url: string, flag: string): { host: string; port: number; scheme: string } {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new Error(`${flag}: '${url}' is not a valid URL`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${flag}: URL scheme must be http or https: ${url}`)
  if (u.pathname !== '/' && u.pathname !== '') throw new Error(`${flag}: URL must not contain a path: ${url}`)
  if (u.port === '') throw new Error(`${flag}: URL address does not have the form "host:port": ${url}`)
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  return { host, port: Number(u.port), scheme: u.protocol.slice(0, -1) }
}

export function hostPort(url: string): string {
  const { host, port } = parseURL(url, 'url')
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** etcd's duration strings for periodic retention: "1h", "30m", "5m30s", or a bare number of hours. */
export function parseRetention(mode: 'periodic' | 'revision', s: string): number {
  if (mode === 'revision') {
    const n = Number(s)
    if (!Number.isInteger(n) || n < 0) throw new Error(`--auto-compaction-retention: '${s}' is not a revision count`)
    return n
  }
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 3_600_000
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g
  let total = 0
  let consumed = 0
  for (const m of s.matchAll(re)) {
    const n = Number(m[1])
    total += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h']
    consumed += m[0].length
  }
  if (consumed !== s.length || s.length === 0) throw new Error(`--auto-compaction-retention: '${s}' is not a duration (e.g. 1h, 30m)`)
  return total
}
