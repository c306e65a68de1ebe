// The deprecated beta OS and architecture labels on a Node, kept equal to the stable
// ones (upstream reconcileNodeLabels): old node selectors still say
// beta.kubernetes.io/os, and kubelets only set kubernetes.io/os.
import type { KubeObject } from '../../client/index.js'

const PAIRS: readonly { stable: string; beta: string }[] = [
  { stable: 'kubernetes.io/os', beta: 'beta.kubernetes.io/os' },
  { stable: 'kubernetes.io/arch', beta: 'beta.kubernetes.io/arch' },
]

/** The beta labels to set so they match the stable ones; undefined when they already do. */
export function labelsToReconcile(node: KubeObject): Record<string, string> | undefined {
  const labels = node.metadata?.labels ?? {}
  const out: Record<string, string> = {}
  for (const { stable, beta } of PAIRS) {
    const value = labels[stable]
    // No stable label: not ours to invent one.
    if (value === undefined) continue
    if (labels[beta] !== value) out[beta] = value
  }
  return Object.keys(out).length === 0 ? undefined : out
}
