// Reading PodMetrics as the HPA needs them: summed per pod in milli-units, with the
// sample's time and window; one container when asked; incomplete pods left out.
import t from 'tap'
import { containerMetricsInfo, podMetricsInfo } from '../../../src/controllers/podautoscaler/metrics-source.js'

const item = (name: string, containers: { name: string; usage: Record<string, string> }[]) => ({
  kind: 'PodMetrics',
  metadata: { name, namespace: 'default' },
  timestamp: '2026-11-22T12:00:00Z',
  window: '15.5s',
  containers,
})

t.test('pods: summed over containers, milli-units, time and window', async (t) => {
  const info = podMetricsInfo(
    [
      item('a', [{ name: 'main', usage: { cpu: '250m', memory: '64Mi' } }, { name: 'side', usage: { cpu: '1500000n', memory: '1Mi' } }]),
      item('b', [{ name: 'main', usage: { memory: '64Mi' } }]),
      item('c', []),
    ],
    'cpu',
  )
  t.same([...info.keys()], ['a'], 'b lacks cpu, c has no containers: no samples')
  t.same(info.get('a'), { value: 252, timestampMs: Date.parse('2026-11-22T12:00:00Z'), windowMs: 15_500 }, '250m + 1.5m, rounded up as MilliValue does')
  t.equal(podMetricsInfo([item('a', [{ name: 'main', usage: { cpu: '1', memory: '64Mi' } }])], 'memory').get('a')?.value, 64 * 1024 * 1024 * 1000)
})

t.test('one container', async (t) => {
  const items = [item('a', [{ name: 'main', usage: { cpu: '250m' } }, { name: 'side', usage: { cpu: '10m' } }])]
  t.equal(containerMetricsInfo(items, 'cpu', 'side').get('a')?.value, 10)
  t.throws(() => containerMetricsInfo(items, 'cpu', 'nope'), /container nope not present in metrics for pod default\/a/)
})
