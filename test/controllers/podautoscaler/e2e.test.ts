// The HorizontalPodAutoscaler end to end: three real masters, hollow nodes that report
// their pods' usage every second (what the pods' hollow.raftplane.io/cpu-usage
// annotation says), and the real kubectl 1.32. `kubectl autoscale` creates the HPA
// (an autoscaling/v1 object, stored as v2);
// usage four times the target scales the Deployment up and its new pods run; `kubectl
// get hpa` shows the utilization; when usage falls (`kubectl annotate`), the HPA
// scales back down after the downscale window, and `kubectl describe hpa` shows the
// conditions and the SuccessfulRescale Events.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { HollowCluster } from '../../../src/kubelet/index.js'
import { cluster, until } from '../../scheduler/e2e/helpers.js'

const KUBECTL = '/usr/bin/kubectl'

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
      annotations:
        hollow.raftplane.io/cpu-usage: 200m
    spec:
      containers:
      - name: web
        image: nginx
        resources:
          requests: { cpu: 100m }
`

t.test('kubectl autoscale: scale up on usage, down when it falls', async (t) => {
  const target = await cluster(t, ['--horizontal-pod-autoscaler-sync-period=1s', '--horizontal-pod-autoscaler-downscale-stabilization=5s'])
  const nodes = await HollowCluster.start({
    addresses: target.masters.map((m) => m.nodeEndpoint),
    count: 2,
    usageIntervalMs: 1000,
    kubelet: { statusUpdateFrequencyMs: 2000, leaseRenewIntervalMs: 2000 },
  })
  t.teardown(() => nodes.stop())

  const dir = mkdtempSync(join(tmpdir(), 'hpa-e2e-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const kubeconfig = join(dir, 'kubeconfig')
  const servers = target.masters.map((m) => m.url)
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${servers[0]}"}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: c\n  context: {cluster: c, user: u, namespace: default}\ncurrent-context: c\n`)
  const kubectl = (args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
      )
      if (input !== undefined) child.stdin!.end(input)
    })
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await kubectl(args, input)
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`)
    return r.stdout
  }
  const readyReplicas = async (): Promise<number> => Number((await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}/{.status.readyReplicas}'])).split('/')[1] || 0)
  const specReplicas = async (): Promise<number> => Number((await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).trim())

  await until('2 Ready nodes', 60_000, async () => ((await ok(['get', 'nodes', '--no-headers'])).match(/\bReady\b/g)?.length === 2 ? true : undefined))
  await ok(['apply', '-f', '-'], DEPLOYMENT)
  await until('the first pod ready', 60_000, async () => ((await readyReplicas()) === 1 ? true : undefined))

  const created = await ok(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=4'])
  t.match(created, /horizontalpodautoscaler.autoscaling\/web autoscaled/)

  // 200m of a 100m request is 200% against 50%: the metrics ask for 4 and one sync may
  // go from 1 to 4 (at most double, or 4).
  await until('4 replicas, all ready', 90_000, async () => ((await readyReplicas()) === 4 ? true : undefined))
  const table = await until('kubectl get hpa with 4 measured pods', 30_000, async () => {
    const out = await ok(['get', 'hpa', 'web'])
    return /cpu: 200%\/50%\s+1\s+4\s+4\b/.test(out) ? out : undefined
  })
  t.match(table, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE/m)
  t.match(table, /^web\s+Deployment\/web\s+cpu: 200%\/50%\s+1\s+4\s+4\s/m)

  // The pods now use 10m each (10%): after the 5 s window the HPA asks for ceil(0.2 × 4) = 1.
  const t0 = Date.now()
  await ok(['annotate', 'pods', '-l', 'app=web', 'hollow.raftplane.io/cpu-usage=10m', '--overwrite'])
  await until('scaled down to 1', 90_000, async () => ((await specReplicas()) === 1 ? true : undefined))
  t.ok(Date.now() - t0 >= 4000, `the scale-down waited for the window (${Date.now() - t0} ms)`)

  // Events are recorded in the background: the last one may land a moment after the scale.
  const described = await until('the scale-down Event in describe', 30_000, async () => {
    const out = await ok(['describe', 'hpa', 'web'])
    return /New size: 1; reason: All metrics below target/.test(out) ? out : undefined
  })
  t.match(described, /Reference:\s+Deployment\/web/)
  t.match(described, /Min replicas:\s+1/)
  // SucceededRescale right after a rescale, ReadyForNewScale from the next sync on.
  t.match(described, /AbleToScale\s+True\s+(SucceededRescale|ReadyForNewScale)/)
  t.match(described, /ScalingActive\s+True\s+ValidMetricFound/)
  t.match(described, /SuccessfulRescale\s+.*New size: 4; reason: cpu resource utilization \(percentage of request\) above target/)
  t.match(described, /SuccessfulRescale\s+.*New size: 1; reason: All metrics below target/)
  t.comment(described)
})
