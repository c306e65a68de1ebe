// The real kubectl 1.32 against three masters started by `raftplane up`: discovery,
// OpenAPI, apply (client- and server-side), get in every output format, watch,
// describe, label, annotate, patch, scale, delete. Each answer is compared with what
// kube-apiserver gives kubectl.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are arbitrary JSON, read by path in assertions */
import t from 'tap'
import { startCluster, type TestCluster } from './helpers/cluster.js'

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
        env:
        - {name: MODE, value: blue}
`

const MULTI = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: demo}
data: {color: blue}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: cache, namespace: demo, labels: {app: cache}}
spec:
  replicas: 1
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers: [{name: redis, image: redis:7}]
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: demo, labels: {app: solo, tier: back}}
spec:
  containers: [{name: main, image: busybox, command: [sleep, '3600']}]
`

let c: TestCluster

t.before(async () => {
  c = await startCluster(t)
})

t.test('version, api-versions, api-resources', async (t) => {
  const v = await c.kubectl(['version', '-o', 'json'])
  const parsed = JSON.parse(v.stdout) as { serverVersion: { major: string; minor: string } }
  t.equal(parsed.serverVersion.major, '1')
  t.equal(parsed.serverVersion.minor, '32')
  const versions = (await c.kubectl(['api-versions'])).stdout.split('\n')
  for (const gv of ['v1', 'apps/v1', 'batch/v1', 'coordination.k8s.io/v1', 'rbac.authorization.k8s.io/v1']) t.ok(versions.includes(gv), gv)
  const res = (await c.kubectl(['api-resources', '--no-headers'])).stdout
  t.match(res, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m)
  t.match(res, /^pods\s+po\s+v1\s+true\s+Pod$/m)
  t.match(res, /^nodes\s+no\s+v1\s+false\s+Node$/m)
})

t.test('explain reads the OpenAPI schema', async (t) => {
  const out = (await c.kubectl(['explain', 'deployment.spec.replicas'])).stdout
  t.match(out, /KIND:\s+Deployment/)
  t.match(out, /FIELD:\s+replicas <integer>/)
})

t.test('namespaces, apply, get', async (t) => {
  await c.kubectl(['create', 'namespace', 'demo'])
  const ns = (await c.kubectl(['get', 'namespace', 'demo', '--no-headers'])).stdout
  t.match(ns, /^demo\s+Active\s+\d+s$/m)
  const applied = await c.kubectl(['apply', '-f', '-'], { input: DEPLOYMENT })
  t.match(applied.stdout, 'deployment.apps/web created')
  const multi = await c.kubectl(['apply', '-f', '-'], { input: MULTI })
  t.match(multi.stdout, 'configmap/settings created')
  t.match(multi.stdout, 'replicaset.apps/cache created')
  t.match(multi.stdout, 'pod/solo created')

  const table = (await c.kubectl(['get', 'deployments', '-n', 'demo'])).stdout
  t.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m)
  // The controllers are running: UP-TO-DATE moves to 2 once the ReplicaSet exists; no node runs the pods.
  t.match(table, /^web\s+0\/2\s+[0-2]\s+0\s+\d+s$/m)
  const pods = (await c.kubectl(['get', 'pods', '-n', 'demo', '-o', 'wide'])).stdout
  t.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m)
  t.match(pods, /^solo\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/m)

  const yaml = (await c.kubectl(['get', 'deployment', 'web', '-n', 'demo', '-o', 'yaml'])).stdout
  t.match(yaml, /kubectl.kubernetes.io\/last-applied-configuration/)
  t.match(yaml, /revisionHistoryLimit: 10/, 'defaults applied')
  t.match(yaml, /generation: 1/)
  const json = JSON.parse((await c.kubectl(['get', 'pod', 'solo', '-n', 'demo', '-o', 'json'])).stdout) as Record<string, any>
  t.equal(json.spec.restartPolicy, 'Always')
  t.equal(json.spec.containers[0].imagePullPolicy, 'Always', 'an untagged image means :latest')
  t.equal(json.status.phase, 'Pending')
  t.match(json.metadata.uid, /^[0-9a-f-]{36}$/)

  const names = (await c.kubectl(['get', 'pods,rs,deploy,cm', '-n', 'demo', '-o', 'name'])).stdout
  t.match(names, 'pod/solo')
  t.match(names, 'replicaset.apps/cache')
  t.match(names, 'deployment.apps/web')
  const jp = (await c.kubectl(['get', 'deploy', 'web', '-n', 'demo', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).stdout
  t.equal(jp, 'nginx:1.27')
  const all = (await c.kubectl(['get', 'namespaces', '-A', '--no-headers'])).stdout
  for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'demo']) t.match(all, new RegExp(`^${n}\\s`, 'm'))
})

