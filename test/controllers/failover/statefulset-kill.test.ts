// A StatefulSet scales from 3 to 6 on hollow nodes under three real masters, and the
// master whose controller-manager leads is killed with SIGKILL mid-scale. A watch of
// every pod event shows what OrderedReady promises across the failover: one pod per
// ordinal at a time, and ordinal n created only while 0..n-1 are Running and Ready.
import t from 'tap'
import { findResource } from '../../../src/api/resources.js'
import type { KubeObject } from '../../../src/client/types.js'
import { HollowCluster } from '../../../src/kubelet/index.js'
import { client, cluster, masterOf, until } from '../../scheduler/e2e/helpers.js'

const STATEFULSETS = findResource('apps', 'v1', 'statefulsets')!
const PODS = findResource('', 'v1', 'pods')!
const LEASES = findResource('coordination.k8s.io', 'v1', 'leases')!

type Json = Record<string, unknown>

const ready = (p: KubeObject): boolean =>
  (p.status as Json | undefined)?.phase === 'Running' && ((p.status as Json | undefined)?.conditions as Json[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True') === true
const ordinal = (p: KubeObject): number => Number(/-(\d+)$/.exec(String(p.metadata?.name))![1])

/** Pods by uid as the watch shows them, and every breach of OrderedReady seen. */
class OrdinalWatch {
  private readonly pods = new Map<string, KubeObject>()
  readonly breaches: string[] = []
  created = 0

  apply(type: string, pod: KubeObject): void {
    const uid = String(pod.metadata?.uid)
    const isNew = !this.pods.has(uid) && type !== 'DELETED'
    if (type === 'DELETED') this.pods.delete(uid)
    else this.pods.set(uid, pod)
    if (!isNew) return
    this.created++
    const n = ordinal(pod)
    const others = [...this.pods.values()].filter((p) => p.metadata?.uid !== uid)
    if (others.some((p) => ordinal(p) === n && p.metadata?.deletionTimestamp === undefined)) this.breaches.push(`two live pods with ordinal ${n}`)
    for (let k = 0; k < n; k++) {
      if (!others.some((p) => ordinal(p) === k && ready(p))) this.breaches.push(`web-${n} created while web-${k} was not Running and Ready`)
    }
  }
}

t.test('kill -9 the controller-manager leader while a StatefulSet scales: ordinals stay unique and ordered', async (t) => {
  const target = await cluster(t, ['--leader-elect-lease-duration=4s', '--leader-elect-renew-deadline=3s', '--leader-elect-retry-period=500ms'])
  const nodes = await HollowCluster.start({
    addresses: target.masters.map((m) => m.nodeEndpoint),
    count: 3,
    startDelayMs: 500,
    kubelet: { statusUpdateFrequencyMs: 2000, leaseRenewIntervalMs: 2000, events: false },
  })
  t.teardown(() => nodes.stop())
  const holderOf = async (c: ReturnType<typeof client>): Promise<string | undefined> => {
    const h = ((await c.resource(LEASES, 'kube-system').get('kube-controller-manager')).spec as Json | undefined)?.holderIdentity
    return typeof h === 'string' && h !== '' ? h : undefined
  }
  const first = await until('a kube-controller-manager holder', 60_000, () => holderOf(client(target.masters[0]!)))
  const leader = masterOf(first, target)
  const api = client(target.masters.find((m) => m !== leader)!)

  const sets = api.resource(STATEFULSETS, 'default')
  await sets.create({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web' },
    spec: {
      replicas: 3,
      serviceName: 'web',
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
    },
  })
  const readyReplicas = (n: number) => async (): Promise<true | undefined> => (((await sets.get('web')).status as Json | undefined)?.readyReplicas === n ? true : undefined)
  await until('3 ready replicas', 90_000, readyReplicas(3))

  const seen = new OrdinalWatch()
  const list = await api.resource(PODS, 'default').list({ labelSelector: 'app=web' })
  for (const p of list.items) seen.apply('ADDED', p)
  const watch = await api.resource(PODS, 'default').watch({ labelSelector: 'app=web', resourceVersion: list.metadata.resourceVersion! })
  t.teardown(() => watch.stop())
  const watching = (async () => {
    for await (const ev of watch) if (ev.type !== 'BOOKMARK' && ev.type !== 'ERROR') seen.apply(ev.type, ev.object)
  })()

  await sets.patch('web', 'merge', { spec: { replicas: 6 } })
  await until('web-3 created', 60_000, async () => (seen.created >= 4 ? true : undefined))
  leader.child!.kill('SIGKILL')
  const next = await until('a new kube-controller-manager holder', 60_000, async () => {
    const h = await holderOf(api)
    return h !== undefined && h !== first ? h : undefined
  })
  t.not(masterOf(next, target), leader)
  await until('6 ready replicas', 120_000, readyReplicas(6))

  const pods = (await api.resource(PODS, 'default').list({ labelSelector: 'app=web' })).items
  t.same(pods.map((p) => p.metadata?.name).sort(), ['web-0', 'web-1', 'web-2', 'web-3', 'web-4', 'web-5'])
  watch.stop()
  await watching.catch(() => undefined)
  t.equal(seen.created, 6, 'each ordinal created once')
  t.same(seen.breaches, [], 'OrderedReady held across the failover')
})
