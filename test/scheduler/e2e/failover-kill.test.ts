// kill -9 the master whose scheduler leads while 2,000 pods are pending: another
// master takes over within the lease duration, every pod ends bound exactly once and
// no node is over-committed.
import t from 'tap'
import { assertNoOvercommit, BindingHistory, client, cluster, createIdempotent, createParallel, holder, masterOf, node, pod, PODS, until } from './helpers.js'

t.test('kill -9 the scheduling master while 2,000 pods are pending: another takes over, every pod bound once', async (t) => {
  const target = await cluster(t, ['--no-controller-manager'])
  const first = await until('a kube-scheduler holder', 30_000, () => holder(client(target.masters[0]!)))
  const leaderMaster = masterOf(first, target)
  const survivor = target.masters.find((m) => m !== leaderMaster)!
  const api = client(survivor)

  // Pods first, with no node to go to: all 2,000 pending.
  await createParallel(2000, (i) => createIdempotent(api, pod(i)))
  const list = await api.resource(PODS, 'default').list()
  t.equal(list.items.length, 2000)
  const history = new BindingHistory()
  await history.start(api, list.metadata.resourceVersion!)
  t.teardown(() => history.close())
  const unschedulable = await until('the PodScheduled=False condition', 30_000, async () => {
    const p = await api.resource(PODS, 'default').get('p-0')
    const c = ((p.status as { conditions?: Record<string, string>[] }).conditions ?? []).find((x) => x.type === 'PodScheduled')
    return c?.status === 'False' ? c : undefined
  })
  t.equal(unschedulable.reason, 'Unschedulable')
  t.equal(unschedulable.message, 'no nodes available to schedule pods', 'upstream words for a cluster without nodes')

  // 20 nodes of 11 cpu hold 2,200 pods of 100m: tight enough that an over-commit would show.
  await createParallel(20, (i) => createIdempotent(api, node(i, '11')))
  await until('200 pods bound', 60_000, async () => (history.bound() >= 200 ? true : undefined))
  const killedAt = Date.now()
  leaderMaster.child!.kill('SIGKILL')
  const next = await until('a new kube-scheduler holder', 30_000, async () => {
    const h = await holder(api)
    return h !== undefined && h !== first ? h : undefined
  })
  const takeoverMs = Date.now() - killedAt
  t.ok(takeoverMs <= 15_000 + 2_000 * 1.2 + 2_000, `another master took over within the lease duration (+ one retry period): ${takeoverMs} ms`)
  t.not(masterOf(next, target), leaderMaster)
  await until('all 2,000 pods bound', 120_000, async () => (history.bound() >= 2000 ? true : undefined))
  t.same(history.rebound(), [], 'no pod was bound twice')
  const final = await api.resource(PODS, 'default').list()
  t.equal(final.items.filter((p) => (p.spec as { nodeName?: string }).nodeName).length, 2000, 'every pod has its node')
  await assertNoOvercommit(t, api)
})
