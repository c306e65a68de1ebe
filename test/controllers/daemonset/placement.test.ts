// Daemon pod placement without a server: affinity, taints and the daemon tolerations.
import t from 'tap'
import { scaledValue } from '../../../src/controllers/daemonset/controller.js'
import { pinToNode, placement, targetNode, withDaemonTolerations } from '../../../src/controllers/daemonset/placement.js'

const node = (name: string, labels: Record<string, string> = {}, taints: unknown[] = []): Record<string, unknown> => ({ metadata: { name, labels }, spec: { taints } })
const spec = (extra: Record<string, unknown> = {}): Record<string, unknown> => withDaemonTolerations({ containers: [{ name: 'c' }], ...extra })

t.test('placement', async (t) => {
  t.strictSame(placement(node('a'), spec()), { shouldRun: true, shouldContinueRunning: true })
  t.strictSame(placement(node('a', { disk: 'hdd' }), spec({ nodeSelector: { disk: 'ssd' } })), { shouldRun: false, shouldContinueRunning: false })
  t.strictSame(placement(node('a'), spec({ nodeName: 'b' })), { shouldRun: false, shouldContinueRunning: false })
  t.strictSame(placement(node('a', {}, [{ key: 'x', effect: 'NoSchedule' }]), spec()), { shouldRun: false, shouldContinueRunning: true }, 'NoSchedule: keep what runs')
  t.strictSame(placement(node('a', {}, [{ key: 'x', effect: 'NoExecute' }]), spec()), { shouldRun: false, shouldContinueRunning: false })
  t.strictSame(placement(node('a', {}, [{ key: 'x', effect: 'PreferNoSchedule' }]), spec()), { shouldRun: true, shouldContinueRunning: true })
  t.strictSame(placement(node('a', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), spec()), { shouldRun: true, shouldContinueRunning: true }, 'cordoned nodes still run daemons')
  t.strictSame(placement(node('a', {}, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }]), spec()), { shouldRun: true, shouldContinueRunning: true })
  t.strictSame(placement(node('a', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]), spec()), { shouldRun: false, shouldContinueRunning: true })
  t.strictSame(placement(node('a', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), spec({ hostNetwork: true })), { shouldRun: true, shouldContinueRunning: true })
})

t.test('daemon tolerations are added once', async (t) => {
  const s = withDaemonTolerations({ tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] })
  const tol = s.tolerations as { key: string; effect: string; tolerationSeconds?: number }[]
  t.equal(tol.filter((x) => x.key === 'node.kubernetes.io/not-ready').length, 1)
  t.equal(tol[0]!.tolerationSeconds, 5, "the pod's own toleration is kept")
  t.equal(tol.length, 6)
  t.strictSame(withDaemonTolerations(s), s)
})

t.test('pinning to a node and reading it back', async (t) => {
  const pinned = pinToNode({ affinity: { podAffinity: { x: 1 }, nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } } }, 'n7')
  t.equal(targetNode({ spec: pinned }), 'n7')
  t.match(pinned.affinity, { podAffinity: { x: 1 }, nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } })
  t.equal(targetNode({ spec: { ...pinned, nodeName: 'n8' } }), 'n8', 'a bound pod is where it is bound')
  t.equal(targetNode({ spec: {} }), undefined)
})

t.test('int or percent, rounded up', async (t) => {
  t.equal(scaledValue(2, 10, 1), 2)
  t.equal(scaledValue('25%', 10, 1), 3)
  t.equal(scaledValue('0%', 10, 1), 0)
  t.equal(scaledValue(undefined, 10, 1), 1)
})