t.test('selectors', async (t) => {
  const l = (await c.kubectl(['get', 'pods', '-n', 'demo', '-l', 'tier in (back,middle)', '-o', 'name'])).stdout.trim()
  t.equal(l, 'pod/solo')
  // The Deployment's and ReplicaSet's pods carry no tier label (so `tier!=back` alone matches them).
  const none = await c.kubectl(['get', 'pods', '-n', 'demo', '-l', 'tier,tier!=back', '-o', 'name'])
  t.equal(none.stdout.trim(), '')
  const f = (await c.kubectl(['get', 'pods', '-A', '--field-selector', 'metadata.name=solo,status.phase=Pending', '-o', 'name'])).stdout.trim()
  t.equal(f, 'pod/solo')
  const bad = await c.kubectl(['get', 'pods', '-n', 'demo', '--field-selector', 'spec.bogus=1'], { allowFail: true })
  t.not(bad.code, 0)
  t.match(bad.stderr, /field label not supported: spec.bogus/)
})

t.test('re-apply after an edit, server-side apply', async (t) => {
  const edited = DEPLOYMENT.replace('replicas: 2', 'replicas: 3').replace('value: blue', 'value: green')
  const out = await c.kubectl(['apply', '-f', '-'], { input: edited })
  t.match(out.stdout, 'deployment.apps/web configured')
  const d = JSON.parse((await c.kubectl(['get', 'deploy', 'web', '-n', 'demo', '-o', 'json'])).stdout) as Record<string, any>
  t.equal(d.spec.replicas, 3)
  t.same(d.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'green' }])
  t.equal(d.metadata.generation, 2)
  const unchanged = await c.kubectl(['apply', '-f', '-'], { input: edited })
  t.match(unchanged.stdout, 'deployment.apps/web unchanged')

  const ssa = `apiVersion: v1
kind: ConfigMap
metadata: {name: ssa, namespace: demo}
data: {a: "1"}
`
  const s1 = await c.kubectl(['apply', '--server-side', '-f', '-'], { input: ssa })
  t.match(s1.stdout, 'configmap/ssa serverside-applied')
  const cm = JSON.parse((await c.kubectl(['get', 'cm', 'ssa', '-n', 'demo', '-o', 'json', '--show-managed-fields'])).stdout) as Record<string, any>
  t.equal(cm.metadata.managedFields[0].manager, 'kubectl')
  t.equal(cm.metadata.managedFields[0].operation, 'Apply')
  // Another manager takes the field; kubectl's apply without --force-conflicts then conflicts.
  await c.kubectl(['patch', 'cm', 'ssa', '-n', 'demo', '--type', 'merge', '-p', '{"data":{"a":"2"}}', '--field-manager', 'other'])
  const conflict = await c.kubectl(['apply', '--server-side', '-f', '-'], { input: ssa, allowFail: true })
  t.not(conflict.code, 0)
  t.match(conflict.stderr, /conflict/i)
  const forced = await c.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: ssa })
  t.match(forced.stdout, 'serverside-applied')
})

