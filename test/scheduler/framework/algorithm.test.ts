// schedulePod: upstream's FitError message, diagnosis and failed plugins, how many
// nodes are examined (percentageOfNodesToScore) and from where, score weighting and
// tie-breaking with an injected rng.
import t from 'tap'
import { numFeasibleNodesToFind, schedulePod, selectHost, type ScheduleFailure, type ScheduleSuccess } from '../../../src/scheduler/framework/algorithm.js'
import { SchedulingError } from '../../../src/scheduler/framework/fit-error.js'
import { buildProfile, defaultProfile } from '../../../src/scheduler/framework/profile.js'
import type { Profile } from '../../../src/scheduler/framework/types.js'
import { nodeInfo, podInfo, seededRandom, snapshotOf } from './fixtures.js'

const fail = (r: ReturnType<typeof schedulePod>): ScheduleFailure => {
  if (r.ok) throw new Error(`expected a failure, got ${r.nodeName}`)
  return r
}
const ok = (r: ReturnType<typeof schedulePod>): ScheduleSuccess => {
  if (!r.ok) throw new Error(`expected success, got ${r.message}`)
  return r
}

t.test('FitError: reasons counted per node, sorted as "N reason" strings, then preemption', async (t) => {
  const nodes = [
    nodeInfo({ name: 'n1', cpu: '1' }),
    nodeInfo({ name: 'n2', cpu: '1' }),
    nodeInfo({ name: 'n3', cpu: '1' }),
    nodeInfo({ name: 'g1', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
    nodeInfo({ name: 'g2', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
  ]
  const r = fail(schedulePod(defaultProfile(), snapshotOf(nodes), podInfo({ name: 'p', cpu: '2' })))
  t.equal(
    r.message,
    '0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.',
  )
  t.equal(r.error.message, r.message)
  t.same(r.failedPlugins, ['NodeResourcesFit', 'TaintToleration'])
  t.same([...r.diagnosis.nodeToStatus.keys()].sort(), ['g1', 'g2', 'n1', 'n2', 'n3'])
  t.equal(r.diagnosis.nodeToStatus.get('g1')?.plugin, 'TaintToleration')
})

t.test('FitError: a node giving two reasons counts for both; "10 …" sorts before "2 …"', async (t) => {
  const nodes = [
    ...Array.from({ length: 10 }, (_, i) => nodeInfo({ name: `c${i}`, cpu: '1', memory: '1Gi' })),
    nodeInfo({ name: 'x1', unschedulable: true }),
    nodeInfo({ name: 'x2', unschedulable: true }),
  ]
  const r = fail(schedulePod(defaultProfile(), snapshotOf(nodes), podInfo({ name: 'p', cpu: '2', memory: '2Gi' })))
  t.equal(
    r.message,
    '0/12 nodes are available: 10 Insufficient cpu, 10 Insufficient memory, 2 node(s) were unschedulable. preemption: 0/12 nodes are available: 12 Preemption is not helpful for scheduling.',
  )
})

t.test('FitError: a PreFilter rejection is the whole reason', async (t) => {
  const nodes = [nodeInfo({ name: 'a' }), nodeInfo({ name: 'b' }), nodeInfo({ name: 'c' })]
  const pod = podInfo({
    name: 'p',
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }, { key: 'metadata.name', operator: 'In', values: ['b'] }] }],
        },
      },
    },
  })
  const r = fail(schedulePod(defaultProfile(), snapshotOf(nodes), pod))
  t.equal(r.message, '0/3 nodes are available: pod affinity terms conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.')
  t.same(r.failedPlugins, ['NodeAffinity'])
})

t.test('a PreFilterResult narrows the nodes; the others count as not satisfying the plugin', async (t) => {
  const nodes = [nodeInfo({ name: 'a', cpu: '1' }), nodeInfo({ name: 'b' }), nodeInfo({ name: 'c' })]
  const pinned = (cpu: string) =>
    podInfo({
      name: 'p',
      cpu,
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }] } } },
    })
  const r = fail(schedulePod(defaultProfile(), snapshotOf(nodes), pinned('2')))
  t.equal(r.message, "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
  t.same(r.failedPlugins, ['NodeAffinity', 'NodeResourcesFit'])
  const s = ok(schedulePod(defaultProfile(), snapshotOf(nodes), pinned('500m')))
  t.equal(s.nodeName, 'a')
  t.equal(s.evaluatedNodes, 1)
})

