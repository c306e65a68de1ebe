// InterPodAffinity: required affinity (including the first pod of a self-affine
// group), required anti-affinity both ways, namespaces, and the preferred-term score.
import t from 'tap'
import { InterPodAffinity } from '../../../src/scheduler/plugins/inter-pod-affinity.js'
import type { NodeInfo } from '../../../src/scheduler/framework/node-info.js'
import { nodeInfo, podInfo, type PodSpecOpts, runFilter, runScore } from '../framework/fixtures.js'

const AFFINITY = "node(s) didn't match pod affinity rules"
const ANTI = "node(s) didn't match pod anti-affinity rules"
const EXISTING = "node(s) didn't satisfy existing pods anti-affinity rules"

const term = (app: string, topologyKey = 'zone', extra: Record<string, unknown> = {}) => ({ labelSelector: { matchLabels: { app } }, topologyKey, ...extra })
const requiredAffinity = (...terms: unknown[]) => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } })
const requiredAnti = (...terms: unknown[]) => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } })

function results(pod: PodSpecOpts, nodes: NodeInfo[], pl = new InterPodAffinity()): Record<string, string> {
  const p = podInfo(pod)
  const out: Record<string, string> = {}
  for (const n of nodes) {
    const st = runFilter(pl, p, n, nodes)
    out[n.name] = st === undefined ? 'ok' : `${st.code}: ${st.reasons.join(', ')}`
  }
  return out
}

const cluster = (...podsOnA: PodSpecOpts[]) => [
  nodeInfo({ name: 'a', labels: { zone: 'z1' } }, ...podsOnA),
  nodeInfo({ name: 'b', labels: { zone: 'z1' } }),
  nodeInfo({ name: 'c', labels: { zone: 'z2' } }),
]

t.test('required affinity: same zone as a matching pod', async (t) => {
  t.same(results({ name: 'p', affinity: requiredAffinity(term('db')) }, cluster({ name: 'db', labels: { app: 'db' } })), {
    a: 'ok',
    b: 'ok',
    c: `UnschedulableAndUnresolvable: ${AFFINITY}`,
  })
})

t.test('required affinity with no matching pod anywhere: only a pod matching its own terms may start the group', async (t) => {
  const nodes = [...cluster(), nodeInfo({ name: 'x' })]
  t.same(results({ name: 'p', affinity: requiredAffinity(term('db')) }, nodes), {
    a: `UnschedulableAndUnresolvable: ${AFFINITY}`,
    b: `UnschedulableAndUnresolvable: ${AFFINITY}`,
    c: `UnschedulableAndUnresolvable: ${AFFINITY}`,
    x: `UnschedulableAndUnresolvable: ${AFFINITY}`,
  })
  t.same(results({ name: 'p', labels: { app: 'db' }, affinity: requiredAffinity(term('db')) }, nodes), {
    a: 'ok',
    b: 'ok',
    c: 'ok',
    x: `UnschedulableAndUnresolvable: ${AFFINITY}`,
  })
})

t.test('required anti-affinity of the incoming pod', async (t) => {
  t.same(results({ name: 'p', labels: { app: 'web' }, affinity: requiredAnti(term('web', 'kubernetes.io/hostname')) }, cluster({ name: 'w', labels: { app: 'web' } })), {
    a: `Unschedulable: ${ANTI}`,
    b: 'ok',
    c: 'ok',
  })
  t.same(results({ name: 'p', affinity: requiredAnti(term('web')) }, cluster({ name: 'w', labels: { app: 'web' } })), { a: `Unschedulable: ${ANTI}`, b: `Unschedulable: ${ANTI}`, c: 'ok' })
})

t.test('required anti-affinity of existing pods against the incoming one', async (t) => {
  const nodes = cluster({ name: 'guard', labels: { app: 'guard' }, affinity: requiredAnti(term('web')) })
  t.same(results({ name: 'p', labels: { app: 'web' } }, nodes), { a: `Unschedulable: ${EXISTING}`, b: `Unschedulable: ${EXISTING}`, c: 'ok' })
  t.same(results({ name: 'p', labels: { app: 'other' } }, nodes), { a: 'ok', b: 'ok', c: 'ok' })
  t.same(results({ name: 'p', namespace: 'other', labels: { app: 'web' } }, nodes), { a: 'ok', b: 'ok', c: 'ok' }, 'the term looks in its own pod’s namespace')
})

