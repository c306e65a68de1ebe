// Scale sanity (no timing assertion: the machine is shared): 1,000 pods onto 5,000
// nodes in the shape of scheduler_perf's SchedulingBasic, then with topology
// spreading and anti-affinity. Every pod must land, spread as the plugins say.
import t from 'tap'
import { schedulePod } from '../../../src/scheduler/framework/algorithm.js'
import { ListSnapshot } from '../../../src/scheduler/framework/list-snapshot.js'
import { NodeInfo, PodInfo } from '../../../src/scheduler/framework/node-info.js'
import { defaultProfile } from '../../../src/scheduler/framework/profile.js'
import { makeNode, makePod, seededRandom } from './fixtures.js'

const NODES = 5000
const PODS = 1000

function cluster(): { infos: NodeInfo[]; snapshot: ListSnapshot } {
  const infos = Array.from({ length: NODES }, (_, i) => new NodeInfo(makeNode({ name: `node-${i}`, cpu: '4', memory: '32Gi', pods: 110, labels: { 'topology.kubernetes.io/zone': `zone-${i % 10}` } })))
  return { infos, snapshot: new ListSnapshot(infos) }
}

function scheduleAll(snapshot: ListSnapshot, pods: PodInfo[]): Map<string, number> {
  const profile = defaultProfile()
  const rng = seededRandom(1)
  const perNode = new Map<string, number>()
  for (const p of pods) {
    const r = schedulePod(profile, snapshot, p, { rng })
    if (!r.ok) throw new Error(`${p.key}: ${r.message}`)
    snapshot.addPod(r.nodeName, p)
    perNode.set(r.nodeName, (perNode.get(r.nodeName) ?? 0) + 1)
  }
  return perNode
}

t.test(`SchedulingBasic: ${PODS} pods on ${NODES} nodes`, async (t) => {
  const { snapshot } = cluster()
  const pods = Array.from({ length: PODS }, (_, i) => new PodInfo(makePod({ name: `p-${i}`, cpu: '100m', memory: '500Mi' })))
  const started = performance.now()
  const perNode = scheduleAll(snapshot, pods)
  t.comment(`${((PODS / (performance.now() - started)) * 1000).toFixed(0)} pods/s (information only)`)
  t.equal([...perNode.values()].reduce((a, b) => a + b, 0), PODS)
  t.ok(Math.max(...perNode.values()) <= 2, 'LeastAllocated spreads over the (rotating) sampled nodes')
})

t.test(`topology spread and anti-affinity: ${PODS} pods on ${NODES} nodes`, async (t) => {
  const { snapshot, infos } = cluster()
  const pods = Array.from({ length: PODS }, (_, i) =>
    i % 2 === 0
      ? new PodInfo(
          makePod({
            name: `spread-${i}`,
            labels: { app: 'spread' },
            cpu: '100m',
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }],
          }),
        )
      : new PodInfo(
          makePod({
            name: `anti-${i}`,
            labels: { app: 'anti' },
            cpu: '100m',
            affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'anti' } }, topologyKey: 'kubernetes.io/hostname' }] } },
          }),
        ),
  )
  const started = performance.now()
  scheduleAll(snapshot, pods)
  t.comment(`${((PODS / (performance.now() - started)) * 1000).toFixed(0)} pods/s (information only)`)
  const perZone = new Map<string, number>()
  for (const n of infos) {
    const anti = [...n.pods.values()].filter((p) => p.labels.app === 'anti').length
    if (anti > 1) t.fail(`${n.name} has ${anti} anti-affinity pods`)
    const spread = [...n.pods.values()].filter((p) => p.labels.app === 'spread').length
    const z = n.labels['topology.kubernetes.io/zone']
    perZone.set(z, (perZone.get(z) ?? 0) + spread)
  }
  t.same([...perZone.values()], Array(10).fill(PODS / 2 / 10), 'spread evenly over zones')
})
