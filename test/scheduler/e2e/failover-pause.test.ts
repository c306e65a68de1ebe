// A scheduler leader paused with SIGSTOP past its lease and resumed with SIGCONT:
// another master takes over and binds while it sleeps; the resumed one stops leading
// and no pod is bound twice. (Any binding it still had in flight meets the fence and
// is counted in the output; test/leader-election/sigstop.test.ts proves the fence
// itself with a process that writes every 20 ms.)
import t from 'tap'
import { assertNoOvercommit, BindingHistory, client, cluster, createIdempotent, createParallel, holder, masterOf, node, pod, PODS, until } from './helpers.js'

t.test('a scheduler leader paused past its lease (SIGSTOP) and resumed (SIGCONT): another takes over, no pod bound twice', async (t) => {
  const target = await cluster(t, [
    '--no-controller-manager',
    '--leader-elect-lease-duration=3s',
    '--leader-elect-renew-deadline=2s',
    '--leader-elect-retry-period=500ms',
    '--log-level=info',
  ])
  const first = await until('a kube-scheduler holder', 30_000, () => holder(client(target.masters[0]!)))
  const paused = masterOf(first, target)
  const other = target.masters.find((m) => m !== paused)!
  const api = client(other)
  await createParallel(10, (i) => createIdempotent(api, node(i, '1000')))
  const list = await api.resource(PODS, 'default').list()
  const history = new BindingHistory()
  await history.start(api, list.metadata.resourceVersion!)
  t.teardown(() => history.close())
  // Pods keep arriving (about 100/s, through a master that is not paused) so the
  // leader is binding when it is paused, and there is work left for the next one.
  const TOTAL = 1500
  let created = 0
  const creating = (async () => {
    const started = Date.now()
    while (created < TOTAL) {
      await Promise.all(Array.from({ length: 10 }, () => createIdempotent(api, pod(created++))))
      const due = started + created * 10
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()))
    }
  })()
  // Awaited after the pause; marked handled now so a failure is reported there, not as unhandled.
  creating.catch(() => undefined)
  await until('some pods bound', 60_000, async () => (history.bound() >= 200 ? true : undefined))

  t.equal(await holder(api), first, 'the first holder still leads as the pause begins')
  paused.track('stopped leading')
  paused.track('"fenced":true')
  paused.child!.kill('SIGSTOP')
  let resumed = false
  t.teardown(() => {
    if (!resumed) paused.child?.kill('SIGCONT')
  })
  const next = await until('another holder while the leader is paused', 30_000, async () => {
    const h = await holder(api)
    return h !== undefined && h !== first ? h : undefined
  })
  t.not(masterOf(next, target), paused, 'a running master took the lease')
  t.comment(`bound before the takeover was seen: ${history.bound()}`)
  t.teardown(() => {
    if (process.env.DEBUG_E2E) for (const m of target.masters) console.error(`--- ${m.name}\n${m.output}`)
  })
  await until('the new leader binding', 30_000, async () => {
    const before = history.bound()
    await new Promise((r) => setTimeout(r, 500))
    return history.bound() > before ? true : undefined
  })
  paused.child!.kill('SIGCONT')
  resumed = true
  await creating
  await until('all 1,500 pods bound', 120_000, async () => (history.bound() >= TOTAL ? true : undefined))
  t.same(history.rebound(), [], 'no pod was bound twice')
  await until('the resumed master to stop leading', 20_000, async () => (paused.seen('stopped leading') > 0 ? true : undefined))
  t.comment(`bindings of the resumed master refused by the fence: ${paused.seen('"fenced":true')}`)
  t.equal(await holder(api), next, 'the new holder keeps the lease')
  await assertNoOvercommit(t, api)
})
