// PodTopologySpread: skew, missing labels, minDomains, node inclusion policies,
// matchLabelKeys, self-match, what counts as a matching pod, and the ScheduleAnyway score.
import t from 'tap'
import { PodTopologySpread } from '../../../src/scheduler/plugins/pod-topology-spread.js'
import type { NodeInfo } from '../../../src/scheduler/framework/node-info.js'
import { filterReasons, nodeInfo, podInfo, type PodSpecOpts, runFilter, runScore } from '../framework/fixtures.js'

const SKEW = "node(s) didn't match pod topology spread constraints"
const MISSING = "node(s) didn't match pod topology spread constraints (missing required label)"

const constraint = (o: Record<string, unknown> = {}) => ({
  maxSkew: 1,
  topologyKey: 'zone',
  whenUnsatisfiable: 'DoNotSchedule',
  labelSelector: { matchLabels: { app: 'web' } },
  ...o,
})
const web = (name: string, extra: Partial<PodSpecOpts> = {}): PodSpecOpts => ({ name, labels: { app: 'web' }, ...extra })
const incoming = (c: Record<string, unknown>[] = [constraint()], extra: Partial<PodSpecOpts> = {}) =>
  podInfo({ name: 'new', labels: { app: 'web' }, topologySpreadConstraints: c, ...extra })

/** Which of `nodes` pass, by name. */
function passing(pod: ReturnType<typeof incoming>, nodes: NodeInfo[]): string[] {
  return nodes.filter((n) => runFilter(new PodTopologySpread(), pod, n, nodes) === undefined).map((n) => n.name)
}

t.test('skew: the pod goes where matching pods are fewest (within maxSkew)', async (t) => {
  const nodes = [
    nodeInfo({ name: 'a', labels: { zone: 'z1' } }, web('w1'), web('w2')),
    nodeInfo({ name: 'b', labels: { zone: 'z1' } }),
    nodeInfo({ name: 'c', labels: { zone: 'z2' } }, web('w3')),
  ]
  // z1 has 2, z2 has 1: z1 -> 2+1-1 = 2 > 1; z2 -> 1+1-1 = 1.
  t.same(passing(incoming(), nodes), ['c'])
  t.same(filterReasons(new PodTopologySpread(), incoming(), nodes[0], nodes), [SKEW])
  t.equal(runFilter(new PodTopologySpread(), incoming(), nodes[0], nodes)?.code, 'Unschedulable')
  t.same(passing(incoming([constraint({ maxSkew: 2 })]), nodes), ['a', 'b', 'c'])
})

t.test('a node without the topology key is rejected as unresolvable', async (t) => {
  const nodes = [nodeInfo({ name: 'a', labels: { zone: 'z1' } }), nodeInfo({ name: 'x' })]
  const st = runFilter(new PodTopologySpread(), incoming(), nodes[1], nodes)
  t.same(st?.reasons, [MISSING])
  t.equal(st?.code, 'UnschedulableAndUnresolvable')
})

t.test('minDomains: fewer eligible domains make the global minimum 0', async (t) => {
  const nodes = [nodeInfo({ name: 'a', labels: { zone: 'z1' } }, web('w1')), nodeInfo({ name: 'b', labels: { zone: 'z2' } }, web('w2'))]
  t.same(passing(incoming(), nodes), ['a', 'b'])
  t.same(passing(incoming([constraint({ minDomains: 3 })]), nodes), [])
  t.same(passing(incoming([constraint({ minDomains: 2 })]), nodes), ['a', 'b'])
})

t.test('nodeAffinityPolicy: Honor (default) leaves out domains the pod cannot use', async (t) => {
  const nodes = [
    nodeInfo({ name: 'a', labels: { zone: 'z1', pool: 'x' } }, web('w1')),
    nodeInfo({ name: 'b', labels: { zone: 'z2', pool: 'y' } }),
  ]
  const pod = (policy?: string) => incoming([constraint(policy ? { nodeAffinityPolicy: policy } : {})], { nodeSelector: { pool: 'x' } })
  // Honor: only z1 is a domain, min 1, 1+1-1 = 1: a passes.
  t.same(passing(pod(), nodes), ['a', 'b'])
  // Ignore: z2 counts with 0: a 1+1-0 = 2 > 1.
  t.same(passing(pod('Ignore'), nodes), ['b'])
})

t.test('nodeTaintsPolicy: Honor leaves out domains of nodes with untolerated taints', async (t) => {
  const nodes = [
    nodeInfo({ name: 'a', labels: { zone: 'z1' } }, web('w1')),
    nodeInfo({ name: 'b', labels: { zone: 'z2' }, taints: [{ key: 'k', effect: 'NoSchedule' }] }),
  ]
  t.same(passing(incoming(), nodes), ['b'], 'Ignore (default): z2 counts with 0')
  t.same(passing(incoming([constraint({ nodeTaintsPolicy: 'Honor' })]), nodes), ['a', 'b'])
})

