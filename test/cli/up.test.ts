// `raftplane up` as a user meets it: three masters and two nodes, every node Ready
// before "cluster ready" is printed, a Deployment made with kubectl rolls out onto
// the nodes, `kubectl logs` reaches their kubelets, and Ctrl-C leaves no process of
// the cluster behind.
import { execFileSync, spawnSync } from 'node:child_process'
import t from 'tap'
import type { ClusterStatus } from '../../src/cli/commands/status.js'
import { RAFTPLANE, startCluster } from '../apiserver/e2e/helpers/cluster.js'

function raftplane(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(RAFTPLANE[0]!, [...RAFTPLANE.slice(1), ...args], { encoding: 'utf8', timeout: 60_000 })
}

/** Every process whose command line names the cluster's data dir. */
function clusterProcesses(dataDir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
  return out.split('\n').filter((line) => line.includes(dataDir) && !line.includes('ps -eo'))
}

t.test('raftplane up: 3 masters, 2 Ready nodes, a Deployment runs on them, Ctrl-C stops it all', async (t) => {
  const c = await startCluster(t, { nodes: 2 })
  t.match(c.output(), /cluster ready: 3 masters, 2 nodes\n {2}apiservers {2}https:\/\/127\.0\.0\.1:\d+ {2}\(load balancer over master-1, master-2, master-3\)/)
  t.match(c.output(), /node-1 ready/)
  t.match(c.output(), /node-2 ready/)
  // The summary names who leads what: one raft leader and one holder of each leader-only loop.
  const summary = c.output().slice(c.output().indexOf('cluster ready'))
  for (const role of ['raft leader', 'kube-scheduler leader', 'kube-controller-manager leader']) {
    t.equal(summary.split('\n').filter((l) => /^ {2}master-\d/.test(l) && l.includes(role)).length, 1, `one master is ${role}`)
  }

  const nodes = await c.kubectl(['get', 'nodes', '--no-headers'])
  const rows = nodes.stdout.trim().split('\n').map((l) => l.split(/\s+/))
  t.same(rows.map((r) => [r[0], r[1]]), [['node-1', 'Ready'], ['node-2', 'Ready']])

  await c.kubectl(['create', 'deployment', 'web', '--image=nginx', '--replicas=4'])
  const rollout = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 })
  t.match(rollout.stdout, /successfully rolled out/)
  const pods = await c.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{"\\n"}{end}'])
  const placed = pods.stdout.trim().split('\n').map((l) => l.split(' '))
  t.equal(placed.length, 4)
  t.ok(placed.every(([node, phase]) => /^node-[12]$/.test(node!) && phase === 'Running'), pods.stdout)

  // kubectl logs reaches the pod's kubelet through an apiserver; hollow containers print nothing.
  const pod = placed.length > 0 ? (await c.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout : ''
  const logs = await c.kubectl(['logs', pod])
  t.same([logs.code, logs.stdout], [0, ''])
  const wrong = await c.kubectl(['logs', pod, '-c', 'nope'], { allowFail: true })
  t.not(wrong.code, 0)
  t.match(wrong.stderr, `container nope is not valid for pod ${pod}`)
  const previous = await c.kubectl(['logs', pod, '--previous'], { allowFail: true })
  t.match(previous.stderr, `previous terminated container "nginx" in pod "${pod}" not found`)

  // The default StorageClass: a StatefulSet's claims are provisioned by local-path on the node the scheduler picked.
  const classes = await c.kubectl(['get', 'storageclass', '--no-headers'])
  t.match(classes.stdout, /^local-path \(default\)\s+raftplane\.io\/local-path\s+Delete\s+WaitForFirstConsumer/)
  const sts = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db' },
    spec: {
      replicas: 2,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  }
  await c.kubectl(['apply', '-f', '-'], { input: JSON.stringify(sts) })
  await c.kubectl(['rollout', 'status', 'statefulset/db', '--timeout=60s'], { timeoutMs: 70_000 })
  const claims = await c.kubectl(['get', 'pvc', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.spec.storageClassName} {.metadata.annotations.volume\\.kubernetes\\.io/selected-node}{"\\n"}{end}'])
  const rowsOf = claims.stdout.trim().split('\n').map((l) => l.split(' '))
  t.same(rowsOf.map((r) => r.slice(0, 3)), [['data-db-0', 'Bound', 'local-path'], ['data-db-1', 'Bound', 'local-path']])
  const dbNodes = await c.kubectl(['get', 'pods', '-l', 'app=db', '-o', 'jsonpath={range .items[*]}{.spec.nodeName}{"\\n"}{end}'])
  t.same(rowsOf.map((r) => r[3]), dbNodes.stdout.trim().split('\n'), 'each claim was provisioned on its pod\'s node')

  // raftplane status: the same picture from the data dir alone.
  const json = raftplane(['status', '--data', c.dataDir, '-o', 'json'])
  t.equal(json.status, 0, json.stderr)
  const st = JSON.parse(json.stdout) as ClusterStatus
  t.same(st.masters.map((m) => [m.name, m.apiserverReady, m.storeUp]), [['master-1', true, true], ['master-2', true, true], ['master-3', true, true]])
  t.equal(st.masters.filter((m) => m.raftLeader).length, 1, 'one raft leader')
  t.match(st.leases, { 'kube-scheduler': /^master-\d_/, 'kube-controller-manager': /^master-\d_/ })
  t.same(st.nodes.map((n) => [n.name, n.ready]), [['node-1', 'Ready'], ['node-2', 'Ready']])
  const text = raftplane(['status', '--data', c.dataDir])
  t.match(text.stdout, /^MASTER\s+APISERVER\s+STORE\s+ROLES\nmaster-1\s+ready\s+(leader|follower)/)
  t.match(text.stdout, /node-2\s+Ready/)

  t.ok(clusterProcesses(c.dataDir).length >= 5, 'masters and nodes run as processes naming the data dir')
  t.equal(await c.stop(), 0, 'up exits cleanly on Ctrl-C')
  t.same(clusterProcesses(c.dataDir), [], 'no process of the cluster is left')
})
