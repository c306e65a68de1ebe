// NodeAffinity: nodeSelector and required terms (every operator, matchFields), the
// PreFilter node-name shortcut, and preferred-term scoring.
import t from 'tap'
import { NodeAffinity } from '../../../src/scheduler/plugins/node-affinity.js'
import { nodeInfo, podInfo, runFilter, runScore } from '../framework/fixtures.js'

const REASON = "node(s) didn't match Pod's node affinity/selector"

const required = (...terms: unknown[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } })
const expr = (key: string, operator: string, values?: string[]) => ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] })

t.test('nodeSelector: every label must be equal', async (t) => {
  const pl = new NodeAffinity()
  const node = nodeInfo({ name: 'n', labels: { disk: 'ssd', zone: 'a' } })
  t.equal(runFilter(pl, podInfo({ name: 'p', nodeSelector: { disk: 'ssd' } }), node), undefined)
  const st = runFilter(pl, podInfo({ name: 'p', nodeSelector: { disk: 'ssd', zone: 'b' } }), node)
  t.same(st?.reasons, [REASON])
  t.equal(st?.code, 'UnschedulableAndUnresolvable')
})

t.test('required terms: operators', async (t) => {
  const pl = new NodeAffinity()
  const node = nodeInfo({ name: 'n', labels: { disk: 'ssd', cores: '8' } })
  const fits = (aff: unknown) => runFilter(pl, podInfo({ name: 'p', affinity: aff as Record<string, unknown> }), node) === undefined
  t.ok(fits(required(expr('disk', 'In', ['ssd', 'nvme']))))
  t.notOk(fits(required(expr('disk', 'In', ['hdd']))))
  t.ok(fits(required(expr('disk', 'NotIn', ['hdd']))))
  t.notOk(fits(required(expr('disk', 'NotIn', ['ssd']))))
  t.ok(fits(required(expr('gpu', 'NotIn', ['x']))), 'NotIn matches a missing label')
  t.ok(fits(required(expr('disk', 'Exists'))))
  t.notOk(fits(required(expr('gpu', 'Exists'))))
  t.ok(fits(required(expr('gpu', 'DoesNotExist'))))
  t.notOk(fits(required(expr('disk', 'DoesNotExist'))))
  t.ok(fits(required(expr('cores', 'Gt', ['4']))))
  t.notOk(fits(required(expr('cores', 'Gt', ['8']))))
  t.ok(fits(required(expr('cores', 'Lt', ['9']))))
  t.notOk(fits(required(expr('disk', 'Gt', ['1']))), 'Gt on a non-integer label never matches')
  t.notOk(fits(required(expr('cores', 'Gt', ['x']))), 'a term that does not parse matches nothing')
  t.notOk(fits(required(expr('cores', 'Bogus', ['1']))))
  t.ok(fits(required(expr('disk', 'In', ['hdd']), expr('disk', 'In', ['ssd']))), 'terms are ORed')
  t.notOk(fits(required({ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }, { key: 'cores', operator: 'Lt', values: ['2'] }] })), 'expressions are ANDed')
  t.notOk(fits(required()), 'no terms match nothing')
  t.notOk(fits(required({})), 'an empty term matches nothing')
  t.notOk(fits(required({}, expr('disk', 'In', ['hdd']))))
})

t.test('nodeSelector and affinity must both match', async (t) => {
  const pl = new NodeAffinity()
  const node = nodeInfo({ name: 'n', labels: { disk: 'ssd' } })
  t.ok(runFilter(pl, podInfo({ name: 'p', nodeSelector: { disk: 'hdd' }, affinity: required(expr('disk', 'Exists')) }), node))
  t.notOk(runFilter(pl, podInfo({ name: 'p', nodeSelector: { disk: 'ssd' }, affinity: required(expr('disk', 'Exists')) }), node))
})

t.test('matchFields on metadata.name, and the PreFilter node names', async (t) => {
  const pl = new NodeAffinity()
  const a = nodeInfo({ name: 'a' })
  const b = nodeInfo({ name: 'b' })
  const pod = podInfo({ name: 'p', affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }) })
  t.equal(runFilter(pl, pod, a), undefined)
  t.ok(runFilter(pl, pod, b))
  const r = pl.preFilter(new Map(), pod)
  t.same(r !== undefined && 'nodeNames' in r ? [...r.nodeNames] : r, ['a'])
  const notIn = podInfo({ name: 'p', affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['a'] }] }) })
  t.ok(runFilter(pl, notIn, a))
  t.equal(runFilter(pl, notIn, b), undefined)
  t.equal(pl.preFilter(new Map(), notIn), undefined, 'NotIn does not narrow')
  const conflict = podInfo({
    name: 'p',
    affinity: required({
      matchFields: [
        { key: 'metadata.name', operator: 'In', values: ['a'] },
        { key: 'metadata.name', operator: 'In', values: ['b'] },
      ],
    }),
  })
  t.same(pl.preFilter(new Map(), conflict), { code: 'UnschedulableAndUnresolvable', reasons: ['pod affinity terms conflict'] })
  const union = podInfo({ name: 'p', affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }) })
  const u = pl.preFilter(new Map(), union)
  t.same(u !== undefined && 'nodeNames' in u ? [...u.nodeNames].sort() : u, ['a', 'b'])
  const open = podInfo({ name: 'p', affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }, expr('x', 'Exists')) })
  t.equal(pl.preFilter(new Map(), open), undefined, 'a term without a name field allows every node')
})

t.test('no selector and no required affinity: PreFilter skips', async (t) => {
  t.same(new NodeAffinity().preFilter(new Map(), podInfo({ name: 'p' })), { skip: true })
})

t.test('addedAffinity is enforced with its own reason', async (t) => {
  const pl = new NodeAffinity({ addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [expr('pool', 'In', ['batch'])] } } })
  t.same(runFilter(pl, podInfo({ name: 'p' }), nodeInfo({ name: 'n' }))?.reasons, ["node(s) didn't match scheduler-enforced node affinity"])
  t.equal(runFilter(pl, podInfo({ name: 'p' }), nodeInfo({ name: 'n', labels: { pool: 'batch' } })), undefined)
})

t.test('score: preferred terms, summed and normalized to 100', async (t) => {
  const pl = new NodeAffinity()
  const nodes = [nodeInfo({ name: 'a', labels: { disk: 'ssd', zone: 'z1' } }), nodeInfo({ name: 'b', labels: { disk: 'ssd' } }), nodeInfo({ name: 'c' })]
  const pod = podInfo({
    name: 'p',
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 30, preference: expr('disk', 'In', ['ssd']) },
          { weight: 10, preference: expr('zone', 'In', ['z1']) },
          { weight: 50, preference: {} },
        ],
      },
    },
  })
  // raw 40, 30, 0 -> 100, 75, 0
  t.same(runScore(pl, pod, nodes), [100, 75, 0])
  t.equal(runScore(pl, podInfo({ name: 'q' }), nodes), undefined, 'no preferred terms: PreScore skips')
})
