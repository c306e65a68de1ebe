// `raftplane store` flags: etcd's names, defaults, environment variables and errors.
import t from 'tap'
import { Command, CommanderError } from 'commander'
import { configFromFlags, registerStore } from '../../../src/cli/commands/store.js'
import { parseInitialCluster, parseRetention } from '../../../src/kv/server/config.js'

function program(): Command {
  const p = new Command('raftplane').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
  registerStore(p)
  for (const c of p.commands) {
    c.exitOverride()
    c.configureOutput({ writeErr: () => {}, writeOut: () => {} })
  }
  return p
}

t.test('initial cluster and retention parsing', async (t) => {
  t.same(parseInitialCluster('a=http://h:1,b=http://h:2,a=http://h:3'), [
    { name: 'a', peerURLs: ['http://h:1', 'http://h:3'] },
    { name: 'b', peerURLs: ['http://h:2'] },
  ])
  t.throws(() => parseInitialCluster('a'), /is not name=URL/)
  t.throws(() => parseInitialCluster('a=ftp://h:1'), /scheme must be http or https/)
  t.throws(() => parseInitialCluster('a=http://h'), /host:port/)
  t.equal(parseRetention('periodic', '1'), 3_600_000, 'a bare number is hours, as etcd')
  t.equal(parseRetention('periodic', '1h30m'), 5_400_000)
  t.equal(parseRetention('periodic', '500ms'), 500)
  t.equal(parseRetention('revision', '1000'), 1000)
  t.throws(() => parseRetention('periodic', '1x'), /not a duration/)
  t.throws(() => parseRetention('revision', '1h'), /not a revision count/)
})

t.test('an unknown flag is an error naming it', async (t) => {
  const err = await program()
    .parseAsync(['node', 'raftplane', 'store', '--no-such-flag', 'x'])
    .then(
      () => undefined,
      (e: unknown) => e,
    )
  t.type(err, CommanderError)
  t.match((err as Error).message, /unknown option '--no-such-flag'/)
})

t.test('defaults and derived URLs follow etcd', async (t) => {
  const cfg = configFromFlags({ ...cfgFlags(), listenClientUrls: 'http://127.0.0.1:5000' })
  t.equal(cfg.dataDir, 'n1.etcd')
  t.same(cfg.advertiseClientURLs, ['http://127.0.0.1:5000'], 'advertised = listened when not given')
  t.same(cfg.initialCluster, [{ name: 'n1', peerURLs: ['http://localhost:2380'] }])
  t.equal(cfg.quotaBackendBytes, 2 * 1024 ** 3, '0 means the 2 GiB default')
  t.throws(
    () => configFromFlags({ ...cfgFlags(), heartbeatInterval: 500, electionTimeout: 1000 }),
    /should be at least 5 times/,
  )
  t.throws(() => configFromFlags({ ...cfgFlags(), initialClusterState: 'bogus' }), /not one of new, existing/)
})

function cfgFlags() {
  return {
    name: 'n1',
    initialClusterState: 'new',
    initialClusterToken: 'etcd-cluster',
    heartbeatInterval: 100,
    electionTimeout: 1000,
    snapshotCount: 100_000,
    quotaBackendBytes: 0,
    maxRequestBytes: 1_572_864,
    maxTxnOps: 128,
    autoCompactionMode: 'periodic',
    autoCompactionRetention: '0',
    logLevel: 'info',
  }
}
