// The real kubectl 1.32 against the Deployment controller (the test playing the
// ReplicaSet controller, which reports every pod available): `rollout status` waits
// and reports as it does against kube-controller-manager, `rollout history` lists the
// revisions with their change-cause, `rollout undo` brings an old ReplicaSet back
// under a new revision, `pause`/`resume` and `restart` act through the controller.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { RestClient } from '../../../src/client/index.js'
import { deploymentController } from '../../../src/controllers/deployment/controller.js'
import { eventually, startCluster } from '../helpers.js'
import { getDeployment, NS, replicaSetsOf, report, reportAll, waitComplete, waitSizes } from './fixtures.js'

const KUBECTL = '/usr/bin/kubectl'

interface Result {
  code: number
  stdout: string
  stderr: string
}

interface Kubectl {
  (args: string[], input?: string): Promise<Result>
  /** A long-running kubectl whose output so far can be read while it runs. */
  start(args: string[]): { output: () => string; done: Promise<Result> }
}

function kubectlFor(t: Test, client: RestClient): Kubectl {
  const dir = mkdtempSync(join(tmpdir(), 'deployment-kubectl-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const kubeconfig = join(dir, 'kubeconfig')
  const server = client.urls[0]!.origin
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${server}"}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: c\n  context: {cluster: c, user: u, namespace: ${NS}}\ncurrent-context: c\n`,
  )
  const base = ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache')]
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir }
  const run = ((args: string[], input?: string): Promise<Result> =>
    new Promise((resolve) => {
      const child = execFile(KUBECTL, [...base, ...args], { env, timeout: 90_000 }, (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
      )
      if (input !== undefined) child.stdin?.end(input)
    })) as Kubectl
  run.start = (args) => {
    const child = spawn(KUBECTL, [...base, ...args], { env, timeout: 90_000 })
    t.teardown(() => {
      if (child.exitCode === null) child.kill()
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const done = new Promise<Result>((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })))
    return { output: () => stdout, done }
  }
  return run
}

const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
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
        image: nginx:1
`

t.test('kubectl rollout status, history, undo, pause, resume and restart', { skip: existsSync(KUBECTL) ? false : `no ${KUBECTL}` }, async (t) => {
  const { client } = await startCluster(t, ['deployment'], { deployment: deploymentController })
  const kubectl = kubectlFor(t, client)
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await kubectl(args, input)
    t.equal(r.code, 0, `kubectl ${args.join(' ')}${r.code === 0 ? '' : `: ${r.stderr}`}`)
    return r.stdout
  }

  t.match(await ok(['create', '-f', '-'], MANIFEST), /deployment.apps\/web created/)
  await waitSizes(client, 'web', '1:2')
  // rollout status waits for the pods to exist, then to be available, and returns once they are.
  const status = kubectl.start(['rollout', 'status', 'deployment/web', '--timeout=60s'])
  const said = (what: RegExp): Promise<true> => eventually(`rollout status to say ${what}`, async () => (what.test(status.output()) ? true : undefined))
  await said(/Waiting for deployment "web" rollout to finish: 0 out of 2 new replicas have been updated\.\.\./)
  const [rs] = await replicaSetsOf(client, 'web')
  await report(client, rs.metadata.name, { available: 0 })
  await said(/Waiting for deployment "web" rollout to finish: 0 of 2 updated replicas are available\.\.\./)
  await reportAll(client, 'web')
  const st = await status.done
  t.equal(st.code, 0, st.stderr)
  t.match(st.stdout, /deployment "web" successfully rolled out/)

  // A second revision with a change-cause, rolled out while a background "ReplicaSet controller" reports.
  const reporting = { on: true }
  const reporter = (async () => {
    while (reporting.on) {
      await reportAll(client, 'web').catch(() => undefined)
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  t.teardown(async () => {
    reporting.on = false
    await reporter
  })
  await ok(['set', 'image', 'deployment/web', 'web=nginx:2'])
  await ok(['annotate', 'deployment/web', 'kubernetes.io/change-cause=image nginx:2'])
  t.match(await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']), /deployment "web" successfully rolled out/)
  await waitComplete(client, 'web')
  await eventually('change-cause on the ReplicaSet', async () => ((await replicaSetsOf(client, 'web'))[1]?.metadata.annotations['kubernetes.io/change-cause'] === 'image nginx:2' ? true : undefined))
  const history = await ok(['rollout', 'history', 'deployment/web'])
  t.match(history, /REVISION\s+CHANGE-CAUSE/)
  t.match(history, /^1\s+<none>$/m)
  t.match(history, /^2\s+image nginx:2$/m)

  // undo: kubectl patches the template back; the first ReplicaSet returns as revision 3.
  const [first] = await replicaSetsOf(client, 'web')
  t.match(await ok(['rollout', 'undo', 'deployment/web']), /deployment.apps\/web rolled back/)
  await waitSizes(client, 'web', '2:0 3:2')
  const reused = (await replicaSetsOf(client, 'web'))[1]
  t.equal(reused.metadata.uid, first.metadata.uid, 'the revision 1 ReplicaSet runs again')
  t.equal(reused.metadata.annotations['deployment.kubernetes.io/revision-history'], '1')
  t.match(await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/)
  const after = await ok(['rollout', 'history', 'deployment/web'])
  t.match(after, /^2\s+image nginx:2$/m)
  t.match(after, /^3\s+/m)
  t.notMatch(after, /^1\s+/m, 'revision 1 became revision 3')
  t.match(await ok(['rollout', 'history', 'deployment/web', '--revision=3']), /Image:\s+nginx:1/)

  // pause: a template change waits; resume rolls it out.
  t.match(await ok(['rollout', 'pause', 'deployment/web']), /deployment.apps\/web paused/)
  await eventually('paused condition', async () => ((await getDeployment(client, 'web')).status.conditions.find((c: any) => c.type === 'Progressing')?.reason === 'DeploymentPaused' ? true : undefined))
  await ok(['set', 'image', 'deployment/web', 'web=nginx:3'])
  await new Promise((r) => setTimeout(r, 500))
  t.equal((await replicaSetsOf(client, 'web')).length, 2, 'no rollout while paused')
  t.match(await ok(['rollout', 'resume', 'deployment/web']), /deployment.apps\/web resumed/)
  t.match(await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/)
  t.equal((await replicaSetsOf(client, 'web')).length, 3)

  // restart: a new template annotation, so a new ReplicaSet.
  t.match(await ok(['rollout', 'restart', 'deployment/web']), /deployment.apps\/web restarted/)
  t.match(await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/)
  const rss = await replicaSetsOf(client, 'web')
  t.equal(rss.length, 4)
  t.match(rss[3].spec.template.metadata.annotations, { 'kubectl.kubernetes.io/restartedAt': /\d{4}-\d\d-\d\dT/ })

  const describe = await ok(['describe', 'deployment/web'])
  t.match(describe, /NewReplicaSet:\s+web-\w+ \(2\/2 replicas created\)/)
  t.match(describe, /ScalingReplicaSet\s+.*deployment-controller\s+Scaled (up|down) replica set web-\w+ from \d+ to \d+/)
})
