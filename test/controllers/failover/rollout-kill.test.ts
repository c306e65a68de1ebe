// A Deployment rolls out on hollow nodes under three real masters, and in the middle
// of the rollout the master whose controller-manager leads is killed with SIGKILL.
// Another master takes the Lease over and finishes the rollout; a watch of every pod
// event (through a master that stays up) shows the RollingUpdate bounds held the whole
// time: never more than replicas + maxSurge pods, never fewer than replicas -
// maxUnavailable available once the Deployment first was.
import t from 'tap'
import { findResource } from '../../../src/api/resources.js'
import type { KubeObject } from '../../../src/client/types.js'
import { HollowCluster } from '../../../src/kubelet/index.js'
import { client, cluster, masterOf, until } from '../../scheduler/e2e/helpers.js'

const DEPLOYMENTS = findResource('apps', 'v1', 'deployments')!
const PODS = findResource('', 'v1', 'pods')!
const LEASES = findResource('coordination.k8s.io', 'v1', 'leases')!
const REPLICAS = 10
const MAX_SURGE = 2
const MAX_UNAVAILABLE = 1

type Json = Record<string, unknown>

function deployment(version: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: MAX_SURGE, maxUnavailable: MAX_UNAVAILABLE } },
      template: {
        metadata: { labels: { app: 'web' } },
        // A container that takes a moment to start makes the rollout last long enough to kill a master in it.
        spec: { containers: [{ name: 'web', image: `nginx:${version}` }] },
      },
    },
  }
}

