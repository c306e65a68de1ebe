// When the node lifecycle controller judges a kubelet silent, and what it writes then
// (pure; time is passed in).
import t from 'tap'
import type { KubeObject } from '../../../src/client/index.js'
import { observeNodeHealth, type NodeHealth } from '../../../src/controllers/node-lifecycle/health.js'

const T0 = Date.parse('2025-03-01T10:00:00Z')
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
const periods = { gracePeriodMs: 50_000, startupGracePeriodMs: 60_000 }

function node(heartbeat: number | undefined, ready = 'True', created = T0 - 3_600_000): KubeObject {
  const conditions =
    heartbeat === undefined
      ? []
      : [
          { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: iso(heartbeat), lastTransitionTime: iso(created) },
          { type: 'Ready', status: ready, reason: 'KubeletReady', lastHeartbeatTime: iso(heartbeat), lastTransitionTime: iso(created) },
        ]
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', creationTimestamp: iso(created) }, status: { conditions } }
}

function lease(renew: number): KubeObject {
  return { metadata: { name: 'n', namespace: 'kube-node-lease' }, spec: { renewTime: new Date(renew).toISOString().replace('Z', '000Z') } }
}

t.test('a node seen for the first time is given the whole grace period from now', async (t) => {
  const obs = observeNodeHealth(node(T0 - 3_600_000), undefined, undefined, T0, periods)
  t.equal(obs.write, undefined, 'an old heartbeat alone does not condemn it: clocks may differ')
  t.equal(obs.health.probeTimestamp, T0)
})

t.test('heartbeats are seen by change, not by the time they carry', async (t) => {
  // The kubelet's clock is far behind: its renewTimes are in the past, but they move.
  const skewed = T0 - 999_000
  let h: NodeHealth = observeNodeHealth(node(T0), undefined, lease(skewed), T0, periods).health
  h = observeNodeHealth(node(T0), h, lease(skewed + 40_000), T0 + 40_000, periods).health
  t.equal(h.probeTimestamp, T0 + 40_000, 'a renewTime that moved counts')
  const quiet = observeNodeHealth(node(T0), h, lease(skewed + 40_000), T0 + 80_000, periods)
  t.equal(quiet.write, undefined, '40 s of silence is within the grace period')
  // A new status heartbeat without Lease renewal also counts.
  const status = observeNodeHealth(node(T0 + 85_000), quiet.health, lease(skewed + 40_000), T0 + 120_000, periods)
  t.equal(status.health.probeTimestamp, T0 + 120_000)
  t.equal(status.write, undefined)
})

t.test('silence beyond the grace period turns the kubelet’s conditions Unknown', async (t) => {
  const first = observeNodeHealth(node(T0), undefined, lease(T0), T0, periods)
  const obs = observeNodeHealth(node(T0), first.health, lease(T0), T0 + 50_001, periods)
  t.ok(obs.write, 'a write is due')
  t.equal(obs.observedReady.status, 'True', 'observed: as it was')
  t.match(obs.currentReady, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: iso(T0), lastTransitionTime: iso(T0 + 50_001) })
  const byType = Object.fromEntries(obs.write!.conditions.map((c) => [c.type, c]))
  t.match(byType.MemoryPressure, { status: 'Unknown', reason: 'NodeStatusUnknown', lastHeartbeatTime: iso(T0) })
  t.match(byType.DiskPressure, { status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' }, 'conditions never posted are added')
  t.match(byType.PIDPressure, { status: 'Unknown', reason: 'NodeStatusNeverUpdated' })
  t.equal(obs.write!.health.readyTransitionTimestamp, T0 + 50_001)

  // Once written and seen back, nothing more is written.
  const written: KubeObject = { ...node(T0), status: { conditions: obs.write!.conditions } }
  const again = observeNodeHealth(written, obs.write!.health, lease(T0), T0 + 60_000, periods)
  t.equal(again.write, undefined, 'already Unknown: nothing to write')
  t.equal(again.observedReady.status, 'Unknown')
})

t.test('a node whose kubelet never posted status gets the startup grace period from its creation', async (t) => {
  const created = T0
  const early = observeNodeHealth(node(undefined, 'True', created), undefined, undefined, T0 + 59_000, periods)
  t.equal(early.write, undefined)
  t.equal(early.currentReady, undefined)
  const late = observeNodeHealth(node(undefined, 'True', created), early.health, undefined, T0 + 60_001, periods)
  t.match(late.currentReady, { status: 'Unknown', reason: 'NodeStatusNeverUpdated', lastHeartbeatTime: iso(created) })
  t.same(
    late.write!.conditions.map((c) => c.type),
    ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'],
  )
})

t.test('a kubelet that reports NotReady is not silent', async (t) => {
  const first = observeNodeHealth(node(T0, 'False'), undefined, lease(T0), T0, periods)
  const obs = observeNodeHealth(node(T0, 'False'), first.health, lease(T0 + 10_000), T0 + 10_000, periods)
  t.equal(obs.write, undefined)
  t.equal(obs.currentReady?.status, 'False')
})
