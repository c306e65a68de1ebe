// `raftplane up --nodes 2` and the real kubectl 1.32: `kubectl top nodes` and
// `kubectl top pods` find metrics.k8s.io through discovery and print the usage the
// hollow kubelets report (every 15 s by default) — a pod's from its annotations.
import t from 'tap'
import { startCluster } from '../apiserver/e2e/helpers/cluster.js'

const cluster = await startCluster(t, { nodes: 2 })

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: busy
  labels: { app: busy }
  annotations:
    hollow.raftplane.io/cpu-usage: 300m
    hollow.raftplane.io/memory-usage: 96Mi
spec:
  containers:
  - name: main
    image: busybox
`

/** Retries `kubectl args` until `ok(stdout)`; generous deadline (reports come every 15 s). */
async function until(args: string[], ok: (out: string) => boolean, ms = 60_000): Promise<string> {
  const deadline = Date.now() + ms
  let last: string
  for (;;) {
    const r = await cluster.kubectl(args, { allowFail: true })
    last = `${r.stdout}${r.stderr}`
    if (r.code === 0 && ok(r.stdout)) return r.stdout
    if (Date.now() > deadline) throw new Error(`kubectl ${args.join(' ')} never matched; last output:\n${last}`)
    await new Promise((r) => setTimeout(r, 1000))
  }
}

t.test('kubectl top pods and top nodes', async (t) => {
  const t0 = Date.now()
  await cluster.kubectl(['apply', '-f', '-'], { input: POD })
  const pods = await until(['top', 'pods'], (out) => /^busy\s/m.test(out))
  t.comment(`pod usage shown ${Date.now() - t0} ms after the pod was created`)
  t.match(pods, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/m)
  t.match(pods, /^busy\s+300m\s+96Mi\s*$/m, 'the annotated usage')
  // Each node process reports on its own schedule: the pod's node has reported (it
  // carried the pod), the other one may not have yet.
  const nodeRow = (name: string): RegExp => new RegExp(`^${name}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`, 'm')
  const nodes = { stdout: await until(['top', 'nodes'], (out) => nodeRow('node-1').test(out) && nodeRow('node-2').test(out)) }
  const [containers, nodeName, raw, missing] = await Promise.all([
    cluster.kubectl(['top', 'pod', 'busy', '--containers']),
    cluster.kubectl(['get', 'pod', 'busy', '-o', 'jsonpath={.spec.nodeName}']),
    cluster.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy']),
    cluster.kubectl(['top', 'pod', 'nope'], { allowFail: true }),
  ])
  t.match(containers.stdout, /^busy\s+main\s+300m\s+96Mi\s*$/m)
  t.match(nodes.stdout, /^NAME\s+CPU\(cores\)\s+CPU(\(%\)|%)\s+MEMORY\(bytes\)\s+MEMORY(\(%\)|%)/m)
  t.match(nodes.stdout, nodeRow('node-1'))
  t.match(nodes.stdout, nodeRow('node-2'))
  // The pod's node: its base (50m, 256Mi) plus the pod's 96Mi; CPU plus the pod's 300m
  // for the part of the 15 s window the pod ran (all of it from the next report on).
  const row = new RegExp(`^${nodeName.stdout.trim()}\\s+(\\d+)m\\s+\\d+%\\s+352Mi\\s+\\d+%`, 'm').exec(nodes.stdout)
  t.ok(row !== null, `the pod's node in\n${nodes.stdout}`)
  t.ok(Number(row?.[1]) > 50 && Number(row?.[1]) <= 350, `its CPU ${row?.[1]}m is between 50m and 350m`)
  const metrics = JSON.parse(raw.stdout) as Record<string, unknown>
  t.equal(metrics.kind, 'PodMetrics')
  t.same(metrics.containers, [{ name: 'main', usage: { cpu: '300m', memory: '96Mi' } }])
  t.not(missing.code, 0)
  t.match(missing.stderr, /pods "nope" not found/)
})