t.test('matchLabelKeys narrow the selector to the pod’s own values', async (t) => {
  const nodes = [
    nodeInfo({ name: 'a', labels: { zone: 'z1' } }, web('w1', { labels: { app: 'web', rev: '1' } }), web('w2', { labels: { app: 'web', rev: '1' } })),
    nodeInfo({ name: 'b', labels: { zone: 'z2' } }),
  ]
  const pod = (keys?: string[]) => incoming([constraint(keys ? { matchLabelKeys: keys } : {})], { labels: { app: 'web', rev: '2' } })
  t.same(passing(pod(), nodes), ['b'])
  t.same(passing(pod(['rev']), nodes), ['a', 'b'], 'rev=1 pods do not count for a rev=2 pod')
})

t.test('what counts: same namespace, not terminating; self-match adds one', async (t) => {
  const nodes = [
    nodeInfo({ name: 'a', labels: { zone: 'z1' } }, web('w1', { namespace: 'other' }), web('w2', { deleting: true }), { name: 'x', labels: { app: 'db' } }),
    nodeInfo({ name: 'b', labels: { zone: 'z2' } }),
  ]
  t.same(passing(incoming([constraint({ maxSkew: 1 })]), nodes), ['a', 'b'])
  const two = [nodeInfo({ name: 'a', labels: { zone: 'z1' } }, web('w1'), web('w2')), nodeInfo({ name: 'b', labels: { zone: 'z2' } }, web('w3'))]
  // A pod that does not match its own selector does not add to the domain: 2-1 = 1.
  t.same(passing(incoming([constraint()], { labels: { app: 'other' } }), two), ['a', 'b'])
  t.same(passing(incoming(), two), ['b'])
})

t.test('hostname topology and several constraints', async (t) => {
  const nodes = [
    nodeInfo({ name: 'a', labels: { zone: 'z1' } }, web('w1')),
    nodeInfo({ name: 'b', labels: { zone: 'z1' } }),
    nodeInfo({ name: 'c', labels: { zone: 'z2' } }),
  ]
  const host = constraint({ topologyKey: 'kubernetes.io/hostname' })
  t.same(passing(incoming([host]), nodes), ['b', 'c'])
  t.same(passing(incoming([host, constraint()]), nodes), ['c'])
})

t.test('PreFilter: no DoNotSchedule constraint skips; a bad selector is an error', async (t) => {
  const pl = new PodTopologySpread()
  t.same(pl.preFilter(new Map(), incoming([constraint({ whenUnsatisfiable: 'ScheduleAnyway' })]), { nodes: [], get: () => undefined, havePodsWithAffinity: [], havePodsWithRequiredAntiAffinity: [] }), { skip: true })
  const bad = incoming([constraint({ labelSelector: { matchExpressions: [{ key: 'app', operator: 'Bogus' }] } })])
  const st = pl.preFilter(new Map(), bad, { nodes: [], get: () => undefined, havePodsWithAffinity: [], havePodsWithRequiredAntiAffinity: [] })
  t.equal(st !== undefined && 'code' in st ? st.code : undefined, 'Error')
})

t.test('score: ScheduleAnyway prefers domains with fewer matching pods', async (t) => {
  const soft = (o: Record<string, unknown> = {}) => constraint({ whenUnsatisfiable: 'ScheduleAnyway', ...o })
  const zones = [
    nodeInfo({ name: 'a', labels: { zone: 'z1' } }, web('w1'), web('w2')),
    nodeInfo({ name: 'b', labels: { zone: 'z1' } }),
    nodeInfo({ name: 'c', labels: { zone: 'z2' } }),
  ]
  // weight ln(2+2); z1: round(2*1.386) = 3, z2: 0 -> normalized 0, 0, 100
  t.same(runScore(new PodTopologySpread(), incoming([soft()]), zones), [0, 0, 100])
  // maxSkew 2 adds 1: 4, 4, 1 -> 100*(4+1-s)/4 = 25, 25, 100
  t.same(runScore(new PodTopologySpread(), incoming([soft({ maxSkew: 2 })]), zones), [25, 25, 100])
  const hosts = [
    nodeInfo({ name: 'a', labels: { zone: 'z1' } }, web('w1')),
    nodeInfo({ name: 'b', labels: { zone: 'z1' } }),
    nodeInfo({ name: 'c', labels: { zone: 'z2' } }, web('w2'), web('w3')),
  ]
  // weight ln(3+2) = 1.609: 2, 0, 3 -> 33, 100, 0
  t.same(runScore(new PodTopologySpread(), incoming([soft({ topologyKey: 'kubernetes.io/hostname' })]), hosts), [33, 100, 0])
  const missing = [...zones, nodeInfo({ name: 'x' })]
  t.same(runScore(new PodTopologySpread(), incoming([soft()]), missing), [0, 0, 100, 0], 'a node without the key scores 0')
  t.equal(runScore(new PodTopologySpread(), incoming([constraint()]), zones), undefined, 'no ScheduleAnyway constraint: skipped')
})
