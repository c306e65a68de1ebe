// When a pod on a node with NoExecute taints must go (pure; toleration matching is
// core/v1's, from src/api/taints.ts).
import t from 'tap'
import type { Taint, Toleration } from '../../../src/api/taints.js'
import { evictionDecision } from '../../../src/controllers/node-lifecycle/eviction.js'

const NOW = 1_000_000
const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', value: '', effect: 'NoExecute' }
const notReady: Taint = { key: 'node.kubernetes.io/not-ready', value: '', effect: 'NoExecute' }
const tol = (key: string, seconds?: number, extra: Partial<Toleration> = {}): Toleration => ({
  key,
  operator: 'Exists',
  value: '',
  effect: 'NoExecute',
  ...(seconds === undefined ? {} : { tolerationSeconds: seconds }),
  ...extra,
})
const since = (ms: number) => (): number => ms

t.test('an untolerated NoExecute taint evicts at once', async (t) => {
  t.match(evictionDecision([unreachable], [], since(NOW), NOW), { kind: 'evict', reason: 'untolerated', taint: unreachable })
  t.match(evictionDecision([unreachable], [tol(notReady.key)], since(NOW), NOW), { kind: 'evict' }, 'tolerating another taint does not help')
  t.match(evictionDecision([unreachable], [tol(unreachable.key, undefined, { operator: 'Equal', value: 'x' })], since(NOW), NOW), { kind: 'evict' }, 'values must match for Equal')
  t.match(evictionDecision([unreachable], [tol(unreachable.key, undefined, { effect: 'NoSchedule' })], since(NOW), NOW), { kind: 'evict' }, 'effects must match')
})

t.test('tolerated forever: the pod stays; NoSchedule taints never evict', async (t) => {
  t.same(evictionDecision([unreachable], [tol(unreachable.key)], since(NOW), NOW), { kind: 'keep' })
  t.same(evictionDecision([unreachable], [tol('', undefined, { operator: 'Exists', effect: '' })], since(NOW), NOW), { kind: 'keep' }, 'an empty key with Exists tolerates everything')
  t.same(evictionDecision([{ key: 'k', value: '', effect: 'NoSchedule' }], [], since(NOW), NOW), { kind: 'keep' })
  t.same(evictionDecision([], [], since(NOW), NOW), { kind: 'keep' })
})

t.test('tolerationSeconds count from when the pod started tolerating the taint', async (t) => {
  t.same(evictionDecision([unreachable], [tol(unreachable.key, 300)], since(NOW), NOW), { kind: 'at', at: NOW + 300_000, taint: unreachable })
  t.match(evictionDecision([unreachable], [tol(unreachable.key, 300)], since(NOW - 300_000), NOW), { kind: 'evict', reason: 'expired' }, 'time is up')
  t.match(evictionDecision([unreachable], [tol(unreachable.key, 0)], since(NOW), NOW), { kind: 'evict' }, 'zero seconds: at once')
  t.match(evictionDecision([unreachable], [tol(unreachable.key, -5)], since(NOW), NOW), { kind: 'evict' }, 'negative seconds: at once')
})

t.test('with several taints the earliest deadline wins; one untolerated taint evicts regardless', async (t) => {
  const user: Taint = { key: 'maintenance', value: 'now', effect: 'NoExecute' }
  const starts = (x: Taint): number => (x.key === user.key ? NOW - 50_000 : NOW)
  t.same(evictionDecision([unreachable, user], [tol(unreachable.key, 300), tol(user.key, 60)], starts, NOW), { kind: 'at', at: NOW + 10_000, taint: user })
  t.same(evictionDecision([unreachable, user], [tol(unreachable.key, 300), tol(user.key)], starts, NOW), { kind: 'at', at: NOW + 300_000, taint: unreachable })
  t.match(evictionDecision([unreachable, user], [tol(unreachable.key)], starts, NOW), { kind: 'evict', taint: user })
  // The first toleration that matches is the one used, as upstream.
  t.same(evictionDecision([unreachable], [tol(unreachable.key, 30), tol(unreachable.key)], since(NOW), NOW), { kind: 'at', at: NOW + 30_000, taint: unreachable })
})
