// `etcdctl check perf --load=s` (60 s of writes from 50 clients) against a 3-member
// raftplane store: it must print PASS for every criterion, as it does against etcd.
// It judges the slowest request (< 500 ms), so it runs alone (`npm test` runs it after
// the suite, with --jobs=1): beside another test file on a 2-core machine, CPU
// starvation alone can stall a request that long, for etcd as for us.
import t from 'tap'
import { etcdctl, startStoreCluster } from './helpers/etcdctl-helpers.js'

t.setTimeout(115_000)

t.test('etcdctl check perf --load=s passes', async (t) => {
  const cluster = await startStoreCluster(t)
  const r = await etcdctl(['check', 'perf', '--load=s'], { endpoints: cluster.endpoints, timeoutMs: 100_000 })
  // The progress bar uses \r; keep the verdict lines.
  const verdict = (r.stdout + r.stderr).split(/[\r\n]/).filter((l) => /^(PASS|FAIL|Slowest|Stddev|Throughput)/.test(l))
  t.comment(verdict.join('\n'))
  t.equal(r.code, 0, `check perf exit code; verdict:\n${verdict.join('\n')}`)
  t.ok(verdict.includes('PASS'), 'overall PASS')
  t.notOk(verdict.some((l) => l.startsWith('FAIL')), 'no FAIL line')
})
