// Zones and their disruption states, which pace NoExecute tainting (and so evictions):
// a healthy zone taints at --node-eviction-rate; a zone where most nodes are not
// ready is probably cut off rather than broken, so it taints slowly (large zones) or
// not at all (small ones); and when every zone is fully down the controller assumes
// the fault is its own (or the network's), lifts the NoExecute taints and stops.
import type { KubeObject } from '../../client/index.js'
import type { NodeCondition } from './conditions.js'

export type ZoneState = 'Initial' | 'Normal' | 'PartialDisruption' | 'FullDisruption'

const REGION_LABELS = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region']
const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone']

/** Nodes with this label are left out of a zone's health (upstream labelNodeDisruptionExclusion). */
export const LABEL_EXCLUDE_DISRUPTION = 'node.kubernetes.io/exclude-disruption'

function firstLabel(labels: Record<string, string>, keys: readonly string[]): string {
  for (const k of keys) if (labels[k] !== undefined && labels[k] !== '') return labels[k]
  return ''
}

/** The zone a node belongs to, as component-helpers' GetZoneKey spells it ('' when unlabelled). */
export function zoneKey(node: KubeObject): string {
  const labels = node.metadata?.labels ?? {}
  const region = firstLabel(labels, REGION_LABELS)
  const zone = firstLabel(labels, ZONE_LABELS)
  if (region === '' && zone === '') return ''
  return `${region}:\u0000:${zone}`
}

export function excludedFromDisruption(node: KubeObject): boolean {
  return (node.metadata?.labels ?? {})[LABEL_EXCLUDE_DISRUPTION] !== undefined
}

/**
 * How many nodes of a zone are not ready, and its state: FullDisruption when none is
 * ready, PartialDisruption when more than two are not ready and they are at least
 * `unhealthyThreshold` of the zone, Normal otherwise.
 */
export function computeZoneState(readyConditions: readonly (NodeCondition | undefined)[], unhealthyThreshold: number): { notReady: number; state: ZoneState } {
  let ready = 0
  let notReady = 0
  for (const c of readyConditions) {
    if (c?.status === 'True') ready++
    else notReady++
  }
  if (ready === 0 && notReady > 0) return { notReady, state: 'FullDisruption' }
  if (notReady > 2 && notReady / (notReady + ready) >= unhealthyThreshold) return { notReady, state: 'PartialDisruption' }
  return { notReady, state: 'Normal' }
}

export interface EvictionRates {
  nodeEvictionRate: number
  secondaryNodeEvictionRate: number
  largeClusterSizeThreshold: number
}

/** The tainting rate for a zone of `size` nodes in `state` (upstream setLimiterInZone). */
export function evictionRateFor(state: ZoneState, size: number, rates: EvictionRates): number {
  switch (state) {
    case 'PartialDisruption':
      return size > rates.largeClusterSizeThreshold ? rates.secondaryNodeEvictionRate : 0
    case 'Normal':
    case 'FullDisruption':
    case 'Initial':
      return rates.nodeEvictionRate
  }
}
