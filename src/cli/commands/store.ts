// `raftplane store`: one etcd-compatible store member, a drop-in for `etcd` — the
// same flags (and ETCD_* environment variables, as etcd reads them), the same client
// and peer URLs. `raftplane store restore <file>` builds a data dir from a snapshot
// taken with `etcdctl snapshot save`, as `etcdctl snapshot restore` does for etcd.
import { type Command, InvalidArgumentError, Option } from 'commander'
import { readFile } from 'node:fs/promises'
import { type Logger, pino } from 'pino'
import {
  defaultConfig,
  parseInitialCluster,
  parseRetention,
  parseURLs,
  type StoreConfig,
} from '../../kv/server/config.js'
import { restoreDataDir } from '../../kv/server/restore-data-dir.js'
import { StoreMember } from '../../kv/server/store-member.js'

export interface StoreFlags {
  name: string
  dataDir?: string
  listenClientUrls?: string
  advertiseClientUrls?: string
  listenPeerUrls?: string
  initialAdvertisePeerUrls?: string
  initialCluster?: string
  initialClusterState: string
  initialClusterToken: string
  heartbeatInterval: number
  electionTimeout: number
  snapshotCount: number
  quotaBackendBytes: number
  maxRequestBytes: number
  maxTxnOps: number
  autoCompactionMode: string
  autoCompactionRetention: string
  logLevel: string
}

function count(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a non-negative integer.')
  return n
}

/** A flag with etcd's name, default and ETCD_* environment variable. */
function flag(name: string, description: string, parse?: (v: string) => unknown, def?: unknown): Option {
  const o = new Option(`--${name} <value>`, description).env(`ETCD_${name.toUpperCase().replaceAll('-', '_')}`)
  if (parse) o.argParser(parse)
  if (def !== undefined) o.default(def)
  return o
}

function addMemberFlags(cmd: Command): Command {
  return cmd
    .addOption(flag('name', 'human-readable name for this member', undefined, 'default'))
    .addOption(flag('data-dir', 'path to the data directory (default: ${name}.etcd)'))
    .addOption(flag('listen-client-urls', 'URLs to listen on for client traffic (gRPC and HTTP on one port)'))
    .addOption(flag('advertise-client-urls', "this member's client URLs to advertise to the cluster"))
    .addOption(flag('listen-peer-urls', 'URLs to listen on for peer (raft) traffic'))
    .addOption(flag('initial-advertise-peer-urls', "this member's peer URLs to advertise to the cluster"))
    .addOption(flag('initial-cluster', 'initial cluster configuration for bootstrapping: name=peerURL,…'))
    .addOption(flag('initial-cluster-token', 'initial cluster token for the cluster during bootstrap', undefined, 'etcd-cluster'))
}

export function configFromFlags(f: StoreFlags): StoreConfig {
  const cfg = defaultConfig(f.name)
  cfg.dataDir = f.dataDir ?? `${f.name}.etcd`
  if (f.listenClientUrls) cfg.listenClientURLs = parseURLs(f.listenClientUrls, '--listen-client-urls')
  cfg.advertiseClientURLs = f.advertiseClientUrls ? parseURLs(f.advertiseClientUrls, '--advertise-client-urls') : cfg.listenClientURLs
  if (f.listenPeerUrls) cfg.listenPeerURLs = parseURLs(f.listenPeerUrls, '--listen-peer-urls')
  cfg.initialAdvertisePeerURLs = f.initialAdvertisePeerUrls
    ? parseURLs(f.initialAdvertisePeerUrls, '--initial-advertise-peer-urls')
    : cfg.listenPeerURLs
  cfg.initialCluster = f.initialCluster
    ? parseInitialCluster(f.initialCluster)
    : [{ name: f.name, peerURLs: cfg.initialAdvertisePeerURLs }]
  if (f.initialClusterState !== 'new' && f.initialClusterState !== 'existing') {
    throw new InvalidArgumentError(`--initial-cluster-state: '${f.initialClusterState}' is not one of new, existing`)
  }
  cfg.initialClusterState = f.initialClusterState
  cfg.initialClusterToken = f.initialClusterToken
  cfg.heartbeatMs = f.heartbeatInterval
  cfg.electionMs = f.electionTimeout
  if (cfg.electionMs < 5 * cfg.heartbeatMs) {
    throw new InvalidArgumentError(`--election-timeout[${cfg.electionMs}ms] should be at least 5 times as --heartbeat-interval[${cfg.heartbeatMs}ms]`)
  }
  cfg.snapshotCount = f.snapshotCount
  cfg.quotaBackendBytes = f.quotaBackendBytes === 0 ? cfg.quotaBackendBytes : f.quotaBackendBytes
  cfg.maxRequestBytes = f.maxRequestBytes
  cfg.maxTxnOps = f.maxTxnOps
  if (f.autoCompactionMode !== 'periodic' && f.autoCompactionMode !== 'revision') {
    throw new InvalidArgumentError(`--auto-compaction-mode: '${f.autoCompactionMode}' is not one of periodic, revision`)
  }
  cfg.autoCompactionMode = f.autoCompactionMode
  cfg.autoCompactionRetention = parseRetention(cfg.autoCompactionMode, f.autoCompactionRetention)
  cfg.logLevel = f.logLevel
  return cfg
}