t.test('namespaces and namespaceSelector', async (t) => {
  const nodes = cluster({ name: 'db', namespace: 'data', labels: { app: 'db' } })
  const req = (extra: Record<string, unknown>) => ({ name: 'p', affinity: requiredAffinity(term('db', 'zone', extra)) })
  t.equal(results(req({}), nodes).a, `UnschedulableAndUnresolvable: ${AFFINITY}`, 'default: the pod’s own namespace only')
  t.equal(results(req({ namespaces: ['data'] }), nodes).a, 'ok')
  t.equal(results(req({ namespaceSelector: {} }), nodes).a, 'ok', '{} selects every namespace')
  t.equal(results(req({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } } }), nodes).a, 'ok')
  t.equal(results(req({ namespaceSelector: { matchLabels: { team: 'x' } } }), nodes).a, `UnschedulableAndUnresolvable: ${AFFINITY}`, 'unknown namespace labels match nothing')
  const withLabels = new InterPodAffinity({ namespaceLabels: (ns): Record<string, string> => (ns === 'data' ? { team: 'x' } : {}) })
  t.equal(results(req({ namespaceSelector: { matchLabels: { team: 'x' } } }), nodes, withLabels).a, 'ok')
})

t.test('an invalid term rejects the pod with upstream’s "parsing pod"', async (t) => {
  const r = results({ name: 'p', affinity: requiredAffinity({ labelSelector: { matchExpressions: [{ key: 'app', operator: 'Bogus' }] }, topologyKey: 'zone' }) }, cluster())
  t.match(r.a, /^UnschedulableAndUnresolvable: parsing pod: /)
})

t.test('nothing to check: PreFilter skips', async (t) => {
  const nodes = cluster({ name: 'x', labels: { app: 'x' } })
  const st = runFilter(new InterPodAffinity(), podInfo({ name: 'p' }), nodes[0], nodes)
  t.equal(st, undefined)
})

const preferred = (kind: 'podAffinity' | 'podAntiAffinity', weight: number, t: unknown) => ({ [kind]: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight, podAffinityTerm: t }] } })

t.test('score: preferred terms of the incoming pod', async (t) => {
  const nodes = cluster({ name: 'db', labels: { app: 'db' } })
  t.same(runScore(new InterPodAffinity(), podInfo({ name: 'p', affinity: preferred('podAffinity', 10, term('db')) }), nodes), [100, 100, 0])
  t.same(runScore(new InterPodAffinity(), podInfo({ name: 'p', affinity: preferred('podAntiAffinity', 5, term('db', 'kubernetes.io/hostname')) }), nodes), [0, 100, 100])
  t.equal(runScore(new InterPodAffinity(), podInfo({ name: 'p' }), nodes), undefined, 'no terms anywhere: skipped')
})

t.test('score: existing pods’ terms count for the incoming pod', async (t) => {
  const fan = [nodeInfo({ name: 'a', labels: { zone: 'z1' } }), nodeInfo({ name: 'c', labels: { zone: 'z2' } }, { name: 'fan', labels: { app: 'fan' }, affinity: preferred('podAffinity', 20, term('web', 'kubernetes.io/hostname')) })]
  t.same(runScore(new InterPodAffinity(), podInfo({ name: 'p', labels: { app: 'web' } }), fan), [0, 100])
  const hard = cluster({ name: 'h', labels: { app: 'h' }, affinity: requiredAffinity(term('web')) })
  t.same(runScore(new InterPodAffinity(), podInfo({ name: 'p', labels: { app: 'web' } }), hard), [100, 100, 0], 'hardPodAffinityWeight 1')
  t.equal(runScore(new InterPodAffinity({ hardPodAffinityWeight: 0 }), podInfo({ name: 'p', labels: { app: 'web' } }), hard), undefined)
  t.equal(runScore(new InterPodAffinity({ ignorePreferredTermsOfExistingPods: true }), podInfo({ name: 'p', labels: { app: 'web' } }), fan), undefined)
})
