// The kubelet's own metrics under upstream's names (served on the kubelet server's
// /metrics beside the process metrics): which node this is and how many pods it runs.
import { Gauge, type Registry } from 'prom-client'

export interface KubeletMetricsSource {
  nodeName: string
  /** Pods the kubelet runs now; undefined until it has started. */
  runningPods: () => number | undefined
}

export function kubeletMetrics(registry: Registry, source: KubeletMetricsSource): void {
  const registers = [registry]
  new Gauge({ name: 'kubelet_node_name', help: "The node's name. The count is always 1.", labelNames: ['node'], registers }).set({ node: source.nodeName }, 1)
  new Gauge({
    name: 'kubelet_running_pods',
    help: 'Number of pods that have a running pod sandbox',
    registers,
    collect() {
      this.set(source.runningPods() ?? 0)
    },
  })
}