t.test('preemptionPolicy Never, and no nodes at all', async (t) => {
  const r = fail(schedulePod(defaultProfile(), snapshotOf([nodeInfo({ name: 'a', cpu: '1' })]), podInfo({ name: 'p', cpu: '2', preemptionPolicy: 'Never' })))
  t.equal(r.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.')
  const none = fail(schedulePod(defaultProfile(), snapshotOf([]), podInfo({ name: 'p' })))
  t.equal(none.message, 'no nodes available to schedule pods')
  t.same(none.failedPlugins, [])
})

t.test('numFeasibleNodesToFind as upstream', async (t) => {
  const cases: [number, number, number][] = [
    [0, 0, 0],
    [0, 50, 50],
    [0, 99, 99],
    [0, 100, 100],
    [0, 250, 120],
    [0, 1000, 420],
    [0, 5000, 500],
    [0, 6000, 300],
    [0, 20000, 1000],
    [30, 1000, 300],
    [5, 1000, 100],
    [100, 1000, 1000],
  ]
  for (const [pct, n, want] of cases) t.equal(numFeasibleNodesToFind(pct, n), want, `${pct}% of ${n}`)
})

t.test('filtering stops at the feasible count and the next attempt starts where this one stopped', async (t) => {
  const nodes = Array.from({ length: 1000 }, (_, i) => nodeInfo({ name: `n${i}` }))
  const profile = defaultProfile()
  const cursor = { nextStartNodeIndex: 0 }
  const first = ok(schedulePod(profile, snapshotOf(nodes), podInfo({ name: 'p' }), { cursor, rng: seededRandom(1) }))
  t.equal(first.feasibleNodes, 420)
  t.equal(first.evaluatedNodes, 420)
  t.equal(cursor.nextStartNodeIndex, 420)
  ok(schedulePod(profile, snapshotOf(nodes), podInfo({ name: 'q' }), { cursor, rng: seededRandom(1) }))
  ok(schedulePod(profile, snapshotOf(nodes), podInfo({ name: 'r' }), { cursor, rng: seededRandom(1) }))
  t.equal(cursor.nextStartNodeIndex, 260, '(420 * 3) % 1000')
  // Rejected nodes count as examined too: 100 full nodes at the start.
  const mixed = [...Array.from({ length: 100 }, (_, i) => nodeInfo({ name: `full${i}`, pods: 0 })), ...nodes]
  const c2 = { nextStartNodeIndex: 0 }
  const r = ok(schedulePod(buildProfile({ percentageOfNodesToScore: 10 }), snapshotOf(mixed), podInfo({ name: 'p' }), { cursor: c2 }))
  t.equal(r.feasibleNodes, 110)
  t.equal(r.evaluatedNodes, 210)
  t.equal(c2.nextStartNodeIndex, 210)
})

t.test('without score plugins the first feasible node wins', async (t) => {
  const nodes = Array.from({ length: 10 }, (_, i) => nodeInfo({ name: `n${i}` }))
  const profile = buildProfile({ plugins: { score: { disabled: [{ name: '*' }] } } })
  t.equal(profile.scores.length, 0)
  const cursor = { nextStartNodeIndex: 3 }
  const r = ok(schedulePod(profile, snapshotOf(nodes), podInfo({ name: 'p' }), { cursor }))
  t.equal(r.nodeName, 'n3')
  t.equal(r.evaluatedNodes, 1)
})

t.test('scores: LeastAllocated spreads, MostAllocated packs, weights add up', async (t) => {
  const nodes = () => [nodeInfo({ name: 'busy', cpu: '4', memory: '8Gi' }, { name: 'x', cpu: '2', memory: '4Gi' }), nodeInfo({ name: 'idle', cpu: '4', memory: '8Gi' })]
  const pod = podInfo({ name: 'p', cpu: '1', memory: '1Gi' })
  t.equal(ok(schedulePod(defaultProfile(), snapshotOf(nodes()), pod)).nodeName, 'idle')
  const packing = buildProfile({ pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } }] })
  t.equal(ok(schedulePod(packing, snapshotOf(nodes()), pod)).nodeName, 'busy')
  // Preferred node affinity (weight 2 x 100) outweighs resources (1 x up to 100 + balance).
  const pref = podInfo({
    name: 'p',
    cpu: '1',
    memory: '1Gi',
    affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['busy'] }] } }] } },
  })
  t.equal(ok(schedulePod(defaultProfile(), snapshotOf(nodes()), pref)).nodeName, 'busy')
})

