// NodeResourcesBalancedAllocation: 1 - std of the requested fractions, from actual
// requests.
import t from 'tap'
import { BalancedAllocation, balancedResourceScore } from '../../../src/scheduler/plugins/balanced-allocation.js'
import { nodeInfo, podInfo, runScore } from '../framework/fixtures.js'

t.test('even use scores 100, lopsided use less', async (t) => {
  const nodes = [
    nodeInfo({ name: 'a', cpu: '4', memory: '8Gi' }, { name: 'x', cpu: '1', memory: '2Gi' }),
    nodeInfo({ name: 'c', cpu: '4', memory: '8Gi' }, { name: 'y', cpu: '3' }),
  ]
  // a: 0.5/0.5 -> 100. c: cpu 1.0, memory 0.25 -> std 0.375 -> 62
  t.same(runScore(new BalancedAllocation(), podInfo({ name: 'p', cpu: '1', memory: '2Gi' }), nodes), [100, 62])
})

t.test('requests are actual ones: a pod without requests on an empty node is balanced', async (t) => {
  t.same(runScore(new BalancedAllocation(), podInfo({ name: 'p' }), [nodeInfo({ name: 'a' })]), [100])
})

t.test('three resources use the full standard deviation', async (t) => {
  // fractions 0.2, 0.5, 0.8: mean 0.5, variance (0.09+0+0.09)/3 = 0.06, std 0.2449 -> 75
  t.equal(balancedResourceScore([2, 5, 8], [10, 10, 10]), 75)
  t.equal(balancedResourceScore([2, 0, 8], [10, 0, 10]), 70, 'a resource with no allocatable is left out')
  t.equal(balancedResourceScore([20, 5], [10, 10]), 75, 'fractions are capped at 1')
})
