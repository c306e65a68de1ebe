// NodeUnschedulable: cordoned nodes reject pods unless they tolerate the
// unschedulable taint.
import t from 'tap'
import { ERR_REASON_UNSCHEDULABLE, NodeUnschedulable } from '../../../src/scheduler/plugins/node-unschedulable.js'
import { nodeInfo, podInfo, runFilter } from '../framework/fixtures.js'

t.test('a cordoned node rejects, unresolvably, with upstream reason', async (t) => {
  const pl = new NodeUnschedulable()
  const st = runFilter(pl, podInfo({ name: 'p' }), nodeInfo({ name: 'n', unschedulable: true }))
  t.same(st?.reasons, [ERR_REASON_UNSCHEDULABLE])
  t.equal(st?.code, 'UnschedulableAndUnresolvable')
  t.equal(ERR_REASON_UNSCHEDULABLE, 'node(s) were unschedulable')
  t.equal(runFilter(pl, podInfo({ name: 'p' }), nodeInfo({ name: 'n' })), undefined)
})

t.test('tolerating node.kubernetes.io/unschedulable:NoSchedule passes', async (t) => {
  const pl = new NodeUnschedulable()
  const node = nodeInfo({ name: 'n', unschedulable: true })
  for (const tol of [
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists' },
    { operator: 'Exists' },
  ]) {
    t.equal(runFilter(pl, podInfo({ name: 'p', tolerations: [tol] }), node), undefined, JSON.stringify(tol))
  }
  t.ok(runFilter(pl, podInfo({ name: 'p', tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }] }), node))
  t.ok(runFilter(pl, podInfo({ name: 'p', tolerations: [{ key: 'other', operator: 'Exists' }] }), node))
})