t.test('label, annotate, patch, scale', async (t) => {
  await c.kubectl(['label', 'pod', 'solo', '-n', 'demo', 'color=red'])
  await c.kubectl(['annotate', 'pod', 'solo', '-n', 'demo', 'note=hello'])
  let pod = JSON.parse((await c.kubectl(['get', 'pod', 'solo', '-n', 'demo', '-o', 'json'])).stdout) as Record<string, any>
  t.equal(pod.metadata.labels.color, 'red')
  t.equal(pod.metadata.annotations.note, 'hello')
  const relabel = await c.kubectl(['label', 'pod', 'solo', '-n', 'demo', 'color=blue'], { allowFail: true })
  t.not(relabel.code, 0, 'label without --overwrite refuses to change a value')
  await c.kubectl(['label', 'pod', 'solo', '-n', 'demo', 'color-'])
  pod = JSON.parse((await c.kubectl(['get', 'pod', 'solo', '-n', 'demo', '-o', 'json'])).stdout) as Record<string, any>
  t.equal(pod.metadata.labels.color, undefined)

  await c.kubectl(['patch', 'deploy', 'web', '-n', 'demo', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}'])
  await c.kubectl(['patch', 'deploy', 'web', '-n', 'demo', '--type', 'json', '-p', '[{"op":"add","path":"/spec/minReadySeconds","value":5}]'])
  await c.kubectl(['patch', 'deploy', 'web', '-n', 'demo', '--type', 'merge', '-p', '{"metadata":{"labels":{"patched":"yes"}}}'])
  const d = JSON.parse((await c.kubectl(['get', 'deploy', 'web', '-n', 'demo', '-o', 'json'])).stdout) as Record<string, any>
  t.equal(d.spec.template.spec.containers.length, 1, 'strategic merge kept one container')
  t.equal(d.spec.template.spec.containers[0].image, 'nginx:1.28')
  t.same(d.spec.template.spec.containers[0].ports, [{ containerPort: 80, protocol: 'TCP' }])
  t.equal(d.spec.minReadySeconds, 5)
  t.equal(d.metadata.labels.patched, 'yes')
  const badPatch = await c.kubectl(['patch', 'deploy', 'web', '-n', 'demo', '--type', 'json', '-p', '[{"op":"test","path":"/spec/replicas","value":99}]'], { allowFail: true })
  t.not(badPatch.code, 0)

  await c.kubectl(['scale', 'deploy', 'web', '-n', 'demo', '--replicas', '5'])
  const scaled = (await c.kubectl(['get', 'deploy', 'web', '-n', 'demo', '-o', 'jsonpath={.spec.replicas}'])).stdout
  t.equal(scaled, '5')
  await c.kubectl(['scale', 'rs', 'cache', '-n', 'demo', '--replicas', '0'])
  t.equal((await c.kubectl(['get', 'rs', 'cache', '-n', 'demo', '-o', 'jsonpath={.spec.replicas}'])).stdout, '0')
})

t.test('describe and events', async (t) => {
  const out = (await c.kubectl(['describe', 'deployment', 'web', '-n', 'demo'])).stdout
  t.match(out, /Name:\s+web/)
  t.match(out, /Namespace:\s+demo/)
  t.match(out, /Replicas:\s+5 desired/)
  const ev = `apiVersion: v1
kind: Event
metadata: {name: web.1, namespace: demo}
involvedObject: {kind: Deployment, name: web, namespace: demo, apiVersion: apps/v1}
reason: ScalingReplicaSet
message: Scaled up replica set web-1 to 5
type: Normal
source: {component: deployment-controller}
firstTimestamp: "2026-01-01T00:00:00Z"
lastTimestamp: "2026-01-01T00:00:00Z"
count: 1
`
  await c.kubectl(['create', '-f', '-'], { input: ev })
  const events = (await c.kubectl(['get', 'events', '-n', 'demo'])).stdout
  t.match(events, /ScalingReplicaSet/)
  t.match(events, /deployment\/web/)
})

t.test('get -w streams changes', async (t) => {
  const { spawn } = await import('node:child_process')
  const { KUBECTL } = await import('./helpers/cluster.js')
  const w = spawn(KUBECTL, ['--kubeconfig', c.kubeconfig, 'get', 'configmaps', '-n', 'demo', '-w', '--no-headers'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  w.stdout.on('data', (d: Buffer) => (out += d.toString()))
  t.teardown(() => void w.kill())
  const until = async (re: RegExp): Promise<void> => {
    const end = Date.now() + 15_000
    while (!re.test(out)) {
      if (Date.now() > end) throw new Error(`watch output never matched ${re}:\n${out}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  await until(/^settings\s+1\s/m)
  await c.kubectl(['create', 'configmap', 'watched', '-n', 'demo', '--from-literal=k=v'])
  await until(/^watched\s+1\s/m)
  t.pass('the created ConfigMap appeared on the watch')
})

t.test('bad input gets a Status and changes nothing', async (t) => {
  const badName = await c.kubectl(['create', 'configmap', 'Bad_Name', '-n', 'demo'], { allowFail: true })
  t.not(badName.code, 0)
  t.match(badName.stderr, /is invalid: metadata.name: Invalid value: "Bad_Name"/)
  const noKind = await c.kubectl(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Gizmo\nmetadata: {name: x}\n', allowFail: true })
  t.not(noKind.code, 0, 'an unknown kind is refused (kubectl looks for a CRD, which we do not serve)')
  const wrongType = await c.kubectl(['apply', '-f', '-'], { input: DEPLOYMENT.replace('replicas: 2', 'replicas: two'), allowFail: true })
  t.not(wrongType.code, 0)
  t.match(wrongType.stderr, 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32')
  const unknownField = await c.kubectl(['apply', '-f', '-'], { input: DEPLOYMENT.replace('replicas: 2', 'replicas: 2\n  bogus: 1'), allowFail: true })
  t.not(unknownField.code, 0)
  t.match(unknownField.stderr, 'strict decoding error: unknown field "spec.bogus"')
  const still = (await c.kubectl(['get', 'deploy', 'web', '-n', 'demo', '-o', 'jsonpath={.spec.replicas}'])).stdout
  t.equal(still, '5', 'the failed apply changed nothing')
  const missingNs = await c.kubectl(['create', 'configmap', 'x', '-n', 'nowhere'], { allowFail: true })
  t.match(missingNs.stderr, /namespaces "nowhere" not found/)
})

t.test('delete, with cascade', async (t) => {
  const out = await c.kubectl(['delete', 'pod', 'solo', '-n', 'demo'])
  t.match(out.stdout, 'pod "solo" deleted')
  const gone = await c.kubectl(['get', 'pod', 'solo', '-n', 'demo'], { allowFail: true })
  t.match(gone.stderr, /pods "solo" not found/)
  const del = await c.kubectl(['delete', 'configmap', '-n', 'demo', '--all'])
  t.match(del.stdout, 'configmap "settings" deleted')
  const rs = await c.kubectl(['delete', 'rs', 'cache', '-n', 'demo', '--cascade=background'])
  t.match(rs.stdout, 'replicaset.apps "cache" deleted')
})

t.test('cascading deletes and namespace deletion complete (garbage collector, namespace controller)', async (t) => {
  const owner = JSON.parse((await c.kubectl(['create', 'configmap', 'owner', '-n', 'demo', '-o', 'json'])).stdout) as { metadata: { uid: string } }
  const dependent = (name: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: demo
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: ${owner.metadata.uid}, blockOwnerDeletion: true}]
`
  await c.kubectl(['apply', '-f', '-'], { input: dependent('kept') })
  const orphan = await c.kubectl(['delete', 'configmap', 'owner', '-n', 'demo', '--cascade=orphan', '--timeout=60s'])
  t.match(orphan.stdout, 'configmap "owner" deleted', '--cascade=orphan waits for the orphan finalizer and completes')
  const kept = JSON.parse((await c.kubectl(['get', 'configmap', 'kept', '-n', 'demo', '-o', 'json'])).stdout) as { metadata: { ownerReferences?: unknown[] } }
  t.equal(kept.metadata.ownerReferences, undefined, 'the dependent stays, without its owner reference')

  const owner2 = JSON.parse((await c.kubectl(['create', 'configmap', 'owner2', '-n', 'demo', '-o', 'json'])).stdout) as { metadata: { uid: string } }
  await c.kubectl(['apply', '-f', '-'], { input: dependent('goes').replace(owner.metadata.uid, owner2.metadata.uid).replace('name: owner,', 'name: owner2,') })
  const fg = await c.kubectl(['delete', 'configmap', 'owner2', '-n', 'demo', '--cascade=foreground', '--timeout=60s'])
  t.match(fg.stdout, 'configmap "owner2" deleted')
  t.match((await c.kubectl(['get', 'configmap', 'goes', '-n', 'demo'], { allowFail: true })).stderr, /not found/, 'foreground deletion took the dependent first')

  await c.kubectl(['create', 'namespace', 'doomed'])
  await c.kubectl(['create', 'configmap', 'inside', '-n', 'doomed'])
  const ns = await c.kubectl(['delete', 'namespace', 'doomed', '--timeout=90s'], { timeoutMs: 100_000 })
  t.match(ns.stdout, 'namespace "doomed" deleted')
  t.match((await c.kubectl(['get', 'namespace', 'doomed'], { allowFail: true })).stderr, /not found/, 'the namespace and its content are gone')
})

t.test('the scheduler and controller-manager leases name their holders', async (t) => {
  const deadline = Date.now() + 60_000
  for (;;) {
    const out = await c.kubectl(['get', 'lease', '-n', 'kube-system', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.holderIdentity}{"\\n"}{end}'])
    const holders = Object.fromEntries(out.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('=')))
    if (/^master-\d_/.test(holders['kube-scheduler'] ?? '') && /^master-\d_/.test(holders['kube-controller-manager'] ?? '')) {
      t.pass(`holders: ${JSON.stringify(holders)}`)
      break
    }
    if (Date.now() > deadline) {
      t.fail(`no holders yet: ${out.stdout}`)
      break
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  const table = await c.kubectl(['get', 'lease', '-n', 'kube-system'])
  t.match(table.stdout, /NAME\s+HOLDER\s+AGE/)
})

t.test('every master serves the same cluster', async (t) => {
  await c.kubectl(['--context', 'master-2', 'create', 'configmap', 'from-two', '-n', 'demo', '--from-literal=k=v'])
  const three = (await c.kubectl(['--context', 'master-3', 'get', 'configmap', 'from-two', '-n', 'demo', '-o', 'jsonpath={.data.k}'])).stdout
  t.equal(three, 'v', 'a write through master-2 reads back through master-3')
  // Services created at the same time through different masters never share an IP or node port.
  const svc = (i: number) => `apiVersion: v1
kind: Service
metadata: {name: s${i}, namespace: demo}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`
  await Promise.all(Array.from({ length: 12 }, (_, i) => c.kubectl(['--context', `master-${(i % 3) + 1}`, 'apply', '-f', '-'], { input: svc(i) })))
  const list = JSON.parse((await c.kubectl(['get', 'services', '-n', 'demo', '-o', 'json'])).stdout) as { items: { spec: { clusterIP: string; ports: { nodePort: number }[] } }[] }
  const ips = list.items.map((s) => s.spec.clusterIP)
  const ports = list.items.map((s) => s.spec.ports[0]!.nodePort)
  t.equal(ips.length, 12)
  t.equal(new Set(ips).size, 12, `distinct cluster IPs: ${ips.join(' ')}`)
  t.equal(new Set(ports).size, 12, 'distinct node ports')
  for (const ip of ips) t.match(ip, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/)
  const table = (await c.kubectl(['get', 'svc', 's0', '-n', 'demo', '--no-headers'])).stdout
  t.match(table, /^s0\s+NodePort\s+10\.\d+\.\d+\.\d+\s+<none>\s+80:3\d{4}\/TCP\s+\d+s$/m)
})
