// NodeName: a pod naming its node fits only there.
import t from 'tap'
import { ERR_REASON_NODE_NAME, NodeName } from '../../../src/scheduler/plugins/node-name.js'
import { nodeInfo, podInfo, runFilter } from '../framework/fixtures.js'

t.test('spec.nodeName restricts the pod to that node', async (t) => {
  const pl = new NodeName()
  t.equal(runFilter(pl, podInfo({ name: 'p' }), nodeInfo({ name: 'a' })), undefined)
  t.equal(runFilter(pl, podInfo({ name: 'p', nodeName: 'a' }), nodeInfo({ name: 'a' })), undefined)
  const st = runFilter(pl, podInfo({ name: 'p', nodeName: 'a' }), nodeInfo({ name: 'b' }))
  t.equal(st?.code, 'UnschedulableAndUnresolvable')
  t.same(st?.reasons, ["node(s) didn't match the requested node name"])
  t.equal(ERR_REASON_NODE_NAME, "node(s) didn't match the requested node name")
})
