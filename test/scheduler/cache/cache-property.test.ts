// Property test: random sequences of informer events and scheduler calls (nodes
// added, updated, removed; pods added, updated, removed, assumed, confirmed, forgotten)
// against a naive model. After every updateSnapshot the incremental snapshot must
// equal one computed from scratch (nodes in zone round-robin order, each NodeInfo's
// sums, ports and affinity lists), and every NodeInfo handed out earlier must still be
// exactly as it was. Seeded; the seed is printed on failure (SEED=… to replay).
import t from 'tap'
import type { KubeObject } from '../../../src/client/types.js'
import { SchedulerCache, Snapshot } from '../../../src/scheduler/cache/index.js'
import { NodeInfo, PodInfo, type Resource } from '../../../src/scheduler/framework/node-info.js'
import { node, pod } from './helpers.js'

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

interface ModelPod {
  pod: KubeObject
  info: PodInfo
  nodeName: string
  assumed: boolean
}

/** The node order, computed naively: zones by creation time, nodes by the time they joined their zone. */
class OrderModel {
  private clock = 0
  private readonly joined = new Map<string, { zone: string; at: number }>()
  private readonly zoneCreated = new Map<string, number>()

  join(name: string, zone: string): void {
    const was = this.joined.get(name)
    if (was?.zone === zone) return
    if (was !== undefined) this.leave(name)
    if (![...this.joined.values()].some((j) => j.zone === zone)) this.zoneCreated.set(zone, ++this.clock)
    this.joined.set(name, { zone, at: ++this.clock })
  }

  leave(name: string): void {
    const was = this.joined.get(name)
    if (was === undefined) return
    this.joined.delete(name)
    if (![...this.joined.values()].some((j) => j.zone === was.zone)) this.zoneCreated.delete(was.zone)
  }

  list(): string[] {
    const zones = [...this.zoneCreated.entries()].sort((a, b) => a[1] - b[1]).map(([z]) => z)
    const members = zones.map((z) =>
      [...this.joined.entries()]
        .filter(([, j]) => j.zone === z)
        .sort((a, b) => a[1].at - b[1].at)
        .map(([n]) => n),
    )
    const out: string[] = []
    const longest = Math.max(0, ...members.map((m) => m.length))
    for (let i = 0; i < longest; i++) for (const m of members) if (i < m.length) out.push(m[i]!)
    return out
  }
}

function resource(r: Resource): unknown {
  return { ...r, scalar: [...r.scalar].sort() }
}