const ready = (p: KubeObject): boolean => ((p.status as Json | undefined)?.conditions as Json[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True') === true

/** Every pod of the Deployment as the watch last showed it, and the extremes seen. */
class PodCensus {
  private readonly pods = new Map<string, KubeObject>()
  maxPods = 0
  minAvailable = Infinity
  /** Bounds count only from the first moment all replicas were available. */
  armed = false
  events = 0
  atMax = ''

  apply(type: string, pod: KubeObject): void {
    const uid = String(pod.metadata?.uid)
    if (type === 'DELETED') this.pods.delete(uid)
    else this.pods.set(uid, pod)
    this.events++
    const live = [...this.pods.values()].filter((p) => p.metadata?.deletionTimestamp === undefined)
    const available = live.filter(ready).length
    if (!this.armed && available >= REPLICAS) this.armed = true
    if (!this.armed) return
    if (live.length > this.maxPods) {
      // What the most pods looked like, for the failure message: template hash, name, age.
      const at = Date.now()
      this.atMax = live
        .map((p) => `${p.metadata?.labels?.['pod-template-hash'] ?? '?'} ${p.metadata?.name} created ${p.metadata?.creationTimestamp} ${ready(p) ? 'ready' : 'not-ready'}`)
        .sort()
        .join('\n')
        .concat(`\n(at ${new Date(at).toISOString()})`)
    }
    this.maxPods = Math.max(this.maxPods, live.length)
    this.minAvailable = Math.min(this.minAvailable, available)
  }
}

t.test('kill -9 the controller-manager leader mid-rollout: the rollout completes within maxSurge/maxUnavailable', async (t) => {
  const target = await cluster(t, ['--leader-elect-lease-duration=4s', '--leader-elect-renew-deadline=3s', '--leader-elect-retry-period=500ms'])
  const nodes = await HollowCluster.start({
    addresses: target.masters.map((m) => m.nodeEndpoint),
    count: 4,
    startDelayMs: 300,
    kubelet: { statusUpdateFrequencyMs: 2000, leaseRenewIntervalMs: 2000, events: false },
  })
  t.teardown(() => nodes.stop())

  const holderOf = async (c: ReturnType<typeof client>): Promise<string | undefined> => {
    const lease = await c.resource(LEASES, 'kube-system').get('kube-controller-manager')
    const h = (lease.spec as Json | undefined)?.holderIdentity
    return typeof h === 'string' && h !== '' ? h : undefined
  }
  const first = await until('a kube-controller-manager holder', 60_000, () => holderOf(client(target.masters[0]!)))
  const leader = masterOf(first, target)
  const survivor = target.masters.find((m) => m !== leader)!
  const api = client(survivor)

  await api.resource(DEPLOYMENTS, 'default').create(deployment('1.25'))
  await until('10 available replicas', 90_000, async () => {
    const d = await api.resource(DEPLOYMENTS, 'default').get('web')
    return (d.status as Json | undefined)?.availableReplicas === REPLICAS ? true : undefined
  })

  // Watch every pod event from here on, through a master that stays up.
  const census = new PodCensus()
  const list = await api.resource(PODS, 'default').list({ labelSelector: 'app=web' })
  for (const p of list.items) census.apply('ADDED', p)
  t.ok(census.armed, 'all replicas available before the rollout')
  const watch = await api.resource(PODS, 'default').watch({ labelSelector: 'app=web', resourceVersion: list.metadata.resourceVersion! })
  t.teardown(() => watch.stop())
  const watching = (async () => {
    for await (const ev of watch) if (ev.type !== 'BOOKMARK' && ev.type !== 'ERROR') census.apply(ev.type, ev.object)
  })()

  const rsLog: string[] = []
  const rsWatch = await api.resource(findResource('apps', 'v1', 'replicasets')!, 'default').watch({ resourceVersion: list.metadata.resourceVersion! })
  t.teardown(() => rsWatch.stop())
  void (async () => {
    for await (const ev of rsWatch) {
      if (ev.type === 'BOOKMARK' || ev.type === 'ERROR') continue
      const o = ev.object as KubeObject
      const a = o.metadata?.annotations ?? {}
      rsLog.push(
        `${new Date().toISOString()} ${ev.type} ${o.metadata?.name} rv=${o.metadata?.resourceVersion} spec=${(o.spec as Json).replicas} status=${(o.status as Json | undefined)?.replicas} desired=${a['deployment.kubernetes.io/desired-replicas']} max=${a['deployment.kubernetes.io/max-replicas']} rev=${a['deployment.kubernetes.io/revision']}`,
      )
    }
  })().catch(() => undefined)
  await api.resource(DEPLOYMENTS, 'default').patch('web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } })
  const updatedBefore = await until('the rollout under way (3+ new pods)', 60_000, async () => {
    const d = await api.resource(DEPLOYMENTS, 'default').get('web')
    const updated = Number((d.status as Json | undefined)?.updatedReplicas ?? 0)
    return updated >= 3 && updated < REPLICAS ? updated : undefined
  })
  leader.child!.kill('SIGKILL')
  const killedAt = new Date().toISOString()
  const next = await until('a new kube-controller-manager holder', 60_000, async () => {
    const h = await holderOf(api)
    return h !== undefined && h !== first ? h : undefined
  })
  t.not(masterOf(next, target), leader, `${next} took over after ${updatedBefore} pods were updated`)

  const done = await until('the rollout complete', 120_000, async () => {
    const d = await api.resource(DEPLOYMENTS, 'default').get('web')
    const s = (d.status ?? {}) as Json
    const complete = s.observedGeneration === d.metadata?.generation && s.updatedReplicas === REPLICAS && s.availableReplicas === REPLICAS && s.replicas === REPLICAS
    return complete ? d : undefined
  })
  t.match(((done.status as Json).conditions as Json[]).find((c) => c.type === 'Progressing'), { status: 'True', reason: 'NewReplicaSetAvailable' })
  const pods = await api.resource(PODS, 'default').list({ labelSelector: 'app=web' })
  const live = pods.items.filter((p) => p.metadata?.deletionTimestamp === undefined)
  t.equal(live.length, REPLICAS)
  t.ok(live.every((p) => ((p.spec as Json).containers as Json[])[0]!.image === 'nginx:1.27'), 'every pod runs the new template')

  watch.stop()
  await watching.catch(() => undefined)
  t.ok(census.events > 20, `the watch saw the rollout (${census.events} events)`)
  t.ok(census.maxPods <= REPLICAS + MAX_SURGE, `never more than ${REPLICAS + MAX_SURGE} pods: at most ${census.maxPods}`)
  if (census.maxPods > REPLICAS + MAX_SURGE) {
    const evs = (await api.resource(findResource('', 'v1', 'events')!, 'default').list()).items as Json[]
    t.comment(evs.map((e) => `${String(e.lastTimestamp)} ${String((e.source as Json | undefined)?.host)} ${String(e.reason)} ${String(e.message)} x${String(e.count)}`).sort().join('\n'))
  }
  if (census.maxPods > REPLICAS + MAX_SURGE) t.comment(`the most pods at once:\n${census.atMax}\nReplicaSets:\n${rsLog.join('\n')}\nkill at ${killedAt}`)
  t.ok(census.minAvailable >= REPLICAS - MAX_UNAVAILABLE, `never fewer than ${REPLICAS - MAX_UNAVAILABLE} available: at least ${census.minAvailable}`)
})