t.test('ties are broken by the rng: deterministic per seed, every tied node reachable', async (t) => {
  const nodes = Array.from({ length: 5 }, (_, i) => nodeInfo({ name: `n${i}` }))
  const run = (seed: number) => {
    const rng = seededRandom(seed)
    const profile = defaultProfile()
    return Array.from({ length: 50 }, (_, i) => ok(schedulePod(profile, snapshotOf(nodes), podInfo({ name: `p${i}` }), { rng, cursor: { nextStartNodeIndex: 0 } })).nodeName)
  }
  t.same(run(42), run(42))
  t.not(run(42).join(), run(43).join())
  t.same([...new Set(run(7))].sort(), ['n0', 'n1', 'n2', 'n3', 'n4'])
})

t.test('selectHost: reservoir sampling over the maximum', async (t) => {
  t.equal(selectHost([1, 5, 3, 5, 5], () => 0.99), 1, 'never replaced: the first maximum')
  t.equal(selectHost([1, 5, 3, 5, 5], () => 0), 4, 'always replaced: the last maximum')
  t.equal(selectHost([9, 5, 3], () => 0), 0)
  const counts = [0, 0, 0]
  const rng = seededRandom(3)
  for (let i = 0; i < 3000; i++) counts[selectHost([7, 7, 7], rng)]++
  for (const c of counts) t.ok(c > 850 && c < 1150, `roughly uniform: ${counts.join(',')}`)
})

t.test('a plugin answering Error fails the attempt', async (t) => {
  const broken: Profile = {
    schedulerName: 'x',
    percentageOfNodesToScore: 0,
    filters: [{ name: 'Broken', filter: () => ({ code: 'Error', reasons: ['boom'] }) }],
    scores: [],
  }
  t.throws(() => schedulePod(broken, snapshotOf([nodeInfo({ name: 'a' })]), podInfo({ name: 'p' })), new SchedulingError('running "Broken" filter plugin: boom', 'Broken'))
  const badScore: Profile = {
    schedulerName: 'x',
    percentageOfNodesToScore: 0,
    filters: [],
    scores: [{ plugin: { name: 'Big', score: () => 101 }, weight: 1 }],
  }
  t.throws(() => schedulePod(badScore, snapshotOf([nodeInfo({ name: 'a' }), nodeInfo({ name: 'b' })]), podInfo({ name: 'p' })), /plugin "Big" returns an invalid score 101/)
})

t.test('an Unschedulable PreFilter status is kept while later PreFilters run; unresolvable stops', async (t) => {
  const calls: string[] = []
  const profile: Profile = {
    schedulerName: 'x',
    percentageOfNodesToScore: 0,
    filters: [
      { name: 'A', preFilter: () => (calls.push('A'), { code: 'Unschedulable', reasons: ['a says no'] }), filter: () => undefined },
      { name: 'B', preFilter: () => (calls.push('B'), undefined), filter: () => undefined },
    ],
    scores: [],
  }
  const r = fail(schedulePod(profile, snapshotOf([nodeInfo({ name: 'n' })]), podInfo({ name: 'p' })))
  t.same(calls, ['A', 'B'])
  t.equal(r.message, '0/1 nodes are available: a says no. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.')
  t.same(r.failedPlugins, ['A'])
})