/** Everything a plugin can read of a NodeInfo, as plain data. */
function fingerprint(n: NodeInfo): unknown {
  return {
    name: n.name,
    node: n.node,
    allocatable: resource(n.allocatable),
    requested: resource(n.requested),
    nonZeroRequested: resource(n.nonZeroRequested),
    pods: [...n.pods.entries()].map(([k, p]) => [k, p.pod]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    usedPorts: [...n.usedPorts.entries()].map(([k, ips]) => [k, [...ips].sort()]).sort(),
    affinity: [...n.podsWithAffinity.keys()].sort(),
    anti: [...n.podsWithRequiredAntiAffinity.keys()].sort(),
  }
}

function freeze(n: NodeInfo): string {
  return JSON.stringify({ ...(fingerprint(n) as object), generation: n.generation })
}

function runOne(seed: number, steps: number): string | undefined {
  const rnd = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const cache = new SchedulerCache()
  const snap = new Snapshot()
  const nodes = new Map<string, KubeObject>()
  const pods = new Map<string, ModelPod>()
  const order = new OrderModel()
  const held: Array<{ info: NodeInfo; frozen: string }> = []
  const nodeNames = Array.from({ length: 12 }, (_, i) => `n${i}`)
  const podNames = Array.from({ length: 60 }, (_, i) => `p${i}`)
  const zones = ['a', 'b', 'c', undefined]
  let version = 0

  const makeNode = (name: string) => node(name, { zone: pick(zones), cpu: pick(['2', '4', '8']), labels: { v: String(++version) } })
  const makePod = (name: string, nodeName: string | undefined) =>
    pod(name, {
      ...(nodeName === undefined ? {} : { nodeName }),
      cpu: pick(['100m', '250m', '1']),
      memory: pick(['64Mi', '1Gi']),
      // One port per pod name: NodeInfo assumes no two pods of a node share one.
      ...(rnd() < 0.3 ? { hostPort: 10_000 + podNames.indexOf(name) } : {}),
      ...(rnd() < 0.2 ? { affinity: pick(['preferred', 'required-anti'] as const) } : {}),
      labels: { v: String(++version) },
    })
  const zoneOf = (n: KubeObject) => String((n.metadata?.labels ?? {})['topology.kubernetes.io/zone'] ?? '')

  for (let step = 0; step < steps; step++) {
    const r = rnd()
    const nodeName = pick(nodeNames)
    const podName = pick(podNames)
    const key = `default/${podName}`
    const mp = pods.get(key)
    let op: string
    if (r < 0.1) {
      op = `addNode ${nodeName}`
      const n = makeNode(nodeName)
      cache.addNode(n)
      nodes.set(nodeName, n)
      order.join(nodeName, zoneOf(n))
    } else if (r < 0.17) {
      op = `updateNode ${nodeName}`
      const n = makeNode(nodeName)
      cache.updateNode(nodes.get(nodeName) ?? n, n)
      nodes.set(nodeName, n)
      order.join(nodeName, zoneOf(n))
    } else if (r < 0.22) {
      op = `removeNode ${nodeName}`
      cache.removeNode(nodes.get(nodeName) ?? nodeName)
      nodes.delete(nodeName)
      order.leave(nodeName)
    } else if (r < 0.4) {
      // The informer reports a bound pod: new, a confirmation (maybe elsewhere), or a repeat.
      const target = mp?.assumed === true && rnd() < 0.8 ? mp.nodeName : nodeName
      op = `addPod ${key} on ${target}`
      const p = makePod(podName, target)
      cache.addPod(p)
      pods.set(key, { pod: p, info: new PodInfo(p), nodeName: target, assumed: false })
    } else if (r < 0.5) {
      if (mp === undefined || mp.assumed) continue
      op = `updatePod ${key}`
      const p = makePod(podName, mp.nodeName)
      cache.updatePod(mp.pod, p)
      pods.set(key, { pod: p, info: new PodInfo(p), nodeName: mp.nodeName, assumed: false })
    } else if (r < 0.58) {
      op = `removePod ${key}`
      const had = cache.removePod(mp?.pod ?? key)
      if (had !== (mp !== undefined)) return `step ${step} ${op}: removePod returned ${had}`
      pods.delete(key)
    } else if (r < 0.75) {
      op = `assumePod ${key} on ${nodeName}`
      const p = makePod(podName, undefined)
      const info = new PodInfo(p)
      const ok = cache.assumePod(info, nodeName)
      if (ok !== (mp === undefined)) return `step ${step} ${op}: assumePod returned ${ok}`
      if (ok) pods.set(key, { pod: p, info, nodeName, assumed: true })
    } else if (r < 0.8) {
      op = `finishBinding ${key}`
      cache.finishBinding(key)
    } else if (r < 0.86) {
      op = `forgetPod ${key}`
      const ok = cache.forgetPod(key)
      if (ok !== (mp?.assumed === true)) return `step ${step} ${op}: forgetPod returned ${ok}`
      if (ok) pods.delete(key)
    } else {
      op = 'updateSnapshot'
      cache.updateSnapshot(snap)
      // The naive snapshot.
      const want = order.list()
      const got = snap.nodes.map((n) => n.name)
      if (JSON.stringify(got) !== JSON.stringify(want)) return `step ${step}: node order ${JSON.stringify(got)}, want ${JSON.stringify(want)}`
      const fresh = new Map<string, NodeInfo>()
      for (const name of want) fresh.set(name, new NodeInfo(nodes.get(name)!))
      for (const m of pods.values()) fresh.get(m.nodeName)?.addPod(m.info)
      for (const name of want) {
        const a = JSON.stringify(fingerprint(snap.get(name)!))
        const b = JSON.stringify(fingerprint(fresh.get(name)!))
        if (a !== b) return `step ${step}: node ${name}\n got  ${a}\n want ${b}`
      }
      if (snap.size !== want.length) return `step ${step}: snapshot has ${snap.size} nodes, want ${want.length}`
      const aff = want.filter((n) => fresh.get(n)!.podsWithAffinity.size > 0)
      const anti = want.filter((n) => fresh.get(n)!.podsWithRequiredAntiAffinity.size > 0)
      if (JSON.stringify(snap.havePodsWithAffinity.map((n) => n.name)) !== JSON.stringify(aff)) return `step ${step}: havePodsWithAffinity`
      if (JSON.stringify(snap.havePodsWithRequiredAntiAffinity.map((n) => n.name)) !== JSON.stringify(anti)) return `step ${step}: havePodsWithRequiredAntiAffinity`
      for (const list of [snap.nodes, snap.havePodsWithAffinity, snap.havePodsWithRequiredAntiAffinity]) {
        if (!list.every((n) => snap.get(n.name) === n)) return `step ${step}: a list holds a stale copy`
      }
      // The cache's own view agrees with the model too.
      const dump = cache.dump()
      const assumed = [...pods.entries()].filter(([, m]) => m.assumed).map(([k]) => k).sort()
      if (JSON.stringify(dump.assumed) !== JSON.stringify(assumed)) return `step ${step}: assumed ${JSON.stringify(dump.assumed)}, want ${JSON.stringify(assumed)}`
      for (const [name, keys] of Object.entries(dump.ghosts)) {
        if (nodes.has(name)) return `step ${step}: ${name} is a ghost but exists`
        if (keys.length === 0) return `step ${step}: empty ghost ${name} kept`
      }
      // Hold a few copies to check later that nothing changes them.
      for (let i = 0; i < 2 && snap.nodes.length > 0; i++) {
        const info = pick(snap.nodes)
        held.push({ info, frozen: freeze(info) })
      }
      if (held.length > 30) held.splice(0, held.length - 30)
    }
    // Checked at every snapshot (after the cache changed and the snapshot moved on) and at the end.
    if (op === 'updateSnapshot' || step === steps - 1) {
      for (const h of held) if (freeze(h.info) !== h.frozen) return `step ${step} (${op}): a NodeInfo handed out earlier (${h.info.name}) changed`
    }
  }
  return undefined
}

t.test('incremental snapshots equal a naive recomputation (seeded random operations)', async (t) => {
  const base = Number(process.env.SEED ?? Date.now() % 1_000_000_000)
  const runs = Number(process.env.RUNS ?? 30)
  t.comment(`base seed ${base} (SEED=${base} to replay)`)
  for (let i = 0; i < runs; i++) {
    const seed = base + i
    const err = runOne(seed, 600)
    if (err !== undefined) {
      t.fail(`seed ${seed}: ${err}`)
      return
    }
  }
  t.pass(`${runs} runs from seed ${base}`)
})