/**
 * The flags of `store restore`. Commander lets a parent command take its options
 * anywhere after it, so in `raftplane store restore f.db --name m1 --data-dir d` the
 * member flags are parsed by `store`, and restore's own copies keep their defaults
 * (--name default, data dir default.etcd). Take a flag from `store` where restore
 * only has its default.
 */
function restoreFlags(cmd: Command): StoreFlags {
  const merged: Record<string, unknown> = { ...cmd.opts() }
  const parent = cmd.parent
  if (parent) {
    for (const o of cmd.options) {
      const key = o.attributeName()
      const own = cmd.getOptionValueSource(key)
      const theirs = parent.getOptionValueSource(key)
      if ((own === undefined || own === 'default') && theirs !== undefined && theirs !== 'default') merged[key] = parent.getOptionValue(key)
    }
  }
  return merged as unknown as StoreFlags
}

/** Every flag of a store member, as `raftplane store` and `raftplane master` take them. */
export function addStoreFlags(cmd: Command): Command {
  return addMemberFlags(cmd)
    .addOption(flag('initial-cluster-state', 'initial cluster state: new or existing', undefined, 'new'))
    .addOption(flag('heartbeat-interval', 'time (in milliseconds) of a heartbeat interval', count, 100))
    .addOption(flag('election-timeout', 'time (in milliseconds) for an election to timeout', count, 1000))
    .addOption(flag('snapshot-count', 'number of committed transactions to trigger a snapshot to disk', count, 100_000))
    .addOption(flag('quota-backend-bytes', 'raise alarms when backend size exceeds the given quota (0 defaults to 2 GiB)', count, 0))
    .addOption(flag('max-request-bytes', 'maximum client request size in bytes the server will accept', count, 1.5 * 1024 * 1024))
    .addOption(flag('max-txn-ops', 'maximum number of operations permitted in a transaction', count, 128))
    .addOption(flag('auto-compaction-mode', "interpret 'auto-compaction-retention' as 'periodic' (duration) or 'revision'", undefined, 'periodic'))
    .addOption(flag('auto-compaction-retention', 'auto compaction retention: a duration (1h, 30m) or revision count; 0 disables', undefined, '0'))
    .addOption(flag('log-level', 'debug, info, warn, error, panic, or fatal', undefined, 'info'))
}

/**
 * Starts the member; when it cannot (a corrupt WAL, a data dir from another cluster,
 * a port in use), says why in one line — the log has the details — and exits 1,
 * rather than dying on the error with a stack trace.
 */
export async function startMember(cfg: StoreConfig, logger: Logger, who: string): Promise<StoreMember | undefined> {
  try {
    return await StoreMember.start(cfg, { logger })
  } catch (err) {
    logger.fatal({ err }, 'cannot start')
    console.error(`${who} cannot start: ${(err as Error).message}`)
    process.exitCode = 1
    return undefined
  }
}

/**
 * Stops the member. After a fatal error (a failed WAL write or fsync: a full disk, an
 * I/O error) the member has already stopped acting, as etcd panics; say why in one
 * line and exit 1, rather than let the error surface again as a crash's stack trace.
 */
export async function stopAfter(member: { stop(): Promise<void> }, fatal: Error | undefined, who: string): Promise<void> {
  try {
    await member.stop()
  } catch (err) {
    if (fatal === undefined) throw err
  }
  if (fatal !== undefined) {
    console.error(`${who} stopped: ${fatal.message}`)
    process.exitCode = 1
  }
}

export function registerStore(program: Command): void {
  const store = addStoreFlags(
    program
      .command('store')
      .description('run one etcd-compatible store member (a drop-in for etcd, with its flags)'),
  )
    .action(async (f: StoreFlags) => {
      const cfg = configFromFlags(f)
      const level = cfg.logLevel === 'panic' ? 'fatal' : cfg.logLevel
      const logger = pino({ level, base: { name: cfg.name } }, pino.destination(2))
      const member = await startMember(cfg, logger, `raftplane store: member ${cfg.name}`)
      if (member === undefined) return
      logger.info({ clientURLs: member.clientURLs, id: member.server.id.toString(16) }, 'ready to serve client requests')
      const fatal = await new Promise<Error | undefined>((resolve) => {
        const stop = () => resolve(undefined)
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        member.server.once('fatal', (err: Error) => resolve(err))
      })
      await stopAfter(member, fatal, `raftplane store: member ${cfg.name}`)
    })

  addMemberFlags(
    store
      .command('restore')
      .description('build a new data dir from a snapshot file (as `etcdctl snapshot restore`)')
      .argument('<file>', 'a snapshot saved with `etcdctl snapshot save`'),
  ).action(async (file: string, _f: StoreFlags, cmd: Command) => {
    const f = restoreFlags(cmd)
    const cfg = configFromFlags({ ...f, initialClusterState: 'new', heartbeatInterval: 100, electionTimeout: 1000, snapshotCount: 100_000, quotaBackendBytes: 0, maxRequestBytes: 1.5 * 1024 * 1024, maxTxnOps: 128, autoCompactionMode: 'periodic', autoCompactionRetention: '0', logLevel: 'info' })
    await restoreDataDir(await readFile(file), cfg)
    console.log(`restored snapshot ${file} into ${cfg.dataDir}`)
  })
}
