// `kubectl delete --cascade` on a cluster from `raftplane up` with nodes: background
// (the default) and foreground remove a Deployment's ReplicaSets and pods;
// --cascade=orphan leaves them running, their ownerReferences to it gone.
import t from 'tap'
import { startCluster, type TestCluster } from '../../apiserver/e2e/helpers/cluster.js'

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

async function names(c: TestCluster, kind: string, selector: string): Promise<string[]> {
  const r = await c.kubectl(['get', kind, '-l', selector, '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'])
  return r.stdout.split('\n').filter(Boolean).sort()
}

async function deploy(c: TestCluster, name: string): Promise<void> {
  await c.kubectl(['create', 'deployment', name, '--image=nginx', '--replicas=3'])
  await c.kubectl(['rollout', 'status', `deployment/${name}`, '--timeout=60s'], { timeoutMs: 70_000 })
}

t.test('kubectl delete --cascade=background|foreground|orphan', async (t) => {
  const c = await startCluster(t, { nodes: 2 })

  await deploy(c, 'bg')
  t.equal((await names(c, 'pods', 'app=bg')).length, 3)
  await c.kubectl(['delete', 'deployment', 'bg'])
  await eventually('bg ReplicaSets and pods gone', async () => ((await names(c, 'rs', 'app=bg')).length === 0 && (await names(c, 'pods', 'app=bg')).length === 0 ? true : undefined))
  t.pass('background: ReplicaSets and pods removed')

  await deploy(c, 'fg')
  // Foreground: kubectl waits until the Deployment itself is gone, which is after its dependents.
  await c.kubectl(['delete', 'deployment', 'fg', '--cascade=foreground', '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 })
  t.same(await names(c, 'rs', 'app=fg'), [], 'foreground: no ReplicaSet outlives the Deployment')
  await eventually('fg pods gone', async () => ((await names(c, 'pods', 'app=fg')).length === 0 ? true : undefined))

  await deploy(c, 'keep')
  const podsBefore = await names(c, 'pods', 'app=keep')
  const [rs] = await names(c, 'rs', 'app=keep')
  await c.kubectl(['delete', 'deployment', 'keep', '--cascade=orphan'])
  const orphaned = await eventually('the ReplicaSet without its owner', async () => {
    const r = await c.kubectl(['get', 'rs', rs!, '-o', 'jsonpath={.metadata.ownerReferences}'])
    return r.stdout === '' ? true : undefined
  })
  t.ok(orphaned, 'orphan: the ReplicaSet stays, its ownerReference gone')
  t.same(await names(c, 'pods', 'app=keep'), podsBefore, 'and its pods stay as they were')
  const ready = await c.kubectl(['get', 'rs', rs!, '-o', 'jsonpath={.status.readyReplicas}'])
  t.equal(ready.stdout, '3', 'still managed by their ReplicaSet')
})
