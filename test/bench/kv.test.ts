// `raftplane bench kv` against a real etcd 3-member cluster, with tiny counts: the
// launcher (StoreCluster), every workload through runKvTarget, the --endpoints path,
// the report shape, and that no process or temp dir is left behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import t from 'tap'
import { StoreCluster, StoreStartError } from '../../bench/kv/cluster.js'
import { assembleKvReport, ETCD_COMMAND, formatKvBench, ratios, runKvTarget, type KvBenchOptions } from '../../bench/kv/run.js'

const ETCD = ETCD_COMMAND[0]!

/** Live processes whose parent is this test process. */
function childPids(): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[1]) === process.pid && fields[0] !== 'Z') out.push(Number(name))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

const benchDirs = () => new Set(readdirSync(tmpdir()).filter((d) => d.startsWith('raftplane-bench-kv-')))

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const tiny: KvBenchOptions = {
  seconds: 1,
  keyspace: 200,
  putConcurrency: [1, 4],
  rangeConcurrency: 4,
  txnConcurrency: 4,
  watchers: [10],
  watchStreams: 2,
  watchWorkers: 2,
  watchEvents: 5000,
}

t.test('bench kv against real etcd', { skip: existsSync(ETCD) ? false : `${ETCD} is not installed` }, async (t) => {
  const dirsBefore = benchDirs()
  const childrenBefore = childPids()

  t.test('a store that cannot start is a clear error, and leaves nothing behind', async (t) => {
    const err = await StoreCluster.start({ command: ['/bin/false'], label: 'broken', startTimeoutMs: 5000 }).catch((e: unknown) => e)
    t.type(err, StoreStartError)
    t.match((err as Error).message, /broken: member m1 exited \(1\) while starting: `\/bin\/false --name=m1 /)
    t.same(benchDirs(), dirsBefore, 'temp dir removed')
  })

  t.test('every workload, etcd started by runKvTarget', async (t) => {
    const report = await runKvTarget({ label: 'etcd', command: ETCD_COMMAND }, tiny)
    t.equal(report.target, 'etcd')
    t.equal(report.transport, 'http2')
    t.match(report.version, /^3\./)
    t.equal(report.endpoints.length, 3)
    t.same(
      report.rows.map((r) => `${r.workload} ${r.concurrency}`),
      ['put 1', 'put 4', 'range linearizable 4', 'range serializable 4', 'txn 4', 'watch 10'],
    )
    for (const r of report.rows) {
      const name = `${r.workload} ×${r.concurrency}`
      t.equal(r.errors, 0, `${name}: no errors${r.firstError ? ` (${r.firstError})` : ''}`)
      t.ok(r.ops > 0 && r.perSecond > 0, `${name}: ops`)
      t.ok(r.p50Ms > 0 && r.p99Ms >= r.p50Ms, `${name}: p50 ≤ p99`)
      t.ok(r.cpuMsPerOp !== null && r.cpuMsPerOp >= 0, `${name}: server CPU per op`)
      // Counted, not required: a real etcd on a starved 2-core CI box may re-elect.
      t.type(r.leaderChanges, 'number', `${name}: leader changes counted`)
    }
    const watch = report.rows.find((r) => r.workload === 'watch')!
    t.equal(watch.detail?.complete, 10, 'every watcher got every event')
    t.equal(watch.ops, watch.detail!.puts! * 10, 'events = puts × watchers')

    const both = assembleKvReport([{ ...report, target: 'raftplane' }, report])
    t.equal(both.ratios?.length, report.rows.length)
    t.ok(both.ratios!.every((r) => Math.abs(r.throughput - 1) < 1e-9), 'same report: ratio 1')
    t.same(ratios(report, report)[0]!.throughputTarget, 1)
    const text = formatKvBench(both)
    t.match(text, /\| workload \| clients \| ops\/s \(events\/s\) \| p50 ms \| p99 ms \| errors \| server CPU ms\/op \| client CPU ms\/op \| leader changes \|/)
    t.match(text, /raftplane vs etcd in the same run/)
  })

  t.test('the launcher, and --endpoints (over grpc-js) on a cluster it started', async (t) => {
    const cluster = await StoreCluster.start({ command: ETCD_COMMAND, label: 'etcd' })
    const pids = cluster.pids()
    try {
      t.equal(pids.length, 3)
      t.ok(pids.every(alive), 'members running')
      const leader = await cluster.leader()
      t.ok(leader >= 0 && leader < 3, 'leader index')
      const st = await cluster.status(leader)
      t.equal(st.leader, st.memberId, 'leader reports itself')
      t.ok(cluster.sample().rssBytes.every((b) => b > 0), 'RSS from /proc')
      const report = await runKvTarget({ label: 'endpoints', endpoints: cluster.endpoints }, { ...tiny, only: ['put', 'watch'], putConcurrency: [8], transport: 'grpc-js' })
      t.equal(report.transport, 'grpc-js')
      t.same(
        report.rows.map((r) => [r.workload, r.errors, r.cpuMsPerOp]),
        [
          ['put', 0, null],
          ['watch', 0, null],
        ],
        'no errors; no CPU figure without pids',
      )
    } finally {
      await cluster.stop()
    }
    t.notOk(pids.some(alive), 'members gone after stop()')
    t.notOk(existsSync(cluster.dir), 'data dir removed')
  })

  t.test('nothing left behind', async (t) => {
    t.same(childPids(), childrenBefore, 'no child process left')
    t.same(benchDirs(), dirsBefore, 'no temp dir left')
  })
})
