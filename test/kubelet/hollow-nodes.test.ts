// Many hollow kubelets in one process: they all register and run their pods with
// distinct IPs, one restarts and adopts its pods, and they keep heartbeating and
// running pods when a master they talk to dies.
import t from 'tap'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import type { KubeObject } from '../../src/client/index.js'
import { HollowCluster } from '../../src/kubelet/hollow-nodes.js'
import { startMaster } from '../apiserver/node-grpc/helpers/masters.js'
import { LEASES, NODES, PODS, condition, containerStatus, eventually, getPod, podObject, statusOf, write, type Env, type Json } from './helpers.js'

async function allPods(env: Pick<Env, 'master'>): Promise<KubeObject[]> {
  return (await env.master.api.store(PODS).list('default', { resourceVersion: '' })).items
}

t.test('twenty hollow nodes register, become Ready and run forty pods with distinct IPs; a restarted node adopts its pods', async (t) => {
  const master = await startMaster(t, new MemoryStorage())
  const cluster = await HollowCluster.start({ addresses: [master.address], count: 20, kubelet: { leaseRenewIntervalMs: 1000, events: false } })
  t.teardown(() => cluster.stop())
  t.equal(cluster.nodes.length, 20)
  const nodes = (await master.api.store(NODES).list('', { resourceVersion: '' })).items
  t.equal(nodes.length, 20)
  for (const n of nodes) t.match(((n.status as Json).conditions as Json[]).find((c) => c.type === 'Ready'), { status: 'True' })
  const ips = new Set(nodes.map((n) => ((n.status as Json).addresses as Json[])[0]!.address))
  t.equal(ips.size, 20, 'every node has its own InternalIP')

  const pods = master.api.store(PODS)
  for (let i = 0; i < 40; i++) await pods.create('default', podObject(`p${i}`, `hollow-node-${i % 20}`), write)
  const running = await eventually('forty Ready pods', async () => {
    const items = await allPods({ master })
    return items.length === 40 && items.every((p) => condition(p, 'Ready')?.status === 'True') ? items : undefined
  }, 60_000)
  t.equal(new Set(running.map((p) => statusOf(p).podIP)).size, 40, 'no two pods share an IP')
  const leases = (await master.api.store(LEASES).list('kube-node-lease', { resourceVersion: '' })).items
  t.equal(leases.length, 20, 'one Lease per node')

  const before = running.filter((p) => (p.spec as Json).nodeName === 'hollow-node-3')
  await cluster.restart('hollow-node-3')
  await new Promise((r) => setTimeout(r, 1000))
  for (const p of before) {
    const now = await getPod({ master } as Env, String(p.metadata?.name))
    t.equal(containerStatus(now, 'c')?.containerID, containerStatus(p, 'c')?.containerID, `${String(p.metadata?.name)} kept running through the restart`)
  }
})

t.test('hollow nodes spread over two masters keep heartbeating and running pods when one master dies', async (t) => {
  const storage = new MemoryStorage()
  const a = await startMaster(t, storage)
  const b = await startMaster(t, storage)
  const cluster = await HollowCluster.start({ addresses: [a.address, b.address], count: 6, kubelet: { leaseRenewIntervalMs: 500, events: false } })
  t.teardown(() => cluster.stop())
  const renewTimes = async (): Promise<Map<string, string>> =>
    new Map((await b.api.store(LEASES).list('kube-node-lease', { resourceVersion: '' })).items.map((l) => [String(l.metadata?.name), String((l.spec as Json).renewTime)]))
  await eventually('six leases', async () => ((await renewTimes()).size === 6 ? true : undefined))
  a.node.kill()
  const atKill = await renewTimes()
  await eventually('every lease renewed after the master died', async () => {
    const now = await renewTimes()
    return [...atKill].every(([name, at]) => now.get(name) !== undefined && now.get(name)! > at) ? true : undefined
  }, 60_000)
  for (let i = 0; i < 6; i++) await b.api.store(PODS).create('default', podObject(`after-${i}`, `hollow-node-${i}`), write)
  await eventually('the pods bound after the loss running', async () => {
    const items = (await b.api.store(PODS).list('default', { resourceVersion: '' })).items
    return items.length === 6 && items.every((p) => statusOf(p).phase === 'Running') ? true : undefined
  }, 60_000)
  t.pass('every node runs its pod through the surviving master')
})
