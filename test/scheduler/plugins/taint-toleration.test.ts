// TaintToleration: untolerated NoSchedule/NoExecute taints filter, with the first such
// taint in the reason; PreferNoSchedule taints score (fewer is better).
import t from 'tap'
import { TaintToleration } from '../../../src/scheduler/plugins/taint-toleration.js'
import { toleratesTaint } from '../../../src/api/taints.js'
import { nodeInfo, podInfo, runFilter, runScore } from '../framework/fixtures.js'

t.test('filter: untolerated NoSchedule and NoExecute taints reject, unresolvably', async (t) => {
  const pl = new TaintToleration()
  const node = nodeInfo({
    name: 'n',
    taints: [
      { key: 'soft', value: 'x', effect: 'PreferNoSchedule' },
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'evict', effect: 'NoExecute' },
    ],
  })
  const st = runFilter(pl, podInfo({ name: 'p' }), node)
  t.equal(st?.code, 'UnschedulableAndUnresolvable')
  t.same(st?.reasons, ['node(s) had untolerated taint {dedicated: gpu}'])
  const tolerateFirst = podInfo({ name: 'p', tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] })
  t.same(runFilter(pl, tolerateFirst, node)?.reasons, ['node(s) had untolerated taint {evict: }'])
  const both = podInfo({ name: 'p', tolerations: [{ key: 'dedicated', value: 'gpu' }, { key: 'evict', operator: 'Exists' }] })
  t.equal(runFilter(pl, both, node), undefined, 'PreferNoSchedule never filters')
  t.equal(runFilter(pl, podInfo({ name: 'p', tolerations: [{ operator: 'Exists' }] }), node), undefined, 'empty key + Exists tolerates everything')
})

t.test('toleration matching rules', async (t) => {
  const taint = { key: 'k', value: 'v', effect: 'NoSchedule' }
  const tol = (o: Partial<{ key: string; operator: string; value: string; effect: string }>) => ({ key: '', operator: '', value: '', effect: '', ...o })
  t.ok(toleratesTaint(tol({ key: 'k', value: 'v' }), taint), 'empty operator is Equal; empty effect matches all')
  t.notOk(toleratesTaint(tol({ key: 'k', value: 'w' }), taint))
  t.ok(toleratesTaint(tol({ key: 'k', operator: 'Exists' }), taint))
  t.notOk(toleratesTaint(tol({ key: 'k', operator: 'Exists', effect: 'NoExecute' }), taint))
  t.notOk(toleratesTaint(tol({ key: 'other', operator: 'Exists' }), taint))
  t.ok(toleratesTaint(tol({ operator: 'Exists' }), taint))
  t.notOk(toleratesTaint(tol({ key: 'k', operator: 'Bogus', value: 'v' }), taint))
})

t.test('score: fewer untolerated PreferNoSchedule taints is better, reverse-normalized', async (t) => {
  const pl = new TaintToleration()
  const nodes = [
    nodeInfo({ name: 'a' }),
    nodeInfo({ name: 'b', taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }),
    nodeInfo({
      name: 'c',
      taints: [
        { key: 'x', effect: 'PreferNoSchedule' },
        { key: 'y', effect: 'PreferNoSchedule' },
        { key: 'z', effect: 'NoSchedule' },
      ],
    }),
  ]
  t.same(runScore(pl, podInfo({ name: 'p' }), nodes), [100, 50, 0])
  t.same(runScore(pl, podInfo({ name: 'p', tolerations: [{ key: 'x', operator: 'Exists', effect: 'PreferNoSchedule' }] }), nodes), [100, 100, 0])
  t.same(runScore(pl, podInfo({ name: 'p', tolerations: [{ key: 'x', operator: 'Exists', effect: 'NoSchedule' }] }), nodes), [100, 50, 0], 'a NoSchedule toleration does not count for PreferNoSchedule')
  t.same(runScore(pl, podInfo({ name: 'p', tolerations: [{ operator: 'Exists' }] }), nodes), [100, 100, 100])
})
